// Movement ops: views where the layout allows (reshape of dense tensors, permute, narrow),
// copies otherwise. Gradients of views are dense tensors of the input's shape.
import { record } from '../autograd.js';
import { kernels } from '../backend/index.js';
import type { FloatArray } from '../backend/kernels.js';
import { Tensor, clone, denseStrides, empty, shapeString, sizeOf, zeros, type Shape } from '../tensor.js';
import { dense } from './util.js';

/** Same elements, new shape (-1 infers one axis). A view when x is dense. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const known = shape.reduce((p, s) => (s === -1 ? p : p * s), 1);
  const sh = shape.map((s) => (s === -1 ? x.size / known : s));
  if (sizeOf(sh) !== x.size || !sh.every(Number.isInteger))
    throw new Error(`reshape: cannot view ${shapeString(x.shape)} as ${shapeString(shape)}`);
  const d = dense(x);
  const out = d.view(sh, denseStrides(sh), d.offset);
  return record('reshape', out, [x], (g) => [reshapeRaw(g, x.shape)]);
}

function reshapeRaw(g: Tensor, shape: Shape): Tensor {
  const d = dense(g);
  return d.view(shape, denseStrides(shape), d.offset);
}

/** Reorders axes (a view). */
export function permute(x: Tensor, order: number[]): Tensor {
  if (order.length !== x.rank || [...order].sort().some((a, i) => a !== i))
    throw new Error(`permute: ${JSON.stringify(order)} is not a permutation of ${x.rank} axes`);
  const out = x.view(order.map((a) => x.shape[a]), order.map((a) => x.strides[a]), x.offset);
  const inverse = order.map((_, i) => order.indexOf(i));
  return record('permute', out, [x], (g) => [clone(permuteRaw(g, inverse))]);
}

function permuteRaw(g: Tensor, order: number[]): Tensor {
  return g.view(order.map((a) => g.shape[a]), order.map((a) => g.strides[a]), g.offset);
}

/** Swaps the last two axes (a view). */
export function transpose(x: Tensor): Tensor {
  const order = x.shape.map((_, i) => i);
  [order[x.rank - 2], order[x.rank - 1]] = [order[x.rank - 1], order[x.rank - 2]];
  return permute(x, order);
}

/** x[..., start:start+length, ...] along `axis` (a view). */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = axis < 0 ? axis + x.rank : axis;
  if (ax < 0 || ax >= x.rank || start < 0 || length < 0 || start + length > x.shape[ax])
    throw new Error(`narrow: [${start}, ${start + length}) out of range for axis ${axis} of ${shapeString(x.shape)}`);
  const shape = x.shape.map((s, i) => (i === ax ? length : s));
  const out = x.view(shape, x.strides, x.offset + start * x.strides[ax]);
  return record('narrow', out, [x], (g) => {
    const dx = zeros(x.shape, x.dtype);
    const target = dx.view(shape, dx.strides, start * dx.strides[ax]);
    const gd = dense(g);
    kernels().stridedCopy(shape, gd.values, gd.strides, target.buffer.subarray(target.offset) as FloatArray, target.strides);
    target.dispose();
    return [dx];
  });
}

/** A dense copy that stays on the tape. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous) return x;
  return record('contiguous', clone(x), [x], (g) => [g]);
}

/** Joins tensors along `axis`. */
export function concat(xs: Tensor[], axis: number): Tensor {
  const first = xs[0];
  const ax = axis < 0 ? axis + first.rank : axis;
  for (const t of xs)
    if (t.rank !== first.rank || t.shape.some((s, i) => i !== ax && s !== first.shape[i]) || t.dtype !== first.dtype)
      throw new Error(`concat: ${xs.map((t) => `${t.dtype} ${shapeString(t.shape)}`).join(', ')} do not join on axis ${axis}`);
  const total = xs.reduce((p, t) => p + t.shape[ax], 0);
  const shape = first.shape.map((s, i) => (i === ax ? total : s));
  const out = empty(shape, first.dtype);
  let at = 0;
  for (const t of xs) {
    const target = out.view(t.shape, out.strides, at * out.strides[ax]);
    kernels().stridedCopy(t.shape, t.buffer.subarray(t.offset) as FloatArray, t.strides, target.buffer.subarray(target.offset) as FloatArray, target.strides);
    target.dispose();
    at += t.shape[ax];
  }
  const starts: number[] = [];
  at = 0;
  for (const t of xs) { starts.push(at); at += t.shape[ax]; }
  return record('concat', out, xs, (g) => xs.map((t, i) => {
    if (!t.requiresGrad) return null;
    const part = g.view(t.shape, g.strides, g.offset + starts[i] * g.strides[ax]);
    const c = clone(part);
    part.dispose();
    return c;
  }));
}
