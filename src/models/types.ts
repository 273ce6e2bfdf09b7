// The interface every sequential model (teacher or student) answers, RecBole style: one
// training loss, full-position logits, cheap last-position scoring, and the signals that
// distillation reads.
import type { Tensor, nn } from '../engine/index.js';
import type { CandidateSource, LogitCandidates } from './sampled-softmax.js';

export interface DistillationSignals {
  /** The embedding layer's output [B, T, C]. */
  embedding: Tensor;
  /** Intermediate representations [B, T, C] handed to hidden-layer distillation (METHOD.md). */
  intermediates: Tensor[];
  /**
   * Logits [B, T, vocab] at every position, or [n, vocab] at the rows signals() was given (the
   * positions that have a target: on short-sequence data most positions are padding, and the output
   * layer over the catalog is the largest cost of a distillation step), or [n, k + m] over the
   * LogitCandidates it was given.
   */
  logits: Tensor;
}

export interface SequentialRecommender extends nn.Module {
  /** Output size: numItems + 1 (id 0 is padding and never recommended). */
  readonly vocabSize: number;
  /** Logits [B, T, vocab] for item ids [B, T] (int32, left-padded with 0). */
  forward(ids: Tensor): Tensor;
  /**
   * Embedding output, intermediates and logits of one batch; `rows` (int32 [n], flat indices
   * b * T + t into [B, T]): the logits at those positions only (targetRows); `candidates` (with
   * rows): over those items only, [n, k + m] (a large catalog's distillation).
   */
  signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): DistillationSignals;
  /**
   * Logits [B, vocab] of the last position only. positionOffset: ids are the last T positions of a
   * window of positionOffset + T (only for models whose leadingPaddingInert is true, and only when
   * the positions cut off are padding in every row).
   */
  scoreLast(ids: Tensor, positionOffset?: number): Tensor;
  /**
   * True when outputs at real positions do not depend on the padding before them (transformers:
   * padded keys are masked), so a batch may be cut to its longest input, scored with the offset.
   * Convolutional models see the padding's embedding through their kernels: false.
   */
  readonly leadingPaddingInert: boolean;
  /**
   * Mean next-item cross-entropy; targets [B, T] with 0 = padding (ignored). positionOffset as in
   * scoreLast: a training batch cut to its longest window (leadingPaddingInert models only).
   * `candidates`: a sampled loss instead (a sampled softmax or gBCE, models/sampled-softmax.ts).
   */
  loss(inputs: Tensor, targets: Tensor, positionOffset?: number, candidates?: CandidateSource): Tensor;
}
