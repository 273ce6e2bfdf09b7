// The teacher's signals kept per training sequence (search option `cacheTeacher`): after the first
// epoch the frozen teacher is not run again. The teacher sees each sequence alone (no batch
// statistics, eval mode), so a sequence's rows are the same in any batch.
//
// Memory: sequences x (maxLength x C_t x (1 + M) + scored positions x (numItems + 1)) float32
// values; the logits are kept at the positions distillation scores (the targets, in default mode)
// or at every position (paper mode). E.g. MovieLens 100K with the reference NextItNet at every
// position (2,057 x 50 x (256 x 9 + 1,204)) = 1.4 GB; on by request only.
import { empty, type Tensor } from '../engine/index.js';
import type { DistillationSignals } from '../models/types.js';

export class TeacherCache {
  /** Per sequence: its rows of [embedding, ...intermediates, logits]. */
  private readonly rows: (Float32Array[] | undefined)[];

  constructor(sequences: number, private readonly T: number) {
    this.rows = new Array(sequences);
  }

  /**
   * The signals of the sequences `indices` (one batch, in order; the caller disposes them),
   * computing and storing missing ones. `scored`: how many logit rows each sequence of the batch
   * has when the logits are at the target positions only ([n, vocab], in batch order), else null
   * ([B, T, vocab]).
   */
  async get(indices: ArrayLike<number>, scored: ArrayLike<number> | null, compute: () => Promise<DistillationSignals>): Promise<DistillationSignals> {
    const n = indices.length;
    let missing = false;
    for (let b = 0; b < n; b++) if (!this.rows[indices[b]]) missing = true;
    if (missing) {
      const s = await compute();
      const perSequence = [s.embedding, ...s.intermediates].map((t) => t.size / n);
      const V = s.logits.shape[s.logits.rank - 1];
      let logitRow = 0;
      for (let b = 0; b < n; b++) {
        const logitRows = scored ? scored[b] : this.T;
        const at = logitRow;
        logitRow += logitRows;
        if (this.rows[indices[b]]) continue;
        const parts = [s.embedding, ...s.intermediates].map((t, p) => Float32Array.from(t.values.subarray(b * perSequence[p], (b + 1) * perSequence[p])));
        parts.push(Float32Array.from(s.logits.values.subarray(at * V, (at + logitRows) * V)));
        this.rows[indices[b]] = parts;
      }
      if (logitRow * V !== s.logits.size) throw new Error(`TeacherCache: ${s.logits.size / V} logit rows for ${logitRow} scored positions`);
      return s;
    }
    const first = this.rows[indices[0]]!;
    const ts: Tensor[] = first.map((row, p) => {
      if (p < first.length - 1 || !scored) return this.stack(indices, p, [n, this.T, row.length / this.T]);
      let total = 0, values = 0;
      for (let b = 0; b < n; b++) { total += scored[b]; values += this.rows[indices[b]]![p].length; }
      return this.stack(indices, p, [total, values / total]);
    });
    return { embedding: ts[0], intermediates: ts.slice(1, ts.length - 1), logits: ts[ts.length - 1] };
  }

  /** Part p of the sequences `indices`, one after the other, as a tensor of `shape`. */
  private stack(indices: ArrayLike<number>, p: number, shape: number[]): Tensor {
    const t = empty(shape, 'float32');
    const v = t.values;
    let at = 0;
    for (let b = 0; b < indices.length; b++) { const row = this.rows[indices[b]]![p]; v.set(row, at); at += row.length; }
    if (at !== t.size) throw new Error(`TeacherCache: ${at} cached values for a tensor of ${t.size}`);
    return t;
  }
}
