// The served model and its hot reload. Requests read `current`, one whole Recommender; a reload
// builds a new one from the run folder beside it and swaps the reference in one assignment, so
// a request never sees half of a model. Scoring is synchronous, so once the swap is done no
// request is still using the old model and its tensors are freed. A failed load keeps the old
// model. Concurrent reload calls share one load, which always starts after the latest call; a
// reload may name another run folder (the admin route checks it is inside the allowed one).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ModelInfo, Recommender } from '../recommender.js';

export type ReloadOutcome =
  | { ok: true; version: string; previous: string | null; changed: boolean; seconds: number }
  | { ok: false; error: string; version: string | null; seconds: number };

export interface ModelHolderEvents {
  loaded(info: ModelInfo, previous: ModelInfo | null, seconds: number): void;
  failed(error: Error, kept: ModelInfo | null): void;
}

export class ModelHolder {
  private model: Recommender | null = null;
  private pending: Promise<ReloadOutcome> | null = null;
  /** The folder the pending reload loads (null: the served one, whichever it is then). */
  private pendingFolder: string | null = null;

  /** `folder`: the run folder loaded first; a reload naming another one switches to it once it loads. */
  constructor(private readonly load: (folder: string) => Recommender, private folderNow: string, private readonly events: ModelHolderEvents) {}

  /** The model to answer with, or null before the first successful load. */
  get current(): Recommender | null {
    return this.model;
  }

  /** The run folder served (and reloaded by a reload that names none). */
  get folder(): string {
    return this.folderNow;
  }

  /**
   * Loads the served run folder again, or `folder` instead, and swaps it in; never rejects
   * (failures are in the outcome, and the old model and folder stay). Calls for the same folder
   * while one is pending share it; a call for another folder runs after it.
   */
  reload(folder?: string): Promise<ReloadOutcome> {
    const target = folder ?? null;
    if (this.pending && this.pendingFolder === target) return this.pending;
    const p = (this.pending ?? Promise.resolve()).then(() => this.swap(target ?? this.folderNow));
    this.pending = p;
    this.pendingFolder = target;
    void p.then(() => {
      if (this.pending === p) {
        this.pending = null;
        this.pendingFolder = null;
      }
    });
    return p;
  }

  private async swap(folder: string): Promise<ReloadOutcome> {
    await nextTurn(); // the load blocks the event loop: let pending I/O (and joining callers) go first
    const t0 = performance.now();
    const old = this.model;
    let next: Recommender;
    try {
      next = this.load(folder);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.events.failed(error, old?.info ?? null);
      return { ok: false, error: error.message, version: old?.info.version ?? null, seconds: (performance.now() - t0) / 1000 };
    }
    this.model = next;
    this.folderNow = folder;
    old?.model.dispose();
    const seconds = (performance.now() - t0) / 1000;
    this.events.loaded(next.info, old?.info ?? null, seconds);
    return { ok: true, version: next.info.version, previous: old?.info.version ?? null, changed: old?.info.version !== next.info.version, seconds };
  }
}
