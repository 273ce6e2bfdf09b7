// The kernel interface: every numeric loop the engine runs goes through one of these methods.
// Kernels see raw typed arrays (already offset to the tensor's first element), never Tensors,
// and know nothing of autograd. Both backends implement all of it; `js` is the reference.
// Unless a parameter says otherwise, arrays are dense row-major and outputs are fully written.

export type FloatArray = Float32Array | Float64Array;

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];

export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'relu' | 'tanh' | 'sigmoid' | 'abs' | 'square';
export const UNARY_OPS: readonly UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'relu', 'tanh', 'sigmoid', 'abs', 'square'];

export type ReduceOp = 'sum' | 'max';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decay the weights directly; Adam: add weightDecay * p to the gradient. */
  decoupled: boolean;
  /** 1-based step count, for bias correction. */
  step: number;
}

export interface LambHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  step: number;
  /** Bias-correct the moments (LAMB paper, algorithm 2). */
  debias: boolean;
  /** Upper bound on ||p|| in the trust ratio (0 = none). */
  clampNorm: number;
}

/**
 * An int8 copy of N item vectors for quantizedScan (built by serve/item-index.ts). Rows come in
 * groups of 16 ("lanes") and dims in groups of 4: byte ((r >> 4) * G + g) * 64 + (r & 15) * 4 + j
 * holds row r's dim 4g + j, values in [-127, 127] (rows past N in the last group are zero). A
 * row's approximate score is fl(fl(fl(queryScale * rowScale[r]) * dot_r) + bias[r]) in float32
 * arithmetic, dot_r the exact integer dot product with the query. rowScale and bias hold
 * ceil(N / 16) * 16 entries (the padding: scale 0, bias -Infinity).
 */
export interface QuantizedItems {
  items: Int8Array;
  rows: number;
  /** Dims / 4; at most 256, so that |dot| < 2^24 is exact in float32. */
  groups: number;
  rowScale: Float32Array;
  bias: Float32Array;
  /** Rows per block, a multiple of 16: the unit of blockErr and blockMax. */
  blockRows: number;
}

export interface QuantizedQuery {
  /** groups * 4 values in [-127, 127]. */
  query: Int8Array;
  /** A float32 value. */
  queryScale: number;
  /** Per block: the most a row's approximate score can differ from its true score (either side). */
  blockErr: Float64Array;
  /** Per block: an upper bound of every row's true score. */
  blockMax: Float64Array;
  /** How many of the best rows to keep the lower bounds of (k >= 1). */
  k: number;
  /** excluded[r] = 1: row r does not count towards the k (it may still come back as a candidate). */
  excluded: Uint8Array;
}

export interface Kernels {
  readonly name: 'js' | 'native';

  /**
   * Batched GEMM: C[i] = op(A[i]) op(B[i]) + beta * C[i] for i < batch, row-major, where
   * op(A) is M x K, op(B) is K x N. strideA/strideB are per-batch element strides (0 broadcasts).
   * C[i] starts at i * M * N. lda/ldb are implied by the untransposed shapes.
   */
  gemm(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
    A: FloatArray, strideA: number, B: FloatArray, strideB: number, C: FloatArray, beta: number): void;

  /** out[idx] = op(a[idx . stridesA], b[idx . stridesB]) over `shape` (out dense). Strides may be 0. */
  binary(op: BinaryOp, shape: readonly number[], a: FloatArray, stridesA: readonly number[],
    b: FloatArray, stridesB: readonly number[], out: FloatArray): void;

  /** out = op(x), elementwise; out may alias x. */
  unary(op: UnaryOp, x: FloatArray, out: FloatArray): void;

  /** dx = dy * op'(x) given x and y = op(x); dx may alias dy. */
  unaryGrad(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray): void;

  /** out[idx . stridesOut] (op)= x[idx] over `shape`; axes with stride 0 in stridesOut are reduced. */
  reduce(op: ReduceOp, shape: readonly number[], x: FloatArray, stridesOut: readonly number[], out: FloatArray): void;

  /** dst[idx . dstStrides] = src[idx . srcStrides] over `shape` (works for float and int arrays). */
  stridedCopy(shape: readonly number[], src: FloatArray | Int32Array, srcStrides: readonly number[],
    dst: FloatArray | Int32Array, dstStrides: readonly number[]): void;

  /** y += alpha * x (in place, same length). */
  axpy(alpha: number, x: FloatArray, y: FloatArray): void;
  /** x *= s (in place). */
  scale(x: FloatArray, s: number): void;
  /** sum of x[i]^2 in double precision. */
  sumSquares(x: FloatArray): number;

  /** col[b,t,j*C+c] = x[b, t-(k-1-j)*d, c], or 0 before the sequence start. x [B,T,C], col [B,T,k*C]. */
  causalIm2col(x: FloatArray, B: number, T: number, C: number, k: number, d: number, col: FloatArray): void;
  /** The adjoint of causalIm2col: dx = sum of dcol entries that read each x element (dx overwritten). */
  causalCol2im(dcol: FloatArray, B: number, T: number, C: number, k: number, d: number, dx: FloatArray): void;

  /** Stride-1 pooling over time: out[b,t,c] = the max or the mean of x[b,s,c] over s in
   *  t-before .. t+after clipped to [0, T). With max, argmax[b,t,c] gets the flat index of the first
   *  winning x element (argmax may be empty: with avg, or with max when no backward will follow). x, out [B,T,C]. */
  pool1dForward(x: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    out: FloatArray, argmax: Int32Array): void;
  /** The adjoint of pool1dForward: dx (overwritten) from dy, through argmax (max) or the windows (avg). */
  pool1dBackward(dy: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    argmax: Int32Array, dx: FloatArray): void;

  /** Running mean over time of the kept positions: out[b,t,c] = the mean of x[b,s,c] over s <= t
   *  with keep[b,s] != 0 (keep empty: every position), 0 before the first kept one; inv[b,t] gets
   *  1 / that count (0 when none). x, out [B,T,C]; keep, inv [B,T]. */
  causalMeanForward(x: FloatArray, keep: FloatArray, B: number, T: number, C: number, out: FloatArray, inv: Float32Array): void;
  /** The adjoint of causalMeanForward: dx[b,s,c] = keep[b,s] * sum over t >= s of dy[b,t,c] * inv[b,t] (dx overwritten). */
  causalMeanBackward(dy: FloatArray, keep: FloatArray, B: number, T: number, C: number, inv: Float32Array, dx: FloatArray): void;

  /** out[r,:] += bias[:] for r < R (bias broadcast over rows, in place). */
  addRowVector(out: FloatArray, bias: FloatArray, R: number, N: number): void;
  /** db[:] (+)= sum over rows of dy[r,:]; overwrites db when accumulate is false. */
  sumRows(dy: FloatArray, R: number, N: number, db: FloatArray, accumulate: boolean): void;

  /** LayerNorm over the last axis, optionally followed by ReLU. Saves mean and 1/std per row. */
  layerNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    relu: boolean, y: FloatArray, mean: FloatArray, rstd: FloatArray): void;
  /** Backward of layerNormForward. With relu, y (the post-ReLU output) is the mask; dgamma/dbeta are overwritten. */
  layerNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    y: FloatArray | null, R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void;

  /**
   * BatchNorm over the rows of x [R, C] per channel. training: normalise with the batch statistics,
   * write them to mean/rstd and update running stats (momentum, unbiased variance as PyTorch);
   * eval: normalise with the running statistics.
   */
  batchNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    training: boolean, momentum: number, runningMean: FloatArray, runningVar: FloatArray,
    y: FloatArray, mean: FloatArray, rstd: FloatArray): void;
  /** Backward of training-mode batchNormForward; dgamma/dbeta are overwritten. */
  batchNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void;

  /** Row softmax of x [R, C]. */
  softmax(x: FloatArray, R: number, C: number, y: FloatArray): void;
  /** dx = y * (dy - sum(dy * y)) per row. */
  softmaxGrad(y: FloatArray, dy: FloatArray, R: number, C: number, dx: FloatArray): void;

  /**
   * Softmax cross-entropy of logits [R, V] against labels [R], rows whose label equals ignoreIndex
   * skipped. Returns the summed loss and the count of rows used. If grad is given it receives
   * (softmax - onehot) * gradScale for used rows and 0 for ignored rows, in the same pass.
   */
  softmaxCrossEntropy(logits: FloatArray, labels: Int32Array, R: number, V: number, ignoreIndex: number,
    grad: FloatArray | null, gradScale: number): { loss: number; count: number };

  /**
   * Distillation KL(softmax(t/T) || softmax(s/T)) per row of [R, V], weighted by mask[r] (null = all 1).
   * Returns the weighted sum over rows. If grad is given it receives d(sum * gradScale)/d s.
   */
  distillKL(teacher: FloatArray, student: FloatArray, R: number, V: number, temperature: number,
    mask: FloatArray | null, grad: FloatArray | null, gradScale: number): number;

  /** out[i,:] = table[idx[i],:]; indices are validated by the caller. */
  gatherRows(table: FloatArray, idx: Int32Array, D: number, out: FloatArray): void;
  /** out[idx[i],:] += src[i,:] (out not cleared). */
  scatterAddRows(src: FloatArray, idx: Int32Array, D: number, out: FloatArray): void;

  /**
   * Scaled dot-product attention. q, k, v, out are [B, T, H*Dh] (heads interleaved in the last
   * axis). keyMask [B, T] (1 keep, 0 drop) may be null; causal masks keys after the query. Rows
   * with no visible key output 0. probs [B, H, T, T] receives the attention weights for backward.
   */
  attentionForward(q: FloatArray, k: FloatArray, v: FloatArray, B: number, T: number, H: number, Dh: number,
    causal: boolean, keyMask: FloatArray | null, out: FloatArray, probs: FloatArray): void;
  /**
   * Backward of attentionForward; dq, dk, dv are overwritten. causal: the forward was causal, so
   * probs is zero above the diagonal and a backend may skip that triangle (the result is the same).
   */
  attentionBackward(dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, probs: FloatArray,
    B: number, T: number, H: number, Dh: number, dq: FloatArray, dk: FloatArray, dv: FloatArray, causal: boolean): void;

  /** out = x * mask * scale (dropout with a precomputed 0/1 mask). */
  maskedScale(x: FloatArray, mask: Uint8Array, scale: number, out: FloatArray): void;

  /** One Adam / AdamW update of p in place, moments m, v updated in place. */
  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamHyper): void;
  /** One LAMB update of p in place (layer-wise trust ratio ||p|| / ||update||). */
  lambStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: LambHyper): void;

  /**
   * The pruning pass of an exact top-k over quantized items. tau is the k-th largest lower bound
   * (approx - blockErr) among the non-excluded rows seen so far (-Infinity until k are seen);
   * blocks with blockMax < tau are skipped unread. Writes to cand / candUpper (capacity >= rows)
   * every row whose upper bound approx + blockErr is >= the final tau, with that bound, in row
   * order, and returns their count: a superset of the rows whose true score can reach the k-th
   * largest true score of the non-excluded rows.
   */
  quantizedScan(items: QuantizedItems, query: QuantizedQuery, cand: Int32Array, candUpper: Float64Array): number;
}
