// Tensors: a typed-array storage seen through a shape, strides and an offset. Views (reshape of
// a contiguous tensor, transpose, slice) share storage; kernels get dense arrays via `values`.
import { type AnyArray, type DType, Storage, dtypeOf, pool, track } from './memory.js';
import { kernels } from './backend/index.js';

export type { DType } from './memory.js';
export type Shape = readonly number[];

let nextId = 1;
let defaultFloat: 'float32' | 'float64' = 'float32';

/** The float dtype of new parameters and of tensors made from plain arrays (float64 for gradient checks). */
export function setDefaultFloat(d: 'float32' | 'float64'): void {
  defaultFloat = d;
}
export function getDefaultFloat(): 'float32' | 'float64' {
  return defaultFloat;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

export function denseStrides(shape: Shape): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** The op that produced a tensor, on the autograd tape (engine/autograd.ts records and walks it). */
export interface TapeNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  /**
   * Gradients for each input (null where an input needs none). May return `gy` itself once. A leaf
   * with `sparseAxis` set may get a SliceGrad instead of a dense gradient.
   */
  readonly backward: (gy: Tensor) => readonly (Tensor | SliceGrad | null)[];
}

/**
 * The gradient of a leaf that is non-zero on a few of its slices only: rows (axis 0) of an
 * embedding table [V, C] or entries of a bias [V], columns (axis 1) of an output layer's weight
 * [C, V]. As the sparse gradient of torch's nn.Embedding(sparse=True), kept as whole slices:
 * `values` [index.length, slice length] holds the gradient of slice index[k] in its row k; `index`
 * is ascending and without repeats. engine/sparse.ts builds, merges and applies them.
 */
export interface SliceGrad {
  readonly axis: 0 | 1;
  readonly index: Int32Array;
  readonly values: Tensor;
}

export class Tensor {
  readonly isTensor = true;
  readonly id = nextId++;
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient of a leaf that requires grad. */
  grad: Tensor | null = null;
  /**
   * Set on a leaf whose gradient touches few of its slices along this axis (a catalog's embedding
   * table: 0, its output weight: 1, its output bias: 0): the ops that know which slices they touch
   * (F.embedding, F.linearColumns) then accumulate into `sliceGrad` instead of a dense `.grad`, so
   * a step's gradient and update cost O(touched slices), not O(catalog). Other ops give `.grad`;
   * an optimizer adds the two when both are present.
   */
  sparseAxis: 0 | 1 | null = null;
  /** The accumulated slice gradient of a `sparseAxis` leaf (null when none). */
  sliceGrad: SliceGrad | null = null;
  /** The tape node that produced this tensor (null for leaves). */
  node: TapeNode | null = null;
  private disposed = false;

  constructor(
    private storage: Storage,
    readonly shape: Shape,
    readonly strides: Shape = denseStrides(shape),
    readonly offset = 0,
  ) {
    this.size = sizeOf(shape);
    track(this);
  }

  get dtype(): DType {
    return dtypeOf(this.storage.buf);
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The whole underlying buffer (shared with views). */
  get buffer(): AnyArray {
    this.assertAlive();
    return this.storage.buf;
  }

  get isContiguous(): boolean {
    let s = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== s) return false;
      s *= this.shape[d];
    }
    return true;
  }

  /** The elements as a dense array (no copy: the tensor must be contiguous; see `contiguous()`). */
  get values(): AnyArray {
    this.assertAlive();
    if (!this.isContiguous) throw new Error(`values of a non-contiguous tensor ${shapeString(this.shape)}: call contiguous() first`);
    const buf = this.storage.buf;
    return this.offset === 0 && this.size === buf.length ? buf : buf.subarray(this.offset, this.offset + this.size);
  }

  /** A view sharing storage with this tensor. */
  view(shape: Shape, strides: Shape, offset: number): Tensor {
    this.assertAlive();
    return new Tensor(this.storage.retain(), shape, strides, offset);
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a tensor of one element, got ${shapeString(this.shape)}`);
    return this.buffer[this.offset];
  }

  /** A plain copy of the elements in row-major order. */
  toArray(): number[] {
    const out: number[] = [];
    const buf = this.buffer;
    const idx = new Array<number>(this.rank).fill(0);
    for (let i = 0; i < this.size; i++) {
      let o = this.offset;
      for (let d = 0; d < this.rank; d++) o += idx[d] * this.strides[d];
      out.push(buf[o]);
      for (let d = this.rank - 1; d >= 0; d--) {
        if (++idx[d] < this.shape[d]) break;
        idx[d] = 0;
      }
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    if (this.sliceGrad) {
      this.sliceGrad.values.dispose();
      this.sliceGrad = null;
    }
  }

  toString(): string {
    return `Tensor(${this.dtype} ${shapeString(this.shape)})`;
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error(`use of a disposed tensor ${shapeString(this.shape)} (#${this.id})`);
  }
}

// ---- creation ----

/** An uninitialised dense tensor from the pool (for kernels that write every element). */
export function empty(shape: Shape, dtype: DType = defaultFloat): Tensor {
  return new Tensor(new Storage(pool.acquire(dtype, sizeOf(shape)), true), [...shape]);
}

export function full(shape: Shape, value: number, dtype: DType = defaultFloat): Tensor {
  const t = empty(shape, dtype);
  t.buffer.fill(value);
  return t;
}

export function zeros(shape: Shape, dtype: DType = defaultFloat): Tensor {
  return full(shape, 0, dtype);
}

export function ones(shape: Shape, dtype: DType = defaultFloat): Tensor {
  return full(shape, 1, dtype);
}

export function scalar(value: number, dtype: DType = defaultFloat): Tensor {
  return full([], value, dtype);
}

/** A tensor holding a copy of `data` (plain numbers or a typed array) with the given shape. */
export function tensor(data: ArrayLike<number>, shape?: Shape, dtype?: DType): Tensor {
  const sh = shape ?? [data.length];
  if (sizeOf(sh) !== data.length) throw new Error(`tensor: ${data.length} values do not fill shape ${shapeString(sh)}`);
  const dt = dtype ?? (data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : data instanceof Int32Array ? 'int32' : defaultFloat);
  const t = empty(sh, dt);
  (t.buffer as { set(a: ArrayLike<number>): void }).set(data);
  return t;
}

/** Wraps an existing array without copying (the caller keeps ownership; it is never pooled). */
export function fromBuffer(buf: AnyArray, shape: Shape): Tensor {
  if (sizeOf(shape) !== buf.length) throw new Error(`fromBuffer: ${buf.length} values do not fill shape ${shapeString(shape)}`);
  return new Tensor(new Storage(buf, false), [...shape]);
}

/** A dense copy (materialises views). Not recorded on the tape: see ops `contiguous` for that. */
export function clone(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype);
  if (t.isContiguous) out.buffer.set(t.values);
  else kernels().stridedCopy(t.shape, t.buffer.subarray(t.offset), t.strides, out.buffer, out.strides);
  return out;
}
