// What an operator on a search edge is: metadata for the registry and the efficiency cost
// (name, causality, MAC and parameter counts) plus `build`, which makes the module that computes
// it. Every operator maps [B, T, C] -> [B, T, C]; `none` returns null (zeros that cost nothing).
// The context tells an operator which positions are padding (the running mean leaves them out).
import type { Rng, Tensor } from '../../../engine/index.js';
import { nn } from '../../../engine/index.js';

export type OperatorKind = 'conv' | 'pool' | 'mean' | 'skip' | 'none';

/**
 * The normalisation after each convolution (ops/conv.ts): 'batch' (METHOD.md: BatchNorm1d, whose
 * training-mode statistics over batch x time see later positions), 'layer' (LayerNorm over the
 * channels of each position: causal) or 'none'.
 */
export type ConvNorm = 'batch' | 'layer' | 'none';
export const CONV_NORMS: readonly ConvNorm[] = Object.freeze(['batch', 'layer', 'none'] as const);

/** Network-wide choices an operator's module is built with (operators that have no use for one ignore it). */
export interface BuildOptions {
  /** The norm after a convolution; absent: 'batch'. */
  convNorm?: ConvNorm;
}

/** What an operator may need to know of its batch besides the edge input. */
export interface EdgeContext {
  /** [B, T]: 1 where the window holds an item, 0 at padding; null: every position holds one. */
  keep: Tensor | null;
}

/** The module of one operator on one edge. */
export abstract class EdgeOp extends nn.Module {
  /** The op's output for the (already ReLU'd) edge input, or null for exact zeros. */
  abstract forward(x: Tensor, context?: EdgeContext): Tensor | null;
}

export interface OperatorSpec {
  /** Unique name, used in genotype JSON. */
  readonly name: string;
  /**
   * True when the output at position t depends only on inputs at positions <= t (for a conv: in
   * eval mode, and in training mode too unless its convNorm is 'batch', whose batch statistics
   * see every position of the batch).
   */
  readonly causal: boolean;
  readonly kind: OperatorKind;
  /** Conv kernel size or pooling window. */
  readonly kernelSize?: number;
  /** Conv dilation (1 = none). */
  readonly dilation?: number;
  /** For pools: which reduction. */
  readonly pool?: 'max' | 'avg';
  /** One-line description for reports and pictures. */
  readonly label: string;
  /** Multiply-accumulates of one application on a length-L sequence of C channels (C -> C). */
  macs(L: number, C: number): number;
  /** Learned parameters (C -> C). */
  params(C: number): number;
  /** A fresh module computing the op on C channels. */
  build(C: number, rng: Rng, options?: BuildOptions): EdgeOp;
}
