// `adarec train` and `adarec eval`: train a teacher on a prepared data set into a run folder, and
// evaluate a run (with the non-neural baselines beside it).
import { Command, Option } from 'commander';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mostPopular, itemTransitions } from '../eval/baselines.js';
import { evaluate, perExampleCsv, type Evaluation, type Protocol } from '../eval/evaluate.js';
import { formatDifference, pairedBootstrap, perExample } from '../eval/compare.js';
import { modelScorer, type Scorer } from '../eval/scorer.js';
import { DEFAULT_KS } from '../eval/metrics.js';
import { MODEL_KINDS, loadTrainedModel, parseTrainConfig, train } from '../train/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readJsonFile } from '../util/config-file.js';
import { addDataOptions, loadData, positiveInt } from './data.js';

/** What a run folder records about its data, so that `adarec eval --run` reloads the same split. */
interface RunData {
  source: string;
  options: Record<string, unknown>;
  manifestKey: string;
}

function configFromOptions(o: Record<string, unknown>): unknown {
  const base = o.config ? readJsonFile(String(o.config)) as Record<string, unknown> : {};
  const merged: Record<string, any> = { ...base };
  if (o.model) merged.model = typeof base.model === 'object' && base.model !== null ? { ...base.model, kind: o.model } : o.model;
  if (!merged.model) throw new RangeError('choose a model with --model (nextitnet, sasrec, bert4rec) or in the config file');
  if (o.epochs !== undefined) merged.epochs = o.epochs;
  if (o.batchSize !== undefined) merged.batchSize = o.batchSize;
  if (o.maxLength !== undefined) merged.maxLength = o.maxLength;
  if (o.seed !== undefined) merged.seed = o.seed;
  if (o.lr !== undefined) merged.optimizer = { ...(merged.optimizer ?? {}), lr: o.lr };
  if (o.patience !== undefined || o.metric !== undefined)
    merged.earlyStopping = { ...(merged.earlyStopping ?? {}), ...(o.patience !== undefined ? { patience: o.patience } : {}), ...(o.metric ? { metric: o.metric } : {}) };
  if (o.protocol !== undefined) merged.validation = { ...(merged.validation ?? {}), protocol: o.protocol };
  return merged;
}

export function trainCommand(): Command {
  return addDataOptions(new Command('train')
    .description('train a teacher (NextItNet, SASRec, BERT4Rec) with early stopping, checkpoints and resume')
    .requiredOption('--data <source>', "a log file, a data set name (e.g. movielens-1m) or 'synthetic[:users=N,...]'")
    .addOption(new Option('--model <kind>', 'the model (or model.kind in --config)').choices([...MODEL_KINDS]))
    .option('--config <file.json>', 'training config (every option below can also be set there; see docs)')
    .option('--out <dir>', 'run folder', 'runs/latest')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option('--epochs <n>', 'epochs', positiveInt)
    .option('--batch-size <n>', 'sequences per step', positiveInt)
    .option('--max-length <n>', 'input window (most recent items)', positiveInt)
    .option('--lr <x>', 'learning rate', Number)
    .option('--seed <n>', 'training seed (initialisation, shuffling, dropout)', (v) => Number(v))
    .option('--patience <n>', 'early stopping: epochs without improvement', positiveInt)
    .option('--metric <m>', "early stopping metric, e.g. 'ndcg@10'")
    .addOption(new Option('--protocol <p>', 'validation protocol').choices(['full', 'sampled'])))
    .addHelpText('after', '\nExamples:\n  adarec train --model nextitnet --data ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5 --out runs/nin\n' +
      '  adarec train --resume --out runs/nin --model nextitnet --data ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5')
    .action(async (o) => {
      const config = parseTrainConfig(configFromOptions(o), o.config ?? 'command-line options');
      const { data } = await loadData(o.data, o);
      const outDir = resolve(o.out);
      const runData: RunData = { source: o.data, options: dataOptions(o), manifestKey: data.manifest.key };
      const controller = new AbortController();
      process.once('SIGINT', () => { console.error('\ninterrupted: stopping after this batch (the last whole epoch is checkpointed)'); controller.abort(); });
      const result = await train({
        config, outDir, resume: o.resume === true, signal: controller.signal,
        data: { dataset: data.dataset, split: data.split, negatives: data.negatives, manifestHash: data.manifest.key },
      });
      writeFileAtomic(join(outDir, 'data.json'), [Buffer.from(JSON.stringify(runData, null, 2) + '\n')]);
      console.log(`best epoch ${result.bestEpoch}; test ${formatMetrics(result.testMetrics)}`);
    });
}

const DATA_KEYS = ['format', 'columns', 'delimiter', 'header', 'timeFormat', 'lenient', 'minRating', 'kCore', 'kCoreMode', 'duplicates', 'bySession',
  'minLength', 'split', 'chunkLength', 'validFraction', 'testFraction', 'negatives', 'negativeStrategy', 'negativesSeed', 'cacheDir'];

function dataOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(DATA_KEYS.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function formatMetrics(m: Record<string, number>, keys = ['hr@10', 'ndcg@10', 'mrr@10']): string {
  return keys.filter((k) => k in m).map((k) => `${k} ${m[k].toFixed(4)}`).join(', ');
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('evaluate a trained run on its test split, beside the most-popular and item-transition baselines')
    .requiredOption('--run <dir>', 'a run folder written by adarec train')
    .addOption(new Option('--protocol <p>', 'full ranking over all items, or the fixed 100 sampled negatives').choices(['full', 'sampled']).default('full'))
    .addOption(new Option('--split <s>', 'which examples').choices(['test', 'valid']).default('test'))
    .option('--exclude-seen', 'full ranking: items already in the input do not compete')
    .option('--checkpoint <name>', 'best or last', 'best')
    .option('--per-user <file.csv>', 'also write one row per evaluated user')
    .option('--no-baselines', 'skip the baselines')
    .option('--compare <metrics>', 'metrics of the paired model-vs-baseline intervals printed under the table', 'ndcg@10,hr@10')
    .action(async (o) => {
      const compared = (o.compare as string).split(',').map((m) => m.trim().toLowerCase());
      for (const m of compared) perExample([], m); // an unknown metric fails before any work
      const runDir = resolve(o.run);
      const dataFile = join(runDir, 'data.json');
      if (!existsSync(dataFile)) throw new RangeError(`${runDir} is not a finished run of adarec train (no data.json)`);
      const runData = JSON.parse(readFileSync(dataFile, 'utf8')) as RunData;
      const { data } = await loadData(runData.source, runData.options);
      const trained = loadTrainedModel(join(runDir, `${o.checkpoint}.ckpt`));
      if (trained.manifestHash !== data.manifest.key)
        throw new RangeError(`the run was trained on prepared data ${trained.manifestHash.slice(0, 12)}, but ${runData.source} now prepares to ${data.manifest.key.slice(0, 12)}`);
      const examples = o.split === 'test' ? data.split.test : data.split.valid;
      const vocab = data.dataset.numItems + 1;
      const scorers: Scorer[] = [modelScorer(trained.model, trained.config.maxLength, trained.config.model.kind)];
      if (o.baselines) scorers.push(mostPopular(data.split.train, vocab), itemTransitions(data.split.train, vocab));
      const protocol = o.protocol as Protocol;
      const rows: string[][] = [];
      const evaluations: Evaluation[] = [];
      for (const s of scorers) {
        const ev = evaluate(s, examples, { protocol, negatives: data.negatives ?? undefined, excludeSeen: o.excludeSeen === true });
        evaluations.push(ev);
        rows.push([s.name, ...DEFAULT_KS.flatMap((k) => ['hr', 'ndcg', 'mrr'].map((m) => ev.metrics[`${m}@${k}`].toFixed(4)))]);
        if (o.perUser && s === scorers[0]) writeFileSync(o.perUser, perExampleCsv(examples, ev, data.dataset.sequenceKeys, data.dataset.itemKeys));
      }
      const header = ['model', ...DEFAULT_KS.flatMap((k) => [`HR@${k}`, `NDCG@${k}`, `MRR@${k}`])];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      console.log(`${examples.targets.length} ${o.split} examples, ${protocol} ranking${o.excludeSeen ? ', seen items excluded' : ''}`);
      for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
      if (scorers.length > 1) {
        console.log(`\n${scorers[0].name} minus each baseline, paired bootstrap 95% interval (2000 resamples of the ${examples.targets.length} examples, seed 1):`);
        const nameWidth = Math.max(...scorers.slice(1).map((s) => s.name.length));
        for (let i = 1; i < scorers.length; i++) {
          const parts = compared.map((m) => `${m.toUpperCase()} ${formatDifference(pairedBootstrap(evaluations[0].ranks, evaluations[i].ranks, m))}`);
          console.log(`  vs ${scorers[i].name.padEnd(nameWidth)}  ${parts.join('   ')}`);
        }
      }
    });
}
