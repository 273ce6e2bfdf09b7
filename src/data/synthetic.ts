// A seeded generator of interaction sequences with real sequential structure, so that a sequential
// model measurably beats popularity: items belong to topics with long-tailed popularity, each item
// has a few preferred successors, and users drift between topics they like.
import { Rng } from '../engine/random.js';

export interface SyntheticOptions {
  users: number;
  items: number;
  /** Sequence lengths are drawn uniformly from [minLength, maxLength]. */
  minLength: number;
  maxLength: number;
  topics: number;
  /** Probability that the next item is one of the previous item's successors. */
  transitionProb: number;
  /** Probability that a user switches topic between two items. */
  driftProb: number;
  seed: number;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  users: 1000, items: 500, minLength: 10, maxLength: 50, topics: 10, transitionProb: 0.6, driftProb: 0.1, seed: 1,
};

/** Per-user item sequences, items numbered 1..items (0 is padding). */
export function syntheticSequences(options: Partial<SyntheticOptions> = {}): Int32Array[] {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (o.items < o.topics || o.topics < 1) throw new Error(`synthetic: need items (${o.items}) >= topics (${o.topics}) >= 1`);
  if (o.minLength < 2 || o.maxLength < o.minLength) throw new Error(`synthetic: need 2 <= minLength <= maxLength`);
  const rng = new Rng(o.seed);
  const topicOf = Int32Array.from({ length: o.items }, (_, i) => i % o.topics);
  const byTopic: number[][] = Array.from({ length: o.topics }, () => []);
  for (let i = 0; i < o.items; i++) byTopic[topicOf[i]].push(i + 1);
  // Zipf-like weights within each topic: the r-th item has weight 1/(r+1)
  const cumulative = byTopic.map((list) => {
    let s = 0;
    return list.map((_, r) => (s += 1 / (r + 1)));
  });
  const pickInTopic = (t: number): number => {
    const c = cumulative[t], u = rng.uniform() * c[c.length - 1];
    let lo = 0, hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid] < u) lo = mid + 1; else hi = mid;
    }
    return byTopic[t][lo];
  };
  // three successors per item, mostly inside its own topic
  const successors = Array.from({ length: o.items + 1 }, (_, item) =>
    item === 0 ? [] : [0, 1, 2].map(() => pickInTopic(rng.uniform() < 0.8 ? topicOf[item - 1] : rng.int(o.topics))));
  const sequences: Int32Array[] = [];
  for (let u = 0; u < o.users; u++) {
    const length = o.minLength + rng.int(o.maxLength - o.minLength + 1);
    const liked = [rng.int(o.topics), rng.int(o.topics)];
    let topic = liked[0];
    const seq = new Int32Array(length);
    for (let t = 0; t < length; t++) {
      if (rng.uniform() < o.driftProb) topic = liked[rng.int(2)];
      seq[t] = t > 0 && rng.uniform() < o.transitionProb ? successors[seq[t - 1]][rng.int(3)] : pickInTopic(topic);
    }
    sequences.push(seq);
  }
  return sequences;
}
