// Losses with fused forward + gradient: the gradient is written in the forward pass (one pass over
// the logits) and only scaled in backward.
import { record } from '../autograd.js';
import { kernels } from '../backend/index.js';
import type { FloatArray } from '../backend/kernels.js';
import { Tensor, empty, scalar, shapeString } from '../tensor.js';
import { assertSameFloat, assertShape, fvals, ivals, rowsCols } from './util.js';

function scaledBy(grad: Tensor, gy: Tensor): Tensor {
  const s = gy.item();
  if (s !== 1) kernels().scale(grad.values as FloatArray, s);
  return grad;
}

/**
 * Mean softmax cross-entropy of logits [..., V] against int32 labels [...], skipping positions whose
 * label is ignoreIndex (padding). Returns a scalar; 0 when every position is ignored.
 * `consume`: the logits are a temporary nothing else reads (the output layer's result, fed only
 * here); their buffer then receives the gradient, saving one [..., V] buffer, the largest of a step.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = 0, consume = false): Tensor {
  assertSameFloat('crossEntropy', logits);
  const [R, V] = rowsCols(logits.shape);
  const lv = ivals(labels, 'crossEntropy labels');
  if (lv.length !== R) throw new Error(`crossEntropy: ${lv.length} labels for ${R} rows of logits ${shapeString(logits.shape)}`);
  for (let i = 0; i < R; i++)
    if (lv[i] !== ignoreIndex && (lv[i] < 0 || lv[i] >= V)) throw new Error(`crossEntropy: label ${lv[i]} at row ${i} is outside [0, ${V})`);
  let count = 0;
  for (let i = 0; i < R; i++) if (lv[i] !== ignoreIndex) count++;
  const wantGrad = logits.requiresGrad;
  // consume: the gradient is written over the logits (a view of their storage), no second buffer
  const grad = !wantGrad ? null : consume && logits.isContiguous ? logits.view(logits.shape, logits.strides, logits.offset) : empty(logits.shape, logits.dtype);
  const r = kernels().softmaxCrossEntropy(fvals(logits), lv, R, V, ignoreIndex, grad ? (grad.values as FloatArray) : null, count ? 1 / count : 0);
  const out = scalar(r.count ? r.loss / r.count : 0, logits.dtype);
  if (!grad) return out;
  return record('crossEntropy', out, [logits], (g) => [scaledBy(grad, g)]);
}

/**
 * Logit distillation KL(softmax(teacher/T) || softmax(student/T)), averaged over rows whose mask is
 * non-zero (mask [...] float, or null for all rows). The teacher gets no gradient.
 */
export function distillKL(teacher: Tensor, student: Tensor, temperature = 1, mask: Tensor | null = null): Tensor {
  assertSameFloat('distillKL', teacher, student, mask);
  assertShape('distillKL', teacher, student.shape, 'teacher logits');
  const [R, V] = rowsCols(student.shape);
  const mv = mask ? fvals(mask) : null;
  if (mv && mv.length !== R) throw new Error(`distillKL: mask has ${mv.length} entries for ${R} rows`);
  let weight = R;
  if (mv) { weight = 0; for (let i = 0; i < R; i++) weight += mv[i]; }
  const scale = weight > 0 ? 1 / weight : 0;
  const grad = student.requiresGrad ? empty(student.shape, student.dtype) : null;
  const total = kernels().distillKL(fvals(teacher), fvals(student), R, V, temperature, mv, grad ? (grad.values as FloatArray) : null, scale);
  const out = scalar(total * scale, student.dtype);
  if (!grad) return out;
  return record('distillKL', out, [student], (g) => [scaledBy(grad, g)]);
}

/**
 * Mean squared error of a against the target b (same shape). With `mask` (one value per row of the
 * last axis, [...a.shape without its last dim], 1 = real, 0 = padding) only real rows count: the
 * mean is over real rows x last dim, and padded rows get no gradient (0 when every row is padding).
 */
export function mse(a: Tensor, b: Tensor, mask: Tensor | null = null): Tensor {
  assertSameFloat('mse', a, b);
  assertShape('mse', b, a.shape, 'target');
  const av = fvals(a), bv = fvals(b);
  const diff = empty(a.shape, a.dtype);
  const k = kernels();
  k.binary('sub', [a.size], av, [1], bv, [1], diff.values as FloatArray);
  let count = a.size;
  if (mask) {
    const [R, C] = rowsCols(a.shape);
    assertShape('mse', mask, a.shape.slice(0, -1), 'mask');
    const mv = mask.values, dv = diff.values as FloatArray;
    let real = 0;
    for (let r = 0; r < R; r++) {
      if (mv[r] !== 0) { real++; continue; }
      dv.fill(0, r * C, (r + 1) * C);
    }
    count = real * C;
  }
  const out = scalar(count ? k.sumSquares(diff.values as FloatArray) / count : 0, a.dtype);
  return record('mse', out, [a, b], (g) => {
    const s = count ? (2 * g.item()) / count : 0;
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) { da = empty(a.shape, a.dtype); (da.values as FloatArray).set(diff.values as FloatArray); k.scale(da.values as FloatArray, s); }
    if (b.requiresGrad) { db = empty(b.shape, b.dtype); (db.values as FloatArray).set(diff.values as FloatArray); k.scale(db.values as FloatArray, -s); }
    return [da, db];
  });
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * gSASRec's generalised binary cross-entropy (Petrov & Macdonald, RecSys 2023), averaged over rows:
 * -(log sigmoid(pos[r])^beta + sum_j log(1 - sigmoid(neg[r, j]))) for the positive's logit pos [R]
 * and its negatives' logits neg [R, N]. beta = 1 is plain binary cross-entropy (SASRec's loss with
 * one negative); models/sampled-softmax.ts (gbceBeta) sets it from the calibration t.
 */
export function gbce(pos: Tensor, neg: Tensor, beta: number): Tensor {
  assertSameFloat('gbce', pos, neg);
  const R = pos.size;
  if (neg.rank !== 2 || neg.shape[0] !== R) throw new Error(`gbce: negatives ${shapeString(neg.shape)} do not match ${R} positives`);
  const N = neg.shape[1], pv = fvals(pos), nv = fvals(neg), scale = R ? 1 / R : 0;
  const dp = pos.requiresGrad ? empty(pos.shape, pos.dtype) : null, dn = neg.requiresGrad ? empty(neg.shape, neg.dtype) : null;
  const dpv = dp?.values as FloatArray | undefined, dnv = dn?.values as FloatArray | undefined;
  let total = 0;
  for (let r = 0; r < R; r++) {
    total += beta * softplus(-pv[r]); // -beta log sigmoid(s) = beta softplus(-s)
    if (dpv) dpv[r] = -beta * scale / (1 + Math.exp(pv[r])); // beta (sigmoid(s) - 1)
    for (let j = r * N; j < (r + 1) * N; j++) {
      total += softplus(nv[j]); // -log(1 - sigmoid(s)) = softplus(s)
      if (dnv) dnv[j] = scale / (1 + Math.exp(-nv[j])); // sigmoid(s)
    }
  }
  const out = scalar(total * scale, pos.dtype);
  if (!dp && !dn) return out;
  return record('gbce', out, [pos, neg], (g) => [dp && scaledBy(dp, g), dn && scaledBy(dn, g)]);
}
