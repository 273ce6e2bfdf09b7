// Sampled softmax for large catalogs: the output layer over some columns (its gradients against
// finite differences), the candidate set of a batch, the negative sampler, the loss over every item
// as the full softmax, and training with it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Rng, backward, noGrad, setBackend, setDefaultFloat, tidy } from '../src/engine/index.js';
import { nextItemBatch } from '../src/data/batch.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { NegativeSampler, sampledCandidates } from '../src/models/sampled-softmax.js';
import { SAMPLED_SOFTMAX_ABOVE, parseTrainConfig, usesSampledSoftmax } from '../src/train/config.js';
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
    for (const p of m.parameters()) { p.grad?.dispose(); p.grad = null; }
    m.dispose();
  });

  it('switches on above SAMPLED_SOFTMAX_ABOVE items unless the config says otherwise', () => {
    const c = (loss?: object) => parseTrainConfig({ model: 'sasrec', ...(loss ? { loss } : {}) }, 'test');
    assert.equal(c().loss, undefined, 'an absent loss stays absent (older configs and stage keys unchanged)');
    assert.equal(usesSampledSoftmax(c(), SAMPLED_SOFTMAX_ABOVE), false);
    assert.equal(usesSampledSoftmax(c(), SAMPLED_SOFTMAX_ABOVE + 1), true);
    assert.equal(usesSampledSoftmax(c({ kind: 'full' }), 10 * SAMPLED_SOFTMAX_ABOVE), false);
    assert.equal(usesSampledSoftmax(c({ kind: 'sampled' }), 100), true);
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
    assert.ok(lines.some((l) => /sampled softmax over 80 items: the batch's positives \+ 16 popularity negatives per batch, logQ-corrected/.test(l)), lines.join('\n'));
    assert.ok(r[3].metrics['ndcg@10'] > r[0].metrics['ndcg@10'], `${r.map((e) => e.metrics['ndcg@10'])}`);
    await train({ config, data, outDir: join(root, 'b'), log: () => {} });
    assert.deepEqual(epochs('b').map((e) => e.loss), r.map((e) => e.loss), 'same seed, same negatives, same run');
    await train({ config: parseTrainConfig({ ...config, loss: { kind: 'sampled', negatives: 16, sampler: 'uniform' } }, 'test'),
      data, outDir: join(root, 'c'), log: () => {} });
    assert.notDeepEqual(epochs('c').map((e) => e.loss), r.map((e) => e.loss));
  });
});

