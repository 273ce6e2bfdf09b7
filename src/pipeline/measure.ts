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
