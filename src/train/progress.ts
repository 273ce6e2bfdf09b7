// Progress within an epoch: a redrawn bar (sequences/s, loss, ETA) on a terminal, and plain
// lines every few seconds when the output is a file or a pipe.
import cliProgress from 'cli-progress';

export interface EpochProgress {
  start(label: string, total: number): void;
  update(done: number, loss: number): void;
  /** Ends the bar (if any) so that the next log line starts on a clean line. */
  stop(): void;
}

export type ProgressMode = 'bar' | 'lines' | 'none';

/** The default destination of log lines. */
export const stderrLog = (line: string): void => { process.stderr.write(line + '\n'); };

/**
 * Where a loop's lines go and how its epochs show progress: `log` defaults to stderr; 'auto'
 * progress is a bar when stderr is a terminal and no `log` was given, plain lines otherwise.
 */
export function loopOutput(o: { log?: (line: string) => void; progress?: ProgressMode | 'auto' }): { log: (line: string) => void; progress: EpochProgress } {
  const log = o.log ?? stderrLog;
  const mode = o.progress ?? 'auto';
  return { log, progress: createProgress(mode === 'auto' ? (!o.log && process.stderr.isTTY ? 'bar' : 'lines') : mode, log) };
}

export function createProgress(mode: ProgressMode, log: (line: string) => void, everySeconds = 10): EpochProgress {
  if (mode === 'bar') return barProgress();
  if (mode === 'lines') return lineProgress(log, everySeconds);
  return { start() {}, update() {}, stop() {} };
}

function barProgress(): EpochProgress {
  const bar = new cliProgress.SingleBar({
    format: '{label} |{bar}| {value}/{total} seq | {speed} seq/s | loss {loss} | ETA {eta_formatted}',
    stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 5,
  }, cliProgress.Presets.shades_classic);
  let started = 0, running = false;
  return {
    start(label, total) {
      started = performance.now();
      bar.start(total, 0, { label, speed: '-', loss: '-' });
      running = true;
    },
    update(done, loss) {
      const secs = (performance.now() - started) / 1000;
      bar.update(done, { speed: secs > 0 ? (done / secs).toFixed(0) : '-', loss: loss.toFixed(4) });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

function lineProgress(log: (line: string) => void, everySeconds: number): EpochProgress {
  let started = 0, lastLine = 0, label = '', total = 0;
  return {
    start(l, t) {
      label = l;
      total = t;
      started = lastLine = performance.now();
    },
    update(done, loss) {
      const now = performance.now();
      if (now - lastLine < everySeconds * 1000 || done >= total) return;
      lastLine = now;
      const secs = (now - started) / 1000, speed = done / secs;
      log(`${label}: ${done}/${total} sequences, ${speed.toFixed(0)} seq/s, loss ${loss.toFixed(4)}, ETA ${formatSeconds((total - done) / speed)}`);
    },
    stop() {},
  };
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
