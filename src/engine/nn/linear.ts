import * as F from '../ops/index.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fanInUniform, normalInit } from './init.js';
import { Module } from './module.js';

/** y = x W + b with W [in, out] (the transpose of PyTorch's layout, so the forward is one plain GEMM). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, bias = true) {
    super();
    this.weight = this.param('weight', fanInUniform([inFeatures, outFeatures], inFeatures, rng));
    this.bias = bias ? this.param('bias', fanInUniform([outFeatures], inFeatures, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

/** A lookup table of `count` vectors of size `dim`; row 0 is conventionally padding. */
export class Embedding extends Module {
  readonly weight: Tensor;

  constructor(readonly count: number, readonly dim: number, rng: Rng, std = 1) {
    super();
    this.weight = this.param('weight', normalInit([count, dim], std, rng));
  }

  forward(ids: Tensor): Tensor {
    return F.embedding(this.weight, ids);
  }
}
