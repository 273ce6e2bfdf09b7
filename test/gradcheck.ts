// Finite-difference gradient checking in float64 on the js backend.
import { F, Tensor, backward, noGrad, tensor, tidy } from '../src/engine/index.js';
import { assertClose, lcg } from './helpers.js';

/** A float64 tensor with seeded values in [lo, hi), requiring grad. */
export function param64(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const r = lcg(seed);
  const t = tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()), shape);
  t.requiresGrad = true;
  return t;
}

/** Reduces any output to a scalar with fixed random weights, so every element's gradient matters. */
export function weightedSum(out: Tensor, seed = 99): Tensor {
  const r = lcg(seed);
  const w = tensor(Float64Array.from({ length: out.size }, () => r() - 0.5), out.shape);
  return F.sum(F.mul(out, w));
}

/**
 * Checks d f / d input for every input against central differences. f must be deterministic and
 * return a scalar. Inputs must be dense float64 leaves.
 */
export function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol = 1e-6, h = 1e-6): void {
  for (const x of inputs) { x.grad?.dispose(); x.grad = null; }
  tidy(() => { backward(f(...inputs)); });
  inputs.forEach((x, i) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? Array.from(x.grad.values) : new Array<number>(x.size).fill(0);
    const numeric: number[] = [];
    const v = x.values;
    for (let j = 0; j < x.size; j++) {
      const orig = v[j];
      v[j] = orig + h;
      const fp = noGrad(() => tidy(() => f(...inputs).item()));
      v[j] = orig - h;
      const fm = noGrad(() => tidy(() => f(...inputs).item()));
      v[j] = orig;
      numeric.push((fp - fm) / (2 * h));
    }
    assertClose(analytic, numeric, tol, `${name}: gradient of input ${i}`, 1e-2);
  });
}
