// Tiny run folders for bench/serve when none are given: a NextItNet teacher and an AdaRec-style
// student (a fixed two-cell genotype), each trained for one epoch on the synthetic generator's
// default log. Accuracy does not matter here, only realistic model shapes and a real items.json.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildPrepared } from '../src/data/prepare.js';
import { SYNTHETIC_DEFAULTS, syntheticLog } from '../src/data/synthetic.js';
import { parseTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { train, type TrainData } from '../src/train/trainer.js';

const TEACHER: TrainConfigInput = { model: { kind: 'nextitnet', hidden: 64, dilations: [1, 2, 4, 8, 1, 2, 4, 8] }, maxLength: 50, epochs: 1 };
const STUDENT: TrainConfigInput = {
  model: {
    kind: 'adarec', hidden: 32,
    genotype: { operators: ['causal_conv_3', 'causal_conv_3_d2', 'skip'], nodes: 2, cells: [['causal_conv_3', 'causal_conv_3_d2', 'skip'], ['causal_conv_3_d2', 'causal_conv_3', 'skip']] },
  },
  maxLength: 50, epochs: 1,
};

function syntheticData(): TrainData {
  const prepared = buildPrepared(syntheticLog(SYNTHETIC_DEFAULTS), {
    duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: null, seed: 1,
  });
  return { ...prepared, manifestHash: createHash('sha256').update(JSON.stringify(['bench-serve', SYNTHETIC_DEFAULTS])).digest('hex') };
}

/** Trains both into <dir>/teacher and <dir>/student; returns the two folders. */
export async function trainTinyRuns(dir: string, log: (line: string) => void): Promise<{ teacher: string; student: string }> {
  const data = syntheticData();
  const out = { teacher: join(dir, 'teacher'), student: join(dir, 'student') };
  for (const [name, config] of [['teacher', TEACHER], ['student', STUDENT]] as const) {
    const t0 = performance.now();
    await train({ config: parseTrainConfig(config, `bench ${name}`), data, outDir: out[name], log: () => {} });
    log(`trained a tiny ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${out[name]}`);
  }
  return out;
}
