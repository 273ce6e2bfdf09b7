// Fixed evaluation candidates: for every sequence, `count` distinct items that appear nowhere in that
// sequence (not only its training part), drawn once per data set from a seeded Rng, sequence by
// sequence, so the same data and seed always give the same bytes.
//
// - 'uniform': uniform over the unseen items.
// - 'popularity': without replacement, with probability proportional to an item's count in
//   `popularityFrom` (the training items; all of the data set's items when absent). When fewer than
//   `count` unseen items have a nonzero count, the rest are drawn uniformly from the zero-count ones.
import { Rng } from '../engine/random.js';
import { DataError } from './errors.js';
import type { Negatives, SequenceDataset } from './types.js';

export type NegativeStrategy = 'uniform' | 'popularity';

export interface NegativeOptions {
  count?: number;
  seed: number;
  strategy: NegativeStrategy;
  /** Item ids whose counts weigh 'popularity' sampling (e.g. split.train.items). */
  popularityFrom?: Int32Array;
  /** Names the data in error messages. */
  source?: string;
}

export function sampleNegatives(ds: SequenceDataset, o: NegativeOptions): Negatives {
  const count = o.count ?? 100;
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`sampleNegatives: count must be a positive integer, got ${count}`);
  if (o.strategy !== 'uniform' && o.strategy !== 'popularity') throw new RangeError(`sampleNegatives: unknown strategy '${o.strategy}'`);
  const numSeq = ds.offsets.length - 1, N = ds.numItems;
  const rng = new Rng(o.seed);
  const out = new Int32Array(numSeq * count);
  // mark[i] === stamp: item i is in the current sequence or already drawn for it
  const mark = new Int32Array(N + 1).fill(-1);
  const scratch = new Int32Array(N);
  const pop = o.strategy === 'popularity' ? new Popularity(N, o.popularityFrom ?? ds.items) : null;

  for (let s = 0; s < numSeq; s++) {
    let seen = 0, seenWeight = 0, seenPositive = 0;
    for (let j = ds.offsets[s]; j < ds.offsets[s + 1]; j++) {
      const it = ds.items[j];
      if (mark[it] === s) continue;
      mark[it] = s;
      seen++;
      if (pop && pop.weight[it] > 0) { seenWeight += pop.weight[it]; seenPositive++; }
    }
    if (N - seen < count)
      throw new DataError(o.source ?? 'data set', `sequence '${ds.sequenceKeys[s]}' has only ${N - seen} unseen items, fewer than the ${count} negatives asked for: ask for fewer negatives or use full ranking`);
    const dst = out.subarray(s * count, (s + 1) * count);
    if (pop) pop.draw(rng, dst, mark, s, scratch, seenWeight, seenPositive);
    else drawUniform(rng, dst, 0, mark, s, N, N - seen, scratch);
  }
  return { count, items: out };
}

/** Fills dst[k..] with distinct unmarked items of 1..N uniformly; `unseen` is the number unmarked. */
function drawUniform(rng: Rng, dst: Int32Array, k: number, mark: Int32Array, s: number, N: number, unseen: number, scratch: Int32Array,
  eligible?: (item: number) => boolean): void {
  const need = dst.length - k;
  if (need <= 0) return;
  if (!eligible && unseen >= 2 * need && unseen * 2 >= N) {
    // rejection: at least half of the items are acceptable at every draw
    while (k < dst.length) {
      const it = 1 + rng.int(N);
      if (mark[it] === s) continue;
      mark[it] = s;
      dst[k++] = it;
    }
    return;
  }
  // explicit candidate list, partial Fisher-Yates
  let c = 0;
  for (let it = 1; it <= N; it++) if (mark[it] !== s && (!eligible || eligible(it))) scratch[c++] = it;
  for (let i = 0; i < need; i++) {
    const j = i + rng.int(c - i);
    const x = scratch[j]; scratch[j] = scratch[i]; scratch[i] = x;
    mark[x] = s;
    dst[k++] = x;
  }
}

class Popularity {
  readonly weight: Float64Array;
  private readonly total: number;
  private readonly positive: number;
  // Walker's alias table over items 1..N: one draw is a column and a coin
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;

  constructor(private readonly N: number, from: Int32Array) {
    const w = (this.weight = new Float64Array(N + 1));
    for (let i = 0; i < from.length; i++) if (from[i] >= 1 && from[i] <= N) w[from[i]]++;
    let total = 0, positive = 0;
    for (let i = 1; i <= N; i++) { total += w[i]; if (w[i] > 0) positive++; }
    this.total = total;
    this.positive = positive;
    this.prob = new Float64Array(N);
    this.alias = new Int32Array(N);
    if (total > 0) buildAlias(w, total, this.prob, this.alias);
  }

  draw(rng: Rng, dst: Int32Array, mark: Int32Array, s: number, scratch: Int32Array, seenWeight: number, seenPositive: number): void {
    const count = dst.length;
    let k = 0;
    const positiveLeft = this.positive - seenPositive;
    if (positiveLeft >= count && seenWeight <= 0.5 * this.total) {
      // rejection from the alias table; give up on pathological sequences after a bounded effort
      let attempts = 0;
      while (k < count && attempts < 64 * count) {
        attempts++;
        const col = rng.int(this.N);
        const it = 1 + (rng.uniform() < this.prob[col] ? col : this.alias[col]);
        if (mark[it] === s || this.weight[it] === 0) continue;
        mark[it] = s;
        dst[k++] = it;
      }
    }
    if (k < count) k = this.drawExact(rng, dst, k, mark, s, scratch);
    if (k < count) {
      let unseen = 0;
      for (let it = 1; it <= this.N; it++) if (mark[it] !== s) unseen++;
      drawUniform(rng, dst, k, mark, s, this.N, unseen, scratch, (it) => this.weight[it] === 0);
    }
  }

  /** Weighted sampling without replacement over unmarked positive-weight items (Efraimidis-Spirakis keys). */
  private drawExact(rng: Rng, dst: Int32Array, k: number, mark: Int32Array, s: number, scratch: Int32Array): number {
    let c = 0;
    for (let it = 1; it <= this.N; it++) if (mark[it] !== s && this.weight[it] > 0) scratch[c++] = it;
    const keys = new Float64Array(c);
    for (let i = 0; i < c; i++) keys[i] = Math.log((rng.nextUint32() + 0.5) / 4294967296) / this.weight[scratch[i]];
    const order = Array.from({ length: c }, (_, i) => i).sort((a, b) => keys[b] - keys[a] || a - b);
    for (let i = 0; i < order.length && k < dst.length; i++) {
      const it = scratch[order[i]];
      mark[it] = s;
      dst[k++] = it;
    }
    return k;
  }
}

/** Vose's alias method for weights w[1..N] (column c stands for item c + 1). */
function buildAlias(w: Float64Array, total: number, prob: Float64Array, alias: Int32Array): void {
  const N = prob.length;
  const small = new Int32Array(N), large = new Int32Array(N);
  let ns = 0, nl = 0;
  for (let c = 0; c < N; c++) {
    prob[c] = (w[c + 1] * N) / total;
    if (prob[c] < 1) small[ns++] = c; else large[nl++] = c;
  }
  while (ns > 0 && nl > 0) {
    const l = small[--ns], g = large[--nl];
    alias[l] = g;
    prob[g] = prob[g] + prob[l] - 1;
    if (prob[g] < 1) small[ns++] = g; else large[nl++] = g;
  }
  while (nl > 0) prob[large[--nl]] = 1;
  while (ns > 0) { const c = small[--ns]; prob[c] = w[c + 1] > 0 ? 1 : 0; alias[c] = c; }
}
