// The figures of one model for the results table: test accuracy under full ranking and the
// sampled-100 protocol, parameters, MACs and single-sequence latency.
import { evaluate } from '../eval/evaluate.js';
import { modelCost, measureLatency, type ModelCost } from '../eval/cost.js';
import { modelScorer } from '../eval/scorer.js';
import type { SequentialRecommender } from '../models/types.js';
import type { TrainData } from '../train/trainer.js';

export interface ModelFigures extends ModelCost {
  full: Record<string, number>;
  sampled: Record<string, number> | null;
  latencyP50Ms: number;
}

export function measureModel(model: SequentialRecommender, data: TrainData, maxLength: number, latencyRuns: number): ModelFigures {
  const scorer = modelScorer(model, maxLength);
  const full = evaluate(scorer, data.split.test, { protocol: 'full' }).metrics;
  const sampled = data.negatives ? evaluate(scorer, data.split.test, { protocol: 'sampled', negatives: data.negatives }).metrics : null;
  const cost = modelCost(model, maxLength);
  const latencyP50Ms = measureLatency(model, maxLength, latencyRuns).p50;
  return { ...cost, full, sampled, latencyP50Ms };
}

/** A model's figures over finetune seeds: the means, and each seed's NDCG@10 when there are several. */
export interface SeededFigures {
  figures: ModelFigures;
  seedNdcg10?: number[];
}

const meanOf = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function meanMetrics(all: readonly Record<string, number>[]): Record<string, number> {
  return Object.fromEntries(Object.keys(all[0]).map((k) => [k, meanOf(all.map((m) => m[k]))]));
}

/** Means over seeds of the metrics and latency (parameters and MACs are the same for every seed). */
export function meanFigures(runs: readonly ModelFigures[]): SeededFigures {
  if (runs.length === 1) return { figures: runs[0] };
  const sampled = runs.every((r) => r.sampled) ? meanMetrics(runs.map((r) => r.sampled!)) : null;
  return {
    figures: { ...runs[0], full: meanMetrics(runs.map((r) => r.full)), sampled, latencyP50Ms: meanOf(runs.map((r) => r.latencyP50Ms)) },
    seedNdcg10: runs.map((r) => r.full['ndcg@10']),
  };
}
