// The MovieLens 100K training sequences the epoch benchmarks share (rating >= 3, 5-core,
// leave-one-out training part), in a fixed shuffled order; exits with a message when the file
// or PyTorch is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng } from '../src/engine/index.js';
import { readLog } from '../src/data/read-log.js';
import { buildPrepared } from '../src/data/prepare.js';
import { torchMissing } from './torch-process.js';

export function ml100kTrainingSequences(): { vocab: number; sequences: Int32Array[]; order: number[] } {
  const DATA = process.env.ML100K ?? fileURLToPath(new URL('../../../shared/data/ml-100k/u.data', import.meta.url));
  const missing = torchMissing();
  if (missing) { console.error(missing); process.exit(1); }
  if (!existsSync(DATA)) { console.error(`MovieLens 100K not found at ${DATA} (set ML100K=path/to/u.data)`); process.exit(1); }
  const { dataset, split } = buildPrepared(readLog(DATA, { kind: 'movielens-100k' }), {
    minRating: 3, kCore: { users: 5, items: 5 }, duplicates: 'keep-all', bySession: false,
    split: { kind: 'leave-one-out' }, negatives: null, seed: 42,
  });
  const sequences: Int32Array[] = [];
  for (let s = 0; s + 1 < split.train.offsets.length; s++) sequences.push(split.train.items.subarray(split.train.offsets[s], split.train.offsets[s + 1]));
  const order = Array.from(sequences.keys());
  new Rng(1).shuffle(order);
  return { vocab: dataset.numItems + 1, sequences, order };
}
