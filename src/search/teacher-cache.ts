// The teacher's signals kept per training sequence (search option `cacheTeacher`): after the first
// epoch the frozen teacher is not run again. The teacher sees each sequence alone (no batch
// statistics, eval mode), so a sequence's rows are the same in any batch.
//
// Memory: sequences x maxLength x (C_t x (1 + M) + numItems + 1) float32 values, e.g. MovieLens
// 100K with the reference NextItNet (2,057 x 50 x (256 x 9 + 1,204)) = 1.4 GB; on by request only.
import { empty, type Tensor } from '../engine/index.js';
import type { DistillationSignals } from '../models/types.js';

export class TeacherCache {
  /** Per sequence: its rows of [embedding, ...intermediates, logits]. */
  private readonly rows: (Float32Array[] | undefined)[];

  constructor(sequences: number, private readonly T: number) {
    this.rows = new Array(sequences);
  }

  /** The signals of the sequences `indices` (one batch, in order; the caller disposes them), computing and storing missing ones. */
  async get(indices: ArrayLike<number>, compute: () => Promise<DistillationSignals>): Promise<DistillationSignals> {
    const n = indices.length;
    let missing = false;
    for (let b = 0; b < n; b++) if (!this.rows[indices[b]]) missing = true;
    if (missing) {
      const s = await compute();
      const parts = [s.embedding, ...s.intermediates, s.logits];
      for (let b = 0; b < n; b++) {
        if (this.rows[indices[b]]) continue;
        this.rows[indices[b]] = parts.map((t) => { const per = t.size / n; return Float32Array.from(t.values.subarray(b * per, (b + 1) * per)); });
      }
      return s;
    }
    const first = this.rows[indices[0]]!;
    const ts: Tensor[] = first.map((row, p) => {
      const per = row.length;
      const t = empty([n, this.T, per / this.T], 'float32');
      const v = t.values;
      for (let b = 0; b < n; b++) v.set(this.rows[indices[b]]![p], b * per);
      return t;
    });
    return { embedding: ts[0], intermediates: ts.slice(1, ts.length - 1), logits: ts[ts.length - 1] };
  }
}
