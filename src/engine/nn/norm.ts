import * as F from '../ops/index.js';
import { Tensor, ones, zeros } from '../tensor.js';
import { Module } from './module.js';

/** LayerNorm over the last axis; `relu` fuses a following ReLU into the same kernel. */
export class LayerNorm extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.gamma = this.param('weight', ones([dim]));
    this.beta = this.param('bias', zeros([dim]));
  }

  forward(x: Tensor, relu = false): Tensor {
    return F.layerNorm(x, this.gamma, this.beta, this.eps, relu);
  }
}

/** BatchNorm over the channel (last) axis of [B, T, C] with running statistics, as nn.BatchNorm1d. */
export class BatchNorm1d extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.gamma = this.param('weight', ones([channels]));
    this.beta = this.param('bias', zeros([channels]));
    this.runningMean = this.buffer('running_mean', zeros([channels]));
    this.runningVar = this.buffer('running_var', ones([channels]));
  }

  forward(x: Tensor): Tensor {
    return F.batchNorm(x, this.gamma, this.beta, this, this.training, this.momentum, this.eps);
  }
}
