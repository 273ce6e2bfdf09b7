// Drives a PyTorch script (default bench/torch_reference.py) as a child process, one JSON line per command.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { nativeInfo, setNativeThreads } from '../src/engine/backend/native.js';

const PYTHON = process.env.ADAREC_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../bench/torch_reference.py', import.meta.url));

/** Returns null when PyTorch can be imported, else a message saying how to get it. */
export function torchMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  return `PyTorch is not available to ${PYTHON} (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}).\n` +
    'Install it with: apt-get update && apt-get install -y python3-torch   (or set ADAREC_PYTHON to a python with torch)';
}

export class TorchProcess {
  private child: ChildProcessWithoutNullStreams;
  private pending: { resolve: (line: string) => void; reject: (e: Error) => void }[] = [];

  /**
   * `script`: the python file to run (default bench/torch_reference.py). PyTorch runs on one
   * thread, and so does our engine from here on (its default is the physical cores): the
   * comparisons are one thread against one.
   */
  constructor(script = SCRIPT) {
    if (nativeInfo()) setNativeThreads(1);
    this.child = spawn(PYTHON, [script], { stdio: 'pipe', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    this.child.stderr.on('data', (d) => process.stderr.write(`[torch] ${d}`));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.pending.shift()?.resolve(line));
    this.child.on('exit', (code) => {
      for (const p of this.pending.splice(0)) p.reject(new Error(`${script} exited with code ${code}`));
    });
  }

  async call<T = Record<string, unknown>>(msg: Record<string, unknown>): Promise<T> {
    const line = await new Promise<string>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(msg) + '\n');
    });
    const reply = JSON.parse(line);
    if (reply.error) throw new Error(`torch: ${reply.error}`);
    return reply as T;
  }

  close(): void {
    this.child.stdin.end();
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
