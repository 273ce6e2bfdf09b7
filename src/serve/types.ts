// Types shared by the serving files, kept apart so that the recommender, the fast scorer and the
// session store do not import each other in a circle.
import type { Tensor } from '../engine/index.js';
import type { SequentialRecommender } from '../models/types.js';

export interface Recommendation {
  item: string;
  score: number;
}

/** Scores [B, vocab] of the last position for padded item ids [B, T]. */
export type LastPositionScorer = (ids: Tensor) => Tensor;

/** What a session store needs of its recommender: the model, the id mapping, top-K selection. */
export interface SessionHost {
  readonly model: SequentialRecommender;
  readonly maxLength: number;
  /** Original ids to model ids (unknown ones set aside under the recommender's policy). */
  encode(history: readonly string[]): { ids: Int32Array; unknown: string[] };
  /** Top-k of one row of scores, original ids, `exclude` (model ids) left out. */
  top(scores: Float32Array, offset: number, k: number, exclude?: ReadonlySet<number>): Recommendation[];
}
