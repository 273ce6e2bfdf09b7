// `adarec train`: train a teacher on a prepared data set into a run folder.
import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { MODEL_KINDS, SAMPLED_SOFTMAX_ABOVE, parseTrainConfig, train, type TrainConfig } from '../train/index.js';
import { datasetStats, type DatasetStats } from '../data/stats.js';
import type { PreparedData } from '../data/prepare.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/config-file.js';
import { addDataOptions, loadData, positiveInt, presetProtocol } from './data.js';

/**
 * What a run folder records about its data, so that `adarec eval --run` reloads the same split,
 * and the prepared data's statistics for `adarec report` (absent in folders written before).
 */
export interface RunData {
  source: string;
  options: Record<string, unknown>;
  manifestKey: string;
  stats?: DatasetStats;
}

function configFromOptions(o: Record<string, unknown>): unknown {
  const base = o.config ? readJsonFile(String(o.config)) as Record<string, unknown> : {};
  const merged: Record<string, any> = { ...base };
  if (o.model) merged.model = typeof base.model === 'object' && base.model !== null ? { ...base.model, kind: o.model } : o.model;
  if (!merged.model) throw new RangeError('choose a model with --model (nextitnet, sasrec, bert4rec) or in the config file');
  if (o.dropout !== undefined) merged.model = { ...(typeof merged.model === 'string' ? { kind: merged.model } : merged.model), dropout: o.dropout };
  if (o.epochs !== undefined) merged.epochs = o.epochs;
  if (o.batchSize !== undefined) merged.batchSize = o.batchSize;
  if (o.maxLength !== undefined) merged.maxLength = o.maxLength;
  if (o.seed !== undefined) merged.seed = o.seed;
  if (o.shuffleTies) merged.shuffleTies = true;
  if (o.lr !== undefined) merged.optimizer = { ...(merged.optimizer ?? {}), lr: o.lr };
  if (o.patience !== undefined || o.metric !== undefined)
    merged.earlyStopping = { ...(merged.earlyStopping ?? {}), ...(o.patience !== undefined ? { patience: o.patience } : {}), ...(o.metric ? { metric: o.metric } : {}) };
  const protocol = o.protocol ?? (o.preset ? presetProtocol(o) : undefined);
  if (protocol !== undefined) merged.validation = { ...(merged.validation ?? {}), protocol };
  return merged;
}

/**
 * "(default: X)" for --help, or "(default: nextitnet X, sasrec Y, ...)" where the models differ: read
 * from the config schema's defaults, so the help cannot drift from what a run uses.
 */
export function configDefault(pick: (config: TrainConfig) => unknown): string {
  const values = MODEL_KINDS.map((kind) => [kind, String(pick(parseTrainConfig({ model: kind }, 'the defaults')))] as const);
  return values.every(([, v]) => v === values[0][1]) ? `(default: ${values[0][1]})` : `(default: ${values.map(([k, v]) => `${k} ${v}`).join(', ')})`;
}

function pretrainEpochs(): string {
  const m = parseTrainConfig({ model: 'bert4rec' }, 'the defaults').model;
  return String(m.kind === 'bert4rec' ? m.pretrainEpochs : '?');
}

export function trainCommand(): Command {
  return addDataOptions(new Command('train')
    .description('train a teacher (NextItNet, SASRec, BERT4Rec) with early stopping, checkpoints and resume')
    .requiredOption('--data <source>', "a log file, a data set name (e.g. movielens-1m) or 'synthetic[:users=N,...]'")
    .addOption(new Option('--model <kind>', 'the model (or model.kind in --config)').choices([...MODEL_KINDS]))
    .option('--config <file.json>', 'training config (every option below can also be set there, and the command line wins; the defaults below are the config\'s; see docs)')
    .option('--out <dir>', 'run folder', 'runs/latest')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--epochs <n>', `most epochs ${configDefault((c) => c.epochs).replace(/\)$/, `; BERT4Rec: of the causal finetune, after model.pretrainEpochs masked ones, ${pretrainEpochs()})`)}`, positiveInt)
    .option('--batch-size <n>', `sequences per step ${configDefault((c) => c.batchSize)}`, positiveInt)
    .option('--max-length <n>', `input window (most recent items) ${configDefault((c) => c.maxLength)}`, positiveInt)
    .option('--lr <x>', `learning rate (optimizer.lr) ${configDefault((c) => c.optimizer.lr)}`, Number)
    .option('--dropout <p>', 'model.dropout (BERT4Rec: of pre-training; model.finetuneDropout in --config sets the finetune\'s); small data wants more than the reference ' +
      configDefault((c) => c.model.dropout), Number)
    .option('--seed <n>', `training seed (initialisation, shuffling, dropout) ${configDefault((c) => c.seed)}`, (v) => Number(v))
    .option('--shuffle-ties', 'each epoch, shuffle the training items that share a timestamp (coarse-clock logs such as MovieLens)')
    .option('--patience <n>', `early stopping: epochs without improvement ${configDefault((c) => c.earlyStopping.patience)}`, positiveInt)
    .option('--metric <m>', `early stopping metric, e.g. 'ndcg@10' ${configDefault((c) => c.earlyStopping.metric)}`)
    .addOption(new Option('--protocol <p>', 'validation protocol (default: full, or the --preset\'s)').choices(['full', 'sampled'])))
    .addHelpText('after', `\nCatalogs above ${SAMPLED_SOFTMAX_ABOVE.toLocaleString('en-US')} items train with a sampled softmax (the batch's positives + 1,024 negatives drawn\n` +
      'by popularity, logQ-corrected), the item embeddings and the output layer updated lazily (only the rows a step\n' +
      'touches); up to that, with the softmax over every item. A config file\'s "loss": {"kind": "full" | "sampled" | "gbce",\n' +
      '"negatives", "sampler", "t"} overrides it; "gbce" is gSASRec\'s loss (256 uniform negatives, calibration t 0.75 by default).\n' +
      '\nExamples:\n  adarec train --model nextitnet --data ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5 --out runs/nin\n' +
      '  adarec train --resume --out runs/nin --model nextitnet --data ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5')
    .action(async (o) => {
      const config = parseTrainConfig(configFromOptions(o), o.config ?? 'command-line options');
      const { data } = await loadData(o.data, o);
      const outDir = resolve(o.out);
      const controller = new AbortController();
      process.once('SIGINT', () => { console.error('\ninterrupted: stopping after this batch (the last whole epoch is checkpointed)'); controller.abort(); });
      // first, so that an interrupted run opens in adarec eval and export too; a resume keeps the one
      // it has, and a folder that already holds a run (which train refuses) is left as it is
      const resume = o.resume === true;
      if (resume ? !existsSync(join(outDir, 'data.json')) : !existsSync(join(outDir, 'last.ckpt'))) writeRunData(outDir, o, data);
      const result = await train({
        config, outDir, resume, signal: controller.signal,
        data: { dataset: data.dataset, split: data.split, negatives: data.negatives, manifestHash: data.manifest.key },
      });
      console.log(`best epoch ${result.bestEpoch}; test ${formatMetrics(result.testMetrics)}`);
    });
}

const DATA_KEYS = ['format', 'columns', 'delimiter', 'header', 'timeFormat', 'lenient', 'minRating', 'kCore', 'kCoreMode', 'duplicates', 'bySession',
  'minLength', 'split', 'chunkLength', 'validFraction', 'testFraction', 'negatives', 'preset', 'negativeStrategy', 'negativesSeed', 'cacheDir'];

function dataOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(DATA_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

/**
 * Writes <dir>/data.json: where the data came from and how it was read, so that `adarec eval` can
 * prepare the same data again (a run of adarec train, or of adarec run for all its stage folders),
 * and the prepared data's statistics (what `adarec data stats` prints), which the HTML report shows.
 */
export function writeRunData(dir: string, o: Record<string, unknown>, data: PreparedData): void {
  const runData: RunData = { source: String(o.data), options: dataOptions(o), manifestKey: data.manifest.key, stats: datasetStats(data.dataset, 10, data.manifest.order) };
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'data.json'), [Buffer.from(JSON.stringify(runData, null, 2) + '\n')]);
}

function formatMetrics(m: Record<string, number>, keys = ['hr@10', 'ndcg@10', 'mrr@10']): string {
  return keys.filter((k) => k in m).map((k) => `${k} ${m[k].toFixed(4)}`).join(', ');
}
