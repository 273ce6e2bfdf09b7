// Training-time augmentation for logs with coarse timestamps: items that share a timestamp have no
// known order (a stable sort keeps them in log order, which may be arbitrary: in MovieLens 100K
// about half of consecutive ratings share their second, in random log order), so each epoch may
// see them in a fresh random order instead of always the same one.
import type { Rng } from '../engine/index.js';
import type { DataSplit } from './types.js';

/**
 * A copy of the training items in which every run of consecutive items with equal timestamps
 * inside one training sequence is randomly permuted (runs never cross sequence boundaries).
 */
export function shuffleTiedItems(train: DataSplit['train'], rng: Rng): Int32Array {
  const { items, times, offsets } = train;
  const out = Int32Array.from(items);
  for (let s = 0; s + 1 < offsets.length; s++) {
    const end = offsets[s + 1];
    for (let a = offsets[s]; a < end;) {
      let b = a + 1;
      while (b < end && times[b] === times[a]) b++;
      if (b - a > 1) rng.shuffle(out.subarray(a, b));
      a = b;
    }
  }
  return out;
}

/** How many items share their timestamp with the item before them in the same sequence (training split or whole data set). */
export function tiedItemCount(sequences: { times: Float64Array; offsets: Int32Array }): number {
  const { times, offsets } = sequences;
  let n = 0;
  for (let s = 0; s + 1 < offsets.length; s++) for (let p = offsets[s] + 1; p < offsets[s + 1]; p++) if (times[p] === times[p - 1]) n++;
  return n;
}
