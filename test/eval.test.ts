// Metrics against hand-computed cases, tie handling, both protocols, and the baselines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cutoffsFor, fullRank, metricsAt, parseMetric, sampledRank, summarize } from '../src/eval/metrics.js';
import { evaluate, perExampleCsv } from '../src/eval/evaluate.js';
import { itemTransitions, mostPopular } from '../src/eval/baselines.js';
import { modelScorer, padBatch, type Scorer } from '../src/eval/scorer.js';
import type { EvalExamples } from '../src/data/types.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { Rng } from '../src/engine/index.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

describe('ranking metrics', () => {
  it('match hand-computed values', () => {
    close(metricsAt(0, 1).ndcg, 1);
    close(metricsAt(2, 5).ndcg, 0.5); // 1/log2(4)
    close(metricsAt(2, 5).mrr, 1 / 3);
    assert.deepEqual(metricsAt(5, 5), { hr: 0, ndcg: 0, mrr: 0 });
    const s = summarize([0, 1, 4, 30], [1, 5]);
    close(s['hr@1'], 0.25);
    close(s['hr@5'], 0.75);
    close(s['mrr@5'], (1 + 0.5 + 0.2) / 4);
    close(s['ndcg@5'], (1 + 1 / Math.log2(3) + 1 / Math.log2(6)) / 4);
  });
  it('parse metric names and add their cut-off to the defaults', () => {
    assert.deepEqual(parseMetric('ndcg@10'), { measure: 'ndcg', k: 10 });
    assert.deepEqual(parseMetric('mrr@5'), { measure: 'mrr', k: 5 });
    for (const bad of ['recall@10', 'ndcg@0', 'hr@', 'NDCG@10', 'hr@10 ']) assert.throws(() => parseMetric(bad), /unknown metric/, bad);
    assert.deepEqual(cutoffsFor('hr@10'), [1, 5, 10, 20]);
    assert.deepEqual(cutoffsFor('ndcg@15'), [1, 5, 10, 15, 20]);
  });
  it('rank ties pessimistically and ignore padding and excluded items', () => {
    // scores by item id: [pad, 1, 2, 3, 4]
    const scores = [100, 0.5, 0.9, 0.5, 0.1];
    assert.equal(fullRank(scores, 2), 0);
    assert.equal(fullRank(scores, 1), 2); // item 2 beats it, item 3 ties and ranks ahead
    assert.equal(fullRank(scores, 3), 2);
    assert.equal(fullRank(scores, 1, new Set([2, 3])), 0);
    assert.equal(fullRank([0, 1, 1, 1], 2), 2, 'constant scores get the worst rank');
    assert.equal(sampledRank(scores, 1, [3, 4]), 1);
    assert.equal(sampledRank([0, NaN, 1], 1, [2]), 1, 'a NaN target ranks last');
  });
});

const examples: EvalExamples = {
  sequence: Int32Array.from([0, 1, 2]),
  inputs: Int32Array.from([1, 2, 3, 2, 3, 3]),
  offsets: Int32Array.from([0, 3, 5, 6]),
  targets: Int32Array.from([4, 1, 4]),
};

describe('evaluate', () => {
  // a scorer that prefers higher item ids: ranks of 4 among 1..4 = 0, of 1 = 3
  const byId: Scorer = { name: 'byId', vocabSize: 5, score: (inputs) => Float32Array.from(inputs.flatMap(() => [0, 1, 2, 3, 4])) };
  it('ranks over all items or over the fixed negatives', () => {
    const full = evaluate(byId, examples, { protocol: 'full', ks: [1] });
    assert.deepEqual([...full.ranks], [0, 3, 0]);
    close(full.metrics['hr@1'], 2 / 3);
    const negatives = { count: 2, items: Int32Array.from([1, 2, 2, 4, 1, 2]) };
    const sampled = evaluate(byId, examples, { protocol: 'sampled', negatives, ks: [1] });
    assert.deepEqual([...sampled.ranks], [0, 2, 0]);
    assert.throws(() => evaluate(byId, examples, { protocol: 'sampled' }), /negatives/);
  });
  it('can exclude items already in the input, but never the target', () => {
    const ev = evaluate(byId, examples, { protocol: 'full', excludeSeen: true, batchSize: 2 });
    assert.deepEqual([...ev.ranks], [0, 1, 0]); // example 1: input [2,3] excluded, only 4 beats 1
  });
  it('exports per-example results as CSV with original ids', () => {
    const ev = evaluate(byId, examples, { protocol: 'full', ks: [5] });
    const csv = perExampleCsv(examples, ev, ['alice', 'bob,jr', 'carol'], ['m1', 'm2', 'm3', 'm4'], [5]).trim().split('\n');
    assert.equal(csv[0], 'sequence,target,rank,hr@5,ndcg@5,mrr@5');
    assert.equal(csv[2], '"bob,jr",m1,4,1,0.430677,0.250000');
  });
});

describe('baselines and model scorer', () => {
  const train = { items: Int32Array.from([1, 2, 3, 1, 2, 4, 2, 3]), offsets: Int32Array.from([0, 3, 6, 8]) };
  it('most-popular scores training frequency', () => {
    assert.deepEqual([...mostPopular(train, 5).score([Int32Array.from([4])])], [0, 2, 3, 2, 1]);
  });
  it('item transitions follow the last item, popularity breaking ties', () => {
    const s = itemTransitions(train, 5).score([Int32Array.from([4, 2])]);
    // 2 -> 3 twice, 2 -> 4 once
    assert.ok(s[3] > s[4] && s[4] > s[1] && s[1] > 0);
    assert.equal(s[0], 0);
  });
  it('scores a model at the last position with padded inputs', () => {
    assert.deepEqual([...padBatch([Int32Array.from([5, 6, 7]), Int32Array.from([1])], 2)], [6, 7, 0, 1]);
    const model = new NextItNet({ vocabSize: 5, hidden: 8, dilations: [1], kernelSize: 2, residual: 'plain' }, new Rng(1));
    const scorer = modelScorer(model, 4);
    const a = scorer.score([Int32Array.from([1, 2])]), b = scorer.score([Int32Array.from([1, 2]), Int32Array.from([3])]);
    assert.equal(a.length, 5);
    assert.deepEqual([...a], [...b.subarray(0, 5)]);
    assert.ok(model.training, 'scoring restores training mode');
  });
});
