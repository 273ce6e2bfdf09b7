// Helpers of the ONNX tests: perturbed random models (residual scales, norm and batch-norm
// statistics away from their initial values, so every path matters), random left-padded ids, and
// onnxruntime runs compared with our tensors by the largest absolute difference.
import assert from 'node:assert/strict';
import type { nn } from '../src/engine/index.js';
import { idsTensor, openSession } from '../src/onnx/session.js';
import { lcg } from './helpers.js';

/** Moves every parameter and buffer off its initial value (scalars to 0.3..0.8, running variances to 0.5..1.5). */
export function perturb(model: nn.Module, seed: number): void {
  const r = lcg(seed);
  for (const [, p] of model.namedParameters()) {
    const v = p.values;
    for (let i = 0; i < v.length; i++) v[i] = p.size === 1 ? 0.3 + 0.5 * r() : v[i] + 0.2 * (r() - 0.5);
  }
  for (const [name, b] of model.namedBuffers()) {
    const v = b.values;
    for (let i = 0; i < v.length; i++) v[i] = name.endsWith('running_var') ? 0.5 + r() : 0.2 * (r() - 0.5);
  }
}

/** B rows of T ids in 1..V-1, left-padded with 0 (row b holds at least 1 item; row 0 is full). */
export function randomIds(B: number, T: number, V: number, seed: number): Int32Array {
  const r = lcg(seed), ids = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = b === 0 ? T : 1 + Math.floor(r() * T);
    for (let t = T - n; t < T; t++) ids[b * T + t] = 1 + Math.floor(r() * (V - 1));
  }
  return ids;
}

/** Runs the model bytes (or file) on ids [B, T]; returns every output as a Float32Array with its dims. */
export async function runOnnx(model: Uint8Array | string, ids: Int32Array, B: number, T: number, dtype: 'int64' | 'int32' = 'int64', input = 'ids'): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await openSession(model, 'test model');
  try {
    const out = await session.run({ [input]: idsTensor(ids, B, T, dtype) });
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: t.data as Float32Array, dims: t.dims }]));
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

export function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `${what}: max |difference| ${d} > ${tol}`);
}
