// Distillation over candidates (a large catalog's logit term, distill/candidates.ts): the top-k
// selection, logits and gradients over candidates against the full output layer, the loss against
// the full-catalog KL when the candidates cover the catalog and as an estimate when they do not,
// the teacher's top-k cache, and a distillation run that uses them and resumes.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Rng, backward, noGrad, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { CandidateDistillation, largestK } from '../src/distill/candidates.js';
import { Distiller } from '../src/distill/distiller.js';
import { NegativeSampler, candidateLogits, gatherCandidateLogits, sampledCandidates, type LogitCandidates } from '../src/models/sampled-softmax.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { modelTeacher } from '../src/models/teacher.js';
import { pickRows, targetRows } from '../src/models/common.js';
import { nextItemBatch } from '../src/data/batch.js';
import { train } from '../src/train/trainer.js';
import { parseTrainConfig } from '../src/train/config.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { tinyData } from './train-fixture.js';
import { assertClose } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'adarec-candidates-'));
after(() => rmSync(root, { recursive: true, force: true }));

const randn = (n: number, rng: Rng, scale = 1): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);

/** Candidates with the adjustment CandidateDistillation builds (uniform draws over items 1..V-1). */
function candidatesOf(perRow: Int32Array, k: number, positives: Int32Array, drawn: Int32Array, V: number): LogitCandidates {
  const shared = sampledCandidates(positives, drawn, null);
  const n = positives.length, m = shared.items.length, W = k + m;
  const adjust = new Float32Array(n * W);
  for (let r = 0; r < n; r++) {
    const top = new Set(perRow.subarray(r * k, (r + 1) * k));
    shared.items.forEach((item, j) => { adjust[r * W + k + j] = top.has(item) ? -1e9 : Math.log((V - 1) / drawn.length); });
  }
  return { k, perRow, shared, adjust };
}

describe('largestK', () => {
  it('equals a full sort (best first, ties by lower id, NaN last, padding never)', () => {
    const rng = new Rng(1);
    const scratch = new Float32Array(300);
    for (let trial = 0; trial < 60; trial++) {
      const V = 2 + Math.floor(rng.uniform() * 200);
      const scores = Float32Array.from({ length: V + 3 }, () => Math.round(rng.normal() * (trial % 3 === 0 ? 2 : 50))); // coarse values: many ties
      if (trial % 5 === 0) scores[3 + 1 + Math.floor(rng.uniform() * (V - 1))] = NaN;
      const k = 1 + Math.floor(rng.uniform() * (V - 1));
      const out = new Int32Array(k + 2);
      largestK(scores, 3, V, k, out, 1, scratch);
      const key = (i: number) => (Number.isNaN(scores[3 + i]) ? -Infinity : scores[3 + i]);
      const want = Array.from({ length: V - 1 }, (_, i) => i + 1).sort((a, b) => key(b) - key(a) || a - b).slice(0, k);
      assert.deepEqual(Array.from(out.subarray(1, k + 1)), want, `trial ${trial}: V ${V}, k ${k}`);
    }
    assert.throws(() => largestK(new Float32Array(4), 0, 4, 4, new Int32Array(4), 0, scratch), /4 items asked of 3/);
  });
});

describe('candidateLogits', () => {
  for (const sparse of [false, true]) {
    it(`equals the full output layer at the candidates, with its gradients${sparse ? ' (slice gradients)' : ''}`, () => {
      const rng = new Rng(2);
      const n = 5, C = 6, V = 40, k = 4;
      const h = tensor(randn(n * C, rng), [n, C]); h.requiresGrad = true;
      const weight = tensor(randn(C * V, rng), [C, V]); weight.requiresGrad = true;
      const bias = tensor(randn(V, rng), [V]); bias.requiresGrad = true;
      const perRow = Int32Array.from({ length: n * k }, () => 1 + Math.floor(rng.uniform() * (V - 1)));
      const c = candidatesOf(perRow, k, Int32Array.from([3, 7, 3, 9, 12]), Int32Array.from([5, 7, 20, 33]), V);
      const W = k + c.shared.items.length;
      const G = randn(n * W, rng);
      // reference: the dense output layer, its columns gathered in JS
      const fullValues = noGrad(() => F.linear(h, weight, bias).toArray());
      const got = tidy(() => {
        weight.sparseAxis = sparse ? 1 : null; bias.sparseAxis = sparse ? 0 : null;
        const logits = candidateLogits(h, weight, bias, c);
        backward(F.sum(F.mul(logits, tensor(G, [n, W]))));
        return logits.toArray();
      });
      assertClose(got, Array.from(gatherCandidateLogits(fullValues, V, c)), 1e-5, 'logits');
      const dh = new Float64Array(n * C), dw = new Float64Array(C * V), db = new Float64Array(V);
      for (let r = 0; r < n; r++) for (let j = 0; j < W; j++) {
        const item = j < k ? perRow[r * k + j] : c.shared.items[j - k], g = G[r * W + j];
        db[item] += g;
        for (let i = 0; i < C; i++) { dh[r * C + i] += g * weight.values[i * V + item]; dw[i * V + item] += g * h.values[r * C + i]; }
      }
      assertClose(h.grad!.toArray(), Array.from(dh), 1e-4, 'dh');
      const dense = (t: Tensor): number[] => (t.grad as Tensor).toArray();
      if (!sparse) {
        assertClose(dense(weight), Array.from(dw), 1e-4, 'dW');
        assertClose(dense(bias), Array.from(db), 1e-4, 'db');
      } else assert.ok(weight.sliceGrad && bias.sliceGrad, 'slice gradients');
    });
  }
});

describe('Distiller over candidates', () => {
  const n = 6, V = 30, C = 4;
  const rng = new Rng(3);
  const teacherFull = randn(n * V, rng, 2), studentFull = randn(n * V, rng, 2);
  const labels = Int32Array.from({ length: n }, () => 1 + Math.floor(rng.uniform() * (V - 1)));
  // one row per sequence, the target at its last position
  const inputs = tensor(Int32Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? 0 : 1 + i)), [n, 2], 'int32');
  const targets = tensor(Int32Array.from({ length: n * 2 }, (_, i) => (i % 2 === 0 ? 0 : labels[i >> 1])), [n, 2], 'int32');
  const signalsOf = (logits: Tensor) => ({ embedding: tensor(new Float32Array(n * 2 * C), [n, 2, C]), intermediates: [], logits });
  const distiller = (terms: { ce: boolean; logits: boolean }) => new Distiller(C, C, 1, 1, {
    gamma: 0.5, beta: 0, mapping: 'emd', maskPads: true, temperature: 1,
    terms: { ...terms, embedding: false, hidden: false, efficiency: false },
  }, new Rng(4));

  it('covering the catalog, the KL is the full KL over the items (padding column aside)', () => {
    const k = V - 1;
    const perRow = Int32Array.from({ length: n * k }, (_, i) => 1 + (i % k));
    const c = candidatesOf(perRow, k, labels, Int32Array.from([2, 5]), V); // every shared item is in the top k: masked
    const over = (full: Float32Array) => tensor(gatherCandidateLogits(full, V, c), [n, k + c.shared.items.length]);
    const got = distiller({ ce: false, logits: true }).loss(signalsOf(over(studentFull)), signalsOf(over(teacherFull)), inputs, targets, null, c).parts.logits;
    const drop0 = (full: Float32Array) => tensor(Float32Array.from({ length: n * k }, (_, i) => full[Math.floor(i / k) * V + 1 + (i % k)]), [n, k]);
    const want = F.distillKL(drop0(teacherFull), drop0(studentFull), 1, null).item();
    assertClose([got], [want], 1e-5);
  });

  it('the CE term is the sampled softmax over the shared columns', () => {
    const k = 3;
    const perRow = Int32Array.from({ length: n * k }, (_, i) => 1 + ((i * 7) % (V - 1)));
    const c = candidatesOf(perRow, k, labels, Int32Array.from([4, 8, 15, 16]), V);
    const logits = tensor(gatherCandidateLogits(studentFull, V, c), [n, k + c.shared.items.length]);
    const got = distiller({ ce: true, logits: false }).loss(signalsOf(logits), null, inputs, targets, null, c).parts.ce;
    const shared = tensor(Float32Array.from(gatherCandidateLogits(studentFull, V, { ...c, k: 0, perRow: new Int32Array(0), adjust: new Float32Array(n * c.shared.items.length) })), [n, c.shared.items.length]);
    assertClose([got], [F.crossEntropy(shared, tensor(c.shared.labels, [n], 'int32'), -1).item()], 1e-6);
  });

  it('with a few items per row it estimates the full KL (mean over draws)', () => {
    const Vbig = 3000, k = 16, rows = 4;
    const r2 = new Rng(5);
    // peaked teacher (a few items hold most of the mass), a student close to it
    const t = Float32Array.from({ length: rows * Vbig }, (_, i) => (i % Vbig) % 97 === 1 ? 6 + r2.normal() : r2.normal());
    const s = Float32Array.from(t, (x) => x + 0.5 * r2.normal());
    t.forEach((_, i) => { if (i % Vbig === 0) { t[i] = -30; s[i] = -30; } }); // padding column: no mass
    const full = F.distillKL(tensor(t, [rows, Vbig]), tensor(s, [rows, Vbig]), 1, null).item();
    const top = new Int32Array(rows * k), scratch = new Float32Array(Vbig);
    for (let r = 0; r < rows; r++) largestK(t, r * Vbig, Vbig, k, top, r * k, scratch);
    const sampler = new NegativeSampler(Vbig - 1, null);
    const pos = Int32Array.from({ length: rows }, (_, r) => top[r * k]);
    let sum = 0;
    const draws = 40;
    for (let d = 0; d < draws; d++) {
      const c = candidatesOf(top, k, pos, sampler.sample(256, () => r2.uniform()), Vbig);
      const W = k + c.shared.items.length;
      const adj = (x: Float32Array) => F.add(tensor(gatherCandidateLogits(x, Vbig, c), [rows, W]), tensor(c.adjust, [rows, W]));
      sum += F.distillKL(adj(t), adj(s), 1, null).item();
    }
    const estimate = sum / draws;
    assert.ok(Math.abs(estimate - full) < 0.1 * full, `estimate ${estimate} vs full ${full}`);
    // without the importance weights the tail is under-counted by far
    const c = candidatesOf(top, k, pos, sampler.sample(256, () => r2.uniform()), Vbig);
    const W = k + c.shared.items.length;
    const plain = (x: Float32Array) => tensor(gatherCandidateLogits(x, Vbig, c), [rows, W]);
    assert.ok(Math.abs(F.distillKL(plain(t), plain(s), 1, null).item() - full) > 2 * Math.abs(estimate - full));
  });
});

describe('CandidateDistillation', () => {
  it("finds each window's top k once, from the teacher's full logits, and scores the candidates like them", async () => {
    const V = 60, T = 6;
    const model = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2], kernelSize: 3, residual: 'plain' }, new Rng(6));
    const teacher = modelTeacher(model, { kind: 'nextitnet', hidden: 8, manifestHash: null });
    const windows = [Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6, 7, 8, 9, 10, 11]), Int32Array.from([12, 13])];
    const calls: number[] = [];
    const counting = { ...teacher, signals: (ids: Tensor, rows?: Tensor | null, c?: LogitCandidates | null) => { calls.push(c ? 1 : 0); return teacher.signals(ids, rows, c); } };
    const cd = new CandidateDistillation({ sequences: 3, maxLength: T, k: 5, negatives: 7, sampler: new NegativeSampler(V - 1, null), correctCE: false });
    const b = await cd.batch(counting, windows, [0, 1, 2], new Rng(7));
    assert.equal(cd.known, 3);
    assert.deepEqual(calls, [0, 1]); // one full pass for the top k, one over the candidates
    const full = noGrad(() => tidy(() => pickRows(model.forward(nextItemBatch(windows, T).inputs), targetRows(nextItemBatch(windows, T).targets).rows).toArray()));
    const n = 2 + 6 + 1;
    assert.equal(b.rows.size, n);
    const scratch = new Float32Array(V);
    for (let r = 0; r < n; r++) {
      const want = new Int32Array(5);
      largestK(full, r * V, V, 5, want, 0, scratch);
      assert.deepEqual(Array.from(b.candidates.perRow.subarray(r * 5, r * 5 + 5)), Array.from(want), `row ${r}`);
    }
    assertClose(b.teacher.logits.toArray(), Array.from(gatherCandidateLogits(full, V, b.candidates)), 1e-5, 'teacher candidate logits');
    const W = b.teacher.logits.shape[1];
    for (let r = 0; r < n; r++) for (let j = 0; j < W - 5; j++) {
      const dup = b.candidates.perRow.subarray(r * 5, r * 5 + 5).includes(b.candidates.shared.items[j]);
      assert.equal(b.candidates.adjust[r * W + 5 + j], dup ? -1e9 : Math.fround(Math.log((V - 1) / 7)));
    }
    calls.length = 0;
    await cd.batch(counting, windows.slice(1), [1, 2], new Rng(8));
    assert.deepEqual(calls, [1]); // cached: the candidates only
    model.dispose();
  });
});

describe('distillation run over candidates', () => {
  it('trains a student against a teacher over candidates, and resumes to the same weights', async () => {
    const data = tinyData({ users: 160, items: 80 }, 21);
    const quiet = (): void => {};
    await train({ config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 10, epochs: 2 }, 't'), data, outDir: join(root, 'teacher'), log: quiet });
    const cfg = parseTrainConfig({
      model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, maxLength: 10, epochs: 2, earlyStopping: { patience: null },
      distillation: { teacher: join(root, 'teacher', 'best.ckpt'), logitItems: { over: 'candidates', topK: 6, negatives: 16 } },
    }, 's');
    const logs: string[] = [];
    const whole = await train({ config: cfg, data, outDir: join(root, 'whole'), log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /distillation over candidates .* top 6 per position .* 16 popularity draws/.test(l)), logs.join('\n'));
    assert.ok(Number.isFinite(whole.testMetrics['ndcg@10']));
    const controller = new AbortController();
    await assert.rejects(train({ config: cfg, data, outDir: join(root, 'cut'), log: quiet, signal: controller.signal, onBatchEnd: (i) => { if (i.epoch === 2) controller.abort(); } }), /interrupted/);
    await train({ config: cfg, data, outDir: join(root, 'cut'), log: quiet, resume: true });
    const a = readCheckpoint(join(root, 'whole', 'last.ckpt')), b = readCheckpoint(join(root, 'cut', 'last.ckpt'));
    a.tensors.forEach((t, i) => assert.deepEqual(Array.from(t.values), Array.from(b.tensors[i].values), t.name));
    assert.throws(() => parseTrainConfig({ model: { kind: 'nextitnet' }, distillation: { teacher: 'x', logitItems: { over: 'some' } } }, 'c'), /over/);
    await assert.rejects(train({ config: parseTrainConfig({ ...cfg, distillation: { ...cfg.distillation!, logitItems: { ...cfg.distillation!.logitItems, topK: 80 } } }, 'big'), data, outDir: join(root, 'big'), log: quiet }),
      /topK: 80 of a catalog of 80 items/);
  });
});
