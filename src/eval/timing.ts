// Latency measurement that survives a busy machine: every task warmed up, then timed in rounds
// that visit the tasks in turn (a burst of load from another process lands on all of them, not
// on whichever ran during it), many calls each, summarised by the median and the 99th percentile.
// Used by the operator profiler and the latency-budget checks (serve/profile-ops.ts).

/** One thing to time: `run` does one call (synchronously), its result unused. */
export interface TimedTask {
  name: string;
  run: () => void;
  /** Calls timed per turn for this task (default: the options' perRound): more for a steadier tail. */
  perRound?: number;
}

export interface TimingOptions {
  /** Untimed calls of each task before the first round. */
  warmup?: number;
  /** Rounds; each round times every task `perRound` times in a row, in a rotating order. */
  rounds?: number;
  perRound?: number;
  /**
   * Untimed calls at the start of each task's turn (default 2): a server answers with one model
   * call after call, its weights in cache, while a turn starts after the other tasks have evicted
   * them (measured: timing 21 students in turn without it put 1.4-1.5x on their medians, docs/RESULTS.md).
   */
  turnWarmup?: number;
}

export interface Timing {
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Timed calls. */
  calls: number;
}

/** The q-quantile (0..1) of ascending `sorted` by the nearest-rank rule (q = 0.99 of 100 values: the 99th). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('quantile of no values');
  return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
}

/** Every task's calls in milliseconds, ascending, by name (rounds x its perRound each). */
export function timeInterleaved(tasks: readonly TimedTask[], o: TimingOptions = {}): Map<string, Float64Array> {
  const warmup = o.warmup ?? 10, rounds = o.rounds ?? 20, perRound = o.perRound ?? 10, turnWarmup = o.turnWarmup ?? 2;
  if (new Set(tasks.map((t) => t.name)).size !== tasks.length) throw new Error('timeInterleaved: task names must be distinct');
  for (const t of tasks) for (let i = 0; i < warmup; i++) t.run();
  const calls = (t: TimedTask): number => t.perRound ?? perRound;
  const ms = new Map(tasks.map((t) => [t.name, new Float64Array(rounds * calls(t))]));
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < tasks.length; j++) {
      const t = tasks[(r + j) % tasks.length], out = ms.get(t.name)!, n = calls(t);
      for (let i = 0; i < turnWarmup; i++) t.run();
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        t.run();
        out[r * n + i] = performance.now() - t0;
      }
    }
  }
  for (const v of ms.values()) v.sort();
  return ms;
}

/** Median and p99 of each task (timeInterleaved summarised). */
export function timeTasks(tasks: readonly TimedTask[], o: TimingOptions = {}): Map<string, Timing> {
  return new Map([...timeInterleaved(tasks, o)].map(([name, v]) => [name, { p50: quantile(v, 0.5), p99: quantile(v, 0.99), calls: v.length }]));
}
