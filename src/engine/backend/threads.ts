// How many threads the engine's kernels use: ADAREC_THREADS when set, else the machine's physical
// cores (hyper-threads share a core's FMA units and caches, so they add little to GEMM-bound work
// and make timings noisier). onnxruntime's intra-op threads follow the same number.
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Physical cores: distinct (package, core) pairs under /sys/devices/system/cpu on Linux; on other
 * systems (or when sysfs is unreadable) the logical CPUs Node reports.
 */
export function physicalCores(sysfs = '/sys/devices/system/cpu'): number {
  try {
    const cores = new Set<string>();
    for (const name of readdirSync(sysfs)) {
      if (!/^cpu\d+$/.test(name)) continue;
      const read = (f: string): string => readFileSync(`${sysfs}/${name}/topology/${f}`, 'utf8').trim();
      cores.add(`${read('physical_package_id')}:${read('core_id')}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    // no sysfs topology: fall through
  }
  return Math.max(1, availableParallelism());
}

/** ADAREC_THREADS (a positive integer; anything else is an error naming the variable) or physicalCores(). */
export function engineThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ADAREC_THREADS;
  if (raw === undefined || raw === '') return physicalCores();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new Error(`ADAREC_THREADS must be an integer in [1, 1024], got '${raw}'`);
  return n;
}
