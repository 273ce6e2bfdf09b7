// The js backend's quantizedScan (kernels.ts): the reference the native kernel (native/scan.cc)
// must match exactly. Integer dot products are exact and the approximate scores are rounded to
// float32 after every operation, so both backends return the same candidates.
import type { QuantizedItems, QuantizedQuery } from './kernels.js';

/** A min-heap of at most k numbers: the k largest seen; top() is the smallest of them. */
class KLargest {
  private readonly h: Float64Array;
  private n = 0;
  constructor(private readonly k: number) { this.h = new Float64Array(k); }
  /** The k-th largest so far, -Infinity before k values. */
  top(): number { return this.n < this.k ? -Infinity : this.h[0]; }
  offer(x: number): void {
    const h = this.h;
    if (this.n < this.k) {
      let i = this.n++;
      while (i > 0) { const p = (i - 1) >> 1; if (h[p] <= x) break; h[i] = h[p]; i = p; }
      h[i] = x;
    } else if (x > h[0]) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = l;
        if (l >= this.n) break;
        if (r < this.n && h[r] < h[l]) m = r;
        if (h[m] >= x) break;
        h[i] = h[m]; i = m;
      }
      h[i] = x;
    }
  }
}

export function quantizedScanJs(ix: QuantizedItems, q: QuantizedQuery, cand: Int32Array, candUpper: Float64Array): number {
  const { items, rows, groups: G, rowScale, bias, blockRows } = ix;
  const { query, blockErr, blockMax, excluded } = q;
  const f = Math.fround, qs = f(q.queryScale);
  const best = new KLargest(q.k);
  const approx = new Float64Array(16);
  let n = 0;
  for (let b = 0, start = 0; start < rows; b++, start += blockRows) {
    if (blockMax[b] < best.top()) continue;
    const err = blockErr[b], end = Math.min(rows, start + blockRows);
    for (let base = start; base < end; base += 16) {
      const off = (base >> 4) * G * 64;
      let amax = -Infinity;
      for (let l = 0; l < 16; l++) {
        let dot = 0;
        for (let g = 0; g < G; g++) {
          const o = off + g * 64 + l * 4, d = g * 4;
          dot += items[o] * query[d] + items[o + 1] * query[d + 1] + items[o + 2] * query[d + 2] + items[o + 3] * query[d + 3];
        }
        const a = f(f(f(qs * rowScale[base + l]) * dot) + bias[base + l]);
        approx[l] = a;
        if (a > amax) amax = a;
      }
      if (amax + err < best.top()) continue;
      for (let l = 0, L = Math.min(16, end - base); l < L; l++) {
        const a = approx[l], r = base + l;
        if (!excluded[r]) best.offer(a - err);
        if (a + err >= best.top()) { cand[n] = r; candUpper[n++] = a + err; }
      }
    }
  }
  const tau = best.top();
  let kept = 0;
  for (let i = 0; i < n; i++) if (candUpper[i] >= tau) { cand[kept] = cand[i]; candUpper[kept++] = candUpper[i]; }
  return kept;
}
