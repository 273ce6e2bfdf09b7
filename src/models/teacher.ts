// A frozen teacher as distillation sees it: sizes, and the signals of a batch fetched
// asynchronously (an ONNX teacher runs in onnxruntime, whose session.run is async), so the loops
// await them before their synchronous training step. The returned tensors belong to the caller
// (disposeSignals). modelTeacher wraps one of our models.
import { noGrad, tidy, type Tensor } from '../engine/index.js';
import { intermediateCount } from './common.js';
import type { DistillationSignals, SequentialRecommender } from './types.js';
import type { LogitCandidates } from './sampled-softmax.js';

export interface Teacher {
  /** e.g. 'nextitnet' (a NextItNet teacher's default student is wider), 'onnx'. */
  readonly kind: string;
  readonly vocabSize: number;
  /** Channels of the embedding and the intermediates. */
  readonly hidden: number;
  /** How many intermediates signals() returns. */
  readonly intermediates: number;
  /** The data a checkpoint teacher was trained on; null when unknown (ONNX). */
  readonly manifestHash: string | null;
  /**
   * The signals of ids [B, T] (int32, left-padded with 0); rows: the logits at those flat positions
   * only, candidates: over those items only (SequentialRecommender.signals).
   */
  signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): Promise<DistillationSignals>;
  dispose(): void;
}

export function disposeSignals(s: DistillationSignals): void {
  s.embedding.dispose();
  for (const t of s.intermediates) t.dispose();
  s.logits.dispose();
}

/** One of our models (eval mode, no tape) as a teacher. */
export function modelTeacher(model: SequentialRecommender, o: { kind: string; hidden: number; manifestHash: string | null }): Teacher {
  model.eval();
  return {
    kind: o.kind, vocabSize: model.vocabSize, hidden: o.hidden, intermediates: intermediateCount(model, 1), manifestHash: o.manifestHash,
    signals: (ids, rows, candidates) => Promise.resolve(noGrad(() => tidy(() => model.signals(ids, rows, candidates)))),
    dispose: () => model.dispose(),
  };
}
