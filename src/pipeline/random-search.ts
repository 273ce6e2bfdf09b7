// The random-search baseline of `adarec run`: does the differentiable search beat random search
// given the same training compute? N genotypes from the whole space, each trained e epochs with the
// search's batches, weight optimizer and distillation loss (no efficiency term: one genotype has
// one cost), the best on the validation split (the search's metric and protocol) chosen; the
// pipeline then finetunes it as it finetunes the searched student.
//
// Budget, counted in passes over the training windows: the search runs E epochs, one weight step
// per batch of every window (single-level; bi-level steps the weights on 80% of them), with a
// teacher forward per step and a validation per epoch. N x e = E candidate epochs at the same batch
// size take as many weight steps, teacher forwards and validations. Per step a candidate runs one
// operator per edge where the search (estimator 'all') runs every operator's forward, so in FLOPs
// the random search gets less than the search, never more.
//
// Writes random-search/candidate-<i>/ (training run folders) and candidates.json (the budget, each
// candidate's genotype and validation metric, the chosen one), rewritten after every candidate:
// resumed, the candidates it lists are not trained again and an interrupted one continues from its
// last.ckpt.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Genotype } from '../models/adarec/genotype.js';
import type { SearchConfig } from '../search/config.js';
import { parseTrainConfig, type TrainConfig } from '../train/config.js';
import { stderrLog } from '../train/progress.js';
import { train, trainingSequences, type LoopOptions } from '../train/trainer.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface RandomSearchBudget {
  candidates: number;
  epochsEach: number;
  /** The search's epochs, which candidates x epochsEach matches. */
  searchEpochs: number;
}

/** Candidates default to the search's epochs / epochsEach (at least 2: one candidate is no search). */
export function randomSearchBudget(o: { candidates?: number; epochsEach: number }, searchEpochs: number): RandomSearchBudget {
  return { candidates: o.candidates ?? Math.max(2, Math.round(searchEpochs / o.epochsEach)), epochsEach: o.epochsEach, searchEpochs };
}

/** A candidate's training config: the search's network, batches, weight optimizer (constant lr, as the search's) and loss terms. */
export function candidateConfig(g: Genotype, s: SearchConfig, o: { hidden: number; teacher: string; epochs: number; seed: number }): TrainConfig {
  return parseTrainConfig({
    model: { kind: 'adarec', hidden: o.hidden, genotype: { operators: g.operators, nodes: g.nodes, cells: g.cells }, dropout: s.dropout,
      ...(s.positions ? { positions: s.positions } : {}), ...(s.convNorm ? { convNorm: s.convNorm } : {}) },
    maxLength: s.maxLength, batchSize: s.batchSize, epochs: o.epochs, seed: o.seed,
    optimizer: { name: 'adamw', lr: s.optimizer.lr, weightDecay: s.optimizer.weightDecay, clipNorm: s.optimizer.clipNorm, lrDecay: { gamma: 1, everyEpochs: 1 } },
    earlyStopping: { metric: s.validation.metric, patience: null },
    validation: { protocol: s.validation.protocol, batchSize: s.validation.batchSize },
    distillation: {
      teacher: o.teacher, gamma: s.gamma, temperature: s.temperature,
      terms: { ce: s.terms.ce, embedding: s.terms.embedding, hidden: s.terms.hidden, logits: s.terms.logits },
    },
  }, 'random-search candidate config');
}

export interface RandomSearchCandidate {
  /** 1-based; its run folder is candidate-<index>/. */
  index: number;
  /** One cell's operators (shared by all cells). */
  genotype: string[];
  /** Its best validation value of the metric over its epochs (null when no epoch gave a finite one). */
  validation: number | null;
  bestEpoch: number | null;
  /** Every validation metric of that epoch. */
  validationMetrics: Record<string, number> | null;
  epochsRun: number;
  seconds: number;
}

/** candidates.json. */
export interface RandomSearchResult {
  metric: string;
  protocol: 'full' | 'sampled';
  budget: RandomSearchBudget & { candidateEpochs: number; stepsPerEpoch: number };
  candidates: RandomSearchCandidate[];
  /** The index of the candidate with the best validation metric (the first of equals), null until all are trained. */
  chosen: number | null;
}

/** The candidate with the highest validation value; the first of equals; the first when none has one. */
export function bestCandidate(cs: readonly RandomSearchCandidate[]): RandomSearchCandidate {
  return cs.reduce((best, c) => ((c.validation ?? -Infinity) > (best.validation ?? -Infinity) ? c : best));
}

/** Trains the candidates in `dir` (resuming the ones an interrupted run left) and chooses one. */
export async function runRandomSearch(o: Omit<LoopOptions, 'outDir'> & {
  dir: string; genotypes: readonly Genotype[]; configs: readonly TrainConfig[]; budget: RandomSearchBudget;
}): Promise<RandomSearchResult & { chosen: number }> {
  const log = o.log ?? stderrLog;
  const cfg0 = o.configs[0];
  const windows = trainingSequences(o.data.split, cfg0.maxLength).length;
  const path = join(o.dir, 'candidates.json');
  const state: RandomSearchResult = {
    metric: cfg0.earlyStopping.metric, protocol: cfg0.validation.protocol,
    budget: { ...o.budget, candidateEpochs: o.configs.reduce((s, c) => s + c.epochs, 0), stepsPerEpoch: Math.ceil(windows / cfg0.batchSize) },
    candidates: [], chosen: null,
  };
  const save = (): void => writeFileAtomic(path, [Buffer.from(JSON.stringify(state, null, 2) + '\n', 'utf8')]);
  let earlier: RandomSearchCandidate[] = [];
  if (o.resume && existsSync(path)) {
    try {
      earlier = (JSON.parse(readFileSync(path, 'utf8')) as RandomSearchResult).candidates;
      if (!Array.isArray(earlier)) throw new Error('no candidates list');
    } catch (e) {
      // the candidates resume from their own checkpoints instead (a finished one in no time)
      log(`[random-search] ignoring ${path} (${(e as Error).message}): the candidates are taken up from their folders`);
      earlier = [];
    }
  }
  log(`[random-search] ${o.genotypes.length} candidates x ${o.budget.epochsEach} epochs = ${state.budget.candidateEpochs} epochs ` +
    `of ${state.budget.stepsPerEpoch} steps (the search: ${o.budget.searchEpochs} epochs); chosen on validation ${state.metric}`);
  for (const [i, g] of o.genotypes.entries()) {
    const index = i + 1, genotype = g.cells[0];
    const done = earlier.find((c) => c.index === index && JSON.stringify(c.genotype) === JSON.stringify(genotype));
    if (done) {
      log(`[random-search] candidate ${index}/${o.genotypes.length}: trained earlier, validation ${state.metric} ${done.validation}`);
      state.candidates.push(done);
      continue;
    }
    log(`[random-search] candidate ${index}/${o.genotypes.length}: ${genotype.join(', ')}`);
    const outDir = join(o.dir, `candidate-${index}`);
    const t0 = performance.now();
    const r = await train({ config: o.configs[i], data: o.data, outDir, resume: existsSync(join(outDir, 'last.ckpt')), log: o.log, progress: o.progress, signal: o.signal });
    const value = r.bestMetrics?.[state.metric];
    state.candidates.push({
      index, genotype, validation: value !== undefined && Number.isFinite(value) ? value : null, bestEpoch: r.bestEpoch,
      validationMetrics: r.bestMetrics, epochsRun: r.epochsRun, seconds: (performance.now() - t0) / 1000,
    });
    save();
  }
  const best = bestCandidate(state.candidates);
  state.chosen = best.index;
  save();
  log(`[random-search] chose candidate ${best.index} (validation ${state.metric} ${best.validation}): ${best.genotype.join(', ')}`);
  return { ...state, chosen: best.index };
}
