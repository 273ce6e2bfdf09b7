// Shared test utilities: closeness checks with a readable failure message, seeded random arrays.
import assert from 'node:assert/strict';

export type NumArray = ArrayLike<number>;

/** Largest |a-b| / max(|b|, floor) over the elements (floor keeps near-zero entries from dominating). */
export function maxRelError(actual: NumArray, expected: NumArray, floor = 1e-3): number {
  assert.equal(actual.length, expected.length, `length ${actual.length} vs ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    if (Number.isNaN(a) !== Number.isNaN(e)) return Infinity;
    if (Number.isNaN(a)) continue;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (err > worst) worst = err;
  }
  return worst;
}

export function assertClose(actual: NumArray, expected: NumArray, tol = 1e-4, what = 'values', floor = 1e-3): void {
  const err = maxRelError(actual, expected, floor);
  if (!(err <= tol)) {
    let at = 0, worst = -1;
    for (let i = 0; i < actual.length; i++) {
      const e = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
      if (!(e <= worst)) { worst = e; at = i; }
    }
    assert.fail(`${what}: relative error ${err.toExponential(3)} > ${tol} (at ${at}: got ${actual[at]}, expected ${expected[at]})`);
  }
}

/** A small deterministic generator for test data (independent of the engine's Rng). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = lcg(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}
