// Non-neural baselines that every results table shows for sanity.
import type { Scorer } from './scorer.js';

/** Training sequences as (items, offsets), the DataSplit.train layout. */
export interface TrainSequences {
  items: Int32Array;
  offsets: Int32Array;
}

/** Scores every item by its training frequency, whatever the input. */
export function mostPopular(train: TrainSequences, vocabSize: number): Scorer {
  const counts = new Float32Array(vocabSize);
  for (const i of train.items) if (i > 0) counts[i]++;
  return {
    name: 'MostPopular',
    vocabSize,
    score(inputs) {
      const out = new Float32Array(inputs.length * vocabSize);
      for (let b = 0; b < inputs.length; b++) out.set(counts, b * vocabSize);
      return out;
    },
  };
}

/**
 * First-order item-to-item transitions: score(j | last item i) = count(i -> j) in training, plus a
 * popularity term scaled below one transition so that it only breaks ties and covers unseen items.
 */
export function itemTransitions(train: TrainSequences, vocabSize: number): Scorer {
  const counts = new Float32Array(vocabSize);
  const next = new Map<number, Map<number, number>>();
  for (let s = 0; s + 1 < train.offsets.length; s++) {
    for (let p = train.offsets[s]; p < train.offsets[s + 1]; p++) {
      counts[train.items[p]]++;
      if (p === train.offsets[s]) continue;
      const from = train.items[p - 1], to = train.items[p];
      let row = next.get(from);
      if (!row) next.set(from, (row = new Map()));
      row.set(to, (row.get(to) ?? 0) + 1);
    }
  }
  let maxCount = 1;
  for (const c of counts) if (c > maxCount) maxCount = c;
  const prior = counts.map((c) => (0.5 * c) / maxCount);
  return {
    name: 'ItemTransitions',
    vocabSize,
    score(inputs) {
      const out = new Float32Array(inputs.length * vocabSize);
      inputs.forEach((seq, b) => {
        out.set(prior, b * vocabSize);
        const row = seq.length ? next.get(seq[seq.length - 1]) : undefined;
        if (row) for (const [j, c] of row) out[b * vocabSize + j] += c;
      });
      return out;
    },
  };
}
