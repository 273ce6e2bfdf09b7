// The training loop: shuffled mini-batches of next-item cross-entropy (BERT4Rec: masked-item
// pre-training, then a causal autoregressive finetune), gradient clipping, step LR decay,
// validation every epoch, early stopping on one named metric, a JSON Lines log and atomic
// checkpoints from which a killed run resumes to bit-identical results.
//
// Determinism: every random draw comes from a seeded Rng. The model's Rng (weight init, then
// dropout, which holds the same object) and the masking Rng are stateful and checkpointed; the
// shuffle order of epoch e (and with shuffleTies the order of tied items) comes from a fresh Rng
// seeded by (seed, stream, e), so it needs no state.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Rng, backward, optim, tensor, tidy, type Tensor } from '../engine/index.js';
import { nextItemBatch } from '../data/batch.js';
import { shuffleTiedItems, tiedItemCount } from '../data/tie-shuffle.js';
import type { DataSplit, Negatives, SequenceDataset } from '../data/types.js';
import { writeItemKeys } from '../data/item-keys.js';
import { evaluate, type Protocol } from '../eval/evaluate.js';
import { cutoffsFor } from '../eval/metrics.js';
import { modelScorer, padBatch, type Scorer } from '../eval/scorer.js';
import { BERT4Rec } from '../models/bert4rec.js';
import { NextItemModel } from '../models/next-item-model.js';
import type { DistillationSignals, SequentialRecommender } from '../models/types.js';
import { intermediateCount, targetRows } from '../models/common.js';
import { NegativeSampler, gbceBeta, gbceNegatives, sampledCandidates, type CandidateSource } from '../models/sampled-softmax.js';
import { CandidateDistillation, releaseCandidateBatch } from '../distill/candidates.js';
import { disposeSignals, type Teacher } from '../models/teacher.js';
import { Distiller } from '../distill/distiller.js';
import type { EmdLayerMappingState } from '../distill/emd.js';
import { loadTeacher } from './teacher.js';
import {
  appendFileLogged, assertResumable, captureCheckpoint, readCheckpoint, removeStaleTempFiles, restoreCheckpoint, saveCheckpoint,
  writeFileAtomic, type TrainProgress,
} from './checkpoint.js';
import { buildModel, parseTrainConfig, distillsOverCandidates, sampledLossOptions, usesSampledLoss, type OptimizerConfig, type TrainConfig } from './config.js';
import { formatSeconds, loopOutput, type ProgressMode } from './progress.js';

export interface TrainData {
  dataset: SequenceDataset;
  split: DataSplit;
  /** The fixed candidates of the sampled protocol (required when validation.protocol is 'sampled'). */
  negatives: Negatives | null;
  /** Identifies the prepared data; a checkpoint only resumes on the data it was written for. */
  manifestHash: string;
}

export interface BatchInfo {
  /** 1-based epoch. */
  epoch: number;
  /** 0-based batch within the epoch. */
  batch: number;
  batches: number;
  /** Optimizer steps taken so far in the run. */
  step: number;
  loss: number;
}

/** What every long loop (training, search) takes besides its config: folder, resume, logging, interruption. */
export interface LoopOptions {
  data: TrainData;
  /** The run folder (config.json, a JSON Lines log, last.ckpt, best.ckpt, result.json, ...). */
  outDir: string;
  /** Continue from <outDir>/last.ckpt (starts afresh when there is none). */
  resume?: boolean;
  /** Receives every log line (default: stderr). */
  log?: (line: string) => void;
  /** Aborting stops training at the next batch boundary; last.ckpt keeps the last whole epoch. */
  signal?: AbortSignal;
  /** 'auto' (default): a bar when stderr is a terminal and no `log` is given, else plain lines. */
  progress?: ProgressMode | 'auto';
}

export interface TrainOptions extends LoopOptions {
  config: TrainConfig;
  /** Called after every optimizer step (tests use it to interrupt a run at a known point). */
  onBatchEnd?: (info: BatchInfo) => void;
}

/** One line of train.jsonl. */
export interface EpochRecord {
  epoch: number;
  /** 'masked' (BERT4Rec pre-training) or 'autoregressive'. */
  phase: Phase;
  lr: number;
  loss: number;
  /** Global gradient norm before clipping, averaged over the epoch's steps. */
  gradNorm: number;
  steps: number;
  seconds: number;
  evalSeconds: number;
  sequencesPerSecond: number;
  protocol: Protocol;
  metrics: Record<string, number>;
  improved: boolean;
  bestEpoch: number | null;
}

export interface TrainResult {
  /** 1-based epoch whose weights are in best.ckpt (null when no epoch produced a finite metric). */
  bestEpoch: number | null;
  bestMetrics: Record<string, number> | null;
  /** The best checkpoint on the test split, under validation.protocol. */
  testMetrics: Record<string, number>;
  /** Epochs completed in the whole run (including those before a resume). */
  epochsRun: number;
  stoppedEarly: boolean;
}

type Phase = 'masked' | 'autoregressive';

export class TrainingAborted extends Error {
  override readonly name = 'AbortError';
}

/** A per-(seed, stream, epoch) seed, so that e.g. an epoch's shuffle needs no saved state. */
export function derivedSeed(seed: number, stream: number, epoch: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.floor(seed / 2 ** 32);
  h = Math.imul(h ^ (h >>> 15) ^ (stream + 0x632be5ab), 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ (epoch + 0x1b873593), 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

const SHUFFLE_STREAM = 1, MASK_STREAM = 2, TIES_STREAM = 3, NEGATIVES_STREAM = 4;

function makeOptimizer(c: OptimizerConfig, params: Tensor[], lr: number): optim.Optimizer {
  switch (c.name) {
    case 'adam': return new optim.Adam(params, { lr, weightDecay: c.weightDecay });
    case 'adamw': return new optim.AdamW(params, { lr, weightDecay: c.weightDecay });
    case 'lamb': return new optim.Lamb(params, { lr, weightDecay: c.weightDecay });
  }
}

/** BERT4Rec during masked pre-training: score the [MASK] appended after the input. */
function maskedScorer(model: BERT4Rec, maxLength: number): Scorer {
  const base = modelScorer(model, maxLength, 'BERT4Rec (masked)');
  return {
    name: base.name,
    vocabSize: base.vocabSize,
    score: (inputs) => base.score(inputs.map((s) => {
      const withMask = new Int32Array(s.length + 1);
      withMask.set(s);
      withMask[s.length] = model.maskId;
      return withMask;
    })),
  };
}

/**
 * The sampled loss of a run (config.loss): a sampler over the training items and, per epoch, the
 * candidate source of every batch (negatives drawn from that epoch's Rng, so resume stays exact).
 * Sampled softmax with popularity draws: the candidates' logits get the logQ correction. gBCE:
 * uniform draws, beta from the calibration t.
 */
function samplingSetup(config: TrainConfig, split: DataSplit, numItems: number): { forEpoch: (rng: Rng) => CandidateSource } {
  const o = sampledLossOptions(config);
  const sampler = trainingSampler(split, numItems, o.sampler);
  if (o.kind === 'gbce') return { forEpoch: (rng) => () => gbceNegatives(sampler.sample(o.negatives, () => rng.uniform()), numItems, o.t) };
  const logQ = o.sampler === 'popularity' ? sampler.logQ : null; // uniform draws: a constant correction, which cancels
  return {
    forEpoch: (rng) => (positives) =>
      sampledCandidates(positives, sampler.sample(o.negatives, () => rng.uniform()), logQ, { cap: o.sharedPositives, uniform: () => rng.uniform() }),
  };
}

/** Negatives drawn uniformly or by training popularity (every item keeps a small weight, so unseen ones stay drawable). */
export function trainingSampler(split: DataSplit, numItems: number, kind: 'uniform' | 'popularity'): NegativeSampler {
  if (kind === 'uniform') return new NegativeSampler(numItems, null);
  const weights = new Float64Array(numItems + 1);
  for (const item of split.train.items) if (item > 0) weights[item]++;
  for (let i = 1; i <= numItems; i++) weights[i] += 1e-3;
  return new NegativeSampler(numItems, weights);
}

/**
 * Training windows: each training sequence cut from its end into windows of maxLength + 1 items
 * that overlap by one, so every transition is a target exactly once however long the history.
 * `items` replaces the training items (same layout), e.g. with tied items shuffled.
 */
export function trainingSequences(split: DataSplit, maxLength: number, items = split.train.items): Int32Array[] {
  const { offsets } = split.train;
  const out: Int32Array[] = [];
  for (let s = 0; s + 1 < offsets.length; s++) {
    const start = offsets[s];
    // a window needs two items to give one next-item target
    for (let end = offsets[s + 1]; end - start >= 2; end -= maxLength) out.push(items.subarray(Math.max(start, end - maxLength - 1), end));
  }
  return out;
}

/** Keeps the log lines of epochs a checkpoint covers (a killed run may have logged one more). */
export function truncateLog(path: string, epochs: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
    try {
      return (JSON.parse(line) as EpochRecord).epoch <= epochs;
    } catch {
      return false;
    }
  });
  writeFileAtomic(path, [Buffer.from(kept.map((l) => l + '\n').join(''), 'utf8')]);
}

/**
 * Before a run starts from epoch 0 in a folder without last.ckpt: a run killed in its first epoch
 * may have left log lines and a best.ckpt (written before last.ckpt) there; they are dropped so
 * that the new run's logs and best checkpoint are its own.
 */
export function discardUnfinishedStart(outDir: string, logs: readonly string[]): void {
  for (const log of logs) truncateLog(log, 0);
  rmSync(join(outDir, 'best.ckpt'), { force: true });
}

/** Copies the parameters and buffers of `checkpoint` whose names (less `prefix`) the model has; returns how many. */
function initFrom(model: SequentialRecommender, init: NonNullable<TrainConfig['init']>): { copied: number; total: number } {
  const ckpt = readCheckpoint<unknown>(init.checkpoint);
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  const targets = [...[...model.namedParameters()].map(([n, p]) => [`param/${n}`, p] as const), ...[...model.namedBuffers()].map(([n, b]) => [`buffer/${n}`, b] as const)];
  let copied = 0;
  for (const [name, t] of targets) {
    const kind = name.slice(0, name.indexOf('/') + 1);
    const src = byName.get(kind + init.prefix + name.slice(kind.length));
    if (src && src.values.length === t.size && src.shape.join() === t.shape.join()) { t.values.set(src.values); copied++; }
  }
  if (copied === 0) throw new Error(`init: no parameter of the model is in ${init.checkpoint} (prefix '${init.prefix}')`);
  return { copied, total: targets.length };
}

/**
 * The teacher's signals of a batch's inputs (the caller disposes them), fetched before the
 * synchronous training step: an ONNX teacher runs asynchronously in onnxruntime. atTargets: the
 * logits at the positions that have a target only ([n, vocab], Distiller.loss).
 */
export async function batchSignals(teacher: Teacher, batch: readonly Int32Array[], maxLength: number, atTargets: boolean): Promise<DistillationSignals> {
  const { inputs, rows } = tidy(() => {
    const { inputs, targets } = nextItemBatch(batch, maxLength);
    return { inputs, rows: atTargets ? targetRows(targets).rows : null };
  });
  try {
    return await teacher.signals(inputs, rows);
  } finally {
    inputs.dispose();
    rows?.dispose();
  }
}

/** The teacher and the loss of a distillation run (config.distillation). */
async function setupDistillation(config: TrainConfig, model: SequentialRecommender, data: TrainData, windows: number, rng: Rng):
  Promise<{ teacher: Teacher; distiller: Distiller; candidates: CandidateDistillation | null } | null> {
  const vocabSize = data.dataset.numItems + 1;
  const d = config.distillation;
  if (!d) return null;
  if (config.model.kind === 'bert4rec') throw new Error('distillation: a BERT4Rec student is not supported (its masked phase has no next-item targets)');
  if (config.model.kind === 'nextitnet' && config.model.dilations.length % 2 !== 0) throw new Error('distillation: a NextItNet student needs an even number of blocks (its intermediates are every second block)');
  const t = await loadTeacher({ path: d.teacher, mapping: d.teacherMapping, field: 'distillation.teacher', maxLength: config.maxLength });
  if (t.vocabSize !== vocabSize) {
    t.dispose();
    throw new Error(`distillation: the teacher ${d.teacher} scores ${t.vocabSize - 1} items, the data has ${vocabSize - 1}`);
  }
  const K = intermediateCount(model, config.maxLength), M = t.intermediates;
  const distiller = new Distiller(config.model.hidden, t.hidden, K, M, {
    gamma: d.gamma, beta: 0, terms: { ...d.terms, efficiency: false }, mapping: d.mapping, maskPads: true, temperature: d.temperature,
  }, rng);
  const items = d.logitItems, numItems = data.dataset.numItems;
  let candidates: CandidateDistillation | null = null;
  if (distillsOverCandidates(items.over, numItems)) {
    if (items.topK >= numItems) {
      t.dispose();
      throw new Error(`distillation.logitItems.topK: ${items.topK} of a catalog of ${numItems} items; use over 'all' or a smaller topK`);
    }
    candidates = new CandidateDistillation({
      sequences: windows, maxLength: config.maxLength, k: items.topK, negatives: items.negatives,
      sampler: trainingSampler(data.split, numItems, items.sampler), correctCE: items.sampler === 'popularity',
    });
    // a step touches few rows of the catalog's tables: their gradients and updates are lazy
    if (model instanceof NextItemModel) model.sparseCatalogGradients(true);
  }
  return { teacher: t, distiller, candidates };
}

export async function train(o: TrainOptions): Promise<TrainResult> {
  const { config, data, outDir } = o;
  const { log, progress: progressBar } = loopOutput(o);
  const protocol = config.validation.protocol;
  if (protocol === 'sampled' && !data.negatives) throw new Error('validation.protocol is \'sampled\' but the data set has no fixed negatives');
  const vocabSize = data.dataset.numItems + 1;
  const sequences = trainingSequences(data.split, config.maxLength);
  if (sequences.length === 0) throw new Error('no training sequence has two or more items');

  mkdirSync(outDir, { recursive: true });
  const lastPath = join(outDir, 'last.ckpt'), bestPath = join(outDir, 'best.ckpt');
  const logPath = join(outDir, 'train.jsonl'), configPath = join(outDir, 'config.json');
  for (const f of ['last.ckpt', 'best.ckpt', 'config.json', 'train.jsonl', 'result.json']) removeStaleTempFiles(outDir, f);
  if (!o.resume && existsSync(lastPath)) throw new Error(`${outDir} already holds a run (last.ckpt): resume it or choose another folder`);

  const modelRng = new Rng(config.seed);
  const maskRng = new Rng(derivedSeed(config.seed, MASK_STREAM, 0));
  const rngs = { model: modelRng, mask: maskRng };
  const model = buildModel(config, vocabSize, modelRng);
  const kd = await setupDistillation(config, model, data, sequences.length, modelRng);
  const modules = kd ? { distiller: kd.distiller } : undefined;
  const sampling = !kd && usesSampledLoss(config, data.dataset.numItems) ? samplingSetup(config, data.split, data.dataset.numItems) : null;
  // a sampled step touches few rows of the catalog's tables: their gradients and updates are lazy
  if (sampling && model instanceof NextItemModel) model.sparseCatalogGradients(true);
  const bert = model instanceof BERT4Rec ? model : null;
  const pretrainEpochs = config.model.kind === 'bert4rec' ? config.model.pretrainEpochs : 0;
  const maskProb = config.model.kind === 'bert4rec' ? config.model.maskProb : 0;
  const totalEpochs = pretrainEpochs + config.epochs;
  const params = model.parameters();
  // what the optimizer steps: the model, and the distillation projections when distilling
  const trained = kd ? [...params, ...kd.distiller.parameters()] : params;
  const phaseOf = (epochIndex: number): Phase => (epochIndex < pretrainEpochs ? 'masked' : 'autoregressive');
  const baseLr = (phase: Phase): number =>
    (config.model.kind === 'bert4rec' && phase === 'autoregressive' ? config.model.finetuneLr : config.optimizer.lr);
  const finetuneDropout = config.model.kind === 'bert4rec' ? config.model.finetuneDropout ?? config.model.dropout : 0;

  let progress: TrainProgress = { epoch: 0, step: 0, bestMetric: null, bestEpoch: null, bestMetrics: null, badEpochs: 0, stopped: false };
  let optimizer: optim.Optimizer | null = null, optimizerPhase: Phase | null = null;
  try {
    if (o.resume && existsSync(lastPath)) {
      const ckpt = readCheckpoint(lastPath);
      // a run started by an older version lacks the keys added since: compare with their defaults filled in
      const withDefaults = { ...ckpt, meta: { ...ckpt.meta, config: parseTrainConfig(ckpt.meta.config, lastPath) } };
      assertResumable(withDefaults, lastPath, { manifestHash: data.manifestHash, vocabSize, config });
      const saved = ckpt.meta.optimizers.model;
      if (saved) {
        optimizerPhase = saved.phase as Phase;
        optimizer = makeOptimizer(config.optimizer, trained, baseLr(optimizerPhase));
      }
      restoreCheckpoint(ckpt, lastPath, { model, modules, rngs, optimizers: optimizer ? { model: { optimizer } } : undefined });
      if (kd) kd.distiller.emd.loadState((ckpt.meta.extra as { emd: EmdLayerMappingState }).emd);
      progress = ckpt.meta.progress;
      truncateLog(logPath, progress.epoch);
      log(`resuming ${outDir} after epoch ${progress.epoch}` +
        `${progress.stopped ? ' (it had stopped early)' : progress.epoch >= totalEpochs ? ' (all epochs were run)' : ''}`);
    } else {
      if (o.resume) log(`${outDir}: no last.ckpt to resume from; starting a new run`);
      discardUnfinishedStart(outDir, [logPath]);
      if (config.init) {
        const { copied, total } = initFrom(model, config.init);
        log(`initialised ${copied} of ${total} tensors from ${config.init.checkpoint}`);
      }
    }
    writeFileAtomic(configPath, [Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8')]);
    writeItemKeys(outDir, data.manifestHash, data.dataset.itemKeys);
    const describe = `${config.model.kind}, ${model.parameterCount().toLocaleString('en-US')} parameters, ${sequences.length} training sequences, ` +
      `${data.split.valid.targets.length} validation examples`;
    log(describe);
    if (kd?.candidates) {
      const c = kd.candidates.o;
      log(`distillation over candidates (${data.dataset.numItems.toLocaleString('en-US')} items): the teacher's top ${c.k} per position + the batch's positives + ` +
        `${c.negatives} ${config.distillation!.logitItems.sampler} draws per batch; the top k of a window is found the first time it is seen`);
    }
    if (sampling) {
      const l = sampledLossOptions(config), items = data.dataset.numItems.toLocaleString('en-US');
      log(l.kind === 'gbce'
        ? `gBCE over ${items} items: ${l.negatives} uniform negatives per batch, t ${l.t} (beta ${gbceBeta(l.negatives, data.dataset.numItems, l.t).toPrecision(3)})`
        : `sampled softmax over ${items} items: the batch's positives (at most ${l.sharedPositives} shared) + ${l.negatives} ${l.sampler} negatives per batch${l.sampler === 'popularity' ? ', logQ-corrected' : ''}`);
    }
    if (config.shuffleTies) log(`shuffleTies: ${tiedItemCount(data.split.train).toLocaleString('en-US')} training items share their timestamp with the one before; their order is drawn anew each epoch`);

    const ks = cutoffsFor(config.earlyStopping.metric);
    const B = config.batchSize, T = config.maxLength;
    const batches = Math.ceil(sequences.length / B);
    const metricName = config.earlyStopping.metric, patience = config.earlyStopping.patience;

    while (!progress.stopped && progress.epoch < totalEpochs) {
      const epochIndex = progress.epoch, epoch = epochIndex + 1;
      const phase = phaseOf(epochIndex);
      const phaseEpoch = phase === 'masked' ? epochIndex : epochIndex - pretrainEpochs;
      if (optimizerPhase !== phase || !optimizer) {
        optimizer = makeOptimizer(config.optimizer, trained, baseLr(phase));
        optimizerPhase = phase;
      }
      const lr = new optim.StepDecay(baseLr(phase), config.optimizer.lrDecay.gamma, config.optimizer.lrDecay.everyEpochs).at(phaseEpoch);
      optimizer.lr = lr;
      if (bert) {
        bert.causal = phase === 'autoregressive';
        bert.setDropout(phase === 'autoregressive' ? finetuneDropout : bert.config.dropout);
      }
      model.train();

      const windows = config.shuffleTies
        ? trainingSequences(data.split, T, shuffleTiedItems(data.split.train, new Rng(derivedSeed(config.seed, TIES_STREAM, epochIndex))))
        : sequences;
      const order = Int32Array.from({ length: sequences.length }, (_, i) => i);
      new Rng(derivedSeed(config.seed, SHUFFLE_STREAM, epochIndex)).shuffle(order);
      const negativesRng = new Rng(derivedSeed(config.seed, NEGATIVES_STREAM, epochIndex));
      const candidates = sampling?.forEpoch(negativesRng);
      if (config.shuffleTies) kd?.candidates?.clear(); // the windows' items are drawn anew: so is their teacher's top k
      const label = `epoch ${epoch}/${totalEpochs}${bert ? ` (${phase})` : ''}`;
      progressBar.start(label, sequences.length);
      const started = performance.now();
      let lossSum = 0, normSum = 0, done = 0;
      for (let b = 0; b < batches; b++) {
        if (o.signal?.aborted) {
          progressBar.stop();
          throw new TrainingAborted(`training interrupted in epoch ${epoch}; ${lastPath} holds epoch ${progress.epoch}: resume to continue`);
        }
        const indices = order.subarray(b * B, Math.min(sequences.length, (b + 1) * B));
        const batch = Array.from(indices, (i) => windows[i]);
        const opt = optimizer;
        const over = kd?.candidates && phase !== 'masked' ? await kd.candidates.batch(kd.teacher, batch, indices, negativesRng) : null;
        const teacherSignals = over ? over.teacher : kd && phase !== 'masked' ? await batchSignals(kd.teacher, batch, T, true) : null;
        let loss: number, norm: number;
        try {
          [loss, norm] = tidy(() => {
            let l: Tensor;
            if (phase === 'masked') {
              const L = Math.max(1, Math.min(T, Math.max(...batch.map((s) => s.length)))); // cut to the longest: leading padding is inert
              l = bert!.maskedLoss(bert!.maskItems(tensor(padBatch(batch, L), [batch.length, L], 'int32'), maskProb, maskRng), T - L);
            } else if (kd && over) {
              const student = model.signals(over.inputs, over.rows, over.candidates);
              l = kd.distiller.loss(student, over.teacher, over.inputs, over.targets, null, over.candidates).loss;
            } else if (kd && teacherSignals) {
              const { inputs, targets } = nextItemBatch(batch, T);
              l = kd.distiller.loss(model.signals(inputs, targetRows(targets).rows), teacherSignals, inputs, targets, null).loss;
            } else {
              const { inputs, targets, positionOffset } = nextItemBatch(batch, T, model.leadingPaddingInert);
              l = model.loss(inputs, targets, positionOffset, candidates);
            }
            opt.zeroGrad();
            backward(l);
            const n = optim.clipGradNorm(trained, config.optimizer.clipNorm ?? Infinity); // Infinity: measure only
            opt.step();
            return [l.item(), n];
          });
        } finally {
          if (over) releaseCandidateBatch(over); // its teacher signals are teacherSignals
          else if (teacherSignals) disposeSignals(teacherSignals);
        }
        opt.zeroGrad();
        kd?.distiller.afterStep();
        if (!Number.isFinite(loss)) {
          progressBar.stop();
          throw new Error(`epoch ${epoch}, batch ${b + 1}: the loss is ${loss}; ${lastPath} holds epoch ${progress.epoch} (try a lower lr or optimizer.clipNorm)`);
        }
        progress.step++;
        lossSum += loss * batch.length;
        normSum += norm;
        done += batch.length;
        progressBar.update(done, lossSum / done);
        o.onBatchEnd?.({ epoch, batch: b, batches, step: progress.step, loss });
        await yieldToEventLoop(); // lets an abort signal (e.g. SIGINT) arrive
      }
      progressBar.stop();
      const seconds = (performance.now() - started) / 1000;

      const evalStarted = performance.now();
      const scorer = bert && phase === 'masked' ? maskedScorer(bert, T) : modelScorer(model, T);
      const { metrics } = evaluate(scorer, data.split.valid, {
        protocol, negatives: data.negatives ?? undefined, excludeSeen: config.validation.excludeSeen, ks, batchSize: config.validation.batchSize,
      });
      const evalSeconds = (performance.now() - evalStarted) / 1000;

      let improved = false;
      if (phase === 'autoregressive') {
        const value = metrics[metricName];
        if (Number.isFinite(value) && (progress.bestMetric === null || value > progress.bestMetric)) {
          improved = true;
          progress = { ...progress, bestMetric: value, bestEpoch: epoch, bestMetrics: metrics, badEpochs: 0 };
        } else {
          progress = { ...progress, badEpochs: progress.badEpochs + 1 };
        }
        if (patience !== null && progress.badEpochs >= patience) progress = { ...progress, stopped: true };
      }
      progress = { ...progress, epoch };

      const record: EpochRecord = {
        epoch, phase, lr, loss: lossSum / done, gradNorm: normSum / batches, steps: batches, seconds, evalSeconds,
        sequencesPerSecond: done / seconds, protocol, metrics, improved, bestEpoch: progress.bestEpoch,
      };
      // the log line goes first: a resume drops lines past its checkpoint's epoch
      appendFileLogged(logPath, JSON.stringify(record) + '\n');
      const ckpt = captureCheckpoint({
        model, modules, rngs, optimizers: { model: { optimizer, name: config.optimizer.name, phase } },
        meta: { vocabSize, config, manifestHash: data.manifestHash, progress, causal: bert ? bert.causal : undefined,
          ...(kd ? { extra: { emd: kd.distiller.emd.state() } } : {}) },
      });
      if (improved) saveCheckpoint(bestPath, ckpt);
      saveCheckpoint(lastPath, ckpt);
      log(`${label}: loss ${record.loss.toFixed(4)}, ${metricName} ${(metrics[metricName] ?? NaN).toFixed(4)}, ` +
        `hr@10 ${(metrics['hr@10'] ?? NaN).toFixed(4)}, lr ${lr.toExponential(2)}, ${formatSeconds(seconds)} ` +
        `(${record.sequencesPerSecond.toFixed(0)} seq/s), eval ${formatSeconds(evalSeconds)}` +
        `${improved ? ' *best*' : phase === 'autoregressive' ? ` (best epoch ${progress.bestEpoch}, ${progress.badEpochs} without improvement)` : ''}`);
      if (progress.stopped) log(`early stopping: ${metricName} has not improved for ${patience} epochs; best epoch ${progress.bestEpoch}`);
    }

    // test the best weights (the last ones when no epoch produced a finite metric)
    if (existsSync(bestPath)) {
      const best = readCheckpoint(bestPath);
      restoreCheckpoint(best, bestPath, { model });
      if (bert) bert.causal = best.meta.causal ?? true;
    }
    const test = evaluate(modelScorer(model, T), data.split.test, {
      protocol, negatives: data.negatives ?? undefined, excludeSeen: config.validation.excludeSeen, ks, batchSize: config.validation.batchSize,
    });
    const result: TrainResult = {
      bestEpoch: progress.bestEpoch, bestMetrics: progress.bestMetrics, testMetrics: test.metrics,
      epochsRun: progress.epoch, stoppedEarly: progress.stopped,
    };
    writeFileAtomic(join(outDir, 'result.json'), [Buffer.from(JSON.stringify({ ...result, protocol }, null, 2) + '\n', 'utf8')]);
    log(`test (${protocol}, best epoch ${result.bestEpoch}): ${metricName} ${(test.metrics[metricName] ?? NaN).toFixed(4)}, ` +
      `hr@10 ${(test.metrics['hr@10'] ?? NaN).toFixed(4)}, mrr@10 ${(test.metrics['mrr@10'] ?? NaN).toFixed(4)}`);
    return result;
  } finally {
    progressBar.stop();
    model.dispose();
    kd?.distiller.dispose();
    kd?.teacher.dispose();
  }
}
