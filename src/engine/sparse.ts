// Slice gradients (tensor.ts, SliceGrad): building them from per-row contributions, merging two,
// adding one into a dense gradient, and moving a tensor's slices to and from a dense buffer (what
// an optimizer's lazy update runs on). A slice is a row of a [V, ...] tensor (axis 0) or a column of
// a [C, V] one (axis 1).
import { kernels } from './backend/index.js';
import type { FloatArray } from './backend/kernels.js';
import { keep } from './memory.js';
import { Tensor, zeros, shapeString, type DType, type SliceGrad } from './tensor.js';

/** Where a tensor's slices lie in its dense values: element j of slice s is at s * step + j * stride. */
export interface SliceLayout {
  count: number;
  length: number;
  step: number;
  stride: number;
}

export function sliceLayout(t: Tensor, axis: 0 | 1): SliceLayout {
  if (axis === 0) {
    const length = t.size / t.shape[0];
    return { count: t.shape[0], length, step: length, stride: 1 };
  }
  if (t.rank !== 2) throw new Error(`slice gradients along axis 1 need a 2-D tensor, got ${shapeString(t.shape)}`);
  return { count: t.shape[1], length: t.shape[0], step: 1, stride: t.shape[1] };
}

/** Whether an op should give `t` a slice gradient along `axis`: a leaf flagged for it (Tensor.sparseAxis). */
export function wantsSliceGrad(t: Tensor, axis: 0 | 1): boolean {
  return t.requiresGrad && t.node === null && t.sparseAxis === axis;
}

/**
 * The slice gradient of contributions `src` [ids.length, length]: row r adds to slice ids[r] (ids in
 * any order, repeats summed).
 */
export function sliceGradFrom(axis: 0 | 1, ids: Int32Array, src: FloatArray, length: number, dtype: DType): SliceGrad {
  const index = Int32Array.from(new Set(ids)).sort();
  const position = new Map<number, number>();
  index.forEach((s, k) => position.set(s, k));
  const values = zeros([index.length, length], dtype);
  kernels().scatterAddRows(src, Int32Array.from(ids, (s) => position.get(s)!), length, values.values as FloatArray);
  return { axis, index, values };
}

/** a + b as one slice gradient (kept: it outlives scopes, as a .grad); disposes both inputs' values. */
export function mergeSliceGrads(a: SliceGrad, b: SliceGrad): SliceGrad {
  if (a.axis !== b.axis) throw new Error(`slice gradients along axes ${a.axis} and ${b.axis} cannot be added`);
  const length = a.values.shape[1];
  const index = Int32Array.from(new Set([...a.index, ...b.index])).sort();
  const position = new Map<number, number>();
  index.forEach((s, k) => position.set(s, k));
  const values = keep(zeros([index.length, length], a.values.dtype));
  const k = kernels();
  for (const g of [a, b]) {
    k.scatterAddRows(g.values.values as FloatArray, Int32Array.from(g.index, (s) => position.get(s)!), length, values.values as FloatArray);
    g.values.dispose();
  }
  return { axis: a.axis, index, values };
}

/** dense += the slice gradient g (dense: the values of a tensor of `layout`). */
export function addSliceGrad(dense: FloatArray, layout: SliceLayout, g: SliceGrad): void {
  const v = g.values.values as FloatArray, L = layout.length;
  g.index.forEach((s, k) => {
    const base = s * layout.step;
    for (let j = 0; j < L; j++) dense[base + j * layout.stride] += v[k * L + j];
  });
}

/** out [index.length, length] = the slices `index` of src (a tensor's values of `layout`). */
export function gatherSlices(src: FloatArray, layout: SliceLayout, index: Int32Array, out: FloatArray): void {
  const L = layout.length;
  if (layout.stride === 1) { index.forEach((s, k) => out.set(src.subarray(s * L, (s + 1) * L), k * L)); return; }
  const K = index.length;
  for (let j = 0; j < L; j++) {
    const row = j * layout.stride;
    for (let k = 0; k < K; k++) out[k * L + j] = src[row + index[k]];
  }
}

/** The slices `index` of dst (a tensor's values of `layout`) = src [index.length, length]. */
export function scatterSlices(dst: FloatArray, layout: SliceLayout, index: Int32Array, src: FloatArray): void {
  const L = layout.length;
  if (layout.stride === 1) { index.forEach((s, k) => dst.set(src.subarray(k * L, (k + 1) * L), s * L)); return; }
  const K = index.length;
  for (let j = 0; j < L; j++) {
    const row = j * layout.stride;
    for (let k = 0; k < K; k++) dst[row + index[k]] = src[k * L + j];
  }
}
