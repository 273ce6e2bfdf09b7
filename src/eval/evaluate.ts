// Evaluation of any Scorer on evaluation examples, under full ranking or the sampled protocol.
import type { EvalExamples, Negatives } from '../data/types.js';
import { DEFAULT_KS, fullRank, metricsAt, sampledRank, summarize } from './metrics.js';
import type { Scorer } from './scorer.js';

export type Protocol = 'full' | 'sampled';

export interface EvaluateOptions {
  protocol: Protocol;
  /** Required for 'sampled': the fixed negatives of each sequence. */
  negatives?: Negatives;
  /** Full ranking only: items already in the input (other than the target) do not compete. */
  excludeSeen?: boolean;
  ks?: readonly number[];
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface Evaluation {
  protocol: Protocol;
  /** Mean metrics keyed like 'ndcg@10'. */
  metrics: Record<string, number>;
  /** The 0-based rank of each example's target. */
  ranks: Int32Array;
  examples: number;
}

export function exampleInput(ex: EvalExamples, e: number): Int32Array {
  return ex.inputs.subarray(ex.offsets[e], ex.offsets[e + 1]);
}

export function evaluate(scorer: Scorer, ex: EvalExamples, o: EvaluateOptions): Evaluation {
  const n = ex.targets.length, V = scorer.vocabSize, batchSize = o.batchSize ?? 256;
  if (o.protocol === 'sampled' && !o.negatives) throw new Error('the sampled protocol needs the data set\'s fixed negatives');
  const ranks = new Int32Array(n);
  // examples in order of input length, so that a batch's inputs are alike (scorers that cut a
  // batch to its longest input do little work on short histories); ranks go back to their index
  const length = (e: number): number => ex.offsets[e + 1] - ex.offsets[e];
  const order = Int32Array.from({ length: n }, (_, e) => e).sort((a, b) => length(a) - length(b) || a - b);
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const batch = order.subarray(start, end);
    const inputs = Array.from(batch, (e) => exampleInput(ex, e));
    const scores = scorer.score(inputs);
    batch.forEach((e, i) => {
      const row = scores.subarray(i * V, (i + 1) * V), target = ex.targets[e];
      if (o.protocol === 'sampled') {
        const c = o.negatives!.count, s = ex.sequence[e];
        ranks[e] = sampledRank(row, target, o.negatives!.items.subarray(s * c, (s + 1) * c));
      } else {
        const seen = o.excludeSeen ? new Set(inputs[i]) : undefined;
        seen?.delete(target);
        ranks[e] = fullRank(row, target, seen);
      }
    });
    o.onProgress?.(end, n);
  }
  return { protocol: o.protocol, metrics: summarize(ranks, o.ks ?? DEFAULT_KS), ranks, examples: n };
}

/** One CSV row per example: sequence key, target key, rank and the metrics at each k. */
export function perExampleCsv(ex: EvalExamples, ev: Evaluation, sequenceKeys: readonly string[], itemKeys: readonly string[],
  ks: readonly number[] = DEFAULT_KS): string {
  const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['sequence', 'target', 'rank', ...ks.flatMap((k) => [`hr@${k}`, `ndcg@${k}`, `mrr@${k}`])].join(',')];
  for (let e = 0; e < ev.examples; e++) {
    const r = ev.ranks[e];
    lines.push([quote(sequenceKeys[ex.sequence[e]]), quote(itemKeys[ex.targets[e] - 1]), r + 1,
      ...ks.flatMap((k) => { const m = metricsAt(r, k); return [m.hr, m.ndcg.toFixed(6), m.mrr.toFixed(6)]; })].join(','));
  }
  return lines.join('\n') + '\n';
}
