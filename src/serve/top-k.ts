// Top-K selection over one row of scores without sorting the vocabulary: a size-k min-heap,
// O(n log k). Order: higher score first; equal scores by lower item id (deterministic).

export interface TopK {
  /** Model item ids, best first. */
  ids: Int32Array;
  scores: Float32Array;
}

/** `a` ranks below `b`: a lower score, or the same score and a higher id. */
const below = (sa: number, ia: number, sb: number, ib: number): boolean => sa < sb || (sa === sb && ia > ib);

/**
 * The k best items of scores[offset .. offset + count) (item i = index - offset). Item 0
 * (padding), NaN scores and items in `exclude` are never returned; fewer than k come back when
 * fewer are eligible.
 */
export function topK(scores: ArrayLike<number>, offset: number, count: number, k: number, exclude?: ReadonlySet<number>): TopK {
  const cap = Math.max(0, Math.min(k, count - 1));
  const hs = new Float64Array(cap), hi = new Int32Array(cap);
  let size = 0;
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < size && below(hs[l], hi[l], hs[m], hi[m])) m = l;
      if (r < size && below(hs[r], hi[r], hs[m], hi[m])) m = r;
      if (m === i) return;
      const ts = hs[i], ti = hi[i];
      hs[i] = hs[m]; hi[i] = hi[m]; hs[m] = ts; hi[m] = ti;
      i = m;
    }
  };
  for (let item = 1; item < count && cap > 0; item++) {
    const s = scores[offset + item];
    if (s !== s || (exclude && exclude.has(item))) continue;
    if (size < cap) {
      let i = size++;
      hs[i] = s; hi[i] = item;
      while (i > 0) { // sift up
        const p = (i - 1) >> 1;
        if (!below(hs[i], hi[i], hs[p], hi[p])) break;
        const ts = hs[i], ti = hi[i];
        hs[i] = hs[p]; hi[i] = hi[p]; hs[p] = ts; hi[p] = ti;
        i = p;
      }
    } else if (below(hs[0], hi[0], s, item)) {
      hs[0] = s; hi[0] = item;
      siftDown(0);
    }
  }
  const ids = new Int32Array(size), out = new Float32Array(size);
  for (let n = size - 1; n >= 0; n--) { // pop the worst first, fill from the back
    ids[n] = hi[0]; out[n] = hs[0];
    size--;
    hs[0] = hs[size]; hi[0] = hi[size];
    siftDown(0);
  }
  return { ids, scores: out };
}
