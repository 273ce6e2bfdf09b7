// Summary statistics of a sequence data set, and their plain-text table for `adarec data stats`.
import { tiedItemCount } from './tie-shuffle.js';
import type { SequenceDataset } from './types.js';

export interface DatasetStats {
  sequences: number;
  items: number;
  interactions: number;
  /** interactions / (sequences * items). */
  density: number;
  length: { min: number; median: number; mean: number; p90: number; max: number };
  /** Sequence counts by length, in power-of-two bins [from, to]. */
  histogram: { from: number; to: number; count: number }[];
  topItems: { item: number; key: string; count: number }[];
  /** Interactions with the same timestamp as the one before them in their sequence (their order is the log's). */
  tiedWithPrevious: number;
  /** 'file': the log has no times and each sequence is in file order (so nothing ties); 'time': ordered by the log's times. */
  order: 'time' | 'file';
}

/** Above this share of tied interactions `formatStats` suggests `--shuffle-ties`. */
const TIED_HINT_SHARE = 0.1;

/** `order`: where the sequences' order came from (the prepared manifest's `order`). */
export function datasetStats(ds: SequenceDataset, topK = 10, order: 'time' | 'file' = 'time'): DatasetStats {
  const S = ds.offsets.length - 1, n = ds.items.length;
  const lengths = new Int32Array(S);
  for (let s = 0; s < S; s++) lengths[s] = ds.offsets[s + 1] - ds.offsets[s];
  const sorted = lengths.slice().sort();
  // nearest rank
  const q = (p: number): number => (S === 0 ? 0 : sorted[Math.min(S - 1, Math.max(0, Math.ceil(p * S) - 1))]);
  const median = S === 0 ? 0 : S % 2 ? sorted[(S - 1) / 2] : (sorted[S / 2 - 1] + sorted[S / 2]) / 2;

  const histogram: DatasetStats['histogram'] = [];
  if (S > 0) {
    for (let from = 1; from <= sorted[S - 1]; from *= 2) {
      const to = from * 2 - 1;
      let count = 0;
      for (let s = 0; s < S; s++) if (lengths[s] >= from && lengths[s] <= to) count++;
      histogram.push({ from, to, count });
    }
  }

  const counts = new Int32Array(ds.numItems + 1);
  for (let i = 0; i < n; i++) counts[ds.items[i]]++;
  const top = Array.from({ length: ds.numItems }, (_, i) => i + 1)
    .sort((a, b) => counts[b] - counts[a] || a - b)
    .slice(0, topK)
    .map((item) => ({ item, key: ds.itemKeys[item - 1], count: counts[item] }));

  return {
    sequences: S,
    items: ds.numItems,
    interactions: n,
    density: S * ds.numItems === 0 ? 0 : n / (S * ds.numItems),
    length: { min: S ? sorted[0] : 0, median, mean: S ? n / S : 0, p90: q(0.9), max: S ? sorted[S - 1] : 0 },
    histogram,
    topItems: top,
    tiedWithPrevious: tiedItemCount(ds),
    order,
  };
}

/** An aligned plain-text table. */
export function formatStats(st: DatasetStats): string {
  const rows: [string, string][] = [
    ['sequences', fmtInt(st.sequences)],
    ['items', fmtInt(st.items)],
    ['interactions', fmtInt(st.interactions)],
    ['density', `${(st.density * 100).toPrecision(3)}%`],
    ['length min', fmtInt(st.length.min)],
    ['length median', String(st.length.median)],
    ['length mean', st.length.mean.toFixed(1)],
    ['length p90', fmtInt(st.length.p90)],
    ['length max', fmtInt(st.length.max)],
  ];
  if (st.order === 'time')
    rows.push(['same time as previous', `${fmtInt(st.tiedWithPrevious)} (${st.interactions ? ((100 * st.tiedWithPrevious) / st.interactions).toFixed(1) : '0.0'}%)`]);
  const out = [table(rows)];
  if (st.order === 'file') out.push('', 'order: file order (no timestamps: each user\'s interactions are in the order of the file, so none tie)');
  else if (st.interactions && st.tiedWithPrevious / st.interactions > TIED_HINT_SHARE)
    out.push('', 'Many interactions share their timestamp with the one before: their order is the log\'s.',
      'If that order is arbitrary, `adarec train --shuffle-ties` draws it anew each epoch.');
  if (st.histogram.length) {
    const peak = Math.max(...st.histogram.map((h) => h.count));
    out.push('', 'sequence length');
    out.push(table(st.histogram.map((h) => [
      h.from === h.to ? `${h.from}` : `${h.from}-${h.to}`,
      `${fmtInt(h.count)}  ${'#'.repeat(peak ? Math.round((30 * h.count) / peak) : 0)}`,
    ])));
  }
  if (st.topItems.length) {
    out.push('', 'top items');
    out.push(table([['item', 'interactions'], ...st.topItems.map((t): [string, string] => [t.key, fmtInt(t.count)])]));
  }
  return out.join('\n');
}

function table(rows: [string, string][]): string {
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const num = rows.map((r) => r[1].match(/^[\d,.%]+/)?.[0] ?? r[1]);
  const w1 = Math.max(...num.map((x) => x.length));
  return rows.map((r, i) => `  ${r[0].padEnd(w0)}  ${num[i].padStart(w1)}${r[1].slice(num[i].length)}`.trimEnd()).join('\n');
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}
