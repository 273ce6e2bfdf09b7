// Operator registry and efficiency costs (METHOD.md "Student search space": op cost vector).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PAPER_OPS, DEFAULT_OPS, CAUSAL_COUNTERPART, convOp, poolOp, getOperator, operatorsByName,
  modeOperators, registerOperator, SKIP,
} from '../src/models/adarec/operators.js';
import { opCosts } from '../src/search/efficiency.js';

const byName = (ops: readonly { name: string }[], costs: Float64Array): Record<string, number> =>
  Object.fromEntries(ops.map((o, i) => [o.name, costs[i]]));

test('paper mode: the reference cost values at L = 100, C = 128', () => {
  assert.equal(PAPER_OPS.length, 10);
  const c = byName(PAPER_OPS, opCosts(PAPER_OPS));
  for (const n of ['std_conv_3', 'dil_conv_3', 'causal_dil_conv_3']) assert.equal(c[n].toFixed(4), '0.5653', n);
  for (const n of ['std_conv_5', 'dil_conv_5', 'causal_dil_conv_5']) assert.equal(c[n].toFixed(4), '2.1270', n);
  for (const n of ['max_pool_3', 'avg_pool_3', 'skip', 'none']) assert.equal(c[n].toFixed(5), '0.48075', n);
  // Pools count L*C MACs, skip/none count 1: pools cost a hair more.
  assert.ok(c.max_pool_3 > c.skip);
});

test('counting formulas', () => {
  const k3 = getOperator('std_conv_3'), k5 = getOperator('causal_conv_5_d2'), pool = getOperator('causal_avg_pool_3');
  assert.equal(k3.macs(100, 128), 100 * 128 * 128 * 3 + 100 * 128 + 2 * 100 * 128);
  assert.equal(k3.params(128), 128 * 128 * 3 + 3 * 128);
  assert.equal(k5.macs(10, 4), 10 * 4 * 4 * 5 + 10 * 4 + 2 * 10 * 4);
  assert.equal(k5.params(4), 4 * 4 * 5 + 12);
  assert.equal(pool.macs(100, 128), 12800);
  assert.equal(pool.params(128), 0);
  assert.equal(SKIP.macs(100, 128), 0);
});

test('default mode: causal operators only, costs by the same formula', () => {
  assert.ok(DEFAULT_OPS.every((o) => o.causal));
  assert.deepEqual(DEFAULT_OPS.map((o) => o.name).sort(), [...new Set(Object.values(CAUSAL_COUNTERPART))].sort());
  assert.deepEqual(PAPER_OPS.filter((o) => !o.causal).map((o) => o.name),
    ['std_conv_3', 'dil_conv_3', 'std_conv_5', 'dil_conv_5', 'max_pool_3', 'avg_pool_3']);
  assert.equal(modeOperators('default'), DEFAULT_OPS);
  // Independent computation: 2 convs k3, 2 convs k5, 2 pools, skip, none.
  const L = 100, C = 128;
  const macs = [3, 3, 5, 5].map((k) => L * C * C * k + 3 * L * C).concat([L * C, L * C, 1, 1]).map((x) => x / 1e6);
  const params = [3, 3, 5, 5].map((k) => C * C * k + 3 * C).concat([1, 1, 1, 1]).map((x) => x / 1e6);
  const sm = (x: number[]) => { const e = x.map(Math.exp); const z = e.reduce((a, b) => a + b); return e.map((v) => v / z); };
  const m = sm(macs), p = sm(params);
  const want = m.map((v, i) => 5 * (v + p[i]));
  const got = opCosts(DEFAULT_OPS);
  want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) < 1e-12, `${DEFAULT_OPS[i].name}: ${got[i]} vs ${w}`));
  assert.equal(got[0].toFixed(4), '0.7259');
  assert.equal(got[2].toFixed(4), '3.0640');
});

test('costs are computed: a new operator changes every cost; L and C matter', () => {
  const base = opCosts(PAPER_OPS);
  const k7 = convOp({ name: 'test_conv_7', kernelSize: 7, dilation: 1, causal: true });
  const more = opCosts([...PAPER_OPS, k7]);
  assert.equal(more.length, 11);
  for (let i = 0; i < 10; i++) assert.ok(more[i] < base[i], `${PAPER_OPS[i].name} cost falls when a dearer op joins the softmax`);
  assert.ok(more[10] > more[3]);
  // Softmax normalisation: the MAC and param parts each sum to 1, so costs sum to 10.
  assert.ok(Math.abs(more.reduce((a, b) => a + b, 0) - 10) < 1e-12);
  assert.ok(Math.abs(base.reduce((a, b) => a + b, 0) - 10) < 1e-12);
  const small = opCosts(PAPER_OPS, 50, 64);
  assert.notEqual(small[0], base[0]);
  // The registry: a new op can be registered and looked up; duplicates are refused.
  registerOperator(k7);
  assert.equal(getOperator('test_conv_7'), k7);
  assert.throws(() => registerOperator(poolOp({ name: 'test_conv_7', pool: 'max', kernelSize: 3, causal: true })), /already registered/);
  assert.throws(() => operatorsByName(['skip', 'skip']), /twice/);
  assert.throws(() => getOperator('nope'), /unknown operator/);
  assert.deepEqual(operatorsByName(['skip', 'none']).map((o) => o.kind), ['skip', 'none']);
});
