// Ranking metrics from the 0-based rank of the target among its candidates.
//
// Ties: candidates whose score equals the target's are ranked AHEAD of it (pessimistic), so a
// model that gives every item the same score gets the worst rank, never a lucky one. This is
// deterministic and independent of item order.

export const DEFAULT_KS = [1, 5, 10, 20] as const;

/** 'hr@10', 'ndcg@5', 'mrr@20', ... */
export const METRIC_PATTERN = /^(hr|ndcg|mrr)@([1-9][0-9]*)$/;

/** The measure and cut-off of a metric name like 'ndcg@10'. */
export function parseMetric(metric: string): { measure: keyof MetricsAtK; k: number } {
  const m = METRIC_PATTERN.exec(metric);
  if (!m) throw new RangeError(`unknown metric '${metric}' (expected hr@k, ndcg@k or mrr@k)`);
  return { measure: m[1] as keyof MetricsAtK, k: Number(m[2]) };
}

/** The default cut-offs plus the one a metric like 'ndcg@15' needs, ascending. */
export function cutoffsFor(metric: string): number[] {
  return [...new Set([...DEFAULT_KS, parseMetric(metric).k])].sort((a, b) => a - b);
}

export interface MetricsAtK {
  hr: number;
  ndcg: number;
  mrr: number;
}

/** Metrics of one example at cut-off k. */
export function metricsAt(rank: number, k: number): MetricsAtK {
  if (rank >= k) return { hr: 0, ndcg: 0, mrr: 0 };
  return { hr: 1, ndcg: 1 / Math.log2(rank + 2), mrr: 1 / (rank + 1) };
}

/** Mean HR/NDCG/MRR at every k over the given ranks, keyed like 'hr@10'. */
export function summarize(ranks: ArrayLike<number>, ks: readonly number[] = DEFAULT_KS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ks) {
    let hr = 0, ndcg = 0, mrr = 0;
    for (let i = 0; i < ranks.length; i++) {
      const m = metricsAt(ranks[i], k);
      hr += m.hr; ndcg += m.ndcg; mrr += m.mrr;
    }
    const n = Math.max(1, ranks.length);
    out[`hr@${k}`] = hr / n;
    out[`ndcg@${k}`] = ndcg / n;
    out[`mrr@${k}`] = mrr / n;
  }
  return out;
}

/**
 * The target's rank among all items 1..numItems of a score row (index 0, padding, never counts).
 * `excluded` items (e.g. those already in the input, except the target) do not compete.
 */
export function fullRank(scores: ArrayLike<number>, target: number, excluded?: ReadonlySet<number>): number {
  const s = scores[target];
  let rank = 0;
  for (let i = 1; i < scores.length; i++) {
    if (i === target || excluded?.has(i)) continue;
    if (scores[i] >= s || Number.isNaN(scores[i])) rank++;
  }
  return Number.isNaN(s) ? scores.length - 1 : rank;
}

/** The target's rank among itself and the given negative items. */
export function sampledRank(scores: ArrayLike<number>, target: number, negatives: ArrayLike<number>): number {
  const s = scores[target];
  if (Number.isNaN(s)) return negatives.length;
  let rank = 0;
  for (let i = 0; i < negatives.length; i++) if (scores[negatives[i]] >= s || Number.isNaN(scores[negatives[i]])) rank++;
  return rank;
}
