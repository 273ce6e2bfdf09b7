// Parameter initialisers (PyTorch's defaults where a layer has one), all drawing from a seeded Rng.
import type { Rng } from '../random.js';
import { Tensor, empty, type Shape } from '../tensor.js';
import type { FloatArray } from '../backend/kernels.js';

export function uniformInit(shape: Shape, bound: number, rng: Rng): Tensor {
  const t = empty(shape);
  rng.fillUniform(t.values as FloatArray, -bound, bound);
  return t;
}

export function normalInit(shape: Shape, std: number, rng: Rng): Tensor {
  const t = empty(shape);
  rng.fillNormal(t.values as FloatArray, 0, std);
  return t;
}

/** PyTorch's Linear/Conv default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function fanInUniform(shape: Shape, fanIn: number, rng: Rng): Tensor {
  return uniformInit(shape, 1 / Math.sqrt(fanIn), rng);
}
