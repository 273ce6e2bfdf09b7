// Distillation of logits on a large catalog: KL(teacher || student) over a few items per position
// instead of all of them, so that a distillation step costs O(n (k + m) C), not O(n V C).
//
// At each target position the candidates are the teacher's top k items there (where almost all
// of its probability mass is) and a shared set per batch: the batch's positives (so that the CE
// term is a sampled softmax, as in training without a teacher) and m items drawn by popularity or
// uniformly. A drawn item stands for the items outside the top k: its logit gets
// log(1 / (m q)) (importance weighting, q its probability of being drawn), in the teacher's and
// the student's distribution alike, so the softmax over the candidates estimates each model's
// softmax over the catalog; a drawn item that is also in the row's top k is counted once (masked
// out of the shared columns). The positives enter the shared set without being drawn and get the
// same weight as if drawn (the approximation the sampled softmax makes too).
//
// The teacher's top k of a training window is found once, the first time the window is seen (the
// teacher is frozen and in eval mode: it does not change), in chunks of rows whose full logits fit
// in CHUNK_VALUES; later epochs look it up (k int32 per target position).
import { nextItemBatch } from '../data/batch.js';
import { Tensor, tidy, type Rng } from '../engine/index.js';
import { targetRows } from '../models/common.js';
import { sampledCandidates, type LogitCandidates, type NegativeSampler } from '../models/sampled-softmax.js';
import { disposeSignals, type Teacher } from '../models/teacher.js';
import type { DistillationSignals } from '../models/types.js';

/** Full-catalog logits computed at once while finding top-k items (64M floats = 256 MB). */
const CHUNK_VALUES = 64 * 1024 * 1024;

/**
 * Writes the ids of the k largest of scores[offset + 1 .. offset + count) (item i at offset + i;
 * item 0, the padding, is never chosen) into out[at .. at + k), best first; equal scores by lower
 * id; NaN ranks last. Quickselect for the k-th value, then one pass: O(count) per row.
 */
export function largestK(scores: ArrayLike<number>, offset: number, count: number, k: number, out: Int32Array, at: number, scratch: Float32Array): void {
  const N = count - 1;
  if (k > N) throw new Error(`largestK: ${k} items asked of ${N}`);
  if (k === 0) return;
  for (let i = 0; i < N; i++) { const s = scores[offset + 1 + i]; scratch[i] = s === s ? s : -Infinity; }
  // the k-th largest value: quickselect (descending) on scratch[0..N)
  let lo = 0, hi = N - 1;
  const want = k - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const a = scratch[lo], b = scratch[mid], c = scratch[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b); // median of three
    let i = lo, j = hi;
    while (i <= j) {
      while (scratch[i] > pivot) i++;
      while (scratch[j] < pivot) j--;
      if (i <= j) { const t = scratch[i]; scratch[i] = scratch[j]; scratch[j] = t; i++; j--; }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  const threshold = scratch[want];
  let above = 0;
  for (let item = 1; item < count; item++) { const s = scores[offset + item]; if ((s === s ? s : -Infinity) > threshold) above++; }
  // items above the threshold, then tied ones by id until k
  const picked: number[] = [];
  let ties = k - above;
  for (let item = 1; item < count; item++) {
    const s = scores[offset + item], v = s === s ? s : -Infinity;
    if (v > threshold) picked.push(item);
    else if (v === threshold && ties > 0) { picked.push(item); ties--; }
  }
  picked.sort((x, y) => {
    const sx = scores[offset + x], sy = scores[offset + y];
    const vx = sx === sx ? sx : -Infinity, vy = sy === sy ? sy : -Infinity;
    return vy - vx || x - y;
  });
  for (let j = 0; j < k; j++) out[at + j] = picked[j];
}

export interface CandidateDistillationOptions {
  /** Training windows (the indices a batch names). */
  sequences: number;
  maxLength: number;
  /** The teacher's top k items per position. */
  k: number;
  /** Items drawn per batch for the shared columns. */
  negatives: number;
  sampler: NegativeSampler;
  /** Correct the CE term's logits by log q (popularity draws; uniform draws cancel). */
  correctCE: boolean;
}

/** What one distillation step over candidates needs. The caller disposes the tensors. */
export interface CandidateBatch {
  inputs: Tensor;
  targets: Tensor;
  rows: Tensor;
  candidates: LogitCandidates;
  teacher: DistillationSignals;
}

/** Disposes a CandidateBatch's tensors and the teacher's signals in it. */
export function releaseCandidateBatch(b: CandidateBatch): void {
  disposeSignals(b.teacher);
  b.inputs.dispose();
  b.targets.dispose();
  b.rows.dispose();
}

export class CandidateDistillation {
  /** Per training window: the teacher's top k at each of its target positions ([positions * k]). */
  private readonly topK: (Int32Array | undefined)[];
  private scratch = new Float32Array(0);

  constructor(readonly o: CandidateDistillationOptions) {
    if (!(o.k >= 1) || !(o.negatives >= 1)) throw new Error(`candidate distillation: topK ${o.k} and negatives ${o.negatives} must be at least 1`);
    this.topK = new Array(o.sequences);
  }

  /** Forgets every window's top k (the windows' items changed, e.g. ties shuffled anew). */
  clear(): void {
    this.topK.fill(undefined);
  }

  /** Windows whose top k is known. */
  get known(): number {
    return this.topK.reduce((n, t) => n + (t ? 1 : 0), 0);
  }

  /** The candidates of one batch (windows `batch`, their indices `indices`) and the teacher's signals over them. */
  async batch(teacher: Teacher, batch: readonly Int32Array[], indices: ArrayLike<number>, rng: Rng): Promise<CandidateBatch> {
    const { maxLength: T, k, sampler } = this.o;
    await this.fill(teacher, batch, indices);
    const { inputs, targets, rows, labels } = tidy(() => {
      const { inputs, targets } = nextItemBatch(batch, T);
      const r = targetRows(targets);
      return { inputs, targets, rows: r.rows, labels: r.labels };
    });
    const n = labels.size;
    const perRow = new Int32Array(n * k);
    let at = 0;
    for (let b = 0; b < batch.length; b++) { const t = this.topK[indices[b]]!; perRow.set(t, at); at += t.length; }
    if (at !== perRow.length) throw new Error(`candidate distillation: ${at / k} cached positions for ${n} targets`);
    const drawn = sampler.sample(this.o.negatives, () => rng.uniform());
    const shared = sampledCandidates(labels.values as Int32Array, drawn, this.o.correctCE ? sampler.logQ : null);
    labels.dispose();
    const m = shared.items.length, W = k + m, logM = Math.log(this.o.negatives);
    const adjust = new Float32Array(n * W);
    const tail = Float32Array.from(shared.items, (item) => -(sampler.logQ[item] + logM));
    const column = new Map<number, number>();
    shared.items.forEach((item, j) => column.set(item, j));
    for (let r = 0; r < n; r++) {
      adjust.set(tail, r * W + k);
      for (let j = 0; j < k; j++) { const c = column.get(perRow[r * k + j]); if (c !== undefined) adjust[r * W + k + c] = -1e9; }
    }
    const candidates: LogitCandidates = { k, perRow, shared, adjust };
    const signals = await teacher.signals(inputs, rows, candidates);
    return { inputs, targets, rows, candidates, teacher: signals };
  }

  /** Finds the top k of the windows of this batch not seen before, a chunk of rows at a time. */
  private async fill(teacher: Teacher, batch: readonly Int32Array[], indices: ArrayLike<number>): Promise<void> {
    const { maxLength: T, k } = this.o, V = teacher.vocabSize;
    const missing: number[] = [];
    for (let b = 0; b < batch.length; b++) if (!this.topK[indices[b]]) missing.push(b);
    if (missing.length === 0) return;
    if (this.scratch.length < V) this.scratch = new Float32Array(V);
    const rowsPerChunk = Math.max(T, Math.floor(CHUNK_VALUES / V));
    for (let start = 0; start < missing.length;) {
      const chunk: number[] = [];
      let rows = 0;
      while (start < missing.length) {
        const positions = Math.min(T, batch[missing[start]].length - 1);
        if (chunk.length > 0 && rows + positions > rowsPerChunk) break;
        chunk.push(missing[start++]);
        rows += positions;
      }
      const windows = chunk.map((b) => batch[b]);
      const { inputs, picked } = tidy(() => {
        const { inputs, targets } = nextItemBatch(windows, T);
        return { inputs, picked: targetRows(targets).rows };
      });
      let s: DistillationSignals;
      try {
        s = await teacher.signals(inputs, picked);
      } finally {
        inputs.dispose();
        picked.dispose();
      }
      try {
        const values = s.logits.values;
        let row = 0;
        for (const b of chunk) {
          const positions = Math.min(T, batch[b].length - 1);
          const top = new Int32Array(positions * k);
          for (let p = 0; p < positions; p++, row++) largestK(values, row * V, V, k, top, p * k, this.scratch);
          this.topK[indices[b]] = top;
        }
      } finally {
        disposeSignals(s);
      }
    }
  }
}
