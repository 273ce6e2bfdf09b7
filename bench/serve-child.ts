// `adarec serve` in a child process for bench/serve (so the load generator does not share the
// server's event loop): start on a free loopback port, wait for its "ready" log record, sample
// its memory through /metrics, stop it with SIGTERM and check that it exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

export interface ServerInfo {
  url: string;
  version: string;
}

export interface MemorySample {
  seconds: number;
  rss: number;
  heapUsed: number;
}

export class ServerProcess {
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly info: ServerInfo) {
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  }

  /** `args`: more options of adarec serve; `env`: more environment (e.g. the admin token's variable). */
  static async start(runFolder: string, args: string[] = [], env: Record<string, string> = {}, o: { echoErrors?: boolean } = {}): Promise<ServerProcess> {
    const child = spawn(process.execPath, [MAIN, 'serve', '--model', runFolder, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    // every log line is read (the pipe never fills); errors are shown, "ready" carries the address
    const info = await new Promise<ServerInfo>((done, fail) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let record: { msg?: string; address?: string; version?: string; level?: number };
        try {
          record = JSON.parse(line);
        } catch {
          return;
        }
        if ((record.level ?? 0) >= 50 && o.echoErrors !== false) console.error(`server: ${line}`);
        if (record.msg === 'ready') done({ url: record.address!, version: record.version! });
      });
      child.once('exit', (code) => fail(new Error(`adarec serve --model ${runFolder} exited (${code}) before it was ready`)));
    });
    return new ServerProcess(child, info);
  }

  /** Resident set and V8 heap in use, as the server's own /metrics reports them. */
  async memory(t0: number): Promise<MemorySample> {
    const text = await (await fetch(new URL('/metrics', this.info.url))).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    return { seconds: (performance.now() - t0) / 1000, rss: value('process_resident_memory_bytes'), heapUsed: value('nodejs_heap_size_used_bytes') };
  }

  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}
