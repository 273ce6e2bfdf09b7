// Every op and optimizer against PyTorch reference values (test/fixtures/torch/*.json, made by
// test/fixtures/generate_torch_fixtures.py with torch; the fixtures are committed, so this test needs
// no torch). Inputs are float32 values; references were computed in float64. Runs on the js backend
// and, when it loads, the native one; float32 tensors throughout, relative error <= 1e-4.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  F, Tensor, backendName, backward, keep, nativeAvailable, optim, setBackend, tensor, tidy, type BackendName,
} from '../src/engine/index.js';
import { assertClose } from './helpers.js';

// The compiled test runs from dist/test/; the fixtures stay in test/fixtures/torch/.
const FIXTURES = new URL('../../test/fixtures/torch/', import.meta.url);

interface Arr { shape: number[]; data: number[] }
type Named = Record<string, Arr>;
interface OpCase {
  name: string;
  params: Record<string, number | boolean>;
  inputs: Named;
  upstream?: Arr;
  outputs: Named;
  grads?: Named;
}
interface Fixture<C = OpCase> { op: string; description: string; cases: C[] }
interface OptimCase {
  name: string;
  optimizer: 'adam' | 'adamw' | 'lamb';
  hyper: { lr: number; betas: [number, number]; eps: number; weightDecay: number; debias?: boolean; clampNorm?: number };
  params: Named;
  grads: Named[];
  expected: Named[];
}

function load<C = OpCase>(name: string): Fixture<C> {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`${name}.json`, FIXTURES)), 'utf8')) as Fixture<C>;
}

const TOL = 1e-4;

/** Relative error <= 1e-4 per element, with a floor of 1e-3 * max(1, max |expected|) for near-zero entries. */
function check(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(expected[i]));
  assertClose(actual, expected, TOL, what, 1e-3 * Math.max(1, m));
}

/** Row-major data of `shape` with its axes reordered (out axis i = in axis order[i]). */
function permuted(a: Arr, order: number[]): Arr {
  const { shape, data } = a;
  const outShape = order.map((o) => shape[o]);
  const inStrides = shape.map((_, d) => shape.slice(d + 1).reduce((p, s) => p * s, 1));
  const out = new Array<number>(data.length);
  const idx = new Array<number>(outShape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * inStrides[order[d]];
    out[i] = data[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { shape: outShape, data: out };
}

/** A float32 tensor (optionally a grad-requiring leaf) from fixture data. */
function f32(a: Arr, requiresGrad = false, shape: number[] = a.shape): Tensor {
  const t = tensor(Float32Array.from(a.data), shape, 'float32');
  t.requiresGrad = requiresGrad;
  return t;
}

function i32(a: Arr): Tensor {
  return tensor(Int32Array.from(a.data), a.shape, 'int32');
}

/**
 * Runs fn (which builds the op's output from leaves), backprops sum(out * upstream) (or the scalar
 * output itself when there is no upstream) and returns the output values; leaf grads land in .grad.
 */
function forwardBackward(fn: () => Tensor, upstream?: Tensor, shape?: number[]): number[] {
  let values: number[] = [];
  tidy(() => {
    const out = fn();
    if (shape) assert.deepEqual([...out.shape], shape, 'output shape');
    values = Array.from(out.values);
    backward(upstream ? F.sum(F.mul(out, upstream)) : out);
  });
  return values;
}

function gradOf(t: Tensor, what: string): ArrayLike<number> {
  assert.ok(t.grad, `${what}: no gradient`);
  return t.grad.values;
}

function disposeAll(...ts: (Tensor | null | undefined)[]): void {
  for (const t of ts) t?.dispose();
}

const backends: BackendName[] = nativeAvailable() ? ['js', 'native'] : ['js'];
let initialBackend: BackendName;
before(() => { initialBackend = backendName(); });
after(() => { setBackend(initialBackend); });

/** One `it` per fixture case and backend. */
function eachCase<C extends { name: string }>(fixture: Fixture<C>, run: (c: C, label: string) => void): void {
  describe(`torch fixtures: ${fixture.op}`, () => {
    for (const backend of backends)
      for (const c of fixture.cases)
        it(`${c.name} [${backend}]`, () => {
          setBackend(backend);
          run(c, `${fixture.op} ${c.name} [${backend}]`);
        });
  });
}

// ---- layers ----

eachCase(load('causal_conv1d'), (c, label) => {
  const k = c.params.kernelSize as number, d = c.params.dilation as number;
  const [O, C] = c.inputs.weight.shape;
  // torch x [B, C, T] -> [B, T, C]; weight [O, C, k] -> [k, C, O] = [k*C, O] (row j*C + c)
  const x = f32(permuted(c.inputs.x, [0, 2, 1]), true);
  const w = f32(permuted(c.inputs.weight, [2, 1, 0]), true, [k * C, O]);
  const b = f32(c.inputs.bias, true);
  const up = f32(permuted(c.upstream!, [0, 2, 1]));
  const y = forwardBackward(() => F.causalConv1d(x, w, b, k, d), up, permuted(c.outputs.y, [0, 2, 1]).shape);
  check(y, permuted(c.outputs.y, [0, 2, 1]).data, `${label}: y`);
  check(gradOf(x, 'x'), permuted(c.grads!.x, [0, 2, 1]).data, `${label}: dx`);
  check(gradOf(w, 'weight'), permuted(c.grads!.weight, [2, 1, 0]).data, `${label}: dweight`);
  check(gradOf(b, 'bias'), c.grads!.bias.data, `${label}: dbias`);
  disposeAll(x, w, b, up);
});

eachCase(load('layer_norm'), (c, label) => {
  const x = f32(c.inputs.x, true), g = f32(c.inputs.gamma, true), b = f32(c.inputs.beta, true);
  const up = f32(c.upstream!);
  const y = forwardBackward(() => F.layerNorm(x, g, b, c.params.eps as number, c.params.relu as boolean), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(x, 'x'), c.grads!.x.data, `${label}: dx`);
  check(gradOf(g, 'gamma'), c.grads!.gamma.data, `${label}: dgamma`);
  check(gradOf(b, 'beta'), c.grads!.beta.data, `${label}: dbeta`);
  disposeAll(x, g, b, up);
});

eachCase(load('batch_norm'), (c, label) => {
  const x = f32(permuted(c.inputs.x, [0, 2, 1]), true);
  const g = f32(c.inputs.gamma, true), b = f32(c.inputs.beta, true);
  const state = { runningMean: f32(c.inputs.runningMean), runningVar: f32(c.inputs.runningVar) };
  const up = f32(permuted(c.upstream!, [0, 2, 1]));
  const training = c.params.training as boolean;
  const yExp = permuted(c.outputs.y, [0, 2, 1]);
  const y = forwardBackward(() => F.batchNorm(x, g, b, state, training, c.params.momentum as number, c.params.eps as number), up, yExp.shape);
  check(y, yExp.data, `${label}: y`);
  check(state.runningMean.values, c.outputs.runningMean.data, `${label}: running mean`);
  check(state.runningVar.values, c.outputs.runningVar.data, `${label}: running var`);
  check(gradOf(x, 'x'), permuted(c.grads!.x, [0, 2, 1]).data, `${label}: dx`);
  check(gradOf(g, 'gamma'), c.grads!.gamma.data, `${label}: dgamma`);
  check(gradOf(b, 'beta'), c.grads!.beta.data, `${label}: dbeta`);
  disposeAll(x, g, b, up, state.runningMean, state.runningVar);
});

eachCase(load('attention'), (c, label) => {
  const q = f32(c.inputs.q, true), k = f32(c.inputs.k, true), v = f32(c.inputs.v, true);
  const mask = c.inputs.keyMask ? f32(c.inputs.keyMask) : null;
  const up = f32(c.upstream!);
  const y = forwardBackward(() => F.attention(q, k, v, c.params.heads as number, c.params.causal as boolean, mask), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(q, 'q'), c.grads!.q.data, `${label}: dq`);
  check(gradOf(k, 'k'), c.grads!.k.data, `${label}: dk`);
  check(gradOf(v, 'v'), c.grads!.v.data, `${label}: dv`);
  disposeAll(q, k, v, mask, up);
});

eachCase(load('softmax'), (c, label) => {
  const x = f32(c.inputs.x, true), up = f32(c.upstream!);
  const y = forwardBackward(() => F.softmax(x), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(x, 'x'), c.grads!.x.data, `${label}: dx`);
  disposeAll(x, up);
});

eachCase(load('linear'), (c, label) => {
  const x = f32(c.inputs.x, true);
  const w = f32(permuted(c.inputs.weight, [1, 0]), true); // torch [out, in] -> [in, out]
  const b = c.inputs.bias ? f32(c.inputs.bias, true) : null;
  const up = f32(c.upstream!);
  const y = forwardBackward(() => F.linear(x, w, b), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(x, 'x'), c.grads!.x.data, `${label}: dx`);
  check(gradOf(w, 'weight'), permuted(c.grads!.weight, [1, 0]).data, `${label}: dweight`);
  if (b) check(gradOf(b, 'bias'), c.grads!.bias.data, `${label}: dbias`);
  disposeAll(x, w, b, up);
});

eachCase(load('matmul'), (c, label) => {
  const a = f32(c.inputs.a, true), b = f32(c.inputs.b, true), up = f32(c.upstream!);
  const y = forwardBackward(() => F.matmul(a, b, c.params.transA as boolean, c.params.transB as boolean), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(a, 'a'), c.grads!.a.data, `${label}: da`);
  check(gradOf(b, 'b'), c.grads!.b.data, `${label}: db`);
  disposeAll(a, b, up);
});

eachCase(load('embedding'), (c, label) => {
  const table = f32(c.inputs.table, true), ids = i32(c.inputs.ids), up = f32(c.upstream!);
  const y = forwardBackward(() => F.embedding(table, ids), up, c.outputs.y.shape);
  check(y, c.outputs.y.data, `${label}: y`);
  check(gradOf(table, 'table'), c.grads!.table.data, `${label}: dtable`);
  disposeAll(table, ids, up);
});

// ---- losses ----

eachCase(load('cross_entropy'), (c, label) => {
  const logits = f32(c.inputs.logits, true), labels = i32(c.inputs.labels);
  const loss = forwardBackward(() => F.crossEntropy(logits, labels, c.params.ignoreIndex as number));
  check(loss, c.outputs.loss.data, `${label}: loss`);
  check(gradOf(logits, 'logits'), c.grads!.logits.data, `${label}: dlogits`);
  disposeAll(logits, labels);
});

eachCase(load('distill_kl'), (c, label) => {
  const teacher = f32(c.inputs.teacher), student = f32(c.inputs.student, true);
  const mask = c.inputs.mask ? f32(c.inputs.mask) : null;
  const loss = forwardBackward(() => F.distillKL(teacher, student, c.params.temperature as number, mask));
  check(loss, c.outputs.loss.data, `${label}: loss`);
  check(gradOf(student, 'student'), c.grads!.student.data, `${label}: dstudent`);
  disposeAll(teacher, student, mask);
});

eachCase(load('mse'), (c, label) => {
  const a = f32(c.inputs.a, true), b = f32(c.inputs.b, true);
  const loss = forwardBackward(() => F.mse(a, b));
  check(loss, c.outputs.loss.data, `${label}: loss`);
  check(gradOf(a, 'a'), c.grads!.a.data, `${label}: da`);
  check(gradOf(b, 'b'), c.grads!.b.data, `${label}: db`);
  disposeAll(a, b);
});

// ---- optimizers ----

eachCase(load<OptimCase>('optimizers'), (c, label) => {
  const names = Object.keys(c.params);
  const params = names.map((n) => f32(c.params[n], true));
  const h = c.hyper;
  const opt = c.optimizer === 'lamb'
    ? new optim.Lamb(params, { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weightDecay, debias: h.debias, clampNorm: h.clampNorm })
    : new (c.optimizer === 'adamw' ? optim.AdamW : optim.Adam)(params, { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weightDecay });
  c.grads.forEach((grads, s) => {
    opt.zeroGrad();
    // Optimizer.step reads p.grad.values; grads made outside any tidy are owned here (keep for safety).
    params.forEach((p, i) => { p.grad = keep(f32(grads[names[i]])); });
    opt.step();
    params.forEach((p, i) => check(p.values, c.expected[s][names[i]].data, `${label}: ${names[i]} after step ${s + 1}`));
  });
  opt.zeroGrad();
  disposeAll(...params);
});

eachCase(load('clip_grad_norm'), (c, label) => {
  const params = [c.inputs.grad0, c.inputs.grad1].map((g) => {
    const p = f32({ shape: g.shape, data: new Array<number>(g.data.length).fill(0) }, true);
    p.grad = keep(f32(g));
    return p;
  });
  const norm = optim.clipGradNorm(params, c.params.maxNorm as number);
  check([norm], c.outputs.totalNorm.data, `${label}: total norm`);
  check(params[0].grad!.values, c.outputs.grad0.data, `${label}: grad 0`);
  check(params[1].grad!.values, c.outputs.grad1.data, `${label}: grad 1`);
  disposeAll(...params);
});
