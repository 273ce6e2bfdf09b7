// The supernet's edge: the operator outputs an edge computed, summed with the (sampled) edge
// weights, as one autograd op so that the weights (and through the straight-through sample,
// alpha: search/gumbel.ts) receive <dL/dedge, op output>.
import { record } from '../../engine/autograd.js';
import { F, Tensor, empty, kernels, type FloatArray } from '../../engine/index.js';

/**
 * out = sum_i weights[row, cols[i]] * ys[i]: one edge's output from the outputs of the operators
 * it computed (all of them for the reference estimator, the sampled one for single-path; `none`
 * is never computed, its output being zeros). Gradients: d ys[i] = w * g (none where w = 0, so an
 * unsampled operator's weights get no gradient), d weights[row, cols[i]] = <g, ys[i]>, zero
 * elsewhere: through the straight-through weights this is alpha's gradient.
 */
export function mixEdge(ys: Tensor[], cols: number[], weights: Tensor, row: number, shape: readonly number[]): Tensor {
  if (ys.length !== cols.length) throw new Error(`mixEdge: ${ys.length} outputs for ${cols.length} columns`);
  const [R, O] = weights.shape;
  const wv = weights.values as FloatArray;
  const k = kernels();
  const out = empty(shape, weights.dtype);
  const ov = out.values as FloatArray;
  ov.fill(0);
  const yv = ys.map((y) => {
    if (y.shape.join() !== shape.join()) throw new Error(`mixEdge: output [${y.shape}] differs from [${shape}]`);
    return F.contiguous(y).values as FloatArray;
  });
  yv.forEach((v, i) => { const w = wv[row * O + cols[i]]; if (w !== 0) k.axpy(w, v, ov); });
  return record('mixEdge', out, [...ys, weights], (g) => {
    const gv = g.values as FloatArray;
    const dys = yv.map((_, i) => {
      const w = wv[row * O + cols[i]];
      if (w === 0 || !ys[i].requiresGrad) return null;
      const d = empty(shape, weights.dtype);
      const dv = d.values as FloatArray;
      dv.set(gv);
      if (w !== 1) k.scale(dv, w);
      return d;
    });
    let dw: Tensor | null = null;
    if (weights.requiresGrad) {
      dw = empty([R, O], weights.dtype);
      const dwv = dw.values as FloatArray;
      dwv.fill(0);
      const dot = new (weights.dtype === 'float64' ? Float64Array : Float32Array)(1);
      yv.forEach((v, i) => {
        k.gemm(false, true, 1, 1, 1, v.length, gv, 0, v, 0, dot, 0);
        dwv[row * O + cols[i]] = dot[0];
      });
    }
    return [...dys, dw];
  });
}
