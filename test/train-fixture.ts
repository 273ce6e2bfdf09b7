// Small leave-one-out data for the trainer tests and the child process of the kill test.
import { syntheticSequences, type SyntheticOptions } from '../src/data/synthetic.js';
import type { DataSplit, EvalExamples, SequenceDataset } from '../src/data/types.js';
import type { TrainData } from '../src/train/trainer.js';

function examples(seqs: Int32Array[], drop: number): EvalExamples {
  const inputs: number[] = [], offsets = [0], targets: number[] = [], sequence: number[] = [];
  seqs.forEach((s, i) => {
    const n = s.length - drop; // the target is s[n - 1], its input everything before
    inputs.push(...s.subarray(0, n - 1));
    offsets.push(inputs.length);
    targets.push(s[n - 1]);
    sequence.push(i);
  });
  return { sequence: Int32Array.from(sequence), inputs: Int32Array.from(inputs), offsets: Int32Array.from(offsets), targets: Int32Array.from(targets) };
}

/**
 * Generated sequences split leave-one-out: train = all but the last two items. With `negatives`,
 * that many fixed negatives per sequence (the first items not in it, cycling from a per-sequence start).
 * Timestamps: positions 0, 1 share time 0, positions 2, 3 time 1, ... (for shuffleTies); distinctTimes: one time per position.
 */
export function tinyData(o: Partial<SyntheticOptions> & { distinctTimes?: boolean } = {}, negatives = 0): TrainData {
  const { distinctTimes = false, ...rest } = o;
  const opts = { users: 300, items: 60, minLength: 6, maxLength: 16, seed: 5, ...rest };
  const seqs = syntheticSequences(opts);
  const trainItems: number[] = [], trainTimes: number[] = [], trainOffsets = [0], allItems: number[] = [], allTimes: number[] = [], allOffsets = [0];
  for (const s of seqs) {
    const times = Array.from(s, (_, p) => (distinctTimes ? p : Math.floor(p / 2))); // pairs of items share a time unless asked
    trainItems.push(...s.subarray(0, s.length - 2));
    trainTimes.push(...times.slice(0, s.length - 2));
    trainOffsets.push(trainItems.length);
    allItems.push(...s);
    allTimes.push(...times);
    allOffsets.push(allItems.length);
  }
  const dataset: SequenceDataset = {
    numItems: opts.items, items: Int32Array.from(allItems), times: Float64Array.from(allTimes), offsets: Int32Array.from(allOffsets),
    itemKeys: Array.from({ length: opts.items }, (_, i) => `i${i + 1}`), sequenceKeys: seqs.map((_, i) => `u${i + 1}`),
  };
  const split: DataSplit = {
    train: { items: Int32Array.from(trainItems), times: Float64Array.from(trainTimes), offsets: Int32Array.from(trainOffsets) },
    valid: examples(seqs, 1),
    test: examples(seqs, 0),
  };
  const neg = new Int32Array(seqs.length * negatives);
  seqs.forEach((s, i) => {
    const seen = new Set(s);
    for (let j = 0, item = i % opts.items; j < negatives; item = (item + 1) % opts.items) if (!seen.has(item + 1)) neg[i * negatives + j++] = item + 1;
  });
  return { dataset, split, negatives: negatives ? { count: negatives, items: neg } : null, manifestHash: `synthetic-${opts.seed}-${opts.users}-${opts.items}` };
}
