// The reference backend: plain TypeScript loops, float32 or float64, always available.
// It favours clarity over speed; the native backend must match it to 1e-4 relative.
import type { AdamHyper, BinaryOp, FloatArray, Kernels, LambHyper, QuantizedItems, QuantizedQuery, ReduceOp, UnaryOp } from './kernels.js';
import { quantizedScanJs } from './quantized-scan.js';

/** Calls fn(outIndex, offsetA, offsetB) for every element of `shape` in row-major order. */
function forEachStrided2(shape: readonly number[], sa: readonly number[], sb: readonly number[],
  fn: (i: number, oa: number, ob: number) => void): void {
  const rank = shape.length;
  let size = 1;
  for (const s of shape) size *= s;
  if (size === 0) return;
  const idx = new Array<number>(rank).fill(0);
  let oa = 0, ob = 0;
  for (let i = 0; i < size; i++) {
    fn(i, oa, ob);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]++; oa += sa[d]; ob += sb[d];
      if (idx[d] < shape[d]) break;
      oa -= sa[d] * shape[d]; ob -= sb[d] * shape[d]; idx[d] = 0;
    }
  }
}

const binaryFns: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  max: (x, y) => (x >= y || Number.isNaN(x) ? x : y),
  min: (x, y) => (x <= y || Number.isNaN(x) ? x : y),
};

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  relu: (x) => (x > 0 ? x : 0),
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  abs: Math.abs,
  square: (x) => x * x,
};

/** d op(x) / dx from x and y = op(x). */
const unaryDerivs: Record<UnaryOp, (x: number, y: number) => number> = {
  neg: () => -1,
  exp: (_x, y) => y,
  log: (x) => 1 / x,
  sqrt: (_x, y) => 0.5 / y,
  relu: (x) => (x > 0 ? 1 : 0),
  tanh: (_x, y) => 1 - y * y,
  sigmoid: (_x, y) => y * (1 - y),
  abs: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  square: (x) => 2 * x,
};

export class JsKernels implements Kernels {
  readonly name = 'js' as const;

  gemm(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
    A: FloatArray, strideA: number, B: FloatArray, strideB: number, C: FloatArray, beta: number): void {
    // loop orders keep the innermost loop on contiguous memory; dot products accumulate in double
    for (let bi = 0; bi < batch; bi++) {
      const a0 = bi * strideA, b0 = bi * strideB, c0 = bi * M * N;
      if (!transB) {
        const row = new Float64Array(N);
        for (let i = 0; i < M; i++) {
          row.fill(0);
          for (let p = 0; p < K; p++) {
            const av = transA ? A[a0 + p * M + i] : A[a0 + i * K + p];
            const bRow = b0 + p * N;
            for (let j = 0; j < N; j++) row[j] += av * B[bRow + j];
          }
          const cRow = c0 + i * N;
          for (let j = 0; j < N; j++) C[cRow + j] = beta === 0 ? row[j] : row[j] + beta * C[cRow + j];
        }
      } else {
        for (let i = 0; i < M; i++) {
          for (let j = 0; j < N; j++) {
            let s = 0;
            const bRow = b0 + j * K;
            if (transA) for (let p = 0; p < K; p++) s += A[a0 + p * M + i] * B[bRow + p];
            else {
              const aRow = a0 + i * K;
              for (let p = 0; p < K; p++) s += A[aRow + p] * B[bRow + p];
            }
            const c = c0 + i * N + j;
            C[c] = beta === 0 ? s : s + beta * C[c];
          }
        }
      }
    }
  }

  binary(op: BinaryOp, shape: readonly number[], a: FloatArray, sa: readonly number[],
    b: FloatArray, sb: readonly number[], out: FloatArray): void {
    const f = binaryFns[op];
    forEachStrided2(shape, sa, sb, (i, oa, ob) => { out[i] = f(a[oa], b[ob]); });
  }

  unary(op: UnaryOp, x: FloatArray, out: FloatArray): void {
    const f = unaryFns[op];
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  }

  unaryGrad(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    const f = unaryDerivs[op];
    for (let i = 0; i < x.length; i++) dx[i] = dy[i] * f(x[i], y[i]);
  }

  reduce(op: ReduceOp, shape: readonly number[], x: FloatArray, so: readonly number[], out: FloatArray): void {
    out.fill(op === 'sum' ? 0 : -Infinity);
    const ones = shape.map((_, d) => {
      let s = 1;
      for (let e = d + 1; e < shape.length; e++) s *= shape[e];
      return s;
    });
    if (op === 'sum') forEachStrided2(shape, ones, so, (_i, ox, oo) => { out[oo] += x[ox]; });
    else forEachStrided2(shape, ones, so, (_i, ox, oo) => { if (!(out[oo] >= x[ox])) out[oo] = x[ox]; });
  }

  stridedCopy(shape: readonly number[], src: FloatArray | Int32Array, ss: readonly number[],
    dst: FloatArray | Int32Array, ds: readonly number[]): void {
    forEachStrided2(shape, ss, ds, (_i, os, od) => { dst[od] = src[os]; });
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    for (let i = 0; i < x.length; i++) y[i] += alpha * x[i];
  }

  scale(x: FloatArray, s: number): void {
    for (let i = 0; i < x.length; i++) x[i] *= s;
  }

  sumSquares(x: FloatArray): number {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return s;
  }

  causalIm2col(x: FloatArray, B: number, T: number, C: number, k: number, d: number, col: FloatArray): void {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) {
      const ts = t - (k - 1 - j) * d;
      const o = ((b * T + t) * k + j) * C;
      for (let c = 0; c < C; c++) col[o + c] = ts < 0 ? 0 : x[(b * T + ts) * C + c];
    }
  }

  causalCol2im(dcol: FloatArray, B: number, T: number, C: number, k: number, d: number, dx: FloatArray): void {
    dx.fill(0);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let j = 0; j < k; j++) {
      const ts = t - (k - 1 - j) * d;
      if (ts < 0) continue;
      const o = ((b * T + t) * k + j) * C;
      for (let c = 0; c < C; c++) dx[(b * T + ts) * C + c] += dcol[o + c];
    }
  }

  pool1dForward(x: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    out: FloatArray, argmax: Int32Array): void {
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const lo = Math.max(0, t - before), hi = Math.min(T - 1, t + after);
      const o = (b * T + t) * C;
      for (let c = 0; c < C; c++) {
        if (max) {
          let best = (b * T + lo) * C + c;
          for (let s = lo + 1; s <= hi; s++) { const i = (b * T + s) * C + c; if (x[i] > x[best]) best = i; }
          out[o + c] = x[best];
          if (argmax.length) argmax[o + c] = best;
        } else {
          let sum = 0;
          for (let s = lo; s <= hi; s++) sum += x[(b * T + s) * C + c];
          out[o + c] = sum / (hi - lo + 1);
        }
      }
    }
  }

  pool1dBackward(dy: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    argmax: Int32Array, dx: FloatArray): void {
    dx.fill(0);
    if (max) {
      for (let i = 0; i < B * T * C; i++) dx[argmax[i]] += dy[i];
      return;
    }
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const lo = Math.max(0, t - before), hi = Math.min(T - 1, t + after), inv = 1 / (hi - lo + 1);
      const o = (b * T + t) * C;
      for (let s = lo; s <= hi; s++) {
        const i = (b * T + s) * C;
        for (let c = 0; c < C; c++) dx[i + c] += dy[o + c] * inv;
      }
    }
  }

  causalMeanForward(x: FloatArray, keep: FloatArray, B: number, T: number, C: number, out: FloatArray, inv: Float32Array): void {
    const sum = new Float64Array(C);
    for (let b = 0; b < B; b++) {
      sum.fill(0);
      let n = 0;
      for (let t = 0; t < T; t++) {
        const o = (b * T + t) * C;
        if (!keep.length || keep[b * T + t] !== 0) {
          n++;
          for (let c = 0; c < C; c++) sum[c] += x[o + c];
        }
        const r = n ? 1 / n : 0;
        inv[b * T + t] = r;
        for (let c = 0; c < C; c++) out[o + c] = sum[c] * r;
      }
    }
  }

  causalMeanBackward(dy: FloatArray, keep: FloatArray, B: number, T: number, C: number, inv: Float32Array, dx: FloatArray): void {
    const acc = new Float64Array(C);
    for (let b = 0; b < B; b++) {
      acc.fill(0);
      for (let t = T - 1; t >= 0; t--) {
        const o = (b * T + t) * C, r = inv[b * T + t];
        for (let c = 0; c < C; c++) acc[c] += dy[o + c] * r;
        if (!keep.length || keep[b * T + t] !== 0) for (let c = 0; c < C; c++) dx[o + c] = acc[c];
        else dx.fill(0, o, o + C);
      }
    }
  }

  addRowVector(out: FloatArray, bias: FloatArray, R: number, N: number): void {
    for (let r = 0; r < R; r++) for (let j = 0; j < N; j++) out[r * N + j] += bias[j];
  }

  sumRows(dy: FloatArray, R: number, N: number, db: FloatArray, accumulate: boolean): void {
    if (!accumulate) db.fill(0);
    for (let r = 0; r < R; r++) for (let j = 0; j < N; j++) db[j] += dy[r * N + j];
  }

  layerNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    relu: boolean, y: FloatArray, mean: FloatArray, rstd: FloatArray): void {
    for (let r = 0; r < R; r++) {
      const o = r * C;
      let mu = 0;
      for (let c = 0; c < C; c++) mu += x[o + c];
      mu /= C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (x[o + c] - mu) ** 2;
      const rs = 1 / Math.sqrt(v / C + eps);
      mean[r] = mu; rstd[r] = rs;
      for (let c = 0; c < C; c++) {
        const t = (x[o + c] - mu) * rs * gamma[c] + beta[c];
        y[o + c] = relu && !(t > 0) ? 0 : t;
      }
    }
  }

  layerNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    y: FloatArray | null, R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    dgamma.fill(0); dbeta.fill(0);
    for (let r = 0; r < R; r++) {
      const o = r * C, mu = mean[r], rs = rstd[r];
      let s1 = 0, s2 = 0;
      for (let c = 0; c < C; c++) {
        const g = y !== null && !(y[o + c] > 0) ? 0 : dy[o + c];
        const xh = (x[o + c] - mu) * rs;
        dgamma[c] += g * xh; dbeta[c] += g;
        const t = g * gamma[c];
        s1 += t; s2 += t * xh;
      }
      s1 /= C; s2 /= C;
      for (let c = 0; c < C; c++) {
        const g = y !== null && !(y[o + c] > 0) ? 0 : dy[o + c];
        const xh = (x[o + c] - mu) * rs;
        dx[o + c] = rs * (g * gamma[c] - s1 - xh * s2);
      }
    }
  }

  batchNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    training: boolean, momentum: number, runningMean: FloatArray, runningVar: FloatArray,
    y: FloatArray, mean: FloatArray, rstd: FloatArray): void {
    for (let c = 0; c < C; c++) {
      let mu: number, variance: number;
      if (training) {
        mu = 0;
        for (let r = 0; r < R; r++) mu += x[r * C + c];
        mu /= R;
        variance = 0;
        for (let r = 0; r < R; r++) variance += (x[r * C + c] - mu) ** 2;
        variance /= R;
        runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mu;
        runningVar[c] = (1 - momentum) * runningVar[c] + momentum * (R > 1 ? (variance * R) / (R - 1) : variance);
      } else {
        mu = runningMean[c]; variance = runningVar[c];
      }
      const rs = 1 / Math.sqrt(variance + eps);
      mean[c] = mu; rstd[c] = rs;
      for (let r = 0; r < R; r++) y[r * C + c] = (x[r * C + c] - mu) * rs * gamma[c] + beta[c];
    }
  }

  batchNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    for (let c = 0; c < C; c++) {
      const mu = mean[c], rs = rstd[c];
      let sdy = 0, sdyx = 0;
      for (let r = 0; r < R; r++) {
        const g = dy[r * C + c];
        sdy += g; sdyx += g * (x[r * C + c] - mu) * rs;
      }
      dgamma[c] = sdyx; dbeta[c] = sdy;
      const k = (gamma[c] * rs) / R;
      for (let r = 0; r < R; r++) {
        const xh = (x[r * C + c] - mu) * rs;
        dx[r * C + c] = k * (R * dy[r * C + c] - sdy - xh * sdyx);
      }
    }
  }

  softmax(x: FloatArray, R: number, C: number, y: FloatArray): void {
    for (let r = 0; r < R; r++) {
      const o = r * C;
      let m = -Infinity;
      for (let c = 0; c < C; c++) if (x[o + c] > m) m = x[o + c];
      let s = 0;
      for (let c = 0; c < C; c++) { const e = Math.exp(x[o + c] - m); y[o + c] = e; s += e; }
      for (let c = 0; c < C; c++) y[o + c] /= s;
    }
  }

  softmaxGrad(y: FloatArray, dy: FloatArray, R: number, C: number, dx: FloatArray): void {
    for (let r = 0; r < R; r++) {
      const o = r * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += dy[o + c] * y[o + c];
      for (let c = 0; c < C; c++) dx[o + c] = y[o + c] * (dy[o + c] - s);
    }
  }

  softmaxCrossEntropy(logits: FloatArray, labels: Int32Array, R: number, V: number, ignoreIndex: number,
    grad: FloatArray | null, gradScale: number): { loss: number; count: number } {
    let loss = 0, count = 0;
    for (let r = 0; r < R; r++) {
      const o = r * V, label = labels[r];
      if (label === ignoreIndex) {
        if (grad) grad.fill(0, o, o + V);
        continue;
      }
      let m = -Infinity;
      for (let j = 0; j < V; j++) if (logits[o + j] > m) m = logits[o + j];
      let s = 0;
      for (let j = 0; j < V; j++) s += Math.exp(logits[o + j] - m);
      const lse = m + Math.log(s);
      loss += lse - logits[o + label];
      count++;
      if (grad) {
        for (let j = 0; j < V; j++) grad[o + j] = Math.exp(logits[o + j] - lse) * gradScale;
        grad[o + label] -= gradScale;
      }
    }
    return { loss, count };
  }

  distillKL(teacher: FloatArray, student: FloatArray, R: number, V: number, temperature: number,
    mask: FloatArray | null, grad: FloatArray | null, gradScale: number): number {
    const invT = 1 / temperature;
    let total = 0;
    for (let r = 0; r < R; r++) {
      const o = r * V, w = mask ? mask[r] : 1;
      if (w === 0) {
        if (grad) grad.fill(0, o, o + V);
        continue;
      }
      let mt = -Infinity, ms = -Infinity;
      for (let j = 0; j < V; j++) {
        if (teacher[o + j] > mt) mt = teacher[o + j];
        if (student[o + j] > ms) ms = student[o + j];
      }
      let st = 0, ss = 0;
      for (let j = 0; j < V; j++) {
        st += Math.exp((teacher[o + j] - mt) * invT);
        ss += Math.exp((student[o + j] - ms) * invT);
      }
      const lt = Math.log(st), ls = Math.log(ss);
      let kl = 0;
      for (let j = 0; j < V; j++) {
        const logPt = (teacher[o + j] - mt) * invT - lt;
        const logPs = (student[o + j] - ms) * invT - ls;
        const pt = Math.exp(logPt);
        kl += pt * (logPt - logPs);
        if (grad) grad[o + j] = w * gradScale * invT * (Math.exp(logPs) - pt);
      }
      total += w * kl;
    }
    return total;
  }

  gatherRows(table: FloatArray, idx: Int32Array, D: number, out: FloatArray): void {
    for (let i = 0; i < idx.length; i++) {
      const s = idx[i] * D;
      for (let j = 0; j < D; j++) out[i * D + j] = table[s + j];
    }
  }

  scatterAddRows(src: FloatArray, idx: Int32Array, D: number, out: FloatArray): void {
    for (let i = 0; i < idx.length; i++) {
      const o = idx[i] * D;
      for (let j = 0; j < D; j++) out[o + j] += src[i * D + j];
    }
  }

  attentionForward(q: FloatArray, k: FloatArray, v: FloatArray, B: number, T: number, H: number, Dh: number,
    causal: boolean, keyMask: FloatArray | null, out: FloatArray, probs: FloatArray): void {
    const E = H * Dh, scale = 1 / Math.sqrt(Dh);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
      const p0 = ((b * H + h) * T + i) * T, qo = (b * T + i) * E + h * Dh;
      let m = -Infinity;
      for (let j = 0; j < T; j++) {
        const visible = (!causal || j <= i) && (keyMask === null || keyMask[b * T + j] !== 0);
        let s = -Infinity;
        if (visible) {
          s = 0;
          const ko = (b * T + j) * E + h * Dh;
          for (let c = 0; c < Dh; c++) s += q[qo + c] * k[ko + c];
          s *= scale;
        }
        probs[p0 + j] = s;
        if (s > m) m = s;
      }
      let sum = 0;
      for (let j = 0; j < T; j++) {
        const e = m === -Infinity ? 0 : Math.exp(probs[p0 + j] - m);
        probs[p0 + j] = e; sum += e;
      }
      for (let j = 0; j < T; j++) probs[p0 + j] = sum > 0 ? probs[p0 + j] / sum : 0;
      for (let c = 0; c < Dh; c++) {
        let s = 0;
        for (let j = 0; j < T; j++) s += probs[p0 + j] * v[(b * T + j) * E + h * Dh + c];
        out[qo + c] = s;
      }
    }
  }

  attentionBackward(dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, probs: FloatArray,
    B: number, T: number, H: number, Dh: number, dq: FloatArray, dk: FloatArray, dv: FloatArray, _causal: boolean): void {
    // the reference runs every (query, key) pair whether causal or not: probs are 0 above the diagonal
    const E = H * Dh, scale = 1 / Math.sqrt(Dh);
    dq.fill(0); dk.fill(0); dv.fill(0);
    const dp = new Float64Array(T);
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
      const p0 = ((b * H + h) * T + i) * T, qo = (b * T + i) * E + h * Dh;
      let dot = 0;
      for (let j = 0; j < T; j++) {
        const vo = (b * T + j) * E + h * Dh;
        let s = 0;
        for (let c = 0; c < Dh; c++) {
          s += dout[qo + c] * v[vo + c];
          dv[vo + c] += probs[p0 + j] * dout[qo + c];
        }
        dp[j] = s; dot += s * probs[p0 + j];
      }
      for (let j = 0; j < T; j++) {
        const ds = probs[p0 + j] * (dp[j] - dot) * scale;
        if (ds === 0) continue;
        const ko = (b * T + j) * E + h * Dh;
        for (let c = 0; c < Dh; c++) {
          dq[qo + c] += ds * k[ko + c];
          dk[ko + c] += ds * q[qo + c];
        }
      }
    }
  }

  maskedScale(x: FloatArray, mask: Uint8Array, scale: number, out: FloatArray): void {
    for (let i = 0; i < x.length; i++) out[i] = mask[i] ? x[i] * scale : 0;
  }

  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamHyper): void {
    const bc1 = 1 - h.beta1 ** h.step, bc2 = 1 - h.beta2 ** h.step;
    const stepSize = h.lr / bc1, sqrtBc2 = Math.sqrt(bc2);
    for (let i = 0; i < p.length; i++) {
      let gi = g[i];
      if (h.decoupled) p[i] *= 1 - h.lr * h.weightDecay;
      else gi += h.weightDecay * p[i];
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * gi;
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
      p[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / sqrtBc2 + h.eps);
    }
  }

  lambStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: LambHyper): void {
    const bc1 = h.debias ? 1 - h.beta1 ** h.step : 1, bc2 = h.debias ? 1 - h.beta2 ** h.step : 1;
    let pn = 0, un = 0;
    for (let i = 0; i < p.length; i++) {
      m[i] = h.beta1 * m[i] + (1 - h.beta1) * g[i];
      v[i] = h.beta2 * v[i] + (1 - h.beta2) * g[i] * g[i];
      const u = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + h.eps) + h.weightDecay * p[i];
      pn += p[i] * p[i]; un += u * u;
    }
    let wn = Math.sqrt(pn);
    if (h.clampNorm > 0) wn = Math.min(wn, h.clampNorm);
    const ratio = wn > 0 && un > 0 ? wn / Math.sqrt(un) : 1;
    for (let i = 0; i < p.length; i++) {
      const u = m[i] / bc1 / (Math.sqrt(v[i] / bc2) + h.eps) + h.weightDecay * p[i];
      p[i] -= h.lr * ratio * u;
    }
  }

  quantizedScan(ix: QuantizedItems, q: QuantizedQuery, cand: Int32Array, candUpper: Float64Array): number {
    return quantizedScanJs(ix, q, cand, candUpper);
  }
}
