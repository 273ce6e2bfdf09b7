// Top-K selection without sorting the vocabulary: a size-k min-heap, O(n log k). Order: higher
// score first; equal scores by lower item id (deterministic).

export interface TopK {
  /** Model item ids, best first. */
  ids: Int32Array;
  scores: Float32Array;
}

/** `a` ranks below `b`: a lower score, or the same score and a higher id. */
const below = (sa: number, ia: number, sb: number, ib: number): boolean => sa < sb || (sa === sb && ia > ib);

/** The best k of the (score, item) pairs offered to it (scores not NaN). */
export class TopKSelector {
  private readonly hs: Float64Array;
  private readonly hi: Int32Array;
  private size = 0;

  constructor(private readonly k: number) {
    this.hs = new Float64Array(Math.max(0, k));
    this.hi = new Int32Array(Math.max(0, k));
  }

  offer(score: number, item: number): void {
    const { hs, hi } = this;
    if (this.size < this.k) {
      let i = this.size++;
      hs[i] = score; hi[i] = item;
      while (i > 0) { // sift up
        const p = (i - 1) >> 1;
        if (!below(hs[i], hi[i], hs[p], hi[p])) break;
        const ts = hs[i], ti = hi[i];
        hs[i] = hs[p]; hi[i] = hi[p]; hs[p] = ts; hi[p] = ti;
        i = p;
      }
    } else if (this.k > 0 && below(hs[0], hi[0], score, item)) {
      hs[0] = score; hi[0] = item;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const { hs, hi } = this;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < this.size && below(hs[l], hi[l], hs[m], hi[m])) m = l;
      if (r < this.size && below(hs[r], hi[r], hs[m], hi[m])) m = r;
      if (m === i) return;
      const ts = hs[i], ti = hi[i];
      hs[i] = hs[m]; hi[i] = hi[m]; hs[m] = ts; hi[m] = ti;
      i = m;
    }
  }

  /** The pairs kept, best first (empties the selector). */
  take(): TopK {
    const { hs, hi } = this;
    const ids = new Int32Array(this.size), out = new Float32Array(this.size);
    for (let n = this.size - 1; n >= 0; n--) { // pop the worst first, fill from the back
      ids[n] = hi[0]; out[n] = hs[0];
      this.size--;
      hs[0] = hs[this.size]; hi[0] = hi[this.size];
      this.siftDown(0);
    }
    return { ids, scores: out };
  }
}

/**
 * The k best items of scores[offset .. offset + count) (item i = index - offset). Item 0
 * (padding), NaN scores and items in `exclude` are never returned; fewer than k come back when
 * fewer are eligible.
 */
export function topK(scores: ArrayLike<number>, offset: number, count: number, k: number, exclude?: ReadonlySet<number>): TopK {
  const best = new TopKSelector(Math.max(0, Math.min(k, count - 1)));
  for (let item = 1; item < count; item++) {
    const s = scores[offset + item];
    if (s !== s || (exclude && exclude.has(item))) continue;
    best.offer(s, item);
  }
  return best.take();
}
