// The native backend: a thin wrapper over the Node-API addon built from native/ (binding.gyp).
// Float32 arguments go to the addon; a call with any Float64Array goes to the fallback (js)
// backend, which is how float64 gradient checks keep working. Shapes, strides and
// hyper-parameters travel in small preallocated typed arrays, so calls allocate nothing.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineThreads } from './threads.js';
import type { AdamHyper, BinaryOp, FloatArray, Kernels, LambHyper, QuantizedItems, QuantizedQuery, ReduceOp, UnaryOp } from './kernels.js';

/** Must equal kAbi in native/addon.cc; bumped whenever an addon signature changes. */
const NATIVE_ABI = 3;
const MAX_RANK = 8;

export type GemmLibrary = 'onednn' | 'openblas';

export interface NativeInfo {
  /** The library GEMMs currently run on. */
  gemm: GemmLibrary;
  /** Threads of the GEMM library and the kernels' parallel regions (ADAREC_THREADS, default the physical cores). */
  threads: number;
  /** The GEMM libraries this build was linked against. */
  available: GemmLibrary[];
  /** Parallel regions our kernels have opened so far in this process (GEMMs' own not counted). */
  parallelRegions: number;
  /** Where the addon was loaded from. */
  path: string;
}

type F32 = Float32Array;
type I32 = Int32Array;

/** The addon's exports (argument order mirrors the Kernels methods; see native/*.cc). */
interface Addon {
  abi: number;
  info(): { gemm: GemmLibrary; threads: number; available: GemmLibrary[]; parallelRegions: number };
  setThreads(n: number): void;
  setGemm(name: GemmLibrary): void;
  gemm(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
    A: F32, strideA: number, B: F32, strideB: number, C: F32, beta: number): void;
  binary(op: number, rank: number, dims: Float64Array, a: F32, b: F32, out: F32): void;
  unary(op: number, x: F32, out: F32): void;
  unaryGrad(op: number, x: F32, y: F32, dy: F32, dx: F32): void;
  reduce(op: number, rank: number, dims: Float64Array, x: F32, out: F32): void;
  stridedCopy(rank: number, dims: Float64Array, src: F32 | I32, dst: F32 | I32): void;
  axpy(alpha: number, x: F32, y: F32): void;
  scale(x: F32, s: number): void;
  sumSquares(x: F32): number;
  causalIm2col(x: F32, B: number, T: number, C: number, k: number, d: number, col: F32): void;
  causalCol2im(dcol: F32, B: number, T: number, C: number, k: number, d: number, dx: F32): void;
  pool1dForward(x: F32, B: number, T: number, C: number, before: number, after: number, max: boolean,
    out: F32, argmax: Int32Array): void;
  pool1dBackward(dy: F32, B: number, T: number, C: number, before: number, after: number, max: boolean,
    argmax: Int32Array, dx: F32): void;
  addRowVector(out: F32, bias: F32, R: number, N: number): void;
  sumRows(dy: F32, R: number, N: number, db: F32, accumulate: boolean): void;
  layerNormForward(x: F32, gamma: F32, beta: F32, R: number, C: number, eps: number, relu: boolean,
    y: F32, mean: F32, rstd: F32): void;
  layerNormBackward(dy: F32, x: F32, gamma: F32, mean: F32, rstd: F32, y: F32 | null, R: number, C: number,
    dx: F32, dgamma: F32, dbeta: F32): void;
  batchNormForward(x: F32, gamma: F32, beta: F32, R: number, C: number, eps: number, training: boolean,
    momentum: number, runningMean: F32, runningVar: F32, y: F32, mean: F32, rstd: F32): void;
  batchNormBackward(dy: F32, x: F32, gamma: F32, mean: F32, rstd: F32, R: number, C: number,
    dx: F32, dgamma: F32, dbeta: F32): void;
  softmax(x: F32, R: number, C: number, y: F32): void;
  softmaxGrad(y: F32, dy: F32, R: number, C: number, dx: F32): void;
  softmaxCrossEntropy(logits: F32, labels: I32, R: number, V: number, ignoreIndex: number, grad: F32 | null,
    gradScale: number, result: Float64Array): void;
  distillKL(teacher: F32, student: F32, R: number, V: number, temperature: number, mask: F32 | null,
    grad: F32 | null, gradScale: number): number;
  gatherRows(table: F32, idx: I32, D: number, out: F32): void;
  scatterAddRows(src: F32, idx: I32, D: number, out: F32): void;
  attentionForward(q: F32, k: F32, v: F32, B: number, T: number, H: number, Dh: number, causal: boolean,
    keyMask: F32 | null, out: F32, probs: F32): void;
  attentionBackward(dout: F32, q: F32, k: F32, v: F32, probs: F32, B: number, T: number, H: number, Dh: number,
    dq: F32, dk: F32, dv: F32, causal: boolean): void;
  maskedScale(x: F32, mask: Uint8Array, scale: number, out: F32): void;
  adamStep(p: F32, g: F32, m: F32, v: F32, hyper: Float64Array): void;
  lambStep(p: F32, g: F32, m: F32, v: F32, hyper: Float64Array): void;
  quantizedScan(items: Int8Array, rows: number, groups: number, rowScale: F32, bias: F32, blockRows: number,
    query: Int8Array, queryScale: number, blockErr: Float64Array, blockMax: Float64Array, k: number,
    excluded: Uint8Array, cand: I32, candUpper: Float64Array): number;
}

let addon: Addon | null = null;
let loadedFrom = '';

/** Where the addon is looked for: $ADAREC_NATIVE_PATH, else <package root>/build/Release/adarec_native.node. */
export function nativeAddonPath(): string {
  const env = process.env.ADAREC_NATIVE_PATH;
  if (env) return resolve(env);
  // this file compiles to dist/src/engine/backend/native.js: the package root is 4 levels up
  return fileURLToPath(new URL('../../../../build/Release/adarec_native.node', import.meta.url));
}

function loadAddon(): Addon {
  if (addon) return addon;
  const path = nativeAddonPath();
  if (!existsSync(path)) throw new Error(`native addon not built (${path} is missing; run \`npm run build:native\`)`);
  // libgomp (oneDNN's and the kernels' thread pool) reads this when the addon loads it. Its
  // default spins at barriers, which costs 2-3x when other processes hold the cores (bench:threads
  // on a loaded machine); passive waits sleep instead. A value the user set is kept.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  let a: Addon;
  try {
    a = createRequire(import.meta.url)(path) as Addon;
  } catch (e) {
    const msg = String((e as Error).message ?? e).split('\n')[0];
    throw new Error(`cannot load ${path}: ${msg}`);
  }
  if (a.abi !== NATIVE_ABI)
    throw new Error(`native addon ${path} is stale (abi ${String(a.abi)}, expected ${NATIVE_ABI}); run \`npm run build:native\``);
  // one rule for the count (threads.ts: ADAREC_THREADS, else the physical cores); the addon's own
  // start-up reading of the variable only checks it
  a.setThreads(engineThreads());
  loadedFrom = path;
  return (addon = a);
}

/**
 * Loads the addon and returns the native Kernels; Float64 calls go to `fallback`.
 * Throws an Error with a one-line reason when the addon is missing or does not load.
 */
export function loadNativeKernels(fallback: Kernels): Kernels {
  return new NativeKernels(loadAddon(), fallback);
}

/** GEMM library and threads of the native backend, or null when the addon does not load. */
export function nativeInfo(): NativeInfo | null {
  try {
    const a = loadAddon();
    return { ...a.info(), path: loadedFrom };
  } catch {
    return null;
  }
}

/** Sets the kernels' thread count, GEMM included (throws if the addon does not load). */
export function setNativeThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`thread count must be a positive integer, got ${n}`);
  loadAddon().setThreads(n);
}

/** Switches the GEMM library at runtime (throws if the addon does not load or lacks it). */
export function setNativeGemm(name: GemmLibrary): void {
  loadAddon().setGemm(name);
}

const BINARY: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };
const UNARY: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, relu: 4, tanh: 5, sigmoid: 6, abs: 7, square: 8,
};
const REDUCE: Record<ReduceOp, number> = { sum: 0, max: 1 };

const isF32 = (x: unknown): x is Float32Array => x instanceof Float32Array;

class NativeKernels implements Kernels {
  readonly name = 'native' as const;
  // Per-call parameter blocks, reused (calls are synchronous).
  private readonly dims = new Float64Array(MAX_RANK * 3);
  private readonly hyper = new Float64Array(8);
  private readonly ceResult = new Float64Array(2);

  constructor(private readonly n: Addon, private readonly js: Kernels) {}

  /** Packs shape and up to two stride lists into `dims` (shape at 0, strides at 8 and 16). */
  private pack(shape: readonly number[], s1: readonly number[], s2?: readonly number[]): void {
    const d = this.dims;
    for (let i = 0; i < shape.length; i++) {
      d[i] = shape[i];
      d[MAX_RANK + i] = s1[i];
      if (s2) d[2 * MAX_RANK + i] = s2[i];
    }
  }

  gemm(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number,
    A: FloatArray, strideA: number, B: FloatArray, strideB: number, C: FloatArray, beta: number): void {
    if (isF32(A) && isF32(B) && isF32(C)) this.n.gemm(transA, transB, batch, M, N, K, A, strideA, B, strideB, C, beta);
    else this.js.gemm(transA, transB, batch, M, N, K, A, strideA, B, strideB, C, beta);
  }

  binary(op: BinaryOp, shape: readonly number[], a: FloatArray, sa: readonly number[],
    b: FloatArray, sb: readonly number[], out: FloatArray): void {
    if (isF32(a) && isF32(b) && isF32(out) && shape.length <= MAX_RANK) {
      this.pack(shape, sa, sb);
      this.n.binary(BINARY[op], shape.length, this.dims, a, b, out);
    } else this.js.binary(op, shape, a, sa, b, sb, out);
  }

  unary(op: UnaryOp, x: FloatArray, out: FloatArray): void {
    if (isF32(x) && isF32(out)) this.n.unary(UNARY[op], x, out);
    else this.js.unary(op, x, out);
  }

  unaryGrad(op: UnaryOp, x: FloatArray, y: FloatArray, dy: FloatArray, dx: FloatArray): void {
    if (isF32(x) && isF32(y) && isF32(dy) && isF32(dx)) this.n.unaryGrad(UNARY[op], x, y, dy, dx);
    else this.js.unaryGrad(op, x, y, dy, dx);
  }

  reduce(op: ReduceOp, shape: readonly number[], x: FloatArray, so: readonly number[], out: FloatArray): void {
    if (isF32(x) && isF32(out) && shape.length <= MAX_RANK) {
      this.pack(shape, so);
      this.n.reduce(REDUCE[op], shape.length, this.dims, x, out);
    } else this.js.reduce(op, shape, x, so, out);
  }

  stridedCopy(shape: readonly number[], src: FloatArray | Int32Array, ss: readonly number[],
    dst: FloatArray | Int32Array, ds: readonly number[]): void {
    const same = (isF32(src) && isF32(dst)) || (src instanceof Int32Array && dst instanceof Int32Array);
    if (same && shape.length <= MAX_RANK) {
      this.pack(shape, ss, ds);
      this.n.stridedCopy(shape.length, this.dims, src, dst);
    } else this.js.stridedCopy(shape, src, ss, dst, ds);
  }

  axpy(alpha: number, x: FloatArray, y: FloatArray): void {
    if (isF32(x) && isF32(y)) this.n.axpy(alpha, x, y);
    else this.js.axpy(alpha, x, y);
  }

  scale(x: FloatArray, s: number): void {
    if (isF32(x)) this.n.scale(x, s);
    else this.js.scale(x, s);
  }

  sumSquares(x: FloatArray): number {
    return isF32(x) ? this.n.sumSquares(x) : this.js.sumSquares(x);
  }

  causalIm2col(x: FloatArray, B: number, T: number, C: number, k: number, d: number, col: FloatArray): void {
    if (isF32(x) && isF32(col)) this.n.causalIm2col(x, B, T, C, k, d, col);
    else this.js.causalIm2col(x, B, T, C, k, d, col);
  }

  causalCol2im(dcol: FloatArray, B: number, T: number, C: number, k: number, d: number, dx: FloatArray): void {
    if (isF32(dcol) && isF32(dx)) this.n.causalCol2im(dcol, B, T, C, k, d, dx);
    else this.js.causalCol2im(dcol, B, T, C, k, d, dx);
  }

  pool1dForward(x: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    out: FloatArray, argmax: Int32Array): void {
    if (isF32(x) && isF32(out)) this.n.pool1dForward(x, B, T, C, before, after, max, out, argmax);
    else this.js.pool1dForward(x, B, T, C, before, after, max, out, argmax);
  }

  pool1dBackward(dy: FloatArray, B: number, T: number, C: number, before: number, after: number, max: boolean,
    argmax: Int32Array, dx: FloatArray): void {
    if (isF32(dy) && isF32(dx)) this.n.pool1dBackward(dy, B, T, C, before, after, max, argmax, dx);
    else this.js.pool1dBackward(dy, B, T, C, before, after, max, argmax, dx);
  }

  // a scan at memory speed, a small share of a step beside the convolutions: the JS loop serves both
  causalMeanForward(x: FloatArray, keep: FloatArray, B: number, T: number, C: number, out: FloatArray, inv: Float32Array): void {
    this.js.causalMeanForward(x, keep, B, T, C, out, inv);
  }

  causalMeanBackward(dy: FloatArray, keep: FloatArray, B: number, T: number, C: number, inv: Float32Array, dx: FloatArray): void {
    this.js.causalMeanBackward(dy, keep, B, T, C, inv, dx);
  }

  addRowVector(out: FloatArray, bias: FloatArray, R: number, N: number): void {
    if (isF32(out) && isF32(bias)) this.n.addRowVector(out, bias, R, N);
    else this.js.addRowVector(out, bias, R, N);
  }

  sumRows(dy: FloatArray, R: number, N: number, db: FloatArray, accumulate: boolean): void {
    if (isF32(dy) && isF32(db)) this.n.sumRows(dy, R, N, db, accumulate);
    else this.js.sumRows(dy, R, N, db, accumulate);
  }

  layerNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    relu: boolean, y: FloatArray, mean: FloatArray, rstd: FloatArray): void {
    if (isF32(x) && isF32(gamma) && isF32(beta) && isF32(y) && isF32(mean) && isF32(rstd))
      this.n.layerNormForward(x, gamma, beta, R, C, eps, relu, y, mean, rstd);
    else this.js.layerNormForward(x, gamma, beta, R, C, eps, relu, y, mean, rstd);
  }

  layerNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    y: FloatArray | null, R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    if (isF32(dy) && isF32(x) && isF32(gamma) && isF32(mean) && isF32(rstd) && (y === null || isF32(y)) &&
      isF32(dx) && isF32(dgamma) && isF32(dbeta))
      this.n.layerNormBackward(dy, x, gamma, mean, rstd, y, R, C, dx, dgamma, dbeta);
    else this.js.layerNormBackward(dy, x, gamma, mean, rstd, y, R, C, dx, dgamma, dbeta);
  }

  batchNormForward(x: FloatArray, gamma: FloatArray, beta: FloatArray, R: number, C: number, eps: number,
    training: boolean, momentum: number, runningMean: FloatArray, runningVar: FloatArray,
    y: FloatArray, mean: FloatArray, rstd: FloatArray): void {
    if (isF32(x) && isF32(gamma) && isF32(beta) && isF32(runningMean) && isF32(runningVar) && isF32(y) &&
      isF32(mean) && isF32(rstd))
      this.n.batchNormForward(x, gamma, beta, R, C, eps, training, momentum, runningMean, runningVar, y, mean, rstd);
    else this.js.batchNormForward(x, gamma, beta, R, C, eps, training, momentum, runningMean, runningVar, y, mean, rstd);
  }

  batchNormBackward(dy: FloatArray, x: FloatArray, gamma: FloatArray, mean: FloatArray, rstd: FloatArray,
    R: number, C: number, dx: FloatArray, dgamma: FloatArray, dbeta: FloatArray): void {
    if (isF32(dy) && isF32(x) && isF32(gamma) && isF32(mean) && isF32(rstd) && isF32(dx) && isF32(dgamma) &&
      isF32(dbeta))
      this.n.batchNormBackward(dy, x, gamma, mean, rstd, R, C, dx, dgamma, dbeta);
    else this.js.batchNormBackward(dy, x, gamma, mean, rstd, R, C, dx, dgamma, dbeta);
  }

  softmax(x: FloatArray, R: number, C: number, y: FloatArray): void {
    if (isF32(x) && isF32(y)) this.n.softmax(x, R, C, y);
    else this.js.softmax(x, R, C, y);
  }

  softmaxGrad(y: FloatArray, dy: FloatArray, R: number, C: number, dx: FloatArray): void {
    if (isF32(y) && isF32(dy) && isF32(dx)) this.n.softmaxGrad(y, dy, R, C, dx);
    else this.js.softmaxGrad(y, dy, R, C, dx);
  }

  softmaxCrossEntropy(logits: FloatArray, labels: Int32Array, R: number, V: number, ignoreIndex: number,
    grad: FloatArray | null, gradScale: number): { loss: number; count: number } {
    if (!isF32(logits) || (grad !== null && !isF32(grad)))
      return this.js.softmaxCrossEntropy(logits, labels, R, V, ignoreIndex, grad, gradScale);
    const r = this.ceResult;
    this.n.softmaxCrossEntropy(logits, labels, R, V, ignoreIndex, grad, gradScale, r);
    return { loss: r[0], count: r[1] };
  }

  distillKL(teacher: FloatArray, student: FloatArray, R: number, V: number, temperature: number,
    mask: FloatArray | null, grad: FloatArray | null, gradScale: number): number {
    if (isF32(teacher) && isF32(student) && (mask === null || isF32(mask)) && (grad === null || isF32(grad)))
      return this.n.distillKL(teacher, student, R, V, temperature, mask, grad, gradScale);
    return this.js.distillKL(teacher, student, R, V, temperature, mask, grad, gradScale);
  }

  gatherRows(table: FloatArray, idx: Int32Array, D: number, out: FloatArray): void {
    if (isF32(table) && isF32(out)) this.n.gatherRows(table, idx, D, out);
    else this.js.gatherRows(table, idx, D, out);
  }

  scatterAddRows(src: FloatArray, idx: Int32Array, D: number, out: FloatArray): void {
    if (isF32(src) && isF32(out)) this.n.scatterAddRows(src, idx, D, out);
    else this.js.scatterAddRows(src, idx, D, out);
  }

  attentionForward(q: FloatArray, k: FloatArray, v: FloatArray, B: number, T: number, H: number, Dh: number,
    causal: boolean, keyMask: FloatArray | null, out: FloatArray, probs: FloatArray): void {
    if (isF32(q) && isF32(k) && isF32(v) && (keyMask === null || isF32(keyMask)) && isF32(out) && isF32(probs))
      this.n.attentionForward(q, k, v, B, T, H, Dh, causal, keyMask, out, probs);
    else this.js.attentionForward(q, k, v, B, T, H, Dh, causal, keyMask, out, probs);
  }

  attentionBackward(dout: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray, probs: FloatArray,
    B: number, T: number, H: number, Dh: number, dq: FloatArray, dk: FloatArray, dv: FloatArray, causal: boolean): void {
    if (isF32(dout) && isF32(q) && isF32(k) && isF32(v) && isF32(probs) && isF32(dq) && isF32(dk) && isF32(dv))
      this.n.attentionBackward(dout, q, k, v, probs, B, T, H, Dh, dq, dk, dv, causal);
    else this.js.attentionBackward(dout, q, k, v, probs, B, T, H, Dh, dq, dk, dv, causal);
  }

  maskedScale(x: FloatArray, mask: Uint8Array, scale: number, out: FloatArray): void {
    if (isF32(x) && isF32(out)) this.n.maskedScale(x, mask, scale, out);
    else this.js.maskedScale(x, mask, scale, out);
  }

  adamStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamHyper): void {
    if (!(isF32(p) && isF32(g) && isF32(m) && isF32(v))) return this.js.adamStep(p, g, m, v, h);
    const hp = this.hyper;
    hp[0] = h.lr; hp[1] = h.beta1; hp[2] = h.beta2; hp[3] = h.eps; hp[4] = h.weightDecay;
    hp[5] = h.decoupled ? 1 : 0; hp[6] = h.step;
    this.n.adamStep(p, g, m, v, hp);
  }

  lambStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: LambHyper): void {
    if (!(isF32(p) && isF32(g) && isF32(m) && isF32(v))) return this.js.lambStep(p, g, m, v, h);
    const hp = this.hyper;
    hp[0] = h.lr; hp[1] = h.beta1; hp[2] = h.beta2; hp[3] = h.eps; hp[4] = h.weightDecay;
    hp[5] = h.step; hp[6] = h.debias ? 1 : 0; hp[7] = h.clampNorm;
    this.n.lambStep(p, g, m, v, hp);
  }

  quantizedScan(ix: QuantizedItems, q: QuantizedQuery, cand: Int32Array, candUpper: Float64Array): number {
    return this.n.quantizedScan(ix.items, ix.rows, ix.groups, ix.rowScale, ix.bias, ix.blockRows,
      q.query, q.queryScale, q.blockErr, q.blockMax, q.k, q.excluded, cand, candUpper);
  }
}
