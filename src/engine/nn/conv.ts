import * as F from '../ops/index.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fanInUniform } from './init.js';
import { Module } from './module.js';

/**
 * Causal dilated Conv1d over [B, T, C]: the output at t sees inputs t, t-d, ..., t-(k-1)d (zeros
 * before the start). Weight [k*C, O], tap-major: row j*C + c holds PyTorch's weight[:, c, j].
 */
export class CausalConv1d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    readonly dilation: number, rng: Rng, bias = true) {
    super();
    const fanIn = inChannels * kernelSize;
    this.weight = this.param('weight', fanInUniform([kernelSize * inChannels, outChannels], fanIn, rng));
    this.bias = bias ? this.param('bias', fanInUniform([outChannels], fanIn, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    return F.causalConv1d(x, this.weight, this.bias, this.kernelSize, this.dilation);
  }
}
