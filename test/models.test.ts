// Teachers: causality, distillation signals, last-position scoring, and that each one learns.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { F, Rng, backward, noGrad, optim, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import { BERT4Rec } from '../src/models/bert4rec.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { syntheticSequences } from '../src/data/synthetic.js';
import { nextItemBatch } from '../src/data/batch.js';
import { assertClose } from './helpers.js';

const V = 41, T = 8;
const transformer = { vocabSize: V, hidden: 16, heads: 2, blocks: 3, ffnMultiplier: 2, dropout: 0.1, residual: 'plain' as const, maxLength: T };
const makers: Record<string, () => SequentialRecommender> = {
  nextitnet: () => new NextItNet({ vocabSize: V, hidden: 16, dilations: [1, 2, 1, 2], kernelSize: 3, residual: 'plain' }, new Rng(1)),
  'nextitnet (dropout)': () => new NextItNet({ vocabSize: V, hidden: 16, dilations: [1, 2, 1, 2], kernelSize: 3, residual: 'learned', dropout: 0.2 }, new Rng(6)),
  sasrec: () => new SASRec(transformer, new Rng(2)),
  'bert4rec (causal)': () => { const m = new BERT4Rec(transformer, new Rng(3)); m.causal = true; return m; },
};

const ids = (rows: number[][]): Tensor => tensor(new Int32Array(rows.flat()), [rows.length, rows[0].length], 'int32');
const logitsOf = (m: SequentialRecommender, x: Tensor): number[] => noGrad(() => tidy(() => m.forward(x).toArray()));

describe('sequential recommenders', () => {
  for (const [name, make] of Object.entries(makers)) {
    it(`${name}: the output at t ignores inputs after t`, () => {
      const m = make().eval();
      const a = logitsOf(m, ids([[0, 0, 3, 4, 5, 6, 7, 8]])), b = logitsOf(m, ids([[0, 0, 3, 4, 5, 9, 10, 11]]));
      const upTo = 5 * V; // positions 0..4 are unchanged
      assertClose(b.slice(0, upTo), a.slice(0, upTo), 1e-5, `${name} logits before the change`);
      assert.ok(a.slice(upTo).some((v, i) => Math.abs(v - b[upTo + i]) > 1e-4), 'later logits must change');
      m.dispose();
    });

    it(`${name}: signals, scoreLast and shapes`, () => {
      const m = make().eval();
      const x = ids([[0, 1, 2, 3, 4, 5, 6, 7], [9, 8, 7, 6, 5, 4, 3, 2]]);
      noGrad(() => tidy(() => {
        const s = m.signals(x);
        assert.deepEqual(s.embedding.shape, [2, T, 16]);
        assert.equal(s.intermediates.length, name.startsWith('nextitnet') ? 2 : 3);
        for (const h of s.intermediates) assert.deepEqual(h.shape, [2, T, 16]);
        assert.deepEqual(s.logits.shape, [2, T, V]);
        const full = s.logits.toArray(), last = m.scoreLast(x).toArray();
        assertClose(last, [...full.slice((T - 1) * V, T * V), ...full.slice((2 * T - 1) * V)], 1e-4, 'scoreLast'); // float32: the last-position path sums in another order
        // logits at chosen positions only: the same rows, everything else unchanged
        const rows = [1, 5, 8, 15];
        const picked = m.signals(x, tensor(Int32Array.from(rows), [rows.length], 'int32'));
        assert.deepEqual(picked.logits.shape, [rows.length, V]);
        assertClose(picked.logits.toArray(), rows.flatMap((r) => full.slice(r * V, (r + 1) * V)), 1e-5, 'logits at rows');
        assertClose(picked.intermediates[0].toArray(), s.intermediates[0].toArray(), 1e-6, 'intermediates');
      }));
      m.dispose();
    });

    it(`${name}: last-position scoring of a batch cut to its longest input, when the model allows it`, () => {
      const m = make().eval();
      // rows of 3 and 5 items: the first three positions are padding in every row
      const full = ids([[0, 0, 0, 0, 0, 1, 2, 3], [0, 0, 0, 4, 5, 6, 7, 8]]);
      const cut = ids([[0, 0, 1, 2, 3], [4, 5, 6, 7, 8]]);
      noGrad(() => tidy(() => {
        const whole = m.scoreLast(full).toArray();
        const logits = m.forward(full).toArray();
        assertClose(whole, [...logits.slice((T - 1) * V, T * V), ...logits.slice((2 * T - 1) * V)], 1e-4, 'scoreLast = forward at the last position');
        if (m.leadingPaddingInert) assertClose(m.scoreLast(cut, 3).toArray(), whole, 1e-4, 'cut batch with the position offset');
        else assert.ok(name.startsWith('nextitnet'), 'only the convolutional teacher sees its leading padding');
      }));
      m.dispose();
    });

    it(`${name}: the loss runs the output layer at target positions only, with the full loss and gradients`, () => {
      const m = make().eval();
      const seqs = [Int32Array.from([3, 4, 5]), Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])];
      const gradsOf = (f: () => Tensor): { loss: number; grads: number[][] } => {
        const clear = (): void => { for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; } };
        clear();
        const loss = tidy(() => { const l = f(); backward(l); return l.item(); });
        return { loss, grads: m.parameters().map((p) => (p.grad ? Array.from(p.grad.values) : [])) };
      };
      const full = nextItemBatch(seqs, T);
      const reference = gradsOf(() => F.crossEntropy(m.forward(full.inputs), full.targets, 0));
      const gathered = gradsOf(() => m.loss(full.inputs, full.targets));
      assertClose([gathered.loss], [reference.loss], 1e-5, 'loss');
      reference.grads.forEach((g, i) => assertClose(gathered.grads[i], g, 1e-4, `gradient ${i}`));
      const cut = nextItemBatch([seqs[0], Int32Array.from([1, 2, 3, 4])], T, true);
      assert.deepEqual([cut.inputs.shape, cut.positionOffset], [[2, 3], T - 3]);
      if (m.leadingPaddingInert) {
        const padded = nextItemBatch([seqs[0], Int32Array.from([1, 2, 3, 4])], T);
        assertClose([tidy(() => m.loss(cut.inputs, cut.targets, cut.positionOffset).item())], [tidy(() => m.loss(padded.inputs, padded.targets).item())], 1e-5, 'cut batch loss');
      }
      for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
      m.dispose();
    });

    it(`${name}: learns next items on generated data`, () => {
      const m = make();
      const opt = new optim.Adam(m.parameters(), { lr: 5e-3 });
      const seqs = syntheticSequences({ users: 256, items: V - 1, minLength: 6, maxLength: 12, topics: 4, seed: 8 });
      const losses: number[] = [];
      for (let step = 0; step < 60; step++) {
        const batch = seqs.slice((step * 32) % 224, (step * 32) % 224 + 32);
        losses.push(tidy(() => {
          const { inputs, targets } = nextItemBatch(batch, T);
          const l = m.loss(inputs, targets);
          opt.zeroGrad(); backward(l); opt.step();
          return l.item();
        }));
      }
      const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5, last = losses.slice(-5).reduce((a, b) => a + b) / 5;
      assert.ok(last < 0.8 * first, `${name}: loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
      m.dispose();
    });
  }

  it('bert4rec (bidirectional): the last-position path and the cut batch give the full logits', () => {
    const m = new BERT4Rec(transformer, new Rng(4)).eval();
    noGrad(() => tidy(() => {
      const logits = m.forward(ids([[0, 0, 0, 0, 0, 1, 2, 3], [0, 0, 0, 4, 5, 6, 7, 8]])).toArray();
      const want = [...logits.slice((T - 1) * V, T * V), ...logits.slice((2 * T - 1) * V)];
      assertClose(m.scoreLast(ids([[0, 0, 1, 2, 3], [4, 5, 6, 7, 8]]), 3).toArray(), want, 1e-4, 'bidirectional scoreLast');
    }));
    m.dispose();
  });

  it('bert4rec: bidirectional attention sees later items until switched to causal', () => {
    const m = new BERT4Rec(transformer, new Rng(4)).eval();
    const a = logitsOf(m, ids([[0, 1, 2, 3, 4, 5, 6, 7]])), b = logitsOf(m, ids([[0, 1, 2, 3, 4, 5, 6, 9]]));
    assert.ok(a.slice(0, V).some((v, i) => Math.abs(v - b[i]) > 1e-6), 'first position must see the last item');
    m.causal = true;
    const c = logitsOf(m, ids([[0, 1, 2, 3, 4, 5, 6, 7]])), d = logitsOf(m, ids([[0, 1, 2, 3, 4, 5, 6, 9]]));
    assertClose(d.slice(0, 7 * V), c.slice(0, 7 * V), 1e-5, 'causal logits');
    m.dispose();
  });

  it('bert4rec: masks only real items, at least one per sequence, deterministically', () => {
    const m = new BERT4Rec(transformer, new Rng(5));
    const x = ids([[0, 0, 0, 1, 2, 3, 4, 5], [0, 0, 0, 0, 0, 0, 0, 7]]);
    const a = m.maskItems(x, 0.5, new Rng(9)), b = m.maskItems(x, 0.5, new Rng(9));
    assert.deepEqual(a.inputs.toArray(), b.inputs.toArray());
    const inp = a.inputs.toArray(), tgt = a.targets.toArray(), orig = x.toArray();
    inp.forEach((v, i) => {
      if (orig[i] === 0) { assert.equal(v, 0); assert.equal(tgt[i], 0); }
      else if (v === m.maskId) assert.equal(tgt[i], orig[i]);
      else { assert.equal(v, orig[i]); assert.equal(tgt[i], 0); }
    });
    assert.equal(inp[15], m.maskId, 'a single-item sequence still gets its item masked');
    const l = noGrad(() => tidy(() => m.maskedLoss(a).item()));
    assert.ok(Number.isFinite(l) && l > 0);
    m.dispose();
  });
});
