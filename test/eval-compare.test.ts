// The paired bootstrap of model-vs-baseline differences: exact cases, the observed difference
// against summarize(), determinism, and the interval against the normal approximation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDifference, meanPerExample, pairedBootstrap, perExample } from '../src/eval/compare.js';
import { summarize } from '../src/eval/metrics.js';
import { meanInterval95, tQuantile975 } from '../src/eval/interval.js';
import { Rng } from '../src/engine/index.js';

describe('paired bootstrap', () => {
  it('gives zero, with a zero-width interval, for identical rankings', () => {
    const v = perExample(Int32Array.from([0, 3, 12, 7, 1, 40]), 'ndcg@10');
    const p = pairedBootstrap(v, v, 'ndcg@10', { resamples: 200 });
    assert.deepEqual([p.difference, p.low, p.high, p.aAhead], [0, 0, 0, 0]);
  });

  it('puts the whole interval above zero when A ranks every target higher', () => {
    const b = Int32Array.from({ length: 50 }, (_, i) => 2 + (i % 7));
    const a = b.map((r) => r - 2);
    const p = pairedBootstrap(perExample(a, 'mrr@10'), perExample(b, 'mrr@10'), 'mrr@10', { resamples: 300 });
    assert.ok(p.low > 0 && p.high >= p.low && p.aAhead === 1, JSON.stringify(p));
  });

  it('reports the observed difference of the means that summarize() computes', () => {
    const rng = new Rng(3);
    const a = Int32Array.from({ length: 300 }, () => rng.int(40)), b = Int32Array.from({ length: 300 }, () => rng.int(40));
    for (const m of ['hr@5', 'ndcg@10', 'mrr@20']) {
      const p = pairedBootstrap(perExample(a, m), perExample(b, m), m, { resamples: 50 });
      assert.ok(Math.abs(p.difference - (summarize(a, [5, 10, 20])[m] - summarize(b, [5, 10, 20])[m])) < 1e-12, m);
      assert.ok(p.low <= p.difference && p.difference <= p.high, `${m}: ${formatDifference(p)}`);
    }
  });

  it('is deterministic for a seed', () => {
    const rng = new Rng(5);
    const a = Int32Array.from({ length: 100 }, () => rng.int(30)), b = Int32Array.from({ length: 100 }, () => rng.int(30));
    const [va, vb] = [perExample(a, 'ndcg@10'), perExample(b, 'ndcg@10')];
    assert.deepEqual(pairedBootstrap(va, vb, 'ndcg@10', { seed: 9, resamples: 100 }), pairedBootstrap(va, vb, 'ndcg@10', { seed: 9, resamples: 100 }));
  });

  it('matches the normal-approximation interval of a mean difference', () => {
    // HR@1 differences in {-1, 0, +1}: A hits 30% of 2,000 examples, B 25%, independently
    const rng = new Rng(11), n = 2000;
    const a = Int32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 0 : 5));
    const b = Int32Array.from({ length: n }, () => (rng.uniform() < 0.25 ? 0 : 5));
    const [va, vb] = [perExample(a, 'hr@1'), perExample(b, 'hr@1')];
    const d = va.map((v, i) => v - vb[i]);
    const mean = d.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
    const half = 1.959964 * sd / Math.sqrt(n);
    const p = pairedBootstrap(va, vb, 'hr@1', { resamples: 4000, seed: 2 });
    assert.ok(Math.abs(p.low - (mean - half)) < 0.15 * half, `low ${p.low} vs ${mean - half}`);
    assert.ok(Math.abs(p.high - (mean + half)) < 0.15 * half, `high ${p.high} vs ${mean + half}`);
  });

  it('refuses unpaired inputs, unknown metrics and bad options', () => {
    assert.throws(() => pairedBootstrap([0, 1], [0], 'hr@10'), /same examples: 2 vs 1/);
    assert.throws(() => perExample([0], 'recall@10'), /unknown metric 'recall@10'/);
    assert.throws(() => meanPerExample([[0, 1], [0]], 'hr@10'), /different examples/);
    assert.throws(() => pairedBootstrap([0], [0], 'hr@10', { confidence: 1 }), /confidence/);
    assert.throws(() => pairedBootstrap([], [], 'hr@10'), /zero examples/);
  });

  it('averages several rankings of the same examples per example', () => {
    const m = meanPerExample([[0, 9, 3], [1, 20, 3]], 'mrr@10');
    assert.deepEqual(Array.from(m), [(1 + 0.5) / 2, 0.1 / 2, 0.25]);
  });

  it('formats signed differences', () => {
    assert.equal(formatDifference({ metric: 'hr@10', difference: 0.01234, low: -0.004, high: 0.029, aAhead: 0.9 }), '+0.0123 [-0.0040, +0.0290]');
  });
});

describe('the 95% interval of a mean over seeds (Student t)', () => {
  it('t(0.975, df): the table, and beyond it within 1e-3 of the exact quantiles', () => {
    assert.equal(tQuantile975(1), 12.706);
    assert.equal(tQuantile975(4), 2.776);
    assert.equal(tQuantile975(30), 2.042);
    // exact: df 31 2.0395, 60 2.0003, 120 1.9799, 1000 1.9623
    for (const [df, t] of [[31, 2.0395], [60, 2.0003], [120, 1.9799], [1000, 1.9623]]) assert.ok(Math.abs(tQuantile975(df) - t) < 1e-3, `df ${df}: ${tQuantile975(df)}`);
    for (let df = 2; df < 200; df++) assert.ok(tQuantile975(df) < tQuantile975(df - 1), 'falls with df');
    assert.throws(() => tQuantile975(0), /positive integer/);
  });
  it('mean ± t sd / sqrt(n); one value has no interval', () => {
    const two = meanInterval95([0.1, 0.2]);
    assert.ok(Math.abs(two.mean - 0.15) < 1e-12);
    assert.ok(Math.abs(two.high! - two.mean - 12.706 * 0.05) < 1e-9, 'sd 0.0707, se 0.05');
    assert.ok(Math.abs(two.mean - two.low! - (two.high! - two.mean)) < 1e-12, 'symmetric');
    const five = meanInterval95([1, 2, 3, 4, 5]);
    assert.ok(Math.abs(five.sd! - Math.sqrt(2.5)) < 1e-12);
    assert.ok(Math.abs(five.high! - (3 + 2.776 * Math.sqrt(2.5) / Math.sqrt(5))) < 1e-9);
    assert.deepEqual(meanInterval95([0.3]), { n: 1, mean: 0.3 });
    assert.deepEqual(meanInterval95([0.2, 0.2]), { n: 2, mean: 0.2, sd: 0, low: 0.2, high: 0.2 });
    assert.throws(() => meanInterval95([]), /no values/);
    assert.throws(() => meanInterval95([0.1, NaN]), /non-finite/);
  });
});
