// The Distiller's loss terms on hand-made signals: which positions each term reads, and when the
// EMD layer weights move.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { F, Rng, tensor, type Tensor } from '../src/engine/index.js';
import { Distiller, type DistillOptions } from '../src/distill/distiller.js';
import type { DistillationSignals } from '../src/models/types.js';
import { pickRows, targetRows } from '../src/models/common.js';
import { assertClose } from './helpers.js';

const B = 2, T = 4, C = 3, H = 5, V = 7;
// left padding: row 0 has two pads, row 1 none
const inputs = tensor(Int32Array.from([0, 0, 3, 4, 1, 2, 3, 4]), [B, T], 'int32');
const targets = tensor(Int32Array.from([0, 0, 4, 5, 2, 3, 4, 5]), [B, T], 'int32');
const real = [2, 3, 4, 5, 6, 7]; // flat positions holding items

function random(shape: number[], rng: Rng): Tensor {
  return tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
}
function signals(hidden: number, rng: Rng): DistillationSignals {
  return { embedding: random([B, T, hidden], rng), intermediates: [random([B, T, hidden], rng), random([B, T, hidden], rng)], logits: random([B, T, V], rng) };
}
function distiller(maskPads: boolean, terms: Partial<DistillOptions['terms']> = {}): Distiller {
  return new Distiller(C, H, 2, 2, {
    gamma: 0.5, beta: 0, mapping: 'emd', maskPads, temperature: 1,
    terms: { ce: false, embedding: false, hidden: false, logits: false, efficiency: false, ...terms },
  }, new Rng(3));
}

describe('Distiller', () => {
  it('embedding term: the mean over real positions in default mode, every position in paper mode', () => {
    const rng = new Rng(1);
    const s = signals(C, rng), t = signals(H, rng);
    for (const maskPads of [true, false]) {
      const d = distiller(maskPads, { embedding: true });
      const { parts } = d.loss(s, t, inputs, targets, null);
      const proj = d.embeddingProjection.forward(s.embedding).values, te = t.embedding.values;
      const rows = maskPads ? real : [...Array(B * T).keys()];
      let sum = 0;
      for (const r of rows) for (let h = 0; h < H; h++) sum += (proj[r * H + h] - te[r * H + h]) ** 2;
      assertClose([parts.embedding], [sum / (rows.length * H)], 1e-5);
      // what the student puts at padded positions changes nothing in default mode
      const moved = { ...s, embedding: F.add(s.embedding, tensor(Float32Array.from({ length: B * T * C }, (_, i) => (Math.floor(i / C) < 2 ? 5 : 0)), [B, T, C])) };
      const again = d.loss(moved, t, inputs, targets, null).parts.embedding;
      if (maskPads) assert.equal(again, parts.embedding);
      else assert.notEqual(again, parts.embedding);
    }
  });

  it('logits at the target positions only give the loss of logits at every position (default mode)', () => {
    const rng = new Rng(4);
    const s = signals(C, rng), t = signals(H, rng);
    const { rows } = targetRows(targets);
    assert.deepEqual(Array.from(rows.values), real);
    const atRows = (x: DistillationSignals): DistillationSignals => ({ ...x, logits: pickRows(x.logits, rows) });
    const terms = { ce: true, embedding: true, hidden: true, logits: true };
    const full = distiller(true, terms).loss(s, t, inputs, targets, null).parts;
    const picked = distiller(true, terms).loss(atRows(s), atRows(t), inputs, targets, null).parts;
    for (const k of ['ce', 'logits', 'embedding', 'hidden', 'total'] as const) assertClose([picked[k]], [full[k]], 1e-6, k);
    assert.ok(full.ce > 0 && full.logits > 0);
    assert.throws(() => distiller(false, terms).loss(atRows(s), atRows(t), inputs, targets, null), /paper mode/);
    assert.throws(() => distiller(true, terms).loss(atRows(s), t, inputs, targets, null), /teacher logits/);
  });

  it('EMD layer weights move after a step, and not after a step that was discarded', () => {
    const rng = new Rng(2);
    const s = signals(C, rng), t = signals(H, rng);
    const d = distiller(true, { hidden: true });
    const before = d.emd.state();
    d.loss(s, t, inputs, targets, null);
    d.discardStep();
    d.afterStep();
    assert.deepEqual(d.emd.state(), before);
    d.loss(s, t, inputs, targets, null);
    d.afterStep();
    assert.notDeepEqual(d.emd.state().studentWeights, before.studentWeights);
  });
});
