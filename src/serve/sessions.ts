// Incremental sessions for the HTTP service: per session id, the stream state of a causal model
// (serve/stream.ts) and the items seen, in an LRU bounded by bytes. One new event costs one
// position of compute instead of a whole window. Sessions belong to one model: a reload starts
// an empty store (clients see `events` restart from their new items).
import { LRUCache } from 'lru-cache';
import { StreamPlan, type StreamSession } from './stream.js';
import type { Recommendation, SessionHost } from './types.js';

export interface SessionResult {
  items: Recommendation[];
  /** Events pushed in this call that the model does not know (skipped). */
  unknown: string[];
  /** Known events in the session so far (restarts at a reload or after eviction). */
  events: number;
}

interface Entry {
  stream: StreamSession;
  seen: Set<number>;
}

/** Fixed bytes charged per entry besides its stream state: the id, the map slot, the seen set. */
const ENTRY_OVERHEAD = 256;

export class SessionStore {
  private readonly plan: StreamPlan;
  private readonly cache: LRUCache<string, Entry>;

  /** Throws StreamUnsupportedError (with the reason) for models that cannot stream. */
  constructor(private readonly recommender: SessionHost, readonly maxBytes: number) {
    this.plan = new StreamPlan(recommender.model, recommender.maxLength);
    this.cache = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      sizeCalculation: (e) => e.stream.bytes + ENTRY_OVERHEAD + 16 * e.seen.size,
    });
  }

  get size(): number {
    return this.cache.size;
  }

  get bytes(): number {
    return this.cache.calculatedSize;
  }

  /** Bytes of one new session's stream state (what a session costs at least). */
  get sessionBytes(): number {
    return this.plan.session().bytes + ENTRY_OVERHEAD;
  }

  /** Appends events (original ids, oldest first) to a session, creating it, and recommends from its state. */
  append(id: string, items: readonly string[], k: number, excludeSeen: boolean): SessionResult {
    const { ids, unknown } = this.recommender.encode(items);
    const entry = this.cache.get(id) ?? { stream: this.plan.session(), seen: new Set<number>() };
    for (const item of ids) {
      entry.stream.push(item);
      entry.seen.add(item);
    }
    this.cache.set(id, entry); // re-measures its size; may evict the least recently used
    return {
      items: this.recommender.top(entry.stream.logits(), 0, k, excludeSeen ? entry.seen : undefined),
      unknown,
      events: entry.stream.position - this.plan.padding,
    };
  }

  delete(id: string): boolean {
    return this.cache.delete(id);
  }
}
