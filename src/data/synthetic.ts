// A seeded generator of interaction logs with real sequential structure, so that a sequential
// model measurably beats popularity: items belong to topics with long-tailed (Zipf) popularity,
// each item has a few preferred successors, users like two topics and drift between them, and
// sometimes go back to an item they consumed recently. It is the offline default data set.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Rng } from '../engine/random.js';
import type { InteractionLog } from './types.js';

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
  /** Probability that the next item repeats one of the user's last five items. */
  repeatProb: number;
  seed: number;
}

export const SYNTHETIC_DEFAULTS: SyntheticOptions = {
  users: 1000, items: 500, minLength: 10, maxLength: 50, topics: 10,
  transitionProb: 0.6, driftProb: 0.1, repeatProb: 0.05, seed: 1,
};

/** Interaction times start here (2020-01-01 UTC, in seconds). */
const EPOCH = 1577836800;

/**
 * Generates the log user by user, calling emit(user, items, times) once per user with 1-based
 * item ids and increasing timestamps in seconds. Memory stays O(items), whatever the user count.
 */
export function generateSynthetic(options: Partial<SyntheticOptions>,
  emit: (user: number, items: Int32Array, times: Float64Array) => void): void {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (!(o.topics >= 1 && o.items >= o.topics)) throw new Error(`synthetic: need items (${o.items}) >= topics (${o.topics}) >= 1`);
  if (!(o.minLength >= 2 && o.maxLength >= o.minLength)) throw new Error(`synthetic: need 2 <= minLength (${o.minLength}) <= maxLength (${o.maxLength})`);
  for (const p of ['transitionProb', 'driftProb', 'repeatProb'] as const)
    if (!(o[p] >= 0 && o[p] <= 1)) throw new Error(`synthetic: ${p} must be in [0, 1], got ${o[p]}`);
  const rng = new Rng(o.seed);
  const topicOf = Int32Array.from({ length: o.items }, (_, i) => i % o.topics);
  const byTopic: number[][] = Array.from({ length: o.topics }, () => []);
  for (let i = 0; i < o.items; i++) byTopic[topicOf[i]].push(i + 1);
  // Zipf weights within each topic: the r-th item of a topic has weight 1/(r+1)
  const cumulative = byTopic.map((list) => {
    let s = 0;
    return Float64Array.from(list, (_, r) => (s += 1 / (r + 1)));
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
  const successors = new Int32Array((o.items + 1) * 3);
  for (let item = 1; item <= o.items; item++)
    for (let j = 0; j < 3; j++) successors[item * 3 + j] = pickInTopic(rng.uniform() < 0.8 ? topicOf[item - 1] : rng.int(o.topics));
  const items = new Int32Array(o.maxLength), times = new Float64Array(o.maxLength);
  for (let u = 0; u < o.users; u++) {
    const length = o.minLength + rng.int(o.maxLength - o.minLength + 1);
    const liked = [rng.int(o.topics), rng.int(o.topics)];
    let topic = liked[0];
    let t = EPOCH + rng.int(365 * 86400);
    for (let i = 0; i < length; i++) {
      if (rng.uniform() < o.driftProb) topic = liked[rng.int(2)];
      const r = rng.uniform();
      if (i > 0 && r < o.transitionProb) items[i] = successors[items[i - 1] * 3 + rng.int(3)];
      else if (i > 0 && r < o.transitionProb + o.repeatProb) items[i] = items[Math.max(0, i - 5) + rng.int(Math.min(i, 5))];
      else items[i] = pickInTopic(topic);
      times[i] = t;
      t += 60 + rng.int(3 * 86400);
    }
    emit(u, items.subarray(0, length), times.subarray(0, length));
  }
}

/** Per-user item sequences (1-based item ids). */
export function syntheticSequences(options: Partial<SyntheticOptions> = {}): Int32Array[] {
  const out: Int32Array[] = [];
  generateSynthetic(options, (_u, items) => out.push(items.slice()));
  return out;
}

/** The generated data as an InteractionLog, as if read from a file (ids are 'u<n>' and 'i<n>'). */
export function syntheticLog(options: Partial<SyntheticOptions> = {}): InteractionLog {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  const user: number[] = [], item: number[] = [], time: number[] = [];
  generateSynthetic(o, (u, its, ts) => {
    for (let i = 0; i < its.length; i++) { user.push(u); item.push(its[i] - 1); time.push(ts[i]); }
  });
  const n = user.length;
  return {
    source: `synthetic(${JSON.stringify(o)})`,
    user: Int32Array.from(user), item: Int32Array.from(item), time: Float64Array.from(time),
    rating: null, session: null, line: Int32Array.from({ length: n }, (_, i) => i + 2),
    userKeys: Array.from({ length: o.users }, (_, u) => `u${u + 1}`),
    itemKeys: Array.from({ length: o.items }, (_, i) => `i${i + 1}`),
    sessionKeys: null, skipped: {},
  };
}

/**
 * Writes the generated log as CSV (header user,item,rating,timestamp; rating is always 5) in
 * chunks, so that 10 million rows need no more memory than one user's. Returns the row count.
 */
export function writeSyntheticCsv(path: string, options: Partial<SyntheticOptions> = {}): number {
  const fd = openSync(path, 'w');
  let rows = 0, chunk = 'user,item,rating,timestamp\n';
  try {
    generateSynthetic(options, (u, its, ts) => {
      for (let i = 0; i < its.length; i++) chunk += `u${u + 1},i${its[i]},5,${ts[i]}\n`;
      rows += its.length;
      if (chunk.length > 1 << 20) { writeSync(fd, chunk); chunk = ''; }
    });
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return rows;
}
