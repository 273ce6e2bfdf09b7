import * as F from '../ops/index.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Inverted dropout, active only in training mode; masks come from the module's own seeded Rng. */
export class Dropout extends Module {
  private rate = 0;

  constructor(p: number, private rng: Rng) {
    super();
    this.p = p;
  }

  /** The drop probability; settable (BERT4Rec's finetune may use another rate than its pre-training). */
  get p(): number {
    return this.rate;
  }

  set p(p: number) {
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
    this.rate = p;
  }

  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.rng, this.training);
  }
}
