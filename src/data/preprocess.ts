// Interaction log -> chronological item sequences: implicit conversion, duplicate handling, k-core
// filtering, id remapping. Columnar throughout (typed arrays, no per-row objects): rows are bucketed by
// sequence with one counting sort, then each sequence (small, in cache) is sorted by time.
//
// Rules, in the order they are applied:
// 1. minRating keeps rows with rating >= minRating.
// 2. A sequence is a user's whole history, or a session when bySession is set. Each sequence is put in
//    chronological order; rows with equal timestamps keep their order in the log (row order), so the
//    result never depends on the sort algorithm.
// 3. Duplicates: 'keep-all'; 'keep-first' keeps only the earliest interaction of an item within a
//    sequence; 'collapse-consecutive' drops an item equal to the previous kept item of its sequence.
// 4. Filtering (default mode 'fixpoint'): rows of items with fewer than kCore.items interactions and of
//    sequences with fewer than max(kCore.users, minSequenceLength) interactions are removed, repeated
//    until nothing changes (collapsing again after each removal, since removing an item can make two
//    repeats adjacent). The result is the k-core: every item and every sequence meets its threshold.
//    Mode 'single-pass' reproduces the reference scripts: one item pass, then one sequence pass
//    (kCore.users), then minSequenceLength; thresholds may no longer hold afterwards.
// 5. Ids: items are renumbered 1..numItems in the order of the log's item index (log.item values, which
//    readers assign by first appearance in the file); 0 stays free for padding. Sequences are listed in
//    the order of the log's user (or session) index.
import { DataError } from './errors.js';
import type { InteractionLog, SequenceDataset } from './types.js';

export type DuplicateMode = 'keep-all' | 'keep-first' | 'collapse-consecutive';

export interface KCoreOptions {
  /** Minimum interactions per sequence (per user, or per session when bySession). */
  users: number;
  /** Minimum interactions per item. */
  items: number;
  /** 'fixpoint' (default): iterate to the k-core. 'single-pass': items once, then sequences once (reference). */
  mode?: 'fixpoint' | 'single-pass';
}

export interface PreprocessOptions {
  /** Implicit conversion: keep rows with rating >= minRating (the log must have ratings). */
  minRating?: number;
  kCore?: KCoreOptions;
  duplicates: DuplicateMode;
  /** Sequences are sessions (the log must have a session column) instead of users' histories. */
  bySession: boolean;
  /** Drop sequences shorter than this (e.g. sessions shorter than 3). */
  minSequenceLength?: number;
}

export function preprocess(log: InteractionLog, o: PreprocessOptions): SequenceDataset {
  const src = log.source;
  checkOptions(o);
  checkColumns(log);
  if (log.user.length === 0) throw new DataError(src, 'the log has no interactions');

  let seqCol = log.user, seqKeys = log.userKeys;
  if (o.bySession) {
    if (!log.session || !log.sessionKeys)
      throw new DataError(src, 'sequences by session need a session column, and this log has none: map a session column or turn off bySession', undefined, 'session');
    seqCol = log.session;
    seqKeys = log.sessionKeys;
  }
  if (o.minRating !== undefined && !log.rating)
    throw new DataError(src, `a rating threshold (>= ${o.minRating}) needs a rating column, and this log has none: map a rating column or drop minRating`, undefined, 'rating');

  const t = groupBySequence(log, seqCol, seqKeys.length, o.minRating);
  if (t.m === 0) throw new DataError(src, `no interactions left after the rating filter (rating >= ${o.minRating}): relax minRating`);
  sortSequencesByTime(t);

  const numItemKeys = log.itemKeys.length;
  if (o.duplicates === 'keep-first') keepFirst(t, numItemKeys);
  else if (o.duplicates === 'collapse-consecutive') collapseConsecutive(t);

  const minItem = o.kCore?.items ?? 0;
  const minSeqCore = o.kCore?.users ?? 0;
  const minLength = o.minSequenceLength ?? 0;
  if (o.kCore?.mode === 'single-pass') {
    filterOnce(t, numItemKeys, minItem, 0);
    filterOnce(t, numItemKeys, 0, minSeqCore);
    if (t.m === 0) throw new DataError(src, `no interactions left after k-core filtering (items >= ${minItem}, then sequences >= ${minSeqCore}, once): relax kCore`);
    filterOnce(t, numItemKeys, 0, minLength);
    if (t.m === 0) throw new DataError(src, `no interactions left after dropping sequences shorter than ${minLength}: relax minSequenceLength`);
  } else if (minItem > 1 || minSeqCore > 1 || minLength > 1) {
    const minSeq = Math.max(minSeqCore, minLength);
    for (;;) {
      const before = t.m;
      filterOnce(t, numItemKeys, minItem, minSeq);
      if (t.m === before || t.m === 0) break;
      if (o.duplicates === 'collapse-consecutive') collapseConsecutive(t);
    }
    if (t.m === 0) {
      const parts: string[] = [];
      if (o.kCore) parts.push(`k-core filtering (sequences >= ${minSeqCore}, items >= ${minItem})`);
      if (minLength > 0) parts.push(`dropping sequences shorter than ${minLength}`);
      const relax = [o.kCore ? 'kCore' : '', minLength > 0 ? 'minSequenceLength' : ''].filter(Boolean).join(' or ');
      throw new DataError(src, `no interactions left after ${parts.join(' and ')}: relax ${relax}`);
    }
  }
  return remap(log, t, seqKeys);
}

/** Rows grouped by sequence: sequence s (a log user/session index) is item/time[start[s] .. start[s + 1]). */
interface Grouped { item: Int32Array; time: Float64Array; start: Int32Array; m: number }

function checkOptions(o: PreprocessOptions): void {
  const count = (v: number | undefined, name: string): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new RangeError(`preprocess: ${name} must be a non-negative integer, got ${v}`);
  };
  if (o.minRating !== undefined && !Number.isFinite(o.minRating)) throw new RangeError(`preprocess: minRating must be a finite number, got ${o.minRating}`);
  count(o.kCore?.users, 'kCore.users');
  count(o.kCore?.items, 'kCore.items');
  count(o.minSequenceLength, 'minSequenceLength');
  if (!['keep-all', 'keep-first', 'collapse-consecutive'].includes(o.duplicates)) throw new RangeError(`preprocess: unknown duplicates mode '${o.duplicates}'`);
  if (o.kCore?.mode !== undefined && o.kCore.mode !== 'fixpoint' && o.kCore.mode !== 'single-pass') throw new RangeError(`preprocess: unknown kCore mode '${o.kCore.mode}'`);
}

function checkColumns(log: InteractionLog): void {
  const n = log.user.length;
  const cols: [string, { length: number } | null][] = [['item', log.item], ['time', log.time], ['line', log.line], ['rating', log.rating], ['session', log.session]];
  for (const [name, col] of cols)
    if (col && col.length !== n) throw new DataError(log.source, `column '${name}' has ${col.length} rows, user has ${n}`, undefined, name);
}

/** A stable counting sort of the kept rows by sequence (so rows keep their log order within a sequence). */
function groupBySequence(log: InteractionLog, seqCol: Int32Array, numSeq: number, minRating: number | undefined): Grouped {
  const n = seqCol.length, rating = minRating === undefined ? null : log.rating!, threshold = minRating ?? 0;
  const numItemKeys = log.itemKeys.length, item = log.item, time = log.time;
  const start = new Int32Array(numSeq + 1);
  for (let r = 0; r < n; r++) {
    const s = seqCol[r], it = item[r], v = time[r];
    if (!(s >= 0 && s < numSeq)) throw new DataError(log.source, `sequence index ${s} outside the user/session vocabulary (${numSeq} keys)`, log.line[r]);
    if (!(it >= 0 && it < numItemKeys)) throw new DataError(log.source, `item index ${it} outside the item vocabulary (${numItemKeys} keys)`, log.line[r], 'item');
    if (v !== v) throw new DataError(log.source, 'time is not a number', log.line[r], 'time');
    if (rating === null || rating[r] >= threshold) start[s + 1]++;
  }
  for (let s = 0; s < numSeq; s++) start[s + 1] += start[s];
  const m = start[numSeq];
  const out: Grouped = { item: new Int32Array(m), time: new Float64Array(m), start, m };
  const next = start.slice(0, numSeq);
  for (let r = 0; r < n; r++) {
    if (rating !== null && !(rating[r] >= threshold)) continue;
    const p = next[seqCol[r]]++;
    out.item[p] = item[r];
    out.time[p] = time[r] + 0; // -0 -> +0
  }
  return out;
}

const RUN = 16;

/** Sorts each sequence by time, stably (equal times keep log order), with a merge sort that stays in cache. */
function sortSequencesByTime(t: Grouped): void {
  const S = t.start.length - 1;
  let longest = 0;
  for (let s = 0; s < S; s++) longest = Math.max(longest, t.start[s + 1] - t.start[s]);
  let tmpTime: Float64Array | null = null, tmpItem: Int32Array | null = null;
  for (let s = 0; s < S; s++) {
    const a = t.start[s], b = t.start[s + 1];
    let sorted = true;
    for (let i = a + 1; i < b; i++) if (t.time[i] < t.time[i - 1]) { sorted = false; break; }
    if (sorted) continue;
    tmpTime ??= new Float64Array(longest);
    tmpItem ??= new Int32Array(longest);
    mergeSort(t.time, t.item, a, b, tmpTime, tmpItem);
  }
}

function mergeSort(timeAll: Float64Array, itemAll: Int32Array, a: number, b: number, tmpTime: Float64Array, tmpItem: Int32Array): void {
  const n = b - a, time = timeAll.subarray(a, b), item = itemAll.subarray(a, b);
  for (let r = 0; r < n; r += RUN) { // insertion sort of short runs
    const e = Math.min(r + RUN, n);
    for (let i = r + 1; i < e; i++) {
      const tv = time[i], iv = item[i];
      let j = i - 1;
      while (j >= r && time[j] > tv) { time[j + 1] = time[j]; item[j + 1] = item[j]; j--; }
      time[j + 1] = tv;
      item[j + 1] = iv;
    }
  }
  let fromT = time, fromI = item, toT = tmpTime, toI = tmpItem;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) { // ties take the left run: stable
        if (fromT[j] < fromT[i]) { toT[k] = fromT[j]; toI[k++] = fromI[j++]; }
        else { toT[k] = fromT[i]; toI[k++] = fromI[i++]; }
      }
      while (i < mid) { toT[k] = fromT[i]; toI[k++] = fromI[i++]; }
      while (j < hi) { toT[k] = fromT[j]; toI[k++] = fromI[j++]; }
    }
    const t1 = fromT; fromT = toT; toT = t1;
    const t2 = fromI; fromI = toI; toI = t2;
  }
  if (fromT !== time) {
    time.set(fromT.subarray(0, n));
    item.set(fromI.subarray(0, n));
  }
}

/** Keeps, within each sequence and in order, the interactions `keep` accepts; compacts in place. */
function filterWithin(t: Grouped, keep: (sequence: number, item: number, kept: number) => boolean): void {
  let w = 0;
  const S = t.start.length - 1;
  for (let s = 0; s < S; s++) {
    const a = t.start[s], b = t.start[s + 1];
    t.start[s] = w;
    for (let i = a; i < b; i++) {
      if (!keep(s, t.item[i], w)) continue;
      t.item[w] = t.item[i];
      t.time[w++] = t.time[i];
    }
  }
  t.start[S] = t.m = w;
}

function keepFirst(t: Grouped, numItemKeys: number): void {
  const owner = new Int32Array(numItemKeys).fill(-1); // the sequence that last used the item
  filterWithin(t, (s, it) => {
    if (owner[it] === s) return false;
    owner[it] = s;
    return true;
  });
}

/** Drops an interaction that repeats the one kept just before it in its sequence. */
function collapseConsecutive(t: Grouped): void {
  filterWithin(t, (s, it, w) => !(w > t.start[s] && t.item[w - 1] === it));
}

/** One simultaneous removal of the rows whose item or sequence is below its threshold. */
function filterOnce(t: Grouped, numItemKeys: number, minItem: number, minSeq: number): void {
  if (minItem <= 1 && minSeq <= 1) return;
  const ic = new Int32Array(numItemKeys);
  for (let i = 0; i < t.m; i++) ic[t.item[i]]++;
  let w = 0;
  const S = t.start.length - 1;
  for (let s = 0; s < S; s++) {
    const a = t.start[s], b = t.start[s + 1];
    t.start[s] = w;
    if (b - a < minSeq) continue;
    for (let i = a; i < b; i++) {
      const it = t.item[i];
      if (ic[it] < minItem) continue;
      t.item[w] = it;
      t.time[w++] = t.time[i];
    }
  }
  t.start[S] = t.m = w;
}

function remap(log: InteractionLog, t: Grouped, seqKeys: string[]): SequenceDataset {
  const id = new Int32Array(log.itemKeys.length);
  for (let i = 0; i < t.m; i++) id[t.item[i]] = 1;
  const itemKeys: string[] = [];
  for (let k = 0; k < id.length; k++) if (id[k]) { itemKeys.push(log.itemKeys[k]); id[k] = itemKeys.length; }
  for (let i = 0; i < t.m; i++) t.item[i] = id[t.item[i]];

  const offsets: number[] = [0];
  const sequenceKeys: string[] = [];
  for (let s = 0; s + 1 < t.start.length; s++) {
    if (t.start[s + 1] === t.start[s]) continue;
    sequenceKeys.push(seqKeys[s]);
    offsets.push(t.start[s + 1]);
  }
  // drop the slack left by filtering when it is large; a view is fine otherwise
  const trim = t.m < 0.75 * t.item.length;
  return {
    numItems: itemKeys.length,
    items: trim ? t.item.slice(0, t.m) : t.item.subarray(0, t.m),
    times: trim ? t.time.slice(0, t.m) : t.time.subarray(0, t.m),
    offsets: Int32Array.from(offsets),
    itemKeys,
    sequenceKeys,
  };
}
