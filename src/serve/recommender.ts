// A trained run, ready to answer "what next?" for original item ids: the checkpoint, its item
// vocabulary, last-position scoring (batched) and top-K selection with optional exclusion of the
// history. The HTTP service and the CLI serve through this class.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { noGrad, tensor, tidy, type Tensor } from '../engine/index.js';
import { DataError } from '../data/errors.js';
import { readItemKeys } from '../data/item-keys.js';
import { padBatch } from '../eval/scorer.js';
import type { SequentialRecommender } from '../models/types.js';
import { NextItemModel } from '../models/next-item-model.js';
import { loadTrainedModel, resolveCheckpoint } from '../train/load.js';
import type { TrainConfig } from '../train/config.js';
import { fastHidden, fastScorer } from './fast-score.js';
import { ItemIndex } from './item-index.js';
import { SessionStore } from './sessions.js';
import { topK, type TopK } from './top-k.js';
import type { LastPositionScorer, Recommendation, SessionHost } from './types.js';

export type { LastPositionScorer, Recommendation } from './types.js';

/** What to do with history items the model has never seen. */
export type UnknownItemPolicy = 'skip' | 'error';

export interface RecommenderOptions {
  /** Which checkpoint of a run folder: best.ckpt (default) or last.ckpt. */
  checkpoint?: 'best' | 'last';
  unknownItems?: UnknownItemPolicy;
  /** Most sequences scored in one forward (bounds memory: rows x vocabulary floats). */
  maxBatch?: number;
  /**
   * Keep incremental sessions (per-event state of causal models, serve/sessions.ts) in an LRU of
   * at most this many bytes; 0 or absent: no per-user state.
   */
  sessionBytes?: number;
  /**
   * Answer top-k through an ItemIndex (serve/item-index.ts: exact, without scoring every item in
   * float32) when the catalog has at least this many items (default ITEM_INDEX_FROM; Infinity: never).
   */
  itemIndexFrom?: number;
}

/** Catalog size from which Recommender builds an ItemIndex by default (docs/INFERENCE.md, "Large catalogs"). */
export const ITEM_INDEX_FROM = 100_000;

export interface RecommendRequest {
  /** Original item ids, oldest first. */
  history: readonly string[];
  k: number;
  /** Leave out items already in the history. */
  excludeSeen?: boolean;
}

export interface RecommendResponse {
  items: Recommendation[];
  /** History items the model does not know (skipped, under the 'skip' policy). */
  unknown: string[];
}

export interface ModelInfo {
  /** Model kind from the training config (nextitnet, sasrec, bert4rec, adarec). */
  kind: string;
  /** The checkpoint served. */
  checkpoint: string;
  /** First 12 hex digits of the checkpoint's SHA-256: changes whenever the weights do. */
  version: string;
  items: number;
  parameters: number;
  /** Input window: longer histories keep their most recent items. */
  maxLength: number;
  loadedAt: string;
}

/** Unknown items under the 'error' policy. */
export class UnknownItemsError extends Error {
  /** @param requests in a batch: which requests (by index) hold which unknown ids */
  constructor(readonly items: string[], readonly requests: { index: number; items: string[] }[] = []) {
    super(`unknown item id${items.length > 1 ? 's' : ''}: ${items.slice(0, 10).join(', ')}${items.length > 10 ? `, ... (${items.length})` : ''}`);
    this.name = 'UnknownItemsError';
  }
}

export class Recommender implements SessionHost {
  private readonly ids = new Map<string, number>();
  readonly unknownItems: UnknownItemPolicy;
  private readonly maxBatch: number;
  /** Incremental sessions, when enabled (they belong to this model: a reload starts afresh). */
  readonly sessions: SessionStore | null;
  /** Last-position scoring: the receptive-field crop where the model allows it (fast-score.ts), same results as scoreLast. */
  private readonly scorer: LastPositionScorer;
  /** The large-catalog top-k and the last hidden states [B, width] it reads (null below itemIndexFrom, or for a model it cannot index). */
  private readonly large: { index: ItemIndex; hidden: LastPositionScorer; width: number } | null = null;

  constructor(readonly model: SequentialRecommender, readonly config: TrainConfig, readonly itemKeys: readonly string[],
    readonly info: ModelInfo, o: RecommenderOptions = {}) {
    if (itemKeys.length !== model.vocabSize - 1)
      throw new Error(`the vocabulary has ${itemKeys.length} items, the model scores ${model.vocabSize - 1}`);
    itemKeys.forEach((key, i) => this.ids.set(key, i + 1));
    this.unknownItems = o.unknownItems ?? 'skip';
    this.maxBatch = o.maxBatch ?? 256;
    this.scorer = fastScorer(model);
    if (model instanceof NextItemModel && itemKeys.length >= (o.itemIndexFrom ?? ITEM_INDEX_FROM)) {
      const { weight, bias, inFeatures } = model.output;
      const w = weight.values, b = bias?.values ?? null;
      const index = w instanceof Float32Array && (b === null || b instanceof Float32Array)
        ? ItemIndex.build(w, b, inFeatures, model.vocabSize) : null;
      if (index) this.large = { index, hidden: fastHidden(model), width: inFeatures };
    }
    this.sessions = o.sessionBytes ? new SessionStore(this, o.sessionBytes) : null;
  }

  /** Loads a run folder (its best.ckpt and items.json) or a checkpoint file beside an items.json. */
  static load(path: string, o: RecommenderOptions = {}): Recommender {
    const checkpoint = resolveCheckpoint(path, o.checkpoint);
    const bytes = readFileSync(checkpoint);
    const keys = readItemKeys(dirname(checkpoint));
    const trained = loadTrainedModel(checkpoint);
    const refuse = (detail: string): never => {
      trained.model.dispose(); // a refused load (e.g. a reload) must not keep the model's memory
      throw new DataError(join(dirname(checkpoint), 'items.json'), detail);
    };
    if (keys.manifestHash !== trained.manifestHash) refuse(`written for data ${keys.manifestHash}, but ${basename(checkpoint)} was trained on ${trained.manifestHash}`);
    if (keys.itemKeys.length !== trained.vocabSize - 1) refuse(`holds ${keys.itemKeys.length} items, ${basename(checkpoint)} scores ${trained.vocabSize - 1}`);
    const info: ModelInfo = {
      kind: trained.config.model.kind,
      checkpoint,
      version: createHash('sha256').update(bytes).digest('hex').slice(0, 12),
      items: keys.itemKeys.length,
      parameters: trained.model.parameterCount(),
      maxLength: trained.config.maxLength,
      loadedAt: new Date().toISOString(),
    };
    return new Recommender(trained.model, trained.config, keys.itemKeys, info, o);
  }

  /** The item index top-k goes through (null: every item is scored). */
  get itemIndex(): ItemIndex | null {
    return this.large?.index ?? null;
  }

  get maxLength(): number {
    return this.config.maxLength;
  }

  /** Model ids of a history (oldest first) and the original ids the model does not know. */
  encode(history: readonly string[]): { ids: Int32Array; unknown: string[] } {
    const encoded = this.lookup(history);
    if (encoded.unknown.length && this.unknownItems === 'error') throw new UnknownItemsError(encoded.unknown);
    return encoded;
  }

  private lookup(history: readonly string[]): { ids: Int32Array; unknown: string[] } {
    const ids: number[] = [], unknown: string[] = [];
    for (const key of history) {
      const id = this.ids.get(key);
      if (id === undefined) unknown.push(key);
      else ids.push(id);
    }
    return { ids: Int32Array.from(ids), unknown };
  }

  /** Last-position scores of model-id inputs, [inputs.length * vocab] row-major. */
  scoreIds(inputs: readonly Int32Array[]): Float32Array {
    return this.lastRows(inputs, this.scorer, this.model.vocabSize);
  }

  /** scorer's rows (width each) for model-id inputs, [inputs.length * width], in forwards of at most maxBatch. */
  private lastRows(inputs: readonly Int32Array[], scorer: LastPositionScorer, width: number): Float32Array {
    const T = this.maxLength;
    const out = new Float32Array(inputs.length * width);
    for (let start = 0; start < inputs.length; start += this.maxBatch) {
      const chunk = inputs.slice(start, start + this.maxBatch);
      noGrad(() => tidy(() => {
        const rows = scorer(tensor(padBatch(chunk, T), [chunk.length, T], 'int32'));
        out.set(rows.values as Float32Array, start * width);
      }));
    }
    return out;
  }

  recommend(request: RecommendRequest): RecommendResponse {
    return this.recommendBatch([request])[0];
  }

  /**
   * One forward for all requests (in chunks of maxBatch), then top-K per request. Under the
   * 'error' policy nothing is scored when any request holds unknown ids; the error lists them all.
   */
  recommendBatch(requests: readonly RecommendRequest[]): RecommendResponse[] {
    const encoded = requests.map((r) => this.lookup(r.history));
    if (this.unknownItems === 'error') {
      const bad = encoded.flatMap((e, index) => (e.unknown.length ? [{ index, items: e.unknown }] : []));
      if (bad.length) throw new UnknownItemsError(bad.flatMap((b) => b.items), bad);
    }
    const exclude = (b: number): Set<number> | undefined => (requests[b].excludeSeen ? new Set(encoded[b].ids) : undefined);
    if (this.large) {
      const { index, hidden: scorer, width: C } = this.large;
      const hidden = this.lastRows(encoded.map((e) => e.ids), scorer, C);
      return requests.map((r, b) => ({
        items: this.recommendations(index.topK(hidden.subarray(b * C, (b + 1) * C), r.k, exclude(b))),
        unknown: encoded[b].unknown,
      }));
    }
    const scores = this.scoreIds(encoded.map((e) => e.ids));
    const V = this.model.vocabSize;
    return requests.map((r, b) => ({ items: this.top(scores, b * V, r.k, exclude(b)), unknown: encoded[b].unknown }));
  }

  /** The k best items of the scores row at `offset`, as original ids. */
  top(scores: Float32Array, offset: number, k: number, exclude?: ReadonlySet<number>): Recommendation[] {
    return this.recommendations(topK(scores, offset, this.model.vocabSize, k, exclude));
  }

  private recommendations(best: TopK): Recommendation[] {
    return Array.from(best.ids, (id, n) => ({ item: this.itemKeys[id - 1], score: best.scores[n] }));
  }
}
