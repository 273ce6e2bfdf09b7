// Elementwise ops with broadcasting, and the reductions their gradients need.
import { record } from '../autograd.js';
import { kernels } from '../backend/index.js';
import type { BinaryOp, FloatArray, UnaryOp } from '../backend/kernels.js';
import { Tensor, denseStrides, empty, full, type Shape } from '../tensor.js';
import { assertSameFloat, broadcastShapes, broadcastStrides, dense, fvals } from './util.js';

function stridedFloat(t: Tensor): FloatArray {
  return t.buffer.subarray(t.offset) as FloatArray;
}

/** Sums g (dense, broadcast shape) down to `shape` (one of its broadcast inputs' shapes). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const out = empty(shape, g.dtype);
  const lead = g.rank - shape.length, ds = denseStrides(shape);
  const so = g.shape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : ds[i - lead]));
  kernels().reduce('sum', g.shape, fvals(g), so, out.values as FloatArray);
  return out;
}

function rawBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  assertSameFloat(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape, a.dtype);
  kernels().binary(op, shape, stridedFloat(a), broadcastStrides(a, shape), stridedFloat(b), broadcastStrides(b, shape),
    out.values as FloatArray);
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  return record('add', rawBinary('add', a, b), [a, b], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape) : null]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record('sub', rawBinary('sub', a, b), [a, b], (g) => [
    a.requiresGrad ? sumTo(g, a.shape) : null,
    b.requiresGrad ? sumTo(rawNeg(g), b.shape) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record('mul', rawBinary('mul', a, b), [a, b], (g) => [
    a.requiresGrad ? sumTo(rawBinary('mul', g, b), a.shape) : null,
    b.requiresGrad ? sumTo(rawBinary('mul', g, a), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = rawBinary('div', a, b);
  return record('div', out, [a, b], (g) => [
    a.requiresGrad ? sumTo(rawBinary('div', g, b), a.shape) : null,
    // d(a/b)/db = -(a/b)/b
    b.requiresGrad ? sumTo(rawNeg(rawBinary('div', rawBinary('mul', g, out), b)), b.shape) : null,
  ]);
}

function rawNeg(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype);
  kernels().unary('neg', fvals(x), out.values as FloatArray);
  return out;
}

export function unary(op: UnaryOp, x: Tensor): Tensor {
  assertSameFloat(op, x);
  const xv = fvals(x);
  const out = empty(x.shape, x.dtype);
  kernels().unary(op, xv, out.values as FloatArray);
  return record(op, out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    kernels().unaryGrad(op, xv, out.values as FloatArray, fvals(g), dx.values as FloatArray);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const square = (x: Tensor): Tensor => unary('square', x);

/** x * s for a plain number s. */
export function mulScalar(x: Tensor, s: number): Tensor {
  const c = full([], s, x.dtype);
  const out = rawBinary('mul', x, c);
  c.dispose();
  return record('mulScalar', out, [x], (g) => [mulScalarRaw(g, s)]);
}

function mulScalarRaw(g: Tensor, s: number): Tensor {
  const out = empty(g.shape, g.dtype);
  out.buffer.set(fvals(g));
  kernels().scale(out.values as FloatArray, s);
  return out;
}

/** x + s for a plain number s. */
export function addScalar(x: Tensor, s: number): Tensor {
  const c = full([], s, x.dtype);
  const out = rawBinary('add', x, c);
  c.dispose();
  return record('addScalar', out, [x], (g) => [mulScalarRaw(g, 1)]);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: number[], keepDims = false): Tensor {
  assertSameFloat('sum', x);
  const ax = normaliseAxes(x.rank, axes);
  const kept = x.shape.map((s, i) => (ax.includes(i) ? 1 : s));
  const out = empty(keepDims ? kept : kept.filter((_, i) => !ax.includes(i)), x.dtype);
  const ds = denseStrides(kept);
  kernels().reduce('sum', x.shape, fvals(x), ds.map((s, i) => (ax.includes(i) ? 0 : s)), out.values as FloatArray);
  return record('sum', out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    const gd = dense(g), gk = gd.view(kept, denseStrides(kept), gd.offset);
    kernels().stridedCopy(x.shape, fvals(gk), broadcastStrides(gk, x.shape), dx.values as FloatArray, dx.strides);
    gk.dispose();
    return [dx];
  });
}

export function mean(x: Tensor, axes?: number[], keepDims = false): Tensor {
  const ax = normaliseAxes(x.rank, axes);
  const n = ax.reduce((p, a) => p * x.shape[a], 1);
  return mulScalar(sum(x, ax, keepDims), 1 / n);
}

/** Max over `axes` (not differentiable: used for metrics and numerics). */
export function max(x: Tensor, axes?: number[], keepDims = false): Tensor {
  assertSameFloat('max', x);
  const ax = normaliseAxes(x.rank, axes);
  const kept = x.shape.map((s, i) => (ax.includes(i) ? 1 : s));
  const out = empty(keepDims ? kept : kept.filter((_, i) => !ax.includes(i)), x.dtype);
  kernels().reduce('max', x.shape, fvals(x), denseStrides(kept).map((s, i) => (ax.includes(i) ? 0 : s)), out.values as FloatArray);
  return out;
}

function normaliseAxes(rank: number, axes?: number[]): number[] {
  if (!axes) return Array.from({ length: rank }, (_, i) => i);
  return axes.map((a) => {
    const r = a < 0 ? a + rank : a;
    if (r < 0 || r >= rank) throw new Error(`axis ${a} out of range for rank ${rank}`);
    return r;
  });
}
