// Fused neural-network ops, each a forward kernel and a hand-written backward kernel.
import { isGradEnabled, record } from '../autograd.js';
import { kernels } from '../backend/index.js';
import type { FloatArray } from '../backend/kernels.js';
import type { Rng } from '../random.js';
import { sliceGradFrom, wantsSliceGrad } from '../sparse.js';
import { Tensor, empty, shapeString, zeros } from '../tensor.js';
import { assertSameFloat, assertShape, fvals, ivals, rowsCols } from './util.js';

/**
 * Rows of table [V, D] picked by ids (any shape) -> [...ids.shape, D]. A table with sparseAxis 0
 * gets a slice gradient (the looked-up rows), else a dense one.
 */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  const idv = ivals(ids, 'embedding ids');
  const [V, D] = table.shape;
  for (let i = 0; i < idv.length; i++)
    if (idv[i] < 0 || idv[i] >= V) throw new Error(`embedding: id ${idv[i]} at position ${i} is outside [0, ${V})`);
  const out = empty([...ids.shape, D], table.dtype);
  kernels().gatherRows(fvals(table, 'embedding table'), idv, D, out.values as FloatArray);
  return record('embedding', out, [table], (g) => {
    // a catalog's table flagged for it gets the looked-up rows only, not a [V, D] gradient
    if (wantsSliceGrad(table, 0)) return [sliceGradFrom(0, idv, fvals(g), D, table.dtype)];
    const dt = zeros(table.shape, table.dtype);
    kernels().scatterAddRows(fvals(g), idv, D, dt.values as FloatArray);
    return [dt];
  });
}

/**
 * Causal dilated 1-D convolution over time: x [B, T, C] -> [B, T, O], where output t sees inputs
 * t - (k-1-j)*d for taps j < k. weight [k*C, O] is tap-major (row j*C + c), bias [O].
 * im2col + one GEMM; backward recomputes the column buffer instead of keeping it alive.
 */
export function causalConv1d(x: Tensor, weight: Tensor, bias: Tensor | null, kernelSize: number, dilation: number): Tensor {
  assertSameFloat('causalConv1d', x, weight, bias);
  if (x.rank !== 3) throw new Error(`causalConv1d: input must be [B, T, C], got ${shapeString(x.shape)}`);
  const [B, T, C] = x.shape;
  const K = kernelSize * C;
  if (weight.rank !== 2 || weight.shape[0] !== K)
    throw new Error(`causalConv1d: weight ${shapeString(weight.shape)} does not match k=${kernelSize} x C=${C}`);
  const O = weight.shape[1], R = B * T;
  const k = kernels();
  const xv = fvals(x), wv = fvals(weight);
  const col = empty([R, K], x.dtype);
  k.causalIm2col(xv, B, T, C, kernelSize, dilation, col.values as FloatArray);
  const out = empty([B, T, O], x.dtype);
  const ov = out.values as FloatArray;
  k.gemm(false, false, 1, R, O, K, col.values as FloatArray, 0, wv, 0, ov, 0);
  col.dispose();
  if (bias) k.addRowVector(ov, fvals(bias), R, O);
  return record('causalConv1d', out, bias ? [x, weight, bias] : [x, weight], (g) => {
    const gv = fvals(g);
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (weight.requiresGrad) {
      const c = empty([R, K], x.dtype);
      k.causalIm2col(xv, B, T, C, kernelSize, dilation, c.values as FloatArray);
      dw = empty(weight.shape, weight.dtype);
      k.gemm(true, false, 1, K, O, R, c.values as FloatArray, 0, gv, 0, dw.values as FloatArray, 0);
      c.dispose();
    }
    if (x.requiresGrad) {
      const dcol = empty([R, K], x.dtype);
      k.gemm(false, true, 1, R, K, O, gv, 0, wv, 0, dcol.values as FloatArray, 0);
      dx = empty(x.shape, x.dtype);
      k.causalCol2im(dcol.values as FloatArray, B, T, C, kernelSize, dilation, dx.values as FloatArray);
      dcol.dispose();
    }
    if (bias?.requiresGrad) {
      db = empty(bias.shape, bias.dtype);
      k.sumRows(gv, R, O, db.values as FloatArray, false);
    }
    return [dx, dw, db];
  });
}

/** LayerNorm over the last axis, optionally fused with a following ReLU. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5, relu = false): Tensor {
  assertSameFloat('layerNorm', x, gamma, beta);
  const [R, C] = rowsCols(x.shape);
  assertShape('layerNorm', gamma, [C], 'gamma');
  assertShape('layerNorm', beta, [C], 'beta');
  const k = kernels();
  const xv = fvals(x), gv = fvals(gamma);
  const out = empty(x.shape, x.dtype), mean = empty([R], x.dtype), rstd = empty([R], x.dtype);
  k.layerNormForward(xv, gv, fvals(beta), R, C, eps, relu, out.values as FloatArray, mean.values as FloatArray, rstd.values as FloatArray);
  return record(relu ? 'layerNormRelu' : 'layerNorm', out, [x, gamma, beta], (g) => {
    const dx = empty(x.shape, x.dtype), dg = empty([C], x.dtype), db = empty([C], x.dtype);
    k.layerNormBackward(fvals(g), xv, gv, mean.values as FloatArray, rstd.values as FloatArray,
      relu ? (out.values as FloatArray) : null, R, C, dx.values as FloatArray, dg.values as FloatArray, db.values as FloatArray);
    return [dx, gamma.requiresGrad ? dg : (dg.dispose(), null), beta.requiresGrad ? db : (db.dispose(), null)];
  });
}

export interface BatchNormState {
  runningMean: Tensor;
  runningVar: Tensor;
}

/**
 * BatchNorm over the last (channel) axis, statistics over all other positions. Training mode uses
 * batch statistics and updates the running ones in place; eval mode uses the running ones.
 */
export function batchNorm(x: Tensor, gamma: Tensor, beta: Tensor, state: BatchNormState, training: boolean,
  momentum = 0.1, eps = 1e-5): Tensor {
  assertSameFloat('batchNorm', x, gamma, beta);
  const [R, C] = rowsCols(x.shape);
  assertShape('batchNorm', gamma, [C], 'gamma');
  const k = kernels();
  const xv = fvals(x), gv = fvals(gamma);
  const out = empty(x.shape, x.dtype), mean = empty([C], x.dtype), rstd = empty([C], x.dtype);
  k.batchNormForward(xv, gv, fvals(beta), R, C, eps, training, momentum, state.runningMean.values as FloatArray,
    state.runningVar.values as FloatArray, out.values as FloatArray, mean.values as FloatArray, rstd.values as FloatArray);
  if (!training) {
    // eval: an affine map per channel, y = x * gamma * rstd + const
    return record('batchNormEval', out, [x, gamma, beta], (g) => {
      const gd = fvals(g), mv = mean.values as FloatArray, rv = rstd.values as FloatArray;
      const scaleC = empty([C], x.dtype), dx = empty(x.shape, x.dtype);
      k.binary('mul', [C], gv, [1], rv, [1], scaleC.values as FloatArray);
      k.binary('mul', [R, C], gd, [C, 1], scaleC.values as FloatArray, [0, 1], dx.values as FloatArray);
      scaleC.dispose();
      let dg: Tensor | null = null, db: Tensor | null = null;
      if (gamma.requiresGrad) {
        // dgamma = sum over rows of g * (x - mean) * rstd
        const t = empty(x.shape, x.dtype), u = empty(x.shape, x.dtype), tv = t.values as FloatArray, uv = u.values as FloatArray;
        k.binary('sub', [R, C], xv, [C, 1], mv, [0, 1], tv);
        k.binary('mul', [R, C], tv, [C, 1], rv, [0, 1], uv);
        k.binary('mul', [R, C], uv, [C, 1], gd, [C, 1], tv);
        dg = empty([C], x.dtype);
        k.sumRows(tv, R, C, dg.values as FloatArray, false);
        t.dispose(); u.dispose();
      }
      if (beta.requiresGrad) {
        db = empty([C], x.dtype);
        k.sumRows(gd, R, C, db.values as FloatArray, false);
      }
      return [dx, dg, db];
    });
  }
  return record('batchNorm', out, [x, gamma, beta], (g) => {
    const dx = empty(x.shape, x.dtype), dg = empty([C], x.dtype), db = empty([C], x.dtype);
    k.batchNormBackward(fvals(g), xv, gv, mean.values as FloatArray, rstd.values as FloatArray, R, C,
      dx.values as FloatArray, dg.values as FloatArray, db.values as FloatArray);
    return [dx, gamma.requiresGrad ? dg : (dg.dispose(), null), beta.requiresGrad ? db : (db.dispose(), null)];
  });
}

/** Row softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  assertSameFloat('softmax', x);
  const [R, C] = rowsCols(x.shape);
  const out = empty(x.shape, x.dtype);
  kernels().softmax(fvals(x), R, C, out.values as FloatArray);
  return record('softmax', out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    kernels().softmaxGrad(out.values as FloatArray, fvals(g), R, C, dx.values as FloatArray);
    return [dx];
  });
}

/**
 * Multi-head scaled dot-product attention. q, k, v: [B, T, heads * Dh]. keyMask [B, T] (1 keep,
 * 0 padding) or null. Query rows that see no key output zeros.
 */
export function attention(q: Tensor, kT: Tensor, v: Tensor, heads: number, causal: boolean, keyMask: Tensor | null): Tensor {
  assertSameFloat('attention', q, kT, v, keyMask);
  if (q.rank !== 3) throw new Error(`attention: q must be [B, T, E], got ${shapeString(q.shape)}`);
  const [B, T, E] = q.shape;
  assertShape('attention', kT, q.shape, 'k');
  assertShape('attention', v, q.shape, 'v');
  if (keyMask) assertShape('attention', keyMask, [B, T], 'keyMask');
  if (E % heads !== 0) throw new Error(`attention: width ${E} is not divisible by ${heads} heads`);
  const Dh = E / heads;
  const kn = kernels();
  const qv = fvals(q), kv = fvals(kT), vv = fvals(v);
  const out = empty(q.shape, q.dtype), probs = empty([B, heads, T, T], q.dtype);
  kn.attentionForward(qv, kv, vv, B, T, heads, Dh, causal, keyMask ? fvals(keyMask) : null, out.values as FloatArray, probs.values as FloatArray);
  return record('attention', out, [q, kT, v], (g) => {
    const dq = empty(q.shape, q.dtype), dk = empty(q.shape, q.dtype), dv = empty(q.shape, q.dtype);
    kn.attentionBackward(fvals(g), qv, kv, vv, probs.values as FloatArray, B, T, heads, Dh,
      dq.values as FloatArray, dk.values as FloatArray, dv.values as FloatArray, causal);
    return [dq, dk, dv];
  });
}

/**
 * Attention of one query per row over every key: q [B, E] against k, v [B, T, E] (heads * Dh
 * interleaved as in `attention`), keyMask [B, T] or null; [B, E]. What the last position of a
 * causal or bidirectional block computes, for last-position scoring: O(B*T*E) instead of the
 * O(B*T*T*E) of every query. Inference only: not recorded, so call it without a tape (noGrad).
 */
export function attentionLastQuery(q: Tensor, k: Tensor, v: Tensor, heads: number, keyMask: Tensor | null): Tensor {
  assertSameFloat('attentionLastQuery', q, k, v, keyMask);
  if (k.rank !== 3) throw new Error(`attentionLastQuery: k must be [B, T, E], got ${shapeString(k.shape)}`);
  const [B, T, E] = k.shape;
  assertShape('attentionLastQuery', q, [B, E], 'q');
  assertShape('attentionLastQuery', v, k.shape, 'v');
  if (keyMask) assertShape('attentionLastQuery', keyMask, [B, T], 'keyMask');
  if (E % heads !== 0) throw new Error(`attentionLastQuery: width ${E} is not divisible by ${heads} heads`);
  if (isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad))
    throw new Error('attentionLastQuery is inference only: call it under noGrad');
  const Dh = E / heads, scale = 1 / Math.sqrt(Dh);
  const qv = fvals(q), kv = fvals(k), vv = fvals(v), mv = keyMask ? fvals(keyMask) : null;
  const out = empty([B, E], q.dtype);
  const ov = out.values as FloatArray;
  ov.fill(0);
  const w = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const qo = b * E + h * Dh;
      let max = -Infinity;
      for (let t = 0; t < T; t++) {
        if (mv && mv[b * T + t] === 0) { w[t] = -Infinity; continue; }
        const ko = (b * T + t) * E + h * Dh;
        let s = 0;
        for (let d = 0; d < Dh; d++) s += qv[qo + d] * kv[ko + d];
        w[t] = s * scale;
        if (w[t] > max) max = w[t];
      }
      if (max === -Infinity) continue; // no visible key: zeros, as `attention`
      let z = 0;
      for (let t = 0; t < T; t++) { w[t] = w[t] === -Infinity ? 0 : Math.exp(w[t] - max); z += w[t]; }
      for (let t = 0; t < T; t++) {
        if (w[t] === 0) continue;
        const p = w[t] / z, vo = (b * T + t) * E + h * Dh;
        for (let d = 0; d < Dh; d++) ov[qo + d] += p * vv[vo + d];
      }
    }
  }
  return out;
}

/** Inverted dropout: zero each element with probability p (mask drawn from rng), scale the rest by 1/(1-p). */
export function dropout(x: Tensor, p: number, rng: Rng, training: boolean): Tensor {
  if (!training || p === 0) return x;
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  assertSameFloat('dropout', x);
  const mask = new Uint8Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() >= p ? 1 : 0;
  const scale = 1 / (1 - p);
  const out = empty(x.shape, x.dtype);
  kernels().maskedScale(fvals(x), mask, scale, out.values as FloatArray);
  return record('dropout', out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    kernels().maskedScale(fvals(g), mask, scale, dx.values as FloatArray);
    return [dx];
  });
}

const NO_ARGMAX = new Int32Array(0);

/**
 * Max or average pooling over time with stride 1 and the same length: output t reduces the inputs
 * t - before .. t + after that exist (the window is clipped at the sequence ends; the average
 * divides by the positions it covers, as PyTorch's count_include_pad=False). x [B, T, C].
 * Causal pooling over the current and two previous positions is before = 2, after = 0; centred
 * pooling of window 3 is before = after = 1. A kernel each way (the students of long sequences
 * are pool-heavy: on ML-1M at length 200 the JS loops took a quarter of a finetune step).
 */
export function pool1d(x: Tensor, mode: 'max' | 'avg', before: number, after: number): Tensor {
  assertSameFloat('pool1d', x);
  if (x.rank !== 3) throw new Error(`pool1d: input must be [B, T, C], got ${shapeString(x.shape)}`);
  if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0)
    throw new Error(`pool1d: window offsets must be integers >= 0 (got ${before}, ${after})`);
  const [B, T, C] = x.shape;
  const max = mode === 'max';
  const out = empty(x.shape, x.dtype);
  // max: the winning input position per output element, for the backward scatter (none without
  // one); a pooled buffer, kept like attention's probabilities until the step's scope ends
  const argmax = max && isGradEnabled() && x.requiresGrad ? ivals(empty(x.shape, 'int32')) : NO_ARGMAX;
  kernels().pool1dForward(fvals(x), B, T, C, before, after, max, out.values as FloatArray, argmax);
  return record(max ? 'maxPool1d' : 'avgPool1d', out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    kernels().pool1dBackward(fvals(g), B, T, C, before, after, max, argmax, dx.values as FloatArray);
    return [dx];
  });
}

/**
 * Running mean over time: out[b,t] = the mean of x[b,s] over the positions s <= t where keep[b,s]
 * is not 0 (keep [B, T], e.g. 1 at items and 0 at padding; null: every position), zeros before
 * the first kept position. x [B, T, C]. O(B x T x C) both ways: a prefix sum forward, a suffix
 * sum of dy / count backward; keep gets no gradient.
 */
export function causalMean(x: Tensor, keep: Tensor | null): Tensor {
  assertSameFloat('causalMean', x);
  if (x.rank !== 3) throw new Error(`causalMean: input must be [B, T, C], got ${shapeString(x.shape)}`);
  const [B, T, C] = x.shape;
  if (keep) assertShape('causalMean', keep, [B, T], 'keep');
  const keepValues = keep ? fvals(keep) : NO_KEEP;
  const out = empty(x.shape, x.dtype);
  const inv = new Float32Array(B * T);
  kernels().causalMeanForward(fvals(x), keepValues, B, T, C, out.values as FloatArray, inv);
  return record('causalMean', out, [x], (g) => {
    const dx = empty(x.shape, x.dtype);
    kernels().causalMeanBackward(fvals(g), keepValues, B, T, C, inv, dx.values as FloatArray);
    return [dx];
  });
}

const NO_KEEP = new Float32Array(0);
