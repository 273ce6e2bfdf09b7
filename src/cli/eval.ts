// `adarec eval`: one or more trained runs on their test (or validation) split, beside the
// non-neural baselines, with paired bootstrap intervals of the model-minus-baseline differences.
// Several runs (e.g. seeds of one config) must share their prepared data; they are shown one row
// each, then their mean, and the intervals compare the per-user mean over the runs.
import { Command, Option } from 'commander';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { mostPopular, itemTransitions } from '../eval/baselines.js';
import { evaluate, perExampleCsv, type Protocol } from '../eval/evaluate.js';
import { formatDifference, meanPerExample, pairedBootstrap, perExample } from '../eval/compare.js';
import { modelScorer, type Scorer } from '../eval/scorer.js';
import { DEFAULT_KS, parseMetric } from '../eval/metrics.js';
import { loadTrainedModel, type TrainedModel } from '../train/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/config-file.js';
import { loadData, presetProtocol } from './data.js';
import type { RunData } from './train.js';

const RESAMPLES = 2000;
const COLUMNS = DEFAULT_KS.flatMap((k) => ['hr', 'ndcg', 'mrr'].map((m) => `${m}@${k}`));

/**
 * A run of adarec train (data.json inside), or a stage folder of adarec run (data.json in the
 * run folder above it).
 */
function readRun(dir: string, checkpoint: string): { dir: string; runData: RunData; trained: TrainedModel } {
  const runDir = resolve(dir);
  const stageOfRun = existsSync(join(runDir, 'stage.json')) || existsSync(join(runDir, 'stage-key.json'));
  if (stageOfRun && existsSync(join(runDir, 'alpha.json')))
    throw new RangeError(`${runDir} is the search stage of adarec run: it holds the supernet, not a trained model; evaluate the student folder beside it (${join(dirname(runDir), 'student')})`);
  const dataFile = [join(runDir, 'data.json'), ...(stageOfRun ? [join(dirname(runDir), 'data.json')] : [])].find((f) => existsSync(f));
  if (!dataFile) throw new RangeError(stageOfRun
    ? `${runDir} is a stage of adarec run, but ${join(dirname(runDir), 'data.json')} is missing (runs from before it was written: run the same adarec run command again, finished stages are skipped)`
    : `${runDir} is not a run folder of adarec train or a stage folder of adarec run (no data.json)`);
  const runData = readJsonFile(dataFile) as RunData;
  if (!runData || typeof runData.source !== 'string' || typeof runData.options !== 'object' || runData.options === null)
    throw new RangeError(`${dataFile}: expected { source, options, manifestKey } (corrupt?)`);
  return { dir: runDir, runData, trained: loadTrainedModel(join(runDir, `${checkpoint}.ckpt`)) };
}

function printTable(rows: string[][]): void {
  const header = ['model', ...COLUMNS.map((c) => c.toUpperCase())];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate trained runs on their test split, beside the most-popular and item-transition baselines')
    .requiredOption('--run <dirs...>', 'run folders written by adarec train (several: e.g. seeds of one config, on the same data)')
    .addOption(new Option('--protocol <p>', 'full ranking over all items, or the fixed 100 sampled negatives (default: full, or the run\'s --preset)').choices(['full', 'sampled']))
    .addOption(new Option('--split <s>', 'which examples').choices(['test', 'valid']).default('test'))
    .option('--exclude-seen', 'full ranking: items already in the input do not compete')
    .option('--checkpoint <name>', 'best or last', 'best')
    .option('--per-user <file.csv>', 'also write one row per evaluated user (one run only)')
    .option('--no-baselines', 'skip the baselines')
    .option('--compare <metrics>', 'metrics of the paired model-vs-baseline intervals printed under the table', 'ndcg@10,hr@10')
    .addHelpText('after', '\nExamples:\n  adarec eval --run runs/nin\n  adarec eval --run runs/nin-seed1 runs/nin-seed2 runs/nin-seed3 --exclude-seen\n\n' +
      'The intervals resample the users (paired: every model ranked the same targets), 2000 times with\n' +
      'seed 1; a difference whose 95% interval contains 0 is not a reliable win.')
    .action(async (o) => {
      const compared = (o.compare as string).split(',').map((m) => m.trim().toLowerCase());
      compared.forEach(parseMetric); // an unknown metric fails before any work
      const dirs = o.run as string[];
      if (o.perUser && dirs.length > 1) throw new RangeError('--per-user writes one run\'s users: give a single --run');
      const runs = dirs.map((d) => readRun(d, o.checkpoint));
      const { runData } = runs[0];
      const { data } = await loadData(runData.source, runData.options);
      for (const r of runs)
        if (r.trained.manifestHash !== data.manifest.key)
          throw new RangeError(`${r.dir} was trained on prepared data ${r.trained.manifestHash.slice(0, 12)}, but ${runData.source} ` +
            `(the data of ${runs[0].dir}) now prepares to ${data.manifest.key.slice(0, 12)}`);
      const examples = o.split === 'test' ? data.split.test : data.split.valid;
      const vocab = data.dataset.numItems + 1;
      const protocol = (o.protocol ?? presetProtocol(runData.options)) as Protocol;
      const options = { protocol, negatives: data.negatives ?? undefined, excludeSeen: o.excludeSeen === true };
      const row = (name: string, metrics: Record<string, number>): string[] => [name, ...COLUMNS.map((c) => metrics[c].toFixed(4))];

      const models = runs.map((r) => {
        const scorer: Scorer = modelScorer(r.trained.model, r.trained.config.maxLength, r.trained.config.model.kind);
        const name = runs.length > 1 ? `${scorer.name} (${basename(r.dir)})` : scorer.name;
        return { name, evaluation: evaluate(scorer, examples, options) };
      });
      if (o.perUser) writeFileAtomic(o.perUser, [Buffer.from(perExampleCsv(examples, models[0].evaluation, data.dataset.sequenceKeys, data.dataset.itemKeys))]);
      const baselines = o.baselines ? [mostPopular(data.split.train, vocab), itemTransitions(data.split.train, vocab)]
        .map((s) => ({ name: s.name, evaluation: evaluate(s, examples, options) })) : [];

      const rows = models.map((m) => row(m.name, m.evaluation.metrics));
      const mean = (c: string): number => models.reduce((s, m) => s + m.evaluation.metrics[c], 0) / models.length;
      if (models.length > 1) rows.push(row(`mean of ${models.length} runs`, Object.fromEntries(COLUMNS.map((c) => [c, mean(c)]))));
      rows.push(...baselines.map((b) => row(b.name, b.evaluation.metrics)));
      console.log(`${examples.targets.length} ${o.split} examples, ${protocol} ranking${o.excludeSeen ? ', seen items excluded' : ''}`);
      printTable(rows);
      if (models.length > 1) {
        const sd = (c: string): number => Math.sqrt(models.reduce((s, m) => s + (m.evaluation.metrics[c] - mean(c)) ** 2, 0) / (models.length - 1));
        console.log(`sd over the runs: ${compared.map((c) => `${c.toUpperCase()} ${sd(c).toFixed(4)}`).join(', ')}`);
      }
      if (baselines.length === 0) return;
      const subject = models.length > 1 ? `the mean of the ${models.length} runs` : models[0].name;
      console.log(`\n${subject} minus each baseline, paired bootstrap 95% interval (${RESAMPLES} resamples of the ${examples.targets.length} examples, seed 1):`);
      const width = Math.max(...baselines.map((b) => b.name.length));
      const modelValues = compared.map((m) => meanPerExample(models.map((x) => x.evaluation.ranks), m));
      for (const b of baselines) {
        const parts = compared.map((m, i) =>
          `${m.toUpperCase()} ${formatDifference(pairedBootstrap(modelValues[i], perExample(b.evaluation.ranks, m), m, { resamples: RESAMPLES }))}`);
        console.log(`  vs ${b.name.padEnd(width)}  ${parts.join('   ')}`);
      }
    });
}
