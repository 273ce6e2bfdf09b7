// The search loop (METHOD.md "Search"): a supernet student trained against a frozen teacher with
// the distillation loss, alpha sampled per step by straight-through Gumbel-softmax, single-level
// (alpha and weights stepped on the same batch, as the reference) or first-order bi-level (alpha
// stepped on a held-out slice). Every epoch validates (the argmax genotype, or a sampled one as the
// reference), records alpha's probabilities and entropy, and writes an atomic checkpoint from
// which a killed search resumes to the same result. At the end the best epoch's alpha gives the
// genotype.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { F, Rng, backward, noGrad, nn, optim, tensor, tidy, zeros, type Tensor } from '../engine/index.js';
import { nextItemBatch } from '../data/batch.js';
import { evaluate } from '../eval/evaluate.js';
import { cutoffsFor } from '../eval/metrics.js';
import { modelScorer, type Scorer } from '../eval/scorer.js';
import { disposeSignals, type Teacher } from '../models/teacher.js';
import type { DistillationSignals } from '../models/types.js';
import { targetRows } from '../models/common.js';
import {
  appendFileLogged, assertResumable, captureCheckpoint, readCheckpoint, removeStaleTempFiles, restoreCheckpoint, saveCheckpoint,
  writeFileAtomic, type TrainProgress,
} from '../train/checkpoint.js';
import { formatSeconds, loopOutput } from '../train/progress.js';
import { TrainingAborted, batchSignals, derivedSeed, discardUnfinishedStart, trainingSampler, trainingSequences, truncateLog, type LoopOptions } from '../train/trainer.js';
import { distillsOverCandidates } from '../train/config.js';
import { CandidateDistillation, releaseCandidateBatch, type CandidateBatch } from '../distill/candidates.js';
import { cellEdges } from '../models/adarec/cell.js';
import { searchConvNorm, type SearchConfig } from './config.js';
import { Distiller, type LossParts } from '../distill/distiller.js';
import type { EmdLayerMappingState } from '../distill/emd.js';
import type { Genotype } from '../models/adarec/genotype.js';
import { alphaEntropy, alphaProbabilities, deriveGenotype, genotypeOf } from './derive.js';
import { argmaxRows, oneHot, sampleEdges, temperatureAt } from './gumbel.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { TeacherCache } from './teacher-cache.js';
import { modeOperators, operatorsByName } from '../models/adarec/operators.js';
import { opCosts } from './efficiency.js';
import { LatencyPricing, type BudgetedChoice } from './latency.js';
import { assertTableFits, predictLatency, readLatencyTable, type LatencyTable } from '../eval/latency-table.js';
import type { OperatorSpec } from '../models/adarec/ops/edge-op.js';

export interface SearchOptions extends LoopOptions {
  config: SearchConfig;
  /** The frozen teacher (ours or ONNX: train/teacher.ts loadTeacher); its kind sets the default student size. */
  teacher: Teacher;
  /** The operators' measured latencies when config.cost is 'latency' (else read from config.latencyTable). */
  latencyTable?: LatencyTable;
  onBatchEnd?: (info: { epoch: number; batch: number; step: number; parts: LossParts }) => void;
}

/** One line of search.jsonl. */
export interface SearchEpochRecord {
  epoch: number;
  temperature: number;
  /** Mean of each loss term over the epoch's steps. */
  loss: LossParts;
  steps: number;
  seconds: number;
  evalSeconds: number;
  metrics: Record<string, number>;
  /** Mean entropy of softmax(alpha) over the edges, nats (ln(#ops) = uniform). */
  alphaEntropy: number;
  /** The argmax genotype after this epoch (shared: one cell's list). */
  genotype: string[][];
  improved: boolean;
  bestEpoch: number | null;
  /** Latency-priced searches: mean E_p[latency] over the steps, and the genotype validated (derived within the budget). */
  latency?: { expectedMs: number; predictedMs: number; fits: boolean; changedRows: number };
}

export interface SearchResult {
  genotype: Genotype;
  bestEpoch: number | null;
  bestMetrics: Record<string, number> | null;
  epochsRun: number;
  entropy: number[];
  /** Latency-priced searches: the budget and the derived genotype's predicted latency. */
  latency?: SearchLatency;
}

/** How the genotype of a latency-priced search meets its budget (predicted from the table). */
export interface SearchLatency {
  budgetMs: number;
  quantile: 'p50' | 'p99';
  path: 'window' | 'stream';
  /** The genotype's predicted latency at the budget's quantile, and its p50 and p99 (ms). */
  predictedMs: number;
  predictedP50Ms: number;
  predictedP99Ms: number;
  /** Crop length it is served with (window path). */
  cropLength: number | null;
  fits: boolean;
  /** The plain argmax genotype and its predicted latency; rows of the genotype that differ from it. */
  argmax: string[][];
  argmaxPredictedMs: number;
  changedRows: number;
  /** The table it was priced with: when and where it was profiled. */
  table: { created: string; cpu: string; load: number[] };
}

/** The alpha history in alpha.json: probabilities per epoch, for the heatmap. */
export interface AlphaHistory {
  operators: string[];
  edges: string[];
  /** epochs[e][row][op] = softmax(alpha) after epoch e + 1. */
  epochs: number[][][];
  entropy: number[];
}

/** Everything the search trains, as one module for checkpoints: the supernet, the projections and alpha. */
class SearchModules extends nn.Module {
  readonly net: AdaRecNet;
  readonly distiller: Distiller;
  readonly alpha: Tensor;

  constructor(net: AdaRecNet, distiller: Distiller, rows: number, ops: number, rng: Rng) {
    super();
    this.net = this.child('net', net);
    this.distiller = this.child('distiller', distiller);
    const a = zeros([rows, ops]);
    const av = a.values;
    for (let i = 0; i < av.length; i++) av[i] = 0.01 * rng.normal();
    this.alpha = this.param('alpha', a);
  }
}

const SHUFFLE_STREAM = 11, GUMBEL_STREAM = 12, HELD_OUT_STREAM = 13, VALID_STREAM = 14, NEGATIVES_STREAM = 15;

/** The teacher's side of a search batch: its signals and, over candidates, the batch they were computed for. */
interface TeacherBatch {
  signals: DistillationSignals;
  over: CandidateBatch | null;
}

function release(t: TeacherBatch): void {
  if (t.over) releaseCandidateBatch(t.over); // its teacher signals are t.signals
  else disposeSignals(t.signals);
}

export function searchOperators(config: SearchConfig): readonly OperatorSpec[] {
  return config.operators ? operatorsByName(config.operators) : modeOperators(config.mode);
}

export function studentHidden(config: SearchConfig, teacherKind: string): number {
  return config.hidden ?? (teacherKind === 'nextitnet' ? 64 : 32);
}

/** Which operator columns each alpha row computes this step. */
function activeColumns(index: Int32Array, operators: readonly OperatorSpec[], estimator: SearchConfig['estimator']): number[][] {
  const real = operators.map((o, i) => (o.kind === 'none' ? -1 : i)).filter((i) => i >= 0);
  return Array.from(index, (o) => (estimator === 'all' ? real : operators[o].kind === 'none' ? [] : [o]));
}

interface SearchExtra {
  emd: EmdLayerMappingState;
  history: AlphaHistory;
  bestAlpha: number[] | null;
}

export async function runSearch(o: SearchOptions): Promise<SearchResult> {
  const { config, teacher, data, outDir } = o;
  const { log, progress: bar } = loopOutput(o);
  const vocabSize = data.dataset.numItems + 1;
  if (teacher.vocabSize !== vocabSize) throw new Error(`the teacher scores ${teacher.vocabSize - 1} items, the data has ${vocabSize - 1}`);
  const operators = searchOperators(config);
  const O = operators.length, E = cellEdges(config.nodes).length, K = config.cells;
  const rows = config.perCell ? K * E : E;
  const C = studentHidden(config, teacher.kind), T = config.maxLength;

  // a latency-priced search: the table's prices, and the genotype derived within the budget
  let latencyTable: LatencyTable | null = null, pricing: LatencyPricing | null = null;
  if (config.cost === 'latency') {
    const source = o.latencyTable ? 'the latency table' : config.latencyTable;
    if (!source) throw new Error('a latency-priced search needs a latency table: set latencyTable (adarec profile-ops writes one), or let adarec run / adarec search profile this machine');
    latencyTable = o.latencyTable ?? readLatencyTable(source);
    const path = config.latencyPath ?? 'window';
    assertTableFits(latencyTable, {
      hidden: C, length: T, items: vocabSize - 1, nodes: config.nodes, convNorm: searchConvNorm(config), positions: config.positions ?? 'learned',
      operators: operators.map((x) => x.name), path,
    }, source);
    pricing = new LatencyPricing(latencyTable, operators, {
      nodes: config.nodes, cells: K, perCell: config.perCell, window: T, path, quantile: config.latencyQuantile ?? 'p99', budgetMs: config.latencyBudgetMs!,
      penalty: config.latencyPenalty ?? 'derived',
    });
  }
  /** The genotype (columns per row) validated and derived: the argmax, or within the budget. */
  const choose = (alpha: ArrayLike<number>): { index: Int32Array; budgeted: BudgetedChoice | null } => {
    if (!pricing) return { index: argmaxRows(alpha, O), budgeted: null };
    const b = pricing.derive(alpha);
    return { index: b.index, budgeted: b };
  };

  // training sequences; in bi-level mode a held-out slice of them steps alpha
  const all = trainingSequences(data.split, T);
  if (all.length === 0) throw new Error('no training sequence has two or more items');
  let train = all, heldOut: Int32Array[] = [];
  if (config.bilevel) {
    const order = Int32Array.from({ length: all.length }, (_, i) => i);
    new Rng(derivedSeed(config.seed, HELD_OUT_STREAM, 0)).shuffle(order);
    const n = Math.max(1, Math.round(all.length * config.heldOutFraction));
    heldOut = Array.from(order.subarray(0, n), (i) => all[i]);
    train = Array.from(order.subarray(n), (i) => all[i]);
  }

  mkdirSync(outDir, { recursive: true });
  const lastPath = join(outDir, 'last.ckpt'), bestPath = join(outDir, 'best.ckpt');
  const logPath = join(outDir, 'search.jsonl'), stepsPath = join(outDir, 'steps.jsonl');
  for (const f of ['last.ckpt', 'best.ckpt', 'config.json', 'search.jsonl', 'steps.jsonl', 'alpha.json', 'genotype.json', 'result.json']) removeStaleTempFiles(outDir, f);
  if (!o.resume && existsSync(lastPath)) throw new Error(`${outDir} already holds a search (last.ckpt): resume it or choose another folder`);

  const modelRng = new Rng(config.seed);
  const gumbelRng = new Rng(derivedSeed(config.seed, GUMBEL_STREAM, 0));
  const validRng = new Rng(derivedSeed(config.seed, VALID_STREAM, 0));
  const rngs = { model: modelRng, gumbel: gumbelRng, valid: validRng };
  const net = new AdaRecNet({ vocabSize, maxLength: T, hidden: C, cells: K, nodes: config.nodes, operators, genotype: null, dropout: config.dropout, positions: config.positions, convNorm: config.convNorm }, modelRng);
  const teacherLayers = teacher.intermediates;
  const distiller = new Distiller(C, teacher.hidden, K, teacherLayers, {
    gamma: config.gamma, beta: config.beta, terms: config.terms, mapping: 'emd', maskPads: config.mode !== 'paper', temperature: config.temperature,
  }, modelRng);
  const state = new SearchModules(net, distiller, rows, O, modelRng);
  const weightParams = [...net.parameters(), ...distiller.parameters()];
  const wOpt = new optim.AdamW(weightParams, { lr: config.optimizer.lr, weightDecay: config.optimizer.weightDecay });
  const aOpt = new optim.AdamW([state.alpha], { lr: config.alphaOptimizer.lr, weightDecay: config.alphaOptimizer.weightDecay });
  // METHOD.md's cost vector: each op counted at the reference's L = 100, C = 128
  const costs = tensor(opCosts(operators), [O], state.alpha.dtype);
  let expectedMsSum = 0, expectedMsCount = 0;
  const edges = cellEdges(config.nodes);
  const edgeNames = Array.from({ length: rows }, (_, r) => {
    const e = edges[r % E];
    return `${config.perCell ? `cell ${Math.floor(r / E)} ` : ''}${e.from === 0 ? 'x' : e.from}→${e.to}`;
  });

  let progress: TrainProgress = { epoch: 0, step: 0, bestMetric: null, bestEpoch: null, bestMetrics: null, badEpochs: 0, stopped: false };
  let extra: SearchExtra = { emd: distiller.emd.state(), history: { operators: operators.map((x) => x.name), edges: edgeNames, epochs: [], entropy: [] }, bestAlpha: null };
  try {
    if (o.resume && existsSync(lastPath)) {
      const ckpt = readCheckpoint<SearchConfig>(lastPath);
      assertResumable(ckpt, lastPath, { manifestHash: data.manifestHash, vocabSize, config });
      restoreCheckpoint(ckpt, lastPath, { model: state, optimizers: { weights: { optimizer: wOpt }, alpha: { optimizer: aOpt } }, rngs });
      progress = ckpt.meta.progress;
      extra = ckpt.meta.extra as unknown as SearchExtra;
      distiller.emd.loadState(extra.emd);
      truncateLog(logPath, progress.epoch);
      truncateLog(stepsPath, progress.epoch);
      log(`resuming ${outDir} after epoch ${progress.epoch}`);
    } else discardUnfinishedStart(outDir, [logPath, stepsPath]);
    writeFileAtomic(join(outDir, 'config.json'), [Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8')]);
    log(`search (${config.mode} mode, ${config.estimator} estimator${config.bilevel ? ', bi-level' : ''}): ${K} cells x ${config.nodes} nodes, ` +
      `${O} operators, hidden ${C}, supernet ${net.parameterCount().toLocaleString('en-US')} parameters; ${train.length} training sequences` +
      `${config.bilevel ? ` + ${heldOut.length} held out for alpha` : ''}; teacher ${teacherLayers} intermediate layers`);

    const metricName = config.validation.metric;
    const ks = cutoffsFor(metricName);
    const B = config.batchSize, batches = Math.ceil(train.length / B);
    const cellsFactor = config.perCell ? 1 / K : 1;
    const cache = config.cacheTeacher ? new TeacherCache(train.length, T) : null;
    // default mode scores logits at the positions with a target only (the same loss; paper mode's
    // KL averages over every position, pads included)
    const atTargets = config.mode !== 'paper';

    // a large catalog: the CE and logit terms over candidates (the teacher's top k of each window, found once per window)
    const items = config.logitItems;
    let candidateSets: { train: CandidateDistillation; heldOut: CandidateDistillation } | null = null;
    if (distillsOverCandidates(items.over, data.dataset.numItems)) {
      if (!atTargets || cache) throw new Error(`logitItems: ${data.dataset.numItems.toLocaleString('en-US')} items are distilled over candidates, which paper mode and cacheTeacher do not support; set logitItems.over to "all"`);
      if (items.topK >= data.dataset.numItems) throw new Error(`logitItems.topK: ${items.topK} of a catalog of ${data.dataset.numItems} items`);
      const sampler = trainingSampler(data.split, data.dataset.numItems, items.sampler);
      const make = (sequences: number) => new CandidateDistillation({ sequences, maxLength: T, k: items.topK, negatives: items.negatives, sampler, correctCE: items.sampler === 'popularity' });
      candidateSets = { train: make(train.length), heldOut: make(heldOut.length) };
      net.sparseCatalogGradients(true);
      log(`distillation over candidates: the teacher's top ${items.topK} per position + the batch's positives + ${items.negatives} ${items.sampler} draws per batch`);
    }
    let negativesRng = new Rng(derivedSeed(config.seed, NEGATIVES_STREAM, 0));

    /** The teacher's side of a batch (release() it); `indices` = the batch's indices into train, or into heldOut. */
    const teacherBatch = async (batch: Int32Array[], indices: ArrayLike<number>, fromHeldOut: boolean): Promise<TeacherBatch> => {
      const sets = candidateSets;
      if (sets) {
        const over = await (fromHeldOut ? sets.heldOut : sets.train).batch(teacher, batch, indices, negativesRng);
        return { signals: over.teacher, over };
      }
      const compute = (): Promise<DistillationSignals> => batchSignals(teacher, batch, T, atTargets);
      const scored = atTargets ? batch.map((s) => Math.min(s.length - 1, T)) : null;
      return { signals: await (cache && !fromHeldOut ? cache.get(indices, scored, compute) : compute()), over: null };
    };

    /** Forward + loss of one batch under a fresh Gumbel sample, against the teacher's side `t` of it. */
    const stepLoss = (batch: Int32Array[], tau: number, t: TeacherBatch): { loss: Tensor; parts: LossParts } => {
      const { inputs, targets } = t.over ?? nextItemBatch(batch, T);
      const sample = sampleEdges(state.alpha, tau, gumbelRng);
      net.mix = { weights: sample.weights, active: activeColumns(sample.index, operators, config.estimator), perCell: config.perCell };
      const s = t.over ? net.signals(inputs, t.over.rows, t.over.candidates) : net.signals(inputs, atTargets ? targetRows(targets).rows : null);
      let eff: Tensor;
      if (pricing) {
        const p = pricing.penalty(state.alpha, sample.index);
        eff = p.loss;
        expectedMsSum += p.expectedMs * batch.length;
        expectedMsCount += batch.length;
      } else eff = F.mulScalar(F.sum(F.mul(sample.weights, costs)), cellsFactor);
      return distiller.loss(s, t.signals, inputs, targets, eff, t.over?.candidates ?? null);
    };

    while (progress.epoch < config.epochs) {
      const epochIndex = progress.epoch, epoch = epochIndex + 1;
      const tau = temperatureAt(epochIndex, config.gumbel.initial, config.gumbel.decay, config.gumbel.everyEpochs);
      const warmingUp = epochIndex < config.alphaWarmupEpochs;
      state.train();
      const order = Int32Array.from({ length: train.length }, (_, i) => i);
      new Rng(derivedSeed(config.seed, SHUFFLE_STREAM, epochIndex)).shuffle(order);
      negativesRng = new Rng(derivedSeed(config.seed, NEGATIVES_STREAM, epochIndex));
      const heldOrder = Int32Array.from({ length: heldOut.length }, (_, i) => i);
      if (heldOut.length) new Rng(derivedSeed(config.seed, HELD_OUT_STREAM, epoch)).shuffle(heldOrder);
      bar.start(`search epoch ${epoch}/${config.epochs} (tau ${tau.toFixed(3)})`, train.length);
      const started = performance.now();
      const sums: LossParts = { total: 0, ce: 0, embedding: 0, hidden: 0, logits: 0, efficiency: 0 };
      expectedMsSum = 0; expectedMsCount = 0;
      const stepLines: string[] = [];
      let done = 0;
      for (let b = 0; b < batches; b++) {
        if (o.signal?.aborted) {
          bar.stop();
          throw new TrainingAborted(`search interrupted in epoch ${epoch}; ${lastPath} holds epoch ${progress.epoch}: resume to continue`);
        }
        const batchIdx = order.subarray(b * B, Math.min(train.length, (b + 1) * B));
        const batch = Array.from(batchIdx, (i) => train[i]);
        if (config.bilevel && !warmingUp) {
          // first-order DARTS: alpha's step on a held-out batch, the weights untouched
          const hbIdx = Int32Array.from({ length: Math.min(B, heldOut.length) }, (_, i) => heldOrder[(b * B + i) % heldOut.length]);
          const hb = Array.from(hbIdx, (i) => heldOut[i]);
          const ht = await teacherBatch(hb, hbIdx, true);
          try {
            tidy(() => {
              const { loss } = stepLoss(hb, tau, ht);
              wOpt.zeroGrad(); aOpt.zeroGrad();
              backward(loss);
              aOpt.step();
            });
          } finally {
            release(ht);
          }
          distiller.discardStep(); // the held-out batch trains alpha only, not the EMD layer weights
          wOpt.zeroGrad(); aOpt.zeroGrad();
        }
        const t = await teacherBatch(batch, batchIdx, false);
        let parts: LossParts;
        try {
          parts = tidy(() => {
            const step = stepLoss(batch, tau, t);
            wOpt.zeroGrad(); aOpt.zeroGrad();
            backward(step.loss);
            if (config.optimizer.clipNorm !== null) optim.clipGradNorm(weightParams, config.optimizer.clipNorm);
            wOpt.step();
            if (!config.bilevel && !warmingUp) aOpt.step();
            return step.parts;
          });
        } finally {
          release(t);
        }
        distiller.afterStep();
        wOpt.zeroGrad(); aOpt.zeroGrad();
        net.mix = null;
        if (!Number.isFinite(parts.total)) {
          bar.stop();
          throw new Error(`search epoch ${epoch}, batch ${b + 1}: the loss is ${parts.total}; ${lastPath} holds epoch ${progress.epoch} (try a lower optimizer.lr)`);
        }
        progress.step++;
        for (const k of Object.keys(sums) as (keyof LossParts)[]) sums[k] += parts[k] * batch.length;
        stepLines.push(JSON.stringify({ epoch, step: progress.step, tau, ...parts }));
        done += batch.length;
        bar.update(done, sums.total / done);
        o.onBatchEnd?.({ epoch, batch: b, step: progress.step, parts });
        await yieldToEventLoop();
      }
      bar.stop();
      const seconds = (performance.now() - started) / 1000;

      // validate: the argmax genotype (default) or a fresh Gumbel sample per batch (the reference)
      const evalStarted = performance.now();
      const alphaValues = Float64Array.from(state.alpha.values);
      const chosen = choose(alphaValues);
      const { scorer, dispose } = validationScorer(net, T, config, alphaValues, operators, validRng, tau, chosen.index);
      const { metrics } = evaluate(scorer, data.split.valid, {
        protocol: config.validation.protocol, negatives: data.negatives ?? undefined, ks, batchSize: config.validation.batchSize,
      });
      dispose();
      net.mix = null;
      const evalSeconds = (performance.now() - evalStarted) / 1000;

      const value = metrics[metricName];
      const improved = Number.isFinite(value) && (progress.bestMetric === null || value > progress.bestMetric);
      progress = improved
        ? { ...progress, epoch, bestMetric: value, bestEpoch: epoch, bestMetrics: metrics, badEpochs: 0 }
        : { ...progress, epoch, badEpochs: progress.badEpochs + 1 };
      const entropy = alphaEntropy(alphaValues, O);
      extra = {
        emd: distiller.emd.state(),
        history: { ...extra.history, epochs: [...extra.history.epochs, alphaProbabilities(alphaValues, O)], entropy: [...extra.history.entropy, entropy] },
        bestAlpha: improved ? Array.from(alphaValues) : extra.bestAlpha,
      };
      const genotype = genotypeOf(chosen.index, alphaValues, operators, config.nodes, K);
      const mean = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / done])) as unknown as LossParts;
      const record: SearchEpochRecord = {
        epoch, temperature: tau, loss: mean, steps: batches, seconds, evalSeconds, metrics, alphaEntropy: entropy,
        genotype: config.perCell ? genotype.cells : [genotype.cells[0]], improved, bestEpoch: progress.bestEpoch,
        ...(chosen.budgeted ? { latency: {
          expectedMs: expectedMsCount ? expectedMsSum / expectedMsCount : NaN, predictedMs: chosen.budgeted.predictedMs,
          fits: chosen.budgeted.fits, changedRows: chosen.budgeted.changedRows,
        } } : {}),
      };
      appendFileLogged(stepsPath, stepLines.map((l) => l + '\n').join(''));
      appendFileLogged(logPath, JSON.stringify(record) + '\n');
      writeFileAtomic(join(outDir, 'alpha.json'), [Buffer.from(JSON.stringify(extra.history) + '\n', 'utf8')]);
      const ckpt = captureCheckpoint<SearchConfig>({
        model: state, optimizers: { weights: { optimizer: wOpt }, alpha: { optimizer: aOpt } }, rngs,
        meta: { vocabSize, config, manifestHash: data.manifestHash, progress, extra: extra as unknown as Record<string, unknown> },
      });
      if (improved) saveCheckpoint(bestPath, ckpt);
      saveCheckpoint(lastPath, ckpt);
      log(`search epoch ${epoch}/${config.epochs}: loss ${mean.total.toFixed(4)} (ce ${mean.ce.toFixed(3)}, emb ${mean.embedding.toFixed(3)}, ` +
        `hid ${mean.hidden.toFixed(3)}, logit ${mean.logits.toFixed(3)}, eff ${mean.efficiency.toFixed(3)}), ${metricName} ${(value ?? NaN).toFixed(4)}, ` +
        `alpha entropy ${entropy.toFixed(4)} (uniform ${Math.log(O).toFixed(4)}), ${formatSeconds(seconds)}, eval ${formatSeconds(evalSeconds)}` +
        `${improved ? ' *best*' : ''}\n  genotype: ${genotype.cells[0].join(', ')}` +
        `${record.latency ? `\n  latency: E[${config.latencyQuantile}] ${record.latency.expectedMs.toFixed(3)} ms over the steps; this genotype ${record.latency.predictedMs.toFixed(3)} ms predicted, ` +
          `budget ${config.latencyBudgetMs} ms${record.latency.fits ? '' : ' (NO genotype fits: the fastest is taken)'}${record.latency.changedRows ? `, ${record.latency.changedRows} edge(s) off the argmax` : ''}` : ''}`);
    }

    const finalAlpha = extra.bestAlpha ?? Array.from(state.alpha.values);
    const final = choose(finalAlpha);
    const genotype = genotypeOf(final.index, finalAlpha, operators, config.nodes, K);
    writeFileAtomic(join(outDir, 'genotype.json'), [Buffer.from(JSON.stringify(genotype, null, 2) + '\n', 'utf8')]);
    const result: SearchResult = { genotype, bestEpoch: progress.bestEpoch, bestMetrics: progress.bestMetrics, epochsRun: progress.epoch, entropy: extra.history.entropy };
    if (final.budgeted && latencyTable) {
      const b = final.budgeted, path = config.latencyPath ?? 'window';
      const argmax = deriveGenotype(finalAlpha, operators, config.nodes, K);
      const p = predictLatency(latencyTable, genotype, path, T);
      result.latency = {
        budgetMs: config.latencyBudgetMs!, quantile: config.latencyQuantile ?? 'p99', path, predictedMs: b.predictedMs, predictedP50Ms: p.p50, predictedP99Ms: p.p99,
        cropLength: p.cropLength, fits: b.fits, argmax: config.perCell ? argmax.cells : [argmax.cells[0]], argmaxPredictedMs: b.argmaxPredictedMs, changedRows: b.changedRows,
        table: { created: latencyTable.created, cpu: latencyTable.machine.cpu, load: latencyTable.machine.load },
      };
      log(b.fits
        ? `latency: predicted ${config.latencyQuantile} ${b.predictedMs.toFixed(3)} ms within the budget of ${config.latencyBudgetMs} ms` +
          `${b.changedRows ? ` (the argmax, ${b.argmaxPredictedMs.toFixed(3)} ms, did not fit: ${b.changedRows} edge(s) changed)` : ''}`
        : `latency: OVER BUDGET: no genotype is predicted within ${config.latencyBudgetMs} ms (${config.latencyQuantile}); the fastest, ${b.predictedMs.toFixed(3)} ms, is taken`);
    }
    writeFileAtomic(join(outDir, 'result.json'), [Buffer.from(JSON.stringify(result, null, 2) + '\n', 'utf8')]);
    log(`search done: best epoch ${result.bestEpoch}; genotype ${genotype.cells[0].join(', ')}`);
    return result;
  } finally {
    bar.stop();
    net.mix = null;
    state.dispose();
    costs.dispose();
  }
}

/** Scores the supernet under the validation genotype rule. */
function validationScorer(net: AdaRecNet, T: number, config: SearchConfig, alpha: Float64Array, operators: readonly OperatorSpec[],
  rng: Rng, tau: number, index: Int32Array): { scorer: Scorer; dispose: () => void } {
  const O = operators.length;
  const base = modelScorer(net, T, 'supernet');
  if (config.validation.genotype === 'argmax') {
    // the derived genotype: alpha's argmax, or (latency budget) the most probable that fits
    const weights = oneHot(index, O, net.itemEmbedding.weight.dtype as 'float32' | 'float64');
    return {
      scorer: {
        name: base.name, vocabSize: base.vocabSize,
        score: (inputs) => {
          net.mix = { weights, active: activeColumns(index, operators, 'single-path'), perCell: config.perCell };
          return base.score(inputs);
        },
      },
      dispose: () => weights.dispose(),
    };
  }
  const alphaT = tensor(alpha, [alpha.length / O, O], net.itemEmbedding.weight.dtype);
  return {
    scorer: {
      name: base.name, vocabSize: base.vocabSize,
      score: (inputs) => noGrad(() => tidy(() => {
        const s = sampleEdges(alphaT, tau, rng);
        net.mix = { weights: s.weights, active: activeColumns(s.index, operators, 'single-path'), perCell: config.perCell };
        return base.score(inputs);
      })),
    },
    dispose: () => alphaT.dispose(),
  };
}
