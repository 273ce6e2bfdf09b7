import * as F from '../ops/index.js';
import type { Rng } from '../random.js';
import type { Tensor } from '../tensor.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

/**
 * Multi-head self-attention over [B, T, E]: separate Q, K, V projections, the fused attention
 * kernel (causal or bidirectional, with an optional key padding mask [B, T]), output projection.
 */
export class MultiHeadAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;

  constructor(readonly dim: number, readonly heads: number, public causal: boolean, rng: Rng) {
    super();
    if (dim % heads !== 0) throw new Error(`MultiHeadAttention: dim ${dim} is not divisible by ${heads} heads`);
    this.q = this.child('q', new Linear(dim, dim, rng));
    this.k = this.child('k', new Linear(dim, dim, rng));
    this.v = this.child('v', new Linear(dim, dim, rng));
    this.out = this.child('out', new Linear(dim, dim, rng));
  }

  forward(x: Tensor, keyMask: Tensor | null = null): Tensor {
    const a = F.attention(this.q.forward(x), this.k.forward(x), this.v.forward(x), this.heads, this.causal, keyMask);
    return this.out.forward(a);
  }
}
