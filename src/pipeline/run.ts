// `adarec run`: data -> teacher -> search -> derive -> finetune -> baselines -> evaluate -> report,
// each step a resumable stage of one run folder:
//   teacher/  search/  student/  scratch/  kd/  random-<i>/ (cost-matched)  random-any-<i>/
//   random-search/ (candidate-<i>/, candidates.json)  random-search-student/
//   search-no-<term>/ student-no-<term>/  search-paper/ student-paper/
//   report.html  report.md  results.json  cell.svg  alpha.svg  tradeoff.svg
//   (a latency-priced search without a table: ops-latency/ first, this machine's operator latencies)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/index.js';
import { parseSearchConfig, searchConvNorm, type SearchConfig } from '../search/config.js';
import { randomGenotypes, randomGenotypesLike, type Genotype } from '../models/adarec/genotype.js';
import type { ConvNorm } from '../models/adarec/operators.js';
import { runSearch, searchOperators, studentHidden, type SearchResult } from '../search/search.js';
import { distillsOverCandidates, parseTrainConfig, type TrainConfig } from '../train/config.js';
import { loadTrainedModel } from '../train/load.js';
import { loadTeacher } from '../train/teacher.js';
import { derivedSeed, train, type TrainData, type TrainResult } from '../train/trainer.js';
import { stderrLog, type ProgressMode } from '../train/progress.js';
import type { RunConfig } from './config.js';
import { meanFigures, measureModel, type ModelFigures, type SeededFigures } from './measure.js';
import { candidateConfig, randomSearchBudget, runRandomSearch } from './random-search.js';
import { writeReport, type ReportRow } from './report.js';
import { writeHtmlReport } from './run-folder.js';
import { lockRunFolder, runStage, stageKey } from './stage.js';
import { predictLatency, readLatencyTable, writeLatencyTable, type LatencyTable } from '../eval/latency-table.js';
import { profileOperators } from '../serve/profile-ops.js';
import { checkGenotypeLatency, describeLatencyCheck, profileOptionsFor, type LatencyCheck } from './latency.js';

export interface RunOptions {
  config: RunConfig;
  data: TrainData;
  outDir: string;
  log?: (line: string) => void;
  progress?: ProgressMode | 'auto';
  signal?: AbortSignal;
}

export interface RunResult {
  rows: ReportRow[];
  genotype: Genotype;
  /** A latency-priced search's derived student timed against its budget. */
  latencyCheck?: LatencyCheck;
}

interface TrainedStage { result: TrainResult; figures: ModelFigures }

/**
 * Seeds of the random genotype draws, derived from the run's seed (derivedSeed streams). The
 * cost-matched draw keeps its older `seed + 7`, so that existing run folders keep their stages.
 */
const RANDOM_ANY_STREAM = 101, RANDOM_SEARCH_STREAM = 102;

/**
 * `logitItems` (search and distillation) at a value that scores every item, as adarec did before
 * the option existed, is left out of stage keys, so that run folders begun before it keep their
 * stages. For a while the option's default was in the keys: a stage keyed so (a search, or a
 * finetune with it in its own config or in its search's key) is still current under that former key.
 */
const keyedLogitItems = <T>(items: T & { over: 'auto' | 'all' | 'candidates' }, numItems: number): T | undefined =>
  distillsOverCandidates(items.over, numItems) ? items : undefined;

/**
 * A latency table for a stage key: without a p99 offset of 0, what tables written before the
 * offset existed read as (their searches stay current).
 */
const keyedLatencyTable = (t: LatencyTable): unknown => {
  const fit = (f: LatencyTable['fit']['window'] | null): unknown => (f && f.tailMs === 0 ? { scale: f.scale, tail: f.tail } : f);
  return { ...t, fit: { window: fit(t.fit.window), stream: fit(t.fit.stream) } };
};

/**
 * A training config for a stage key: without the checkpoint paths it names (the keys of the stages
 * those checkpoints come from are in the key already, and a moved run folder keeps its keys), and
 * without a `logitItems` that scores every item (`former`: with it, as the former keys had it).
 */
function portable(cfg: TrainConfig, numItems: number, former = false): unknown {
  const d = cfg.distillation;
  return {
    ...cfg,
    init: cfg.init && { ...cfg.init, checkpoint: undefined },
    distillation: d && { ...d, teacher: undefined, logitItems: former ? d.logitItems : keyedLogitItems(d.logitItems, numItems) },
  };
}

export async function runPipeline(o: RunOptions): Promise<RunResult> {
  const release = lockRunFolder(o.outDir);
  try {
    return await pipeline(o);
  } finally {
    release();
  }
}

async function pipeline(o: RunOptions): Promise<RunResult> {
  const { config, data, outDir } = o;
  const log = o.log ?? stderrLog;
  const common = { log: o.log, progress: o.progress, signal: o.signal };
  const teacherConfig = parseTrainConfig({ model: 'nextitnet', epochs: 30, seed: config.seed, ...config.teacher,
    earlyStopping: { patience: 5, ...(config.teacher.earlyStopping as object ?? {}) } }, 'run config: teacher');
  const searchConfig = parseSearchConfig({ seed: config.seed, maxLength: teacherConfig.maxLength, ...config.search }, 'run config: search');
  const C = studentHidden(searchConfig, teacherConfig.model.kind);
  const T = searchConfig.maxLength;
  const dataKey = data.manifestHash, numItems = data.dataset.numItems;
  /** The seconds a finished stage took (its stage.json), null when unknown. */
  const stageSeconds = (name: string): number | null => {
    try {
      const s = JSON.parse(readFileSync(join(outDir, name, 'stage.json'), 'utf8')).seconds;
      return typeof s === 'number' ? s : null;
    } catch {
      return null;
    }
  };

  const trainStage = async (name: string, key: string, cfg: TrainConfig, formerKeys: string[] = []): Promise<TrainedStage> =>
    runStage(outDir, name, key, log, async ({ dir, resume }) => {
      const result = await train({ ...common, config: cfg, data, outDir: dir, resume });
      const { model } = loadTrainedModel(join(dir, 'best.ckpt'));
      try {
        return { result, figures: measureModel(model, data, cfg.maxLength, config.latencyRuns) };
      } finally {
        model.dispose();
      }
    }, formerKeys);

  /**
   * A student or baseline, trained `config.seeds` times (the first seed in `name`/, the others in
   * `name`-seed<k>/): the figures are the means, with the per-seed NDCG@10.
   */
  const trainSeeds = async (name: string, cfg: TrainConfig, keyOf: (cfg: TrainConfig) => string,
    formerKeysOf: (cfg: TrainConfig) => string[] = () => []): Promise<SeededFigures & { stages: string[] }> => {
    const runs: ModelFigures[] = [], stages: string[] = [];
    for (let s = 0; s < config.seeds; s++) {
      const seeded = { ...cfg, seed: cfg.seed + s };
      stages.push(s === 0 ? name : `${name}-seed${seeded.seed}`);
      runs.push((await trainStage(stages[s], keyOf(seeded), seeded, formerKeysOf(seeded))).figures);
    }
    return { ...meanFigures(runs), stages };
  };

  // 1. teacher
  const teacherKey = stageKey({ dataKey, teacherConfig });
  const teacher = await trainStage('teacher', teacherKey, teacherConfig);
  const teacherCkpt = join(outDir, 'teacher', 'best.ckpt');

  // 2. search (+ derive), for the default config and any ablation / paper-mode variants
  // A latency-priced search reads its table, or this machine profiled once in a stage (ops-latency/
  // for the main search's settings); its key holds the table's content, not its path.
  const mainProfile = profileOptionsFor(searchConfig, C, data.dataset.numItems);
  const latencyTableFor = async (cfg: SearchConfig): Promise<LatencyTable> => {
    if (cfg.latencyTable) return readLatencyTable(cfg.latencyTable);
    const opts = profileOptionsFor(cfg, C, data.dataset.numItems);
    const keyOf = (p: typeof opts): string => stageKey({ profile: { ...p, operators: p.operators.map((x) => x.name) } });
    const key = keyOf(opts);
    return runStage(outDir, key === keyOf(mainProfile) ? 'ops-latency' : `ops-latency-${key.slice(0, 8)}`, key, log, async ({ dir }) => {
      const table = profileOperators({ ...opts, log });
      writeLatencyTable(join(dir, 'ops-latency.json'), table);
      return table;
    });
  };
  const search = async (name: string, cfg: SearchConfig): Promise<{ key: string; formerKeys: string[]; result: SearchResult; table: LatencyTable | null }> => {
    const table = cfg.cost === 'latency' ? await latencyTableFor(cfg) : null;
    const keyOf = (c: object): string =>
      table ? stageKey({ dataKey, teacherKey, cfg: { ...c, latencyTable: undefined }, latencyTable: keyedLatencyTable(table) }) : stageKey({ dataKey, teacherKey, cfg: c });
    const key = keyOf({ ...cfg, logitItems: keyedLogitItems(cfg.logitItems, numItems) }), former = keyOf(cfg);
    const formerKeys = former === key ? [] : [former];
    const result = await runStage(outDir, name, key, log, async ({ dir, resume }) => {
      const teacher = await loadTeacher({ path: teacherCkpt, field: 'teacher', maxLength: cfg.maxLength });
      try {
        return await runSearch({ ...common, config: cfg, teacher, data, outDir: dir, resume, ...(table ? { latencyTable: table } : {}) });
      } finally {
        teacher.dispose();
      }
    }, formerKeys);
    return { key, formerKeys, result, table };
  };

  // 3. finetune a genotype (initialised from a search's supernet weights, or `from.prefix` '' for a trained model of that genotype)
  // (`from.convNorm`: the norm of the search it comes from, when not the main search's; 'batch' is left out, as older configs had it)
  // (`from.formerKeys`: the search's former keys: a finetune keyed from one is current too)
  const finetune = (name: string, genotype: Genotype, from: { name: string; key: string; formerKeys?: string[]; prefix?: string; convNorm?: ConvNorm }): Promise<SeededFigures & { stages: string[] }> => {
    const convNorm = from.convNorm ?? searchConvNorm(searchConfig);
    const cfg = parseTrainConfig({
      model: { kind: 'adarec', hidden: C, genotype: { operators: genotype.operators, nodes: genotype.nodes, cells: genotype.cells }, dropout: searchConfig.dropout,
        ...(searchConfig.positions ? { positions: searchConfig.positions } : {}), ...(convNorm !== 'batch' ? { convNorm } : {}) },
      maxLength: T, epochs: config.student.epochs, seed: config.seed, earlyStopping: { patience: config.student.patience },
      optimizer: { lr: config.student.lr },
      ...(config.student.initFromSearch ? { init: { checkpoint: join(outDir, from.name, 'best.ckpt'), prefix: from.prefix ?? 'net.' } } : {}),
      ...(config.student.distill ? { distillation: { teacher: teacherCkpt } } : {}),
    }, `${name} config`);
    const keyFrom = (fromKey: string, c: TrainConfig, former = false): string => stageKey({ dataKey, teacherKey, from: fromKey, cfg: portable(c, numItems, former) });
    const formerKeysOf = (c: TrainConfig): string[] => {
      const current = keyFrom(from.key, c);
      const keys = [from.key, ...from.formerKeys ?? []].flatMap((k) => [keyFrom(k, c), keyFrom(k, c, true)]);
      return [...new Set(keys)].filter((k) => k !== current);
    };
    return trainSeeds(name, cfg, (c) => keyFrom(from.key, c), formerKeysOf);
  };

  const main = await search('search', searchConfig);
  let latencyCheck: LatencyCheck | undefined;
  if (main.table) {
    // the derived genotype in the serving path on this machine, against the budget (not cached: it is this machine now)
    latencyCheck = checkGenotypeLatency(main.result.genotype, searchConfig, main.table, { hidden: C, vocabSize: data.dataset.numItems + 1 });
    log(describeLatencyCheck(latencyCheck));
  }
  const student = await finetune('student', main.result.genotype, { name: 'search', key: main.key, formerKeys: main.formerKeys });
  const rows: ReportRow[] = [
    { name: `teacher (${teacherConfig.model.kind})`, kind: 'teacher', figures: teacher.figures, stages: ['teacher'] },
    { name: 'AdaRec student', kind: 'student', ...student, genotype: main.result.genotype.cells[0] },
  ];

  // 4. baselines
  const blocks = Array.from({ length: searchConfig.cells * 2 }, (_, i) => (i % 2 === 0 ? 1 : 4));
  const small = { model: { kind: 'nextitnet', hidden: C, dilations: blocks }, maxLength: T, epochs: config.student.epochs, seed: config.seed,
    earlyStopping: { patience: config.student.patience } };
  if (config.baselines.scratch) {
    const cfg = parseTrainConfig(small, 'scratch config');
    rows.push({ name: `NextItNet ${blocks.length} blocks, hidden ${C}, scratch`, kind: 'baseline', baseline: 'scratch', ...await trainSeeds('scratch', cfg, (c) => stageKey({ dataKey, cfg: c })) });
  }
  if (config.baselines.kd) {
    const cfg = parseTrainConfig({ ...small, distillation: { teacher: teacherCkpt, mapping: 'fixed' } }, 'kd config');
    rows.push({ name: `NextItNet ${blocks.length} blocks, hidden ${C}, KD`, kind: 'baseline', baseline: 'kd', ...await trainSeeds('kd', cfg, (c) => stageKey({ dataKey, teacherKey, cfg: portable(c, numItems) }),
      (c) => [stageKey({ dataKey, teacherKey, cfg: portable(c, numItems, true) })]) });
  }
  // cost-matched: by operator parameters, or by predicted latency (within 10%) when the search was latency-priced
  const latencyMatched = main.table;
  const randoms = randomGenotypesLike(main.result.genotype, config.baselines.random, new Rng(config.seed + 7), latencyMatched
    ? { C, L: T, tolerance: 0.1, measure: (g) => predictLatency(latencyMatched, g, searchConfig.latencyPath ?? 'window', T).p50 }
    : { C, L: T });
  for (const [i, g] of randoms.entries()) {
    const r = await finetune(`random-${i + 1}`, g, { name: 'search', key: main.key, formerKeys: main.formerKeys });
    rows.push(latencyMatched
      ? { name: `random genotype (latency-matched) ${i + 1}`, kind: 'baseline', baseline: 'random-latency-matched', ...r, genotype: g.cells[0] }
      : { name: `random genotype (cost-matched) ${i + 1}`, kind: 'baseline', baseline: 'random-cost-matched', ...r, genotype: g.cells[0] });
  }
  const operators = searchOperators(searchConfig);
  const anyRandoms = randomGenotypes(operators, searchConfig.nodes, searchConfig.cells, config.baselines.randomAny,
    new Rng(derivedSeed(config.seed, RANDOM_ANY_STREAM, 0)), { exclude: [main.result.genotype] });
  for (const [i, g] of anyRandoms.entries()) {
    const r = await finetune(`random-any-${i + 1}`, g, { name: 'search', key: main.key, formerKeys: main.formerKeys });
    rows.push({ name: `random genotype (any) ${i + 1}`, kind: 'baseline', baseline: 'random-any', ...r, genotype: g.cells[0] });
  }
  if (config.baselines.randomSearch) {
    // independent of the search's result: the same candidates whatever the search chose
    const budget = randomSearchBudget(config.baselines.randomSearch, searchConfig.epochs);
    const genotypes = randomGenotypes(operators, searchConfig.nodes, searchConfig.cells, budget.candidates, new Rng(derivedSeed(config.seed, RANDOM_SEARCH_STREAM, 0)));
    const configs = genotypes.map((g) => candidateConfig(g, searchConfig, { hidden: C, teacher: teacherCkpt, epochs: budget.epochsEach, seed: config.seed }));
    const key = stageKey({ dataKey, teacherKey, budget, configs: configs.map((c) => portable(c, numItems)) });
    const rs = await runStage(outDir, 'random-search', key, log, ({ dir, resume }) =>
      runRandomSearch({ ...common, data, dir, resume, genotypes, configs, budget }));
    const chosen = genotypes[rs.chosen - 1];
    const r = await finetune('random-search-student', chosen, { name: join('random-search', `candidate-${rs.chosen}`), key, prefix: '' });
    rows.push({
      name: `random search (best of ${genotypes.length}, ${budget.epochsEach} epochs each)`, kind: 'baseline', baseline: 'random-search', ...r, genotype: chosen.cells[0],
      randomSearch: {
        candidates: genotypes.length, epochsEach: budget.epochsEach, searchEpochs: budget.searchEpochs, chosen: rs.chosen, metric: rs.metric,
        validation: rs.candidates[rs.chosen - 1].validation, seconds: rs.candidates.reduce((s, c) => s + c.seconds, 0), searchSeconds: stageSeconds('search'),
      },
    });
  }
  for (const term of config.baselines.ablations) {
    const cfg = parseSearchConfig({ ...searchConfig, terms: { ...searchConfig.terms, [term]: false } }, `search without ${term}`);
    const s = await search(`search-no-${term}`, cfg);
    const r = await finetune(`student-no-${term}`, s.result.genotype, { name: `search-no-${term}`, key: s.key, formerKeys: s.formerKeys });
    rows.push({ name: `AdaRec without L_${term === 'efficiency' ? 'E' : term === 'hidden' ? 'hid' : 'logit'}`, kind: 'baseline', baseline: 'ablation', ...r, genotype: s.result.genotype.cells[0] });
  }
  if (config.baselines.paperMode) {
    const cfg = parseSearchConfig({ ...config.search, seed: config.seed, maxLength: T, mode: 'paper', estimator: undefined, convNorm: undefined }, 'paper-mode search');
    const s = await search('search-paper', cfg);
    const r = await finetune('student-paper', s.result.genotype, { name: 'search-paper', key: s.key, formerKeys: s.formerKeys, convNorm: searchConvNorm(cfg) });
    rows.push({ name: 'AdaRec, paper mode', kind: 'baseline', baseline: 'paper-mode', ...r, genotype: s.result.genotype.cells[0] });
  }

  // 5. report
  const alpha = JSON.parse(readFileSync(join(outDir, 'search', 'alpha.json'), 'utf8'));
  const summary = writeReport(outDir, { rows, genotype: main.result.genotype, alpha, teacher: rows[0], ...(latencyCheck ? { latencyCheck } : {}) });
  writeHtmlReport(outDir);
  log(summary);
  return { rows, genotype: main.result.genotype, ...(latencyCheck ? { latencyCheck } : {}) };
}
