import * as F from '../ops/index.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Inverted dropout, active only in training mode; masks come from the module's own seeded Rng. */
export class Dropout extends Module {
  constructor(readonly p: number, private rng: Rng) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.rng, this.training);
  }
}
