// `adarec run` (the whole method, resumable) and `adarec search` (one search against a trained teacher).
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { SYNTHETIC_PRESET, parseRunConfig } from '../pipeline/config.js';
import { runPipeline } from '../pipeline/run.js';
import { parseSearchConfig } from '../search/config.js';
import { runSearch, studentHidden } from '../search/search.js';
import { checkGenotypeLatency, describeLatencyCheck, searchLatencyTable } from '../pipeline/latency.js';
import { loadTeacher } from '../train/teacher.js';
import { readJsonFile } from '../util/config-file.js';
import { addDataOptions, loadData, positiveInt } from './data.js';
import { writeRunData } from './train.js';

function abortOnSigint(what: string): AbortController {
  const controller = new AbortController();
  process.once('SIGINT', () => { console.error(`\ninterrupted: stopping ${what} after this batch; run the same command again to resume`); controller.abort(); });
  return controller;
}

export function runCommand(): Command {
  return addDataOptions(new Command('run')
    .description('the whole method: train the teacher, search the student, derive, finetune, train the baselines, evaluate and report')
    .option('--data <source>', "a log file, a data set name (e.g. movielens-1m) or 'synthetic[:users=N,...]'", 'synthetic')
    .option('--config <file.json>', 'run config: { teacher: {...train config}, search: {...}, student: {...}, baselines: {...} } (see docs)')
    .option('--out <dir>', 'run folder (stages already done there are skipped, interrupted ones resumed)', 'runs/adarec')
    .addOption(new Option('--teacher <kind>', 'teacher model (teacher.model in --config)').choices(['nextitnet', 'sasrec', 'bert4rec']))
    .addOption(new Option('--mode <mode>', 'search mode (search.mode in --config)').choices(['default', 'paper']))
    .option('--search-epochs <n>', 'search epochs (search.epochs)', positiveInt)
    .option('--random <n>', 'random genotypes of the searched cell\'s parameter count (baselines.random)', (v) => Number(v))
    .option('--random-any <n>', 'random genotypes from the whole space (baselines.randomAny)', (v) => Number(v))
    .option('--seed <n>', 'seed of every stage', (v) => Number(v))
    .option('--seeds <n>', 'finetune seeds: train the student and each baseline n times and report means (seeds)', positiveInt))
    .addHelpText('after', '\nStages write to <out>/teacher, search, student, scratch, kd, random-<i>, random-any-<i>, random-search,\n' +
      'random-search-student; at the end <out>/report.html shows every table and figure in one offline page\n' +
      '(adarec report <out> draws it for a run still going), and report.md holds the table with cell.svg, alpha.svg\n' +
      'and tradeoff.svg beside it. Interrupt with Ctrl-C and run the same command to continue.\n\n' +
      'Examples:\n  adarec run                                  # the synthetic default, a few minutes\n' +
      '  adarec run --data ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5 --out runs/ml100k\n' +
      '  adarec run --config run.json --teacher sasrec --mode paper')
    .action(async (o) => {
      const synthetic = String(o.data).startsWith('synthetic');
      const base = o.config ? readJsonFile(String(o.config)) as Record<string, any>
        : synthetic ? structuredClone(SYNTHETIC_PRESET) : {};
      if (o.teacher) base.teacher = { ...(base.teacher ?? {}), model: o.teacher };
      if (o.mode) base.search = { ...(base.search ?? {}), mode: o.mode };
      if (o.searchEpochs) base.search = { ...(base.search ?? {}), epochs: o.searchEpochs };
      if (o.random !== undefined) base.baselines = { ...(base.baselines ?? {}), random: o.random };
      if (o.randomAny !== undefined) base.baselines = { ...(base.baselines ?? {}), randomAny: o.randomAny };
      if (o.seed !== undefined) base.seed = o.seed;
      if (o.seeds !== undefined) base.seeds = o.seeds;
      const config = o.config ? parseRunConfig(base, String(o.config)) : parseRunConfig(base, 'command-line options');
      const { data } = await loadData(o.data, o);
      writeRunData(resolve(o.out), o, data); // every stage folder opens in adarec eval; the report shows its statistics
      const controller = abortOnSigint('the run');
      await runPipeline({
        config, outDir: resolve(o.out), signal: controller.signal,
        data: { dataset: data.dataset, split: data.split, negatives: data.negatives, manifestHash: data.manifest.key },
      });
    });
}

export function searchCommand(): Command {
  return addDataOptions(new Command('search')
    .description('search a student architecture against a trained teacher (writes genotype.json, alpha.json, search.jsonl)')
    .requiredOption('--teacher <best.ckpt|teacher.onnx>', 'the teacher: a checkpoint, or an ONNX model with its mapping (docs/ONNX.md)')
    .option('--teacher-mapping <file.json>', 'the mapping of an ONNX teacher (default: <name>.mapping.json beside <name>.onnx)')
    .requiredOption('--data <source>', 'the data the teacher was trained on')
    .option('--config <file.json>', 'search config')
    .option('--out <dir>', 'search folder', 'runs/search')
    .option('--resume', 'continue the search in --out')
    .addOption(new Option('--mode <mode>', 'search mode').choices(['default', 'paper']))
    .option('--epochs <n>', 'search epochs', positiveInt))
    .action(async (o) => {
      const base = o.config ? readJsonFile(String(o.config)) as Record<string, unknown> : {};
      if (o.mode) base.mode = o.mode;
      if (o.epochs) base.epochs = o.epochs;
      const config = parseSearchConfig(base, o.config ?? 'command-line options');
      const { data } = await loadData(o.data, o);
      const teacher = await loadTeacher({ path: resolve(o.teacher), mapping: o.teacherMapping === undefined ? undefined : resolve(String(o.teacherMapping)), field: '--teacher', maxLength: config.maxLength });
      if (teacher.manifestHash !== null && teacher.manifestHash !== data.manifest.key)
        console.error(`warning: the teacher was trained on data ${teacher.manifestHash}, this data is ${data.manifest.key}`);
      const hidden = studentHidden(config, teacher.kind);
      // a latency-priced search without a table profiles this machine first
      const table = config.cost === 'latency' ? searchLatencyTable(config, hidden, data.dataset.numItems, (l) => console.error(l)) : null;
      const controller = abortOnSigint('the search');
      const r = await runSearch({
        config, teacher, outDir: resolve(o.out), resume: o.resume === true, ...(table ? { latencyTable: table } : {}),
        signal: controller.signal, data: { dataset: data.dataset, split: data.split, negatives: data.negatives, manifestHash: data.manifest.key },
      }).finally(() => teacher.dispose());
      console.log(`genotype (best epoch ${r.bestEpoch}): ${r.genotype.cells[0].join(', ')}`);
      if (table) console.log(describeLatencyCheck(checkGenotypeLatency(r.genotype, config, table, { hidden, vocabSize: data.dataset.numItems + 1 })));
    });
}
