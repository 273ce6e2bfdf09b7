// Every op's gradient against finite differences, in float64 on the js backend.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { F, Rng, Tensor, backward, setBackend, setDefaultFloat, tensor, tidy, zeros, ones, noGrad, tapeLength } from '../src/engine/index.js';
import { gradcheck, param64, weightedSum } from './gradcheck.js';
import { assertClose } from './helpers.js';

before(() => { setBackend('js'); setDefaultFloat('float64'); });
after(() => { setDefaultFloat('float32'); });

const ws = weightedSum;

describe('elementwise gradients', () => {
  it('add, sub, mul, div with broadcasting', () => {
    const a = param64([2, 3, 4], 1), b = param64([3, 1], 2), c = param64([4], 3, 0.5, 2);
    gradcheck('add', (x, y) => ws(F.add(x, y)), [a, b]);
    gradcheck('sub', (x, y) => ws(F.sub(y, x)), [a, b]);
    gradcheck('mul', (x, y) => ws(F.mul(x, y)), [a, c]);
    gradcheck('div', (x, y) => ws(F.div(x, y)), [a, c]);
    gradcheck('same input twice', (x) => ws(F.mul(x, x)), [a]);
  });
  it('unary ops', () => {
    const x = param64([3, 5], 4), pos = param64([3, 5], 5, 0.2, 2);
    for (const op of ['neg', 'exp', 'tanh', 'sigmoid', 'square'] as const) gradcheck(op, (t) => ws(F.unary(op, t)), [x]);
    for (const op of ['log', 'sqrt', 'relu', 'abs'] as const) gradcheck(op, (t) => ws(F.unary(op, t)), [pos]);
    gradcheck('mulScalar', (t) => ws(F.mulScalar(t, -2.5)), [x]);
    gradcheck('addScalar', (t) => ws(F.addScalar(t, 3)), [x]);
  });
  it('sum and mean over axes', () => {
    const x = param64([2, 3, 4], 6);
    gradcheck('sum all', (t) => F.sum(t), [x]);
    gradcheck('sum axis 1', (t) => ws(F.sum(t, [1])), [x]);
    gradcheck('mean axes 0,2 keepDims', (t) => ws(F.mean(t, [0, 2], true)), [x]);
  });
});

describe('movement gradients', () => {
  it('reshape, permute, transpose, narrow, contiguous, concat', () => {
    const x = param64([2, 3, 4], 7), y = param64([2, 2, 4], 8);
    gradcheck('reshape', (t) => ws(F.reshape(t, [6, -1])), [x]);
    gradcheck('permute', (t) => ws(F.contiguous(F.permute(t, [2, 0, 1]))), [x]);
    gradcheck('transpose then matmul', (t) => ws(F.matmul(F.transpose(t), t)), [x]);
    gradcheck('narrow', (t) => ws(F.narrow(t, 1, 1, 2)), [x]);
    gradcheck('concat', (a, b) => ws(F.concat([a, b], 1)), [x, y]);
  });
});

describe('linear algebra gradients', () => {
  it('matmul with every transpose combination and batch broadcasting', () => {
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = param64(ta ? [2, 4, 3] : [2, 3, 4], 9), b = param64(tb ? [5, 4] : [4, 5], 10);
      gradcheck(`matmul ${ta} ${tb} (b broadcast)`, (x, y) => ws(F.matmul(x, y, ta, tb)), [a, b]);
      const a2 = param64(ta ? [4, 3] : [3, 4], 11), b2 = param64(tb ? [2, 5, 4] : [2, 4, 5], 12);
      gradcheck(`matmul ${ta} ${tb} (a broadcast)`, (x, y) => ws(F.matmul(x, y, ta, tb)), [a2, b2]);
    }
  });
  it('linear', () => {
    const x = param64([2, 3, 4], 13), w = param64([4, 5], 14), b = param64([5], 15);
    gradcheck('linear', (p, q, r) => ws(F.linear(p, q, r)), [x, w, b]);
  });
});

describe('fused op gradients', () => {
  it('embedding (repeated ids)', () => {
    const table = param64([6, 3], 16);
    const ids = tensor(new Int32Array([0, 2, 2, 5, 1, 0]), [2, 3], 'int32');
    gradcheck('embedding', (t) => ws(F.embedding(t, ids)), [table]);
  });
  it('causal dilated conv1d, dilation 1/2/4, kernel 2/3', () => {
    for (const [k, d] of [[3, 1], [3, 2], [2, 4], [3, 4]]) {
      const x = param64([2, 7, 3], 17), w = param64([k * 3, 4], 18), b = param64([4], 19);
      gradcheck(`conv k${k} d${d}`, (p, q, r) => ws(F.causalConv1d(p, q, r, k, d)), [x, w, b]);
    }
  });
  it('layer norm, with and without fused ReLU', () => {
    const x = param64([3, 2, 5], 20), g = param64([5], 21), b = param64([5], 22);
    gradcheck('layerNorm', (p, q, r) => ws(F.layerNorm(p, q, r, 1e-5)), [x, g, b]);
    gradcheck('layerNorm+relu', (p, q, r) => ws(F.layerNorm(p, q, r, 1e-5, true)), [x, g, b]);
  });
  it('batch norm, training and eval', () => {
    const x = param64([3, 4, 5], 23), g = param64([5], 24), b = param64([5], 25);
    const state = () => ({ runningMean: zeros([5]), runningVar: ones([5]) });
    gradcheck('batchNorm train', (p, q, r) => ws(F.batchNorm(p, q, r, state(), true)), [x, g, b]);
    gradcheck('batchNorm eval', (p, q, r) => ws(F.batchNorm(p, q, r, state(), false)), [x, g, b]);
  });
  it('softmax', () => {
    const x = param64([3, 6], 26, -3, 3);
    gradcheck('softmax', (t) => ws(F.softmax(t)), [x]);
  });
  it('attention: causal, bidirectional, key padding, fully masked rows', () => {
    const q = param64([2, 5, 6], 27), k = param64([2, 5, 6], 28), v = param64([2, 5, 6], 29);
    const mask = tensor(Float64Array.from([0, 0, 1, 1, 1, 1, 1, 1, 1, 0]), [2, 5]);
    gradcheck('attention causal', (a, b, c) => ws(F.attention(a, b, c, 2, true, null)), [q, k, v]);
    gradcheck('attention bidirectional masked', (a, b, c) => ws(F.attention(a, b, c, 3, false, mask)), [q, k, v]);
    gradcheck('attention causal masked (rows 0-1 of batch 0 see no key)', (a, b, c) => ws(F.attention(a, b, c, 1, true, mask)), [q, k, v]);
  });
  it('running mean over time: every position, and the kept ones only (left padding, a hole)', () => {
    const x = param64([2, 6, 3], 31);
    const keep = tensor(Float64Array.from([0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1]), [2, 6]);
    gradcheck('causalMean', (t) => ws(F.causalMean(t, null)), [x]);
    gradcheck('causalMean kept', (t) => ws(F.causalMean(t, keep)), [x]);
    // the forward against the definition: the mean over kept s <= t, zeros before the first
    const out = F.causalMean(x, keep).values, xv = x.values, kv = keep.values;
    for (let b = 0; b < 2; b++) for (let t = 0; t < 6; t++) for (let c = 0; c < 3; c++) {
      let sum = 0, n = 0;
      for (let s = 0; s <= t; s++) if (kv[b * 6 + s]) { sum += xv[(b * 6 + s) * 3 + c]; n++; }
      assert.ok(Math.abs(out[(b * 6 + t) * 3 + c] - (n ? sum / n : 0)) < 1e-12, `b${b} t${t} c${c}`);
    }
    assert.throws(() => F.causalMean(x, tensor(Float64Array.from([1, 1]), [1, 2])), /keep must have shape \[2, 6\]/);
  });
  it('dropout (fixed mask)', () => {
    const x = param64([4, 5], 30);
    gradcheck('dropout', (t) => ws(F.dropout(t, 0.3, new Rng(5), true)), [x]);
  });
});

describe('loss gradients', () => {
  it('cross-entropy with ignore-index', () => {
    const logits = param64([2, 3, 7], 31, -2, 2);
    const labels = tensor(new Int32Array([0, 3, 6, 1, 0, 2]), [2, 3], 'int32');
    gradcheck('crossEntropy', (t) => F.crossEntropy(t, labels, 0), [logits]);
    gradcheck('crossEntropy scaled', (t) => F.mulScalar(F.crossEntropy(t, labels, 0), 3), [logits]);
    // consume: the gradient goes over a temporary's buffer (here the product, fed only to the loss)
    gradcheck('crossEntropy consuming its logits', (t) => F.crossEntropy(F.mulScalar(t, 2), labels, 0, true), [logits]);
  });
  it('distillation KL with temperature and mask', () => {
    const s = param64([4, 6], 32, -2, 2), t = param64([4, 6], 33, -2, 2);
    t.requiresGrad = false;
    const mask = tensor(Float64Array.from([1, 0, 1, 1]), [4]);
    gradcheck('distillKL', (x) => F.distillKL(t, x, 2, mask), [s]);
    gradcheck('distillKL no mask', (x) => F.distillKL(t, x, 1, null), [s]);
  });
  it('mse', () => {
    const a = param64([3, 4], 34), b = param64([3, 4], 35);
    gradcheck('mse', (x, y) => F.mse(x, y), [a, b]);
  });
  it('mse with a padding mask: the mean over real rows only, no gradient on padded rows', () => {
    const a = param64([2, 3, 4], 36), b = param64([2, 3, 4], 37);
    const mask = tensor(Float64Array.from([0, 1, 1, 0, 0, 1]), [2, 3]);
    gradcheck('mse masked', (x, y) => F.mse(x, y, mask), [a, b]);
    const real = [1, 2, 5];
    const pick = (t: Tensor): Tensor => tensor(Float64Array.from(real.flatMap((r) => Array.from(t.values.subarray(r * 4, r * 4 + 4)))), [3, 4]);
    assertClose([F.mse(a, b, mask).item()], [F.mse(pick(a), pick(b)).item()], 1e-12);
    a.grad?.dispose(); a.grad = null;
    tidy(() => { backward(F.mse(a, b, mask)); });
    for (const r of [0, 3, 4]) assert.deepEqual(Array.from(a.grad!.values.subarray(r * 4, r * 4 + 4)), [0, 0, 0, 0]);
    assert.equal(F.mse(a, b, tensor(new Float64Array(6), [2, 3])).item(), 0);
    assert.throws(() => F.mse(a, b, tensor(new Float64Array(3), [3])), /mse/);
  });
});

describe('autograd engine', () => {
  it('accumulates gradients of a tensor used by several ops and frees the tape', () => {
    const x = param64([3], 36);
    tidy(() => { backward(F.sum(F.add(F.mul(x, x), x))); });
    const xv = Array.from(x.values);
    assert.deepEqual(Array.from(x.grad!.values).map((g) => +g.toFixed(12)), xv.map((v) => +(2 * v + 1).toFixed(12)));
    assert.equal(tapeLength(), 0);
  });
  it('records nothing under noGrad and refuses backward from a constant', () => {
    const x = param64([3], 37);
    const y = noGrad(() => F.sum(F.mul(x, x)));
    assert.equal(y.requiresGrad, false);
    assert.equal(tapeLength(), 0);
    assert.throws(() => backward(y), /does not depend/);
  });
  it('tidy disposes intermediates and returns buffers to the pool', () => {
    const x = param64([8], 38);
    let kept: Tensor | undefined;
    const inner: Tensor[] = [];
    tidy(() => {
      const a = F.exp(x);
      inner.push(a);
      kept = F.sum(a);
      return kept;
    });
    assert.ok(inner[0].isDisposed);
    assert.ok(!kept!.isDisposed);
    assert.ok(!x.isDisposed);
  });
  it('gives clear errors for bad shapes, dtypes and ids', () => {
    const a = param64([2, 3], 39), b = param64([4, 5], 40);
    assert.throws(() => F.matmul(a, b), /do not multiply/);
    assert.throws(() => F.add(a, b), /do not broadcast/);
    assert.throws(() => F.embedding(b, tensor(new Int32Array([9]), [1], 'int32')), /id 9 at position 0 is outside \[0, 4\)/);
    assert.throws(() => F.crossEntropy(a, tensor(new Int32Array([1]), [1], 'int32')), /1 labels for 2 rows/);
    assert.throws(() => F.reshape(a, [4, 2]), /cannot view/);
  });
});

it('an op that passes its gradient to the same input twice (x + x, x a non-leaf used again later) accumulates both', () => {
  const a = tensor(Float64Array.from([1, 2, 3]), [3]);
  a.requiresGrad = true;
  tidy(() => {
    const x = F.mulScalar(a, 3);
    // sum(x) runs backward first, so x already has a gradient when add(x, x) hands it gy twice
    backward(F.add(F.sum(F.mul(F.add(x, x), tensor(Float64Array.from([1, 1, 2]), [3]))), F.sum(x)));
  });
  assert.deepEqual(Array.from(a.grad!.values), [9, 9, 15]);
});
