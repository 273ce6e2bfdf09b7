// Small helpers shared by the op files: dense views of inputs, dtype checks, broadcasting.
import type { FloatArray } from '../backend/kernels.js';
import { Tensor, clone, shapeString, type Shape } from '../tensor.js';

/** The tensor itself if dense, else a dense copy (owned by the current scope). */
export function dense(t: Tensor): Tensor {
  return t.isContiguous ? t : clone(t);
}

/** Dense float elements of t; throws for int32 tensors. */
export function fvals(t: Tensor, what = 'input'): FloatArray {
  if (t.dtype === 'int32') throw new Error(`${what}: expected a float tensor, got int32 ${shapeString(t.shape)}`);
  return dense(t).values as FloatArray;
}

/** Dense int32 elements of t; throws for float tensors. */
export function ivals(t: Tensor, what = 'ids'): Int32Array {
  if (t.dtype !== 'int32') throw new Error(`${what}: expected an int32 tensor, got ${t.dtype} ${shapeString(t.shape)}`);
  return dense(t).values as Int32Array;
}

export function assertSameFloat(op: string, ...ts: (Tensor | null | undefined)[]): void {
  const first = ts.find((t) => t)!;
  for (const t of ts) {
    if (!t) continue;
    if (t.dtype === 'int32') throw new Error(`${op}: expected float tensors, got int32 ${shapeString(t.shape)}`);
    if (t.dtype !== first.dtype) throw new Error(`${op}: mixed dtypes ${first.dtype} and ${t.dtype}`);
  }
}

export function assertShape(op: string, t: Tensor, shape: Shape, name: string): void {
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i]))
    throw new Error(`${op}: ${name} must have shape ${shapeString(shape)}, got ${shapeString(t.shape)}`);
}

export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new Error(`${op}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read t as if it had shape `to` (0 along broadcast axes). */
export function broadcastStrides(t: Tensor, to: Shape): number[] {
  const rank = to.length, lead = rank - t.rank;
  return to.map((_, i) => (i < lead || t.shape[i - lead] === 1 ? 0 : t.strides[i - lead]));
}

/** The last axis size and the product of the others. */
export function rowsCols(shape: Shape): [number, number] {
  const C = shape[shape.length - 1];
  let R = 1;
  for (let i = 0; i < shape.length - 1; i++) R *= shape[i];
  return [R, C];
}
