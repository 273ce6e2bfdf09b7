// Matrix products on the backend's GEMM.
import { record } from '../autograd.js';
import { kernels } from '../backend/index.js';
import type { FloatArray } from '../backend/kernels.js';
import { sliceGradFrom, wantsSliceGrad } from '../sparse.js';
import { Tensor, empty, shapeString, zeros, type SliceGrad } from '../tensor.js';
import { assertSameFloat, fvals, rowsCols } from './util.js';

/**
 * a [..., M, K] @ b [..., K, N] with optional transposes of either operand's last two axes.
 * Leading (batch) axes must match, or one side may have none (broadcast).
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  assertSameFloat('matmul', a, b);
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands need rank >= 2, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  const M = transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2];
  const Ka = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1];
  const Kb = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  const N = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  const ba = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  const batchShape = ba.length >= bb.length ? ba : bb;
  const sameBatch = ba.length === bb.length && ba.every((s, i) => s === bb[i]);
  if (Ka !== Kb || !(sameBatch || ba.length === 0 || bb.length === 0))
    throw new Error(`matmul: ${shapeString(a.shape)}${transA ? 'ᵀ' : ''} @ ${shapeString(b.shape)}${transB ? 'ᵀ' : ''} do not multiply`);
  const batch = batchShape.reduce((p, s) => p * s, 1);
  const av = fvals(a), bv = fvals(b);
  const out = empty([...batchShape, M, N], a.dtype);
  kernels().gemm(transA, transB, batch, M, N, Ka, av, ba.length ? M * Ka : 0, bv, bb.length ? Ka * N : 0, out.values as FloatArray, 0);
  return record('matmul', out, [a, b], (g) => {
    const gv = fvals(g);
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = g @ op(B)ᵀ (or its transpose when A was transposed)
      da = empty(a.shape, a.dtype);
      const aBatch = ba.length ? batch : 1;
      if (!transA) kernels().gemm(false, !transB, aBatch, M, Ka, N, gv, M * N, bv, bb.length ? Ka * N : 0, da.values as FloatArray, 0);
      else kernels().gemm(transB, true, aBatch, Ka, M, N, bv, bb.length ? Ka * N : 0, gv, M * N, da.values as FloatArray, 0);
      if (!ba.length && batch > 1) accumulateBatches(da, gv, bv, batch, M, N, Ka, transA, transB, bb.length > 0, 'a');
    }
    if (b.requiresGrad) {
      db = empty(b.shape, b.dtype);
      const bBatch = bb.length ? batch : 1;
      if (!transB) kernels().gemm(!transA, false, bBatch, Kb, N, M, av, ba.length ? M * Ka : 0, gv, M * N, db.values as FloatArray, 0);
      else kernels().gemm(true, transA, bBatch, N, Kb, M, gv, M * N, av, ba.length ? M * Ka : 0, db.values as FloatArray, 0);
      if (!bb.length && batch > 1) accumulateBatches(db, gv, av, batch, M, N, Ka, transA, transB, ba.length > 0, 'b');
    }
    return [da, db];
  });
}

/** For a broadcast (unbatched) operand, add the gradient contributions of batches 1..batch-1. */
function accumulateBatches(d: Tensor, gv: FloatArray, other: FloatArray, batch: number, M: number, N: number, K: number,
  transA: boolean, transB: boolean, otherBatched: boolean, which: 'a' | 'b'): void {
  const dv = d.values as FloatArray;
  for (let i = 1; i < batch; i++) {
    const g = gv.subarray(i * M * N), o = otherBatched ? other.subarray(i * (which === 'a' ? K * N : M * K)) : other;
    if (which === 'a') {
      if (!transA) kernels().gemm(false, !transB, 1, M, K, N, g, 0, o, 0, dv, 1);
      else kernels().gemm(transB, true, 1, K, M, N, o, 0, g, 0, dv, 1);
    } else {
      if (!transB) kernels().gemm(!transA, false, 1, K, N, M, o, 0, g, 0, dv, 1);
      else kernels().gemm(true, transA, 1, N, K, M, g, 0, o, 0, dv, 1);
    }
  }
}

/** x [..., in] @ weight [in, out] + bias [out]: one GEMM over all leading positions. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  assertSameFloat('linear', x, weight, bias);
  const [R, I] = rowsCols(x.shape);
  if (weight.rank !== 2 || weight.shape[0] !== I)
    throw new Error(`linear: input ${shapeString(x.shape)} does not match weight ${shapeString(weight.shape)}`);
  const O = weight.shape[1];
  const xv = fvals(x), wv = fvals(weight);
  const out = empty([...x.shape.slice(0, -1), O], x.dtype);
  const ov = out.values as FloatArray;
  const k = kernels();
  k.gemm(false, false, 1, R, O, I, xv, 0, wv, 0, ov, 0);
  if (bias) k.addRowVector(ov, fvals(bias), R, O);
  return record('linear', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const gv = fvals(g);
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, x.dtype);
      k.gemm(false, true, 1, R, I, O, gv, 0, wv, 0, dx.values as FloatArray, 0);
    }
    if (weight.requiresGrad) {
      dw = empty(weight.shape, weight.dtype);
      k.gemm(true, false, 1, I, O, R, xv, 0, gv, 0, dw.values as FloatArray, 0);
    }
    if (bias?.requiresGrad) {
      db = empty(bias.shape, bias.dtype);
      k.sumRows(gv, R, O, db.values as FloatArray, false);
    }
    return [dx, dw, db];
  });
}

/**
 * A linear layer evaluated for some of its outputs only: x [..., I] times the columns `cols` (K
 * int32 indices, repeats allowed) of weight [I, O], plus those entries of bias [O]: [..., K]. What a
 * sampled softmax needs of an output layer over a large catalog: O(R*I*K) instead of O(R*I*O). The
 * weight's and bias's gradients are dense (zero outside `cols`), or, for a weight with sparseAxis 1
 * and a bias with sparseAxis 0, slice gradients of the touched columns and entries only.
 */
export function linearColumns(x: Tensor, weight: Tensor, bias: Tensor | null, cols: Int32Array): Tensor {
  assertSameFloat('linearColumns', x, weight, bias);
  const [R, I] = rowsCols(x.shape);
  if (weight.rank !== 2 || weight.shape[0] !== I)
    throw new Error(`linearColumns: input ${shapeString(x.shape)} does not match weight ${shapeString(weight.shape)}`);
  const O = weight.shape[1], K = cols.length;
  for (let c = 0; c < K; c++)
    if (!(cols[c] >= 0 && cols[c] < O)) throw new Error(`linearColumns: column ${cols[c]} at ${c} is outside [0, ${O})`);
  const xv = fvals(x), wv = fvals(weight), bv = bias ? fvals(bias) : null;
  const k = kernels();
  const floats = (n: number): FloatArray => new (x.dtype === 'float64' ? Float64Array : Float32Array)(n);
  // the chosen columns as one [I, K] matrix, so the product is a single GEMM
  const wcv = floats(I * K);
  for (let i = 0; i < I; i++) for (let c = 0; c < K; c++) wcv[i * K + c] = wv[i * O + cols[c]];
  const out = empty([...x.shape.slice(0, -1), K], x.dtype);
  const ov = out.values as FloatArray;
  k.gemm(false, false, 1, R, K, I, xv, 0, wcv, 0, ov, 0);
  if (bv) {
    const bc = floats(K);
    for (let c = 0; c < K; c++) bc[c] = bv[cols[c]];
    k.addRowVector(ov, bc, R, K);
  }
  return record('linearColumns', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const gv = fvals(g);
    let dx: Tensor | null = null, dw: Tensor | SliceGrad | null = null, db: Tensor | SliceGrad | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, x.dtype);
      k.gemm(false, true, 1, R, I, K, gv, 0, wcv, 0, dx.values as FloatArray, 0);
    }
    if (weight.requiresGrad) {
      // column c's gradient as row c of g^T x [K, I]
      const dwc = floats(K * I);
      k.gemm(true, false, 1, K, I, R, gv, 0, xv, 0, dwc, 0);
      if (wantsSliceGrad(weight, 1)) dw = sliceGradFrom(1, cols, dwc, I, weight.dtype);
      else {
        const dwt = zeros(weight.shape, weight.dtype);
        const dwv = dwt.values as FloatArray;
        for (let c = 0; c < K; c++) for (let i = 0; i < I; i++) dwv[i * O + cols[c]] += dwc[c * I + i];
        dw = dwt;
      }
    }
    if (bias?.requiresGrad) {
      const dbc = floats(K);
      k.sumRows(gv, R, K, dbc, false);
      db = columnBiasGrad(bias, cols, dbc);
    }
    return [dx, dw, db];
  });
}

/** A bias's gradient from per-column values vals[c] for the columns cols[c] (repeats add): a slice gradient when the bias wants one. */
function columnBiasGrad(bias: Tensor, cols: Int32Array, vals: FloatArray): Tensor | SliceGrad {
  if (wantsSliceGrad(bias, 0)) return sliceGradFrom(0, cols, vals, 1, bias.dtype);
  const dbt = zeros(bias.shape, bias.dtype);
  const dbv = dbt.values as FloatArray;
  for (let c = 0; c < cols.length; c++) dbv[cols[c]] += vals[c];
  return dbt;
}

/**
 * One output of a linear layer per row: out[r] = x[r] . weight[:, cols[r]] + bias[cols[r]] for x
 * [R, I], weight [I, O], cols R int32 indices: [R]. A row's score of its own target (the positive
 * of a sampled binary loss) without the [R, distinct positives] block of linearColumns. Gradients as
 * linearColumns' (slice gradients for a weight with sparseAxis 1 and a bias with sparseAxis 0).
 */
export function linearPicked(x: Tensor, weight: Tensor, bias: Tensor | null, cols: Int32Array): Tensor {
  assertSameFloat('linearPicked', x, weight, bias);
  const [R, I] = rowsCols(x.shape);
  if (x.rank !== 2 || weight.rank !== 2 || weight.shape[0] !== I || cols.length !== R)
    throw new Error(`linearPicked: input ${shapeString(x.shape)}, weight ${shapeString(weight.shape)} and ${cols.length} columns do not match`);
  const O = weight.shape[1];
  for (let r = 0; r < R; r++)
    if (!(cols[r] >= 0 && cols[r] < O)) throw new Error(`linearPicked: column ${cols[r]} at ${r} is outside [0, ${O})`);
  const xv = fvals(x), wv = fvals(weight), bv = bias ? fvals(bias) : null;
  const out = empty([R], x.dtype);
  const ov = out.values as FloatArray;
  for (let r = 0; r < R; r++) {
    let s = bv ? bv[cols[r]] : 0;
    for (let i = 0; i < I; i++) s += xv[r * I + i] * wv[i * O + cols[r]];
    ov[r] = s;
  }
  return record('linearPicked', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const gv = fvals(g);
    let dx: Tensor | null = null, dw: Tensor | SliceGrad | null = null, db: Tensor | SliceGrad | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape, x.dtype);
      const dxv = dx.values as FloatArray;
      for (let r = 0; r < R; r++) for (let i = 0; i < I; i++) dxv[r * I + i] = gv[r] * wv[i * O + cols[r]];
    }
    if (weight.requiresGrad) {
      if (wantsSliceGrad(weight, 1)) {
        const rows = new (x.dtype === 'float64' ? Float64Array : Float32Array)(R * I); // row r: g[r] x[r], the gradient of column cols[r]
        for (let r = 0; r < R; r++) for (let i = 0; i < I; i++) rows[r * I + i] = gv[r] * xv[r * I + i];
        dw = sliceGradFrom(1, cols, rows, I, weight.dtype);
      } else {
        const dwt = zeros(weight.shape, weight.dtype);
        const dwv = dwt.values as FloatArray;
        for (let r = 0; r < R; r++) for (let i = 0; i < I; i++) dwv[i * O + cols[r]] += gv[r] * xv[r * I + i];
        dw = dwt;
      }
    }
    if (bias?.requiresGrad) db = columnBiasGrad(bias, cols, gv);
    return [dx, dw, db];
  });
}
