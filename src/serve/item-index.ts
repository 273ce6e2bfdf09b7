// Exact top-k over a large catalog without scoring every item in float32 (docs/INFERENCE.md,
// "Large catalogs"). Built once per loaded model from its output layer: every item's weight
// vector quantized to int8 with its own scale, items sorted by norm and cut into blocks with the
// largest weight norm, residual norm and bias of each. A query quantizes the hidden state to int8,
// bounds per block how far the int8 score can be from the exact one (Cauchy-Schwarz on both
// quantization errors) and how high any exact score in it can go, and the quantizedScan kernel
// keeps only the items whose upper bound reaches the k-th best lower bound; those few are scored
// exactly. The exact score of item i is fround(sum_c h[c] * W[c, i] + bias[i]), summed in float64
// in c order: what `exactScore` computes, and what a brute-force pass over every item would rank.
import { kernels, type QuantizedItems } from '../engine/index.js';
import { TopKSelector, type TopK } from './top-k.js';

export interface ItemIndexOptions {
  /** Items per block (a multiple of 16; default 256). */
  blockRows?: number;
}

/** Weights, biases and hidden values must stay below this in magnitude (so no float32 product in the scan overflows). */
const LIMIT = 2 ** 60;

/** Slack for float rounding (the float32 approximation and exact scores, float64 norms), relative to the largest magnitude in play. */
const SLACK = 2 ** -20;

/** The exact score of `item` for hidden state h: the float32 rounding of the float64 sum, in c order. */
function exactScore(h: ArrayLike<number>, weight: Float32Array, bias: Float32Array | null, V: number, item: number): number {
  let s = 0;
  for (let c = 0; c < h.length; c++) s += h[c] * weight[c * V + item];
  if (bias) s += bias[item];
  return Math.fround(s);
}

/**
 * Items 1..V-1 from the largest weight norm to the smallest, by a counting sort on 4,096 buckets
 * of log-norm (items of one bucket in id order): only the blocks' Cauchy-Schwarz bounds care
 * about the order, and they hold for any order.
 */
function byNorm(sq: Float64Array): Int32Array {
  const V = sq.length, BUCKETS = 4096;
  let lo = Infinity, hi = -Infinity;
  for (let i = 1; i < V; i++) if (sq[i] > 0) { lo = Math.min(lo, Math.log(sq[i])); hi = Math.max(hi, Math.log(sq[i])); }
  const width = hi > lo ? (hi - lo) / (BUCKETS - 1) : 1;
  const bucket = new Uint16Array(V), count = new Int32Array(BUCKETS + 1);
  for (let i = 1; i < V; i++) { // bucket 0 holds the largest norms, BUCKETS - 1 the smallest and zero
    bucket[i] = sq[i] > 0 ? BUCKETS - 1 - Math.min(BUCKETS - 1, Math.floor((Math.log(sq[i]) - lo) / width)) : BUCKETS - 1;
    count[bucket[i] + 1]++;
  }
  for (let b = 1; b <= BUCKETS; b++) count[b] += count[b - 1];
  const order = new Int32Array(V - 1);
  for (let i = 1; i < V; i++) order[count[bucket[i]]++] = i;
  return order;
}

export class ItemIndex {
  private readonly q: QuantizedItems;
  /** Item id at each row, and each item's row. */
  private readonly item: Int32Array;
  private readonly row: Int32Array;
  /** Per block: largest weight norm, residual (weight - dequantized) norm, bias, |bias|. */
  private readonly maxW: Float64Array;
  private readonly maxR: Float64Array;
  private readonly maxBias: Float64Array;
  private readonly maxAbsBias: Float64Array;
  // per-query buffers (queries run one at a time)
  private readonly query: Int8Array;
  private readonly blockErr: Float64Array;
  private readonly blockMax: Float64Array;
  private readonly excluded: Uint8Array;
  private readonly cand: Int32Array;
  private readonly candUpper: Float64Array;
  /** Milliseconds the build took. */
  readonly buildMs: number;
  /** Candidates scored exactly by the last query. */
  lastCandidates = 0;

  private constructor(private readonly weight: Float32Array, private readonly bias: Float32Array | null,
    private readonly C: number, private readonly V: number, blockRows: number) {
    const start = performance.now();
    const N = V - 1, rows16 = Math.ceil(N / 16) * 16, G = C / 4, blocks = Math.ceil(N / blockRows);
    const norm = new Float64Array(V);
    for (let c = 0; c < C; c++) {
      const base = c * V;
      for (let i = 1; i < V; i++) norm[i] += weight[base + i] * weight[base + i];
    }
    this.item = byNorm(norm);
    this.row = new Int32Array(V).fill(-1);
    for (let r = 0; r < N; r++) this.row[this.item[r]] = r;
    const items = new Int8Array(rows16 * C), rowScale = new Float32Array(rows16), rowBias = new Float32Array(rows16).fill(-Infinity);
    const rNorm = new Float64Array(N);
    const CHUNK = 4096, w = new Float32Array(CHUNK * C);
    for (let i0 = 1; i0 < V; i0 += CHUNK) { // items in id order, a chunk of the [C, V] weight transposed at a time
      const n = Math.min(CHUNK, V - i0);
      for (let c = 0; c < C; c++) for (let j = 0; j < n; j++) w[j * C + c] = weight[c * V + i0 + j];
      for (let j = 0; j < n; j++) {
        const r = this.row[i0 + j], o = j * C, at = (r >> 4) * G * 64 + (r & 15) * 4;
        let m = 0;
        for (let c = 0; c < C; c++) { const a = Math.abs(w[o + c]); if (a > m) m = a; }
        const s = Math.fround(m / 127), inv = s > 0 ? 1 / s : 0;
        let rr = 0;
        for (let c = 0; c < C; c++) {
          let v = Math.round(w[o + c] * inv);
          v = v > 127 ? 127 : v < -127 ? -127 : v;
          items[at + (c >> 2) * 64 + (c & 3)] = v;
          const d = w[o + c] - s * v;
          rr += d * d;
        }
        rowScale[r] = s;
        rowBias[r] = bias ? bias[i0 + j] : 0;
        rNorm[r] = Math.sqrt(rr);
      }
    }
    this.maxW = new Float64Array(blocks); this.maxR = new Float64Array(blocks);
    this.maxBias = new Float64Array(blocks).fill(-Infinity); this.maxAbsBias = new Float64Array(blocks);
    for (let r = 0; r < N; r++) {
      const b = Math.floor(r / blockRows);
      this.maxW[b] = Math.max(this.maxW[b], Math.sqrt(norm[this.item[r]]));
      this.maxR[b] = Math.max(this.maxR[b], rNorm[r]);
      this.maxBias[b] = Math.max(this.maxBias[b], rowBias[r]);
      this.maxAbsBias[b] = Math.max(this.maxAbsBias[b], Math.abs(rowBias[r]));
    }
    this.q = { items, rows: N, groups: G, rowScale, bias: rowBias, blockRows };
    this.query = new Int8Array(C);
    this.blockErr = new Float64Array(blocks); this.blockMax = new Float64Array(blocks);
    this.excluded = new Uint8Array(N);
    this.cand = new Int32Array(N); this.candUpper = new Float64Array(N);
    this.buildMs = performance.now() - start;
  }

  /**
   * The index of an output layer y = h W + bias, W [C, V] (item 0 is padding, never returned),
   * or null when it cannot hold one: C not a multiple of 4 or above 1024, or a weight or bias
   * that is not finite or not below 2^60 in magnitude (brute force then).
   */
  static build(weight: Float32Array, bias: Float32Array | null, C: number, V: number, o: ItemIndexOptions = {}): ItemIndex | null {
    const blockRows = o.blockRows ?? 256;
    if (!(blockRows >= 16 && blockRows % 16 === 0)) throw new RangeError(`blockRows must be a positive multiple of 16, got ${blockRows}`);
    if (C % 4 !== 0 || C > 1024 || V < 2 || weight.length !== C * V || (bias && bias.length !== V)) return null;
    const small = (x: Float32Array): boolean => { for (let i = 0; i < x.length; i++) if (!(Math.abs(x[i]) < LIMIT)) return false; return true; };
    if (!small(weight) || (bias && !small(bias))) return null;
    return new ItemIndex(weight, bias, C, V, blockRows);
  }

  /** Bytes the index holds (the int8 items, per-item and per-block arrays, query buffers). */
  get bytes(): number {
    const arrays = [this.q.items, this.q.rowScale, this.q.bias, this.item, this.row, this.maxW, this.maxR, this.maxBias,
      this.maxAbsBias, this.query, this.blockErr, this.blockMax, this.excluded, this.cand, this.candUpper];
    return arrays.reduce((sum, a) => sum + a.byteLength, 0);
  }

  /** The exact score of `item` (1..V-1) for hidden state h [C]. */
  score(h: ArrayLike<number>, item: number): number {
    return exactScore(h, this.weight, this.bias, this.V, item);
  }

  /**
   * The k best items for hidden state h [C] by exact score, best first, ties by lower id, items in
   * `exclude` left out: the same ids and scores as exactScore over every item then topK.
   */
  topK(h: Float32Array, k: number, exclude?: ReadonlySet<number>): TopK {
    const { C, V } = this;
    const best = new TopKSelector(Math.max(0, Math.min(k, V - 1)));
    const eligible = (i: number): boolean => !exclude?.has(i);
    let H = 0, m = 0;
    for (let c = 0; c < C; c++) { H += h[c] * h[c]; m = Math.max(m, Math.abs(h[c])); }
    if (!(m < LIMIT) || k < 1) { // NaN, infinite or huge: score everything (NaN scores are skipped, as topK does)
      if (k >= 1) for (let i = 1; i < V; i++) { const s = this.score(h, i); if (s === s && eligible(i)) best.offer(s, i); }
      this.lastCandidates = k >= 1 ? V - 1 : 0;
      return best.take();
    }
    H = Math.sqrt(H);
    const qs = Math.fround(m / 127);
    let Hq = 0, He = 0;
    for (let c = 0; c < C; c++) {
      const u = qs > 0 ? Math.max(-127, Math.min(127, Math.round(h[c] / qs))) : 0;
      this.query[c] = u;
      Hq += (qs * u) ** 2;
      He += (h[c] - qs * u) ** 2;
    }
    Hq = Math.sqrt(Hq); He = Math.sqrt(He);
    // |approx - exact| <= |qs u . r| + |e . w| <= Hq ||r|| + He ||w||, plus rounding; exact <= H ||w|| + bias
    for (let b = 0; b < this.blockErr.length; b++) {
      const slack = SLACK * ((Hq + H) * (this.maxW[b] + this.maxR[b]) + this.maxAbsBias[b]);
      this.blockErr[b] = Hq * this.maxR[b] + He * this.maxW[b] + slack;
      this.blockMax[b] = H * this.maxW[b] + this.maxBias[b] + slack;
    }
    if (exclude) for (const i of exclude) if (i >= 1 && i < V) this.excluded[this.row[i]] = 1;
    try {
      const n = kernels().quantizedScan(this.q, {
        query: this.query, queryScale: qs, blockErr: this.blockErr, blockMax: this.blockMax, k: Math.min(k, V - 1), excluded: this.excluded,
      }, this.cand, this.candUpper);
      this.lastCandidates = n;
      for (let j = 0; j < n; j++) {
        const i = this.item[this.cand[j]];
        if (eligible(i)) best.offer(this.score(h, i), i);
      }
    } finally {
      if (exclude) for (const i of exclude) if (i >= 1 && i < V) this.excluded[this.row[i]] = 0;
    }
    return best.take();
  }
}
