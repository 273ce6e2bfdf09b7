// What an operator on a search edge is: metadata for the registry and the efficiency cost
// (name, causality, MAC and parameter counts) plus `build`, which makes the module that computes
// it. Every operator maps [B, T, C] -> [B, T, C]; `none` returns null (zeros that cost nothing).
import type { Rng, Tensor } from '../../../engine/index.js';
import { nn } from '../../../engine/index.js';

export type OperatorKind = 'conv' | 'pool' | 'skip' | 'none';

/** The module of one operator on one edge. */
export abstract class EdgeOp extends nn.Module {
  /** The op's output for the (already ReLU'd) edge input, or null for exact zeros. */
  abstract forward(x: Tensor): Tensor | null;
}

export interface OperatorSpec {
  /** Unique name, used in genotype JSON. */
  readonly name: string;
  /** True when the output at position t depends only on inputs at positions <= t. */
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
  build(C: number, rng: Rng): EdgeOp;
}
