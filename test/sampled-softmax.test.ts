// Sampled losses for large catalogs: the output layer over some columns (its gradients against
// finite differences), the candidate set of a batch, the negative sampler, the loss over every item
// as the full softmax, and training with it; slice gradients of the catalog's tables against the
// dense ones and the lazy optimizer update against dense Adam and an independent lazy Adam; gBCE
// against its formula and finite differences.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Rng, backward, noGrad, optim, setBackend, setDefaultFloat, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { nextItemBatch } from '../src/data/batch.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { NegativeSampler, gbceBeta, gbceNegatives, sampledCandidates } from '../src/models/sampled-softmax.js';
import { SAMPLED_SOFTMAX_ABOVE, parseTrainConfig, sampledLossOptions, usesSampledLoss } from '../src/train/config.js';
import { train, type EpochRecord } from '../src/train/trainer.js';
import { gradcheck, param64, weightedSum } from './gradcheck.js';
import { assertClose } from './helpers.js';
import { tinyData } from './train-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'adarec-sampled-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('linearColumns', () => {
  it('equals the chosen columns of the full layer, gradients against finite differences (repeated columns too)', () => {
    setBackend('js'); setDefaultFloat('float64');
    try {
      const x = param64([3, 4], 1), w = param64([4, 7], 2), b = param64([7], 3);
      const cols = Int32Array.from([5, 0, 5, 2]);
      const full = noGrad(() => F.linear(x, w, b).toArray()), part = noGrad(() => F.linearColumns(x, w, b, cols).toArray());
      assertClose(part, [0, 1, 2].flatMap((r) => Array.from(cols, (c) => full[r * 7 + c])), 1e-12);
      gradcheck('linearColumns', (xx, ww, bb) => weightedSum(F.linearColumns(xx, ww, bb, cols)), [x, w, b]);
      assert.throws(() => F.linearColumns(x, w, b, Int32Array.from([7])), /column 7 at 0 is outside \[0, 7\)/);
    } finally {
      setBackend('native'); setDefaultFloat('float32');
    }
  });
});

describe('candidates and sampler', () => {
  it('puts the distinct positives first, then the negatives that are not positives, with logQ', () => {
    const logQ = Float64Array.from([0, -1, -2, -3, -4, -5]);
    const c = sampledCandidates(Int32Array.from([3, 1, 3]), Int32Array.from([2, 3, 5, 2]), logQ);
    assert.deepEqual(Array.from(c.items), [3, 1, 2, 5]);
    assert.deepEqual(Array.from(c.labels), [0, 1, 0]);
    assert.deepEqual(Array.from(c.correction!), [-3, -1, -2, -5]);
    assert.equal(sampledCandidates(Int32Array.from([1]), new Int32Array(0), null).correction, null);
  });

  it('shares at most `cap` distinct positives; beyond it a row whose positive is not shared scores it in a column of its own', () => {
    const logQ = Float64Array.from([0, -1, -2, -3, -4, -5, -6, -7]);
    const positives = Int32Array.from([3, 1, 3, 6, 7]), negatives = Int32Array.from([2, 7, 5]);
    const uniform = () => { const r = new Rng(9); return () => r.uniform(); };
    const under = sampledCandidates(positives, negatives, logQ, { cap: 4, uniform: uniform() });
    assert.deepEqual(under, sampledCandidates(positives, negatives, logQ), 'under the cap nothing changes');
    assert.equal(under.own, null);
    const c = sampledCandidates(positives, negatives, logQ, { cap: 2, uniform: uniform() });
    const shared = Array.from(c.items.subarray(0, 2));
    assert.equal(new Set(shared).size, 2);
    assert.ok(shared.every((p) => [3, 1, 6, 7].includes(p)));
    assert.deepEqual(Array.from(c.items.subarray(2)), [2, 7, 5].filter((n) => !shared.includes(n)));
    assert.deepEqual(Array.from(c.correction!), Array.from(c.items, (i) => logQ[i]));
    assert.deepEqual(Array.from(c.own!.correction!), [-3, -1, -3, -6, -7]);
    // a row whose positive is shared takes that column, its own column masked; the others their own column
    const items = Array.from(c.items);
    positives.forEach((p, r) => {
      const at = items.indexOf(p);
      assert.equal(c.labels[r], at >= 0 ? 1 + at : 0, `label of row ${r}`);
      assert.equal(c.own!.mask[r], at >= 0 ? -1e9 : 0, `mask of row ${r}`);
    });
    // the choice is uniform: every positive is shared in about cap / distinct of the draws
    const r = new Rng(3), counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++)
      for (const p of sampledCandidates(positives, new Int32Array(0), null, { cap: 2, uniform: () => r.uniform() }).items) counts.set(p, (counts.get(p) ?? 0) + 1);
    for (const p of [1, 3, 6, 7]) assert.ok(Math.abs(counts.get(p)! / 4000 - 0.5) < 0.04, `positive ${p}: ${counts.get(p)}`);
  });

  it('draws items 1..N uniformly or by weight, the same for the same seed', () => {
    const uniform = new NegativeSampler(5, null);
    const u = uniform.sample(5000, (() => { const r = new Rng(1); return () => r.uniform(); })());
    assert.ok(u.every((i) => i >= 1 && i <= 5));
    for (let i = 1; i <= 5; i++) { const n = u.filter((x) => x === i).length; assert.ok(n > 850 && n < 1150, `item ${i}: ${n}`); }
    const weights = Float64Array.from([0, 1, 0, 2, 7]);
    const byWeight = new NegativeSampler(4, weights);
    const draw = (seed: number): Int32Array => { const r = new Rng(seed); return byWeight.sample(10000, () => r.uniform()); };
    const p = draw(2);
    assert.deepEqual(Array.from(draw(2)), Array.from(p));
    assert.equal(p.filter((x) => x === 2).length, 0, 'a zero weight is never drawn');
    const share = (i: number): number => p.filter((x) => x === i).length / p.length;
    assert.ok(Math.abs(share(4) - 0.7) < 0.03 && Math.abs(share(3) - 0.2) < 0.03 && Math.abs(share(1) - 0.1) < 0.03, `${share(1)} ${share(3)} ${share(4)}`);
    assertClose([1, 3, 4].map((i) => byWeight.logQ[i]), [Math.log(0.1), Math.log(0.2), Math.log(0.7)], 1e-9, 'logQ');
    assert.equal(byWeight.logQ[2], -Infinity);
  });
});

describe('sampled softmax loss', () => {
  it('over every column without correction it is the full softmax: same loss and gradients', () => {
    const V = 31, T = 6;
    const m = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2], kernelSize: 3, residual: 'plain' }, new Rng(4)).eval();
    const { inputs, targets } = nextItemBatch([Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6, 7, 8, 9, 10])], T);
    const all = Int32Array.from({ length: V }, (_, i) => i); // the full softmax normalises over column 0 (padding) too
    const run = (sampled: boolean): { loss: number; grads: number[][] } => {
      for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
      const loss = tidy(() => {
        const l = m.loss(inputs, targets, 0, sampled ? (pos) => sampledCandidates(pos, all, null) : undefined);
        backward(l);
        return l.item();
      });
      return { loss, grads: m.parameters().map((p) => Array.from(p.grad!.values)) };
    };
    const full = run(false), sampled = run(true);
    assertClose([sampled.loss], [full.loss], 1e-5, 'loss');
    full.grads.forEach((g, i) => assertClose(sampled.grads[i], g, 1e-4, `gradient ${i}`));
    // capped at 1 shared positive (the row's own column, its duplicate among all items masked): the same softmax
    for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
    const capped = tidy(() => {
      const r = new Rng(1);
      const l = m.loss(inputs, targets, 0, (pos) => sampledCandidates(pos, all, null, { cap: 1, uniform: () => r.uniform() }));
      backward(l);
      return { loss: l.item(), grads: m.parameters().map((p) => Array.from(p.grad!.values)) };
    });
    assertClose([capped.loss], [full.loss], 1e-5, 'capped loss');
    full.grads.forEach((g, i) => assertClose(capped.grads[i], g, 1e-4, `capped gradient ${i}`));
    for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
    m.dispose();
  });

  it('switches on above SAMPLED_SOFTMAX_ABOVE items unless the config says otherwise', () => {
    const c = (loss?: object) => parseTrainConfig({ model: 'sasrec', ...(loss ? { loss } : {}) }, 'test');
    assert.equal(c().loss, undefined, 'an absent loss stays absent (older configs and stage keys unchanged)');
    assert.equal(usesSampledLoss(c(), SAMPLED_SOFTMAX_ABOVE), false);
    assert.equal(usesSampledLoss(c(), SAMPLED_SOFTMAX_ABOVE + 1), true);
    assert.equal(usesSampledLoss(c({ kind: 'full' }), 10 * SAMPLED_SOFTMAX_ABOVE), false);
    assert.equal(usesSampledLoss(c({ kind: 'sampled' }), 100), true);
    assert.throws(() => c({ kind: 'sampled', negatives: 0 }), /loss\.negatives/);
  });

  it('trains: the validation metric rises, the same seed gives the same run, and the log says so', async () => {
    const data = tinyData({ users: 200, items: 80 });
    const config = parseTrainConfig({
      model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 4, optimizer: { lr: 0.01 },
      loss: { kind: 'sampled', negatives: 16, sampler: 'popularity' }, earlyStopping: { patience: null },
    }, 'test');
    const lines: string[] = [];
    const epochs = (dir: string): EpochRecord[] => readFileSync(join(root, dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
    await train({ config, data, outDir: join(root, 'a'), log: (l) => lines.push(l) });
    const r = epochs('a');
    assert.ok(lines.some((l) => /sampled softmax over 80 items: the batch's positives \(at most 1024 shared\) \+ 16 popularity negatives per batch, logQ-corrected/.test(l)), lines.join('\n'));
    assert.ok(r[3].metrics['ndcg@10'] > r[0].metrics['ndcg@10'], `${r.map((e) => e.metrics['ndcg@10'])}`);
    await train({ config, data, outDir: join(root, 'b'), log: () => {} });
    assert.deepEqual(epochs('b').map((e) => e.loss), r.map((e) => e.loss), 'same seed, same negatives, same run');
    await train({ config: parseTrainConfig({ ...config, loss: { kind: 'sampled', negatives: 16, sampler: 'uniform' } }, 'test'),
      data, outDir: join(root, 'c'), log: () => {} });
    assert.notDeepEqual(epochs('c').map((e) => e.loss), r.map((e) => e.loss));
  });
});


/** A parameter's gradient as dense values: .grad plus its slice gradient (zeros where neither). */
function denseGrad(p: Tensor): number[] {
  const out = p.grad ? Array.from(p.grad.values) : new Array<number>(p.size).fill(0);
  const g = p.sliceGrad;
  if (!g) return out;
  const L = g.values.shape[1];
  g.index.forEach((s, k) => {
    for (let j = 0; j < L; j++) out[g.axis === 0 ? s * L + j : j * p.shape[1] + s] += g.values.values[k * L + j];
  });
  return out;
}

function clearGrads(ps: Tensor[]): void {
  for (const p of ps) { p.grad?.dispose(); p.grad = null; p.sliceGrad?.values.dispose(); p.sliceGrad = null; }
}

function float64<T>(fn: () => T): T {
  setBackend('js'); setDefaultFloat('float64');
  try { return fn(); } finally { setBackend('native'); setDefaultFloat('float32'); }
}

describe('slice gradients (sparse rows and columns of a catalog)', () => {
  it('embedding rows, linearColumns and linearPicked columns: the rows of the dense gradient, repeats and reuse summed', () => float64(() => {
    const table = param64([6, 3], 5), x = param64([4, 3], 6), w = param64([3, 9], 7), b = param64([9], 8);
    const ids = tensor(Int32Array.from([4, 1, 4, 0, 5]), [5], 'int32');
    const cols = Int32Array.from([7, 2, 7, 0]), picked = Int32Array.from([2, 8, 2, 5]);
    const f = (): Tensor => F.add(F.add(weightedSum(F.embedding(table, ids), 1), weightedSum(F.embedding(table, F.narrow(ids, 0, 1, 2)), 2)),
      F.add(weightedSum(F.linearColumns(x, w, b, cols), 3), weightedSum(F.linearPicked(x, w, b, picked), 4)));
    const run = (sparse: boolean): { grads: number[][]; sliced: (Int32Array | null)[] } => {
      table.sparseAxis = sparse ? 0 : null; w.sparseAxis = sparse ? 1 : null; b.sparseAxis = sparse ? 0 : null;
      clearGrads([table, x, w, b]);
      tidy(() => backward(f()));
      const r = { grads: [table, x, w, b].map(denseGrad), sliced: [table, w, b].map((p) => p.grad ? null : p.sliceGrad!.index) };
      clearGrads([table, x, w, b]);
      return r;
    };
    const dense = run(false), sparse = run(true);
    dense.grads.forEach((g, i) => assertClose(sparse.grads[i], g, 1e-12, `gradient ${i}`));
    assert.deepEqual(sparse.sliced.map((s) => s && Array.from(s)), [[0, 1, 4, 5], [0, 2, 5, 7, 8], [0, 2, 5, 7, 8]], 'only touched slices, ascending, no dense .grad');
    assert.ok(dense.sliced.every((s) => s === null));
    table.sparseAxis = w.sparseAxis = b.sparseAxis = null;
    // linearPicked itself: the picked entries of the full layer, gradients against finite differences
    const full = noGrad(() => F.linear(x, w, b).toArray()), part = noGrad(() => F.linearPicked(x, w, b, picked).toArray());
    assertClose(part, Array.from(picked, (c, r) => full[r * 9 + c]), 1e-12);
    gradcheck('linearPicked', (xx, ww, bb) => weightedSum(F.linearPicked(xx, ww, bb, picked)), [x, w, b]);
  }));

  it('lazy Adam: every slice touched equals dense Adam; otherwise untouched slices and their moments stay, touched ones follow Adam', () => {
    const V = 7, C = 3, rng = new Rng(9);
    const init = Float32Array.from({ length: C * V }, () => rng.normal());
    const steps = [[0, 1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1, 0, 3], [0, 1, 2, 3, 4, 5, 6]];
    const partial = [[1, 4], [4, 6, 6], [0, 1]];
    // the loss sum_r x_r . w[:, cols_r] on fixed inputs, columns sparse or dense, Adam with L2 decay
    const run = (sparse: boolean, schedule: number[][]): Float32Array => {
      const w = tensor(init.slice(), [C, V]);
      w.requiresGrad = true; w.sparseAxis = sparse ? 1 : null;
      const opt = new optim.Adam([w], { lr: 0.1, weightDecay: 0.01 });
      schedule.forEach((cols, s) => tidy(() => {
        const x = tensor(Float32Array.from({ length: cols.length * C }, (_, i) => Math.sin(i + s)), [cols.length, C]);
        opt.zeroGrad();
        backward(F.sum(F.linearPicked(x, w, null, Int32Array.from(cols))));
        assert.equal(w.grad === null, sparse);
        opt.step();
      }));
      opt.zeroGrad();
      return Float32Array.from(w.values);
    };
    assertClose(run(true, steps), run(false, steps), 1e-6, 'every column touched');
    // an independent lazy Adam in plain numbers
    const p = Array.from(init), m = new Array<number>(C * V).fill(0), v = new Array<number>(C * V).fill(0);
    partial.forEach((cols, s) => {
      const g = new Map<number, number>();
      cols.forEach((c, r) => { for (let i = 0; i < C; i++) g.set(i * V + c, (g.get(i * V + c) ?? 0) + Math.sin(r * C + i + s)); });
      for (const [e, ge] of g) {
        const gi = ge + 0.01 * p[e];
        m[e] = 0.9 * m[e] + 0.1 * gi; v[e] = 0.999 * v[e] + 0.001 * gi * gi;
        p[e] -= (0.1 / (1 - 0.9 ** (s + 1))) * m[e] / (Math.sqrt(v[e] / (1 - 0.999 ** (s + 1))) + 1e-8);
      }
    });
    const lazy = run(true, partial);
    assertClose(lazy, p, 1e-5, 'lazy Adam');
    for (let i = 0; i < C; i++) for (const c of [2, 3, 5]) assert.equal(lazy[i * V + c], init[i * V + c], 'an untouched column is unchanged');
    assert.notDeepEqual(Array.from(run(false, partial)), Array.from(lazy), 'dense Adam keeps moving columns through their momentum');
  });

  it('clipGradNorm counts and scales slice gradients as dense ones', () => {
    const norms = [false, true].map((sparse) => {
      const w = tensor(Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5), [3, 4]);
      w.requiresGrad = true; w.sparseAxis = sparse ? 1 : null;
      tidy(() => backward(F.sum(F.square(F.linearColumns(tensor([1, 2, 3, 4, 5, 6], [2, 3]), w, null, Int32Array.from([3, 1, 3]))))));
      const n = optim.clipGradNorm([w], 0.5);
      const g = denseGrad(w);
      clearGrads([w]);
      return { n, g };
    });
    assertClose([norms[1].n], [norms[0].n], 1e-6);
    assertClose(norms[1].g, norms[0].g, 1e-6);
    assertClose([Math.hypot(...norms[1].g)], [0.5], 1e-4);
  });

  it('a sampled step on a catalog of 200,000 items touches the candidates\' rows only, and equals the dense path', () => {
    const V = 200_001;
    const m = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2], kernelSize: 3, residual: 'plain' }, new Rng(4)).eval();
    const { inputs, targets } = nextItemBatch([Int32Array.from([1, 2, 3]), Int32Array.from([150_000, 5, 6, 199_999, 8, 9, 10])], 6);
    const negatives = Int32Array.from([17, 123_456, 5, 77_777]);
    const source = (pos: Int32Array) => sampledCandidates(pos, negatives, null);
    const run = (sparse: boolean): number[][] => {
      m.sparseCatalogGradients(sparse);
      tidy(() => backward(m.loss(inputs, targets, 0, source)));
      if (sparse) {
        const candidates = new Set([...targets.values, ...negatives].filter((i) => i > 0));
        assert.equal(m.output.weight.grad, null);
        assert.deepEqual(Array.from(m.output.weight.sliceGrad!.index), [...candidates].sort((a, b) => a - b));
        assert.deepEqual(Array.from(m.embedding.weight.sliceGrad!.index), [...new Set(inputs.values)].sort((a, b) => a - b));
      }
      const g = [m.embedding.weight, m.output.weight, m.output.bias!].map(denseGrad);
      clearGrads(m.parameters());
      return g;
    };
    const dense = run(false), sparse = run(true);
    dense.forEach((g, i) => assertClose(sparse[i], g, 1e-5, `gradient ${i}`));
    m.dispose();
  });
});

describe('gBCE', () => {
  it('beta: 1 at t = 0 (plain BCE), alpha at t = 1, the paper\'s formula between', () => {
    assert.equal(gbceBeta(256, 1001, 0), 1);
    assertClose([gbceBeta(256, 1001, 1)], [256 / 1000], 1e-12);
    const alpha = 256 / 1000;
    assertClose([gbceBeta(256, 1001, 0.75)], [alpha * (0.75 * (1 - 1 / alpha) + 1 / alpha)], 1e-12);
    const n = gbceNegatives(Int32Array.from([5, 9, 5, 2]), 11, 0.5);
    assert.deepEqual(Array.from(n.negatives), [5, 9, 2]);
    assertClose([n.beta], [gbceBeta(3, 11, 0.5)], 1e-12);
  });

  it('value against -(log sigmoid(s+)^beta + sum log(1 - sigmoid(s-))), gradients against finite differences', () => float64(() => {
    const pos = param64([4], 11, -3, 3), neg = param64([4, 5], 12, -3, 3), beta = 0.3;
    const sig = (z: number): number => 1 / (1 + Math.exp(-z));
    const pv = pos.toArray(), nv = neg.toArray();
    let want = 0;
    for (let r = 0; r < 4; r++) {
      want -= Math.log(sig(pv[r]) ** beta);
      for (let j = 0; j < 5; j++) want -= Math.log(1 - sig(nv[r * 5 + j]));
    }
    assertClose([noGrad(() => F.gbce(pos, neg, beta).item())], [want / 4], 1e-12);
    gradcheck('gbce', (p, n) => F.gbce(p, n, beta), [pos, neg]);
  }));

  it('through a model: the loss of the full logits at the positives and negatives; sparse and dense gradients agree', () => {
    const V = 41, T = 6;
    const m = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2], kernelSize: 3, residual: 'plain' }, new Rng(5)).eval();
    const { inputs, targets } = nextItemBatch([Int32Array.from([1, 2, 3]), Int32Array.from([4, 5, 6, 7, 8, 9, 10])], T);
    const c = gbceNegatives(Int32Array.from([30, 7, 12, 30]), V - 1, 0.75);
    const logits = noGrad(() => m.forward(inputs).toArray()), tv = targets.values;
    const softplus = (z: number): number => Math.log1p(Math.exp(z));
    let want = 0, n = 0;
    for (let i = 0; i < tv.length; i++) {
      if (tv[i] === 0) continue;
      n++;
      want += c.beta * softplus(-logits[i * V + tv[i]]);
      for (const j of c.negatives) want += softplus(logits[i * V + j]);
    }
    const run = (sparse: boolean): { loss: number; grads: number[][] } => {
      m.sparseCatalogGradients(sparse);
      const loss = tidy(() => { const l = m.loss(inputs, targets, 0, () => c); backward(l); return l.item(); });
      const grads = m.parameters().map(denseGrad);
      clearGrads(m.parameters());
      return { loss, grads };
    };
    const dense = run(false), sparse = run(true);
    assertClose([dense.loss], [want / n], 1e-5, 'loss');
    dense.grads.forEach((g, i) => assertClose(sparse.grads[i], g, 1e-5, `gradient ${i}`));
    m.dispose();
  });

  it('config: gbce takes uniform negatives (256) and t (0.75) by default; popularity draws and t elsewhere are refused', () => {
    const c = (loss: object) => parseTrainConfig({ model: 'sasrec', loss }, 'test');
    assert.deepEqual(sampledLossOptions(c({ kind: 'gbce' })), { kind: 'gbce', negatives: 256, sampler: 'uniform', t: 0.75, sharedPositives: 0 });
    assert.deepEqual(sampledLossOptions(c({ kind: 'sampled' })), { kind: 'sampled', negatives: 1024, sampler: 'popularity', t: 0, sharedPositives: 1024 });
    assert.equal(sampledLossOptions(c({ kind: 'sampled', sharedPositives: 64 })).sharedPositives, 64);
    assert.throws(() => c({ kind: 'gbce', sharedPositives: 64 }), /sharedPositives/);
    assert.equal(usesSampledLoss(c({ kind: 'gbce', t: 0 }), 100), true);
    assert.throws(() => c({ kind: 'gbce', sampler: 'popularity' }), /loss\.sampler.*uniform/s);
    assert.throws(() => c({ kind: 'sampled', t: 0.5 }), /loss\.t/);
    assert.throws(() => c({ kind: 'gbce', t: 1.5 }), /loss\.t/);
  });

  it('trains: the validation metric rises and the log states the loss', async () => {
    const data = tinyData({ users: 200, items: 80 });
    const config = parseTrainConfig({
      model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 4, optimizer: { lr: 0.01 },
      loss: { kind: 'gbce', negatives: 16 }, earlyStopping: { patience: null },
    }, 'test');
    const lines: string[] = [];
    await train({ config, data, outDir: join(root, 'gbce'), log: (l) => lines.push(l) });
    const r = readFileSync(join(root, 'gbce', 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpochRecord);
    assert.ok(lines.some((l) => /gBCE over 80 items: 16 uniform negatives per batch, t 0.75 \(beta 0\.402\)/.test(l)), lines.join('\n'));
    assert.ok(r[3].metrics['ndcg@10'] > r[0].metrics['ndcg@10'], `${r.map((e) => e.metrics['ndcg@10'])}`);
  });
});
