// Writes the prepared split of a data source (training sequences, validation and test examples,
// the fixed negatives, the item count) to one compact file that Python reads, so that a PyTorch
// model (bench/torch_sasrec.py) trains and is evaluated on exactly the split and negatives that
// `adarec train` uses. The data options are those of `adarec train` / `adarec data prepare`, and the
// data comes through the same prepared-data cache, so the same options give the same split.
//
//   npx tsc -p tsconfig.json
//   node dist/bench/export-split.js /work/shared/data/ml-1m-sasrec/ml-1m.txt --cache-dir ~/adarec-runs/cache \
//     --out ~/adarec-runs/ml1m/ml-1m.split
//
// File layout (version 1): the line "adarec-split 1\n"; one line of JSON (the header), padded with
// spaces so that the data starts at a multiple of 4 bytes; then each section of the header's
// `sections` list in order, as little-endian int32. Items are 1..numItems (0 is padding); train,
// valid and test use SequenceDataset/EvalExamples' layout (src/data/types.ts): sequence s's training
// items are train.items[train.offsets[s] .. train.offsets[s + 1]], example e's input is
// <part>.inputs[<part>.offsets[e] .. <part>.offsets[e + 1]], its target <part>.targets[e], its
// sequence <part>.sequence[e], and that sequence's negatives negatives.items[s * count .. (s + 1) * count].
import { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { addDataOptions, loadData } from '../src/cli/data.js';
import type { PreparedData } from '../src/data/prepare.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

export const SPLIT_MAGIC = 'adarec-split 1\n';

export interface SplitHeader {
  source: string;
  /** The prepared-data cache key (hash of the source and the options). */
  manifestKey: string;
  options: PreparedData['manifest']['options'];
  numItems: number;
  numSequences: number;
  negativesPerSequence: number;
  sections: { name: string; length: number }[];
}

/** The file's bytes, as chunks. */
export function encodeSplit(d: PreparedData): Uint8Array[] {
  const { train, valid, test } = d.split;
  const arrays: [string, Int32Array][] = [
    ['train.items', train.items], ['train.offsets', train.offsets],
    ...(['valid', 'test'] as const).flatMap((part) => (['sequence', 'inputs', 'offsets', 'targets'] as const)
      .map((f): [string, Int32Array] => [`${part}.${f}`, d.split[part][f]])),
  ];
  if (d.negatives) arrays.push(['negatives.items', d.negatives.items]);
  const header: SplitHeader = {
    source: d.manifest.sourceDescription,
    manifestKey: d.manifest.key,
    options: d.manifest.options,
    numItems: d.dataset.numItems,
    numSequences: d.dataset.offsets.length - 1,
    negativesPerSequence: d.negatives?.count ?? 0,
    sections: arrays.map(([name, a]) => ({ name, length: a.length })),
  };
  let head = SPLIT_MAGIC + JSON.stringify(header);
  const bytes = Buffer.byteLength(head, 'utf8') + 1;
  head += ' '.repeat((4 - (bytes % 4)) % 4) + '\n';
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return [Buffer.from(head, 'utf8'), ...arrays.map(([, a]) => {
    const out = Buffer.alloc(a.length * 4);
    if (le) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    else a.forEach((v, i) => out.writeInt32LE(v, i * 4));
    return out;
  })];
}

async function main(): Promise<void> {
  const program = addDataOptions(new Command('export-split')
    .description('write the prepared split (train sequences, valid/test examples, fixed negatives) for Python (bench/torch_sasrec.py)')
    .argument('<source>', "a log file, a data set name or 'synthetic[:...]' (as adarec train --data)")
    .requiredOption('--out <file>', 'the file to write'))
    .action(async (source: string, o) => {
      const { data } = await loadData(source, o);
      const out = resolve(String(o.out));
      mkdirSync(dirname(out), { recursive: true });
      writeFileAtomic(out, encodeSplit(data));
      const c = data.manifest.counts;
      console.log(`${out}: ${c.items} items, ${c.sequences} sequences, train ${c.train.interactions} interactions, ` +
        `valid ${c.valid}, test ${c.test}, ${c.negativesPerSequence} negatives per sequence (cache key ${data.manifest.key.slice(0, 12)})`);
    });
  await program.parseAsync(process.argv);
}

// run as a script, not when a test imports encodeSplit
if (process.argv[1] && resolve(process.argv[1]).endsWith('export-split.js')) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
