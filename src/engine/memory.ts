// Memory management: a pool of typed-array buffers keyed by dtype and size class, reference-counted
// storages shared by views, and `tidy` scopes that release every tensor created inside them.
// In steady-state training each step asks for the same sizes as the last one, so the pool serves
// them all and the step allocates (almost) nothing.

export type DType = 'float32' | 'float64' | 'int32';
export type TypedArrayOf<D extends DType> = D extends 'float32' ? Float32Array : D extends 'float64' ? Float64Array : Int32Array;
export type AnyArray = Float32Array | Float64Array | Int32Array;

function makeArray(dtype: DType, n: number): AnyArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
  }
}

export function dtypeOf(a: AnyArray): DType {
  return a instanceof Float32Array ? 'float32' : a instanceof Float64Array ? 'float64' : 'int32';
}

/**
 * The size class of a request of n elements: n itself up to 16, else n rounded up to the next
 * m * 2^k with m in 8..15 (at most 12.5% more). Steps whose sizes vary a little (the positions
 * with a target, a batch cut to its longest input) then reuse buffers of their class instead of
 * filling the pool with one buffer per size.
 */
export function sizeClass(n: number): number {
  if (n <= 16) return n;
  const k = Math.floor(Math.log2(n)) - 3;
  const unit = 2 ** k;
  return Math.ceil(n / unit) * unit;
}

/**
 * Free buffers by dtype and size class. A buffer is handed out as a view of exactly the length
 * asked for and comes back uninitialised (callers write it fully). A class whose requests all have
 * one size gets buffers of exactly that size (no waste in steady-state training); once a class
 * sees a second size, new buffers are allocated at the class's full size so any later request of
 * the class fits, and its exact-size buffers leave the pool (at once if free, else when released).
 */
class BufferPool {
  private free = new Map<string, AnyArray[]>();
  /** Per class: the one size requested so far, or -1 once it has seen two. */
  private sizes = new Map<string, number>();
  private pooledBytes = 0;
  /** Buffers larger than this many bytes in total are dropped instead of pooled. */
  capacityBytes = 4 * 1024 ** 3;
  stats = { allocated: 0, reused: 0, allocatedBytes: 0 };

  acquire(dtype: DType, n: number): AnyArray {
    const cls = sizeClass(n), key = dtype + cls;
    const list = this.free.get(key);
    if (list?.length) {
      let best = -1; // the shortest free buffer that holds n
      for (let i = 0; i < list.length; i++) if (list[i].length >= n && (best < 0 || list[i].length < list[best].length)) best = i;
      if (best >= 0) {
        const buf = list[best];
        list[best] = list[list.length - 1];
        list.pop();
        this.pooledBytes -= buf.byteLength;
        this.stats.reused++;
        return buf.length === n ? buf : buf.subarray(0, n);
      }
    }
    const seen = this.sizes.get(key);
    if (seen === undefined) this.sizes.set(key, n);
    else if (seen !== n && seen !== -1) {
      // the class now varies: its exact-size buffers would sit beside the full-size ones (a second
      // copy of a step's largest buffer, ~400 MB on ML-1M); drop them from the pool now and as
      // they come back (release), so the garbage collector can take them
      this.sizes.set(key, -1);
      if (list) this.dropShort(list, cls);
    }
    const length = this.sizes.get(key) === -1 ? cls : n;
    this.stats.allocated++;
    this.stats.allocatedBytes += length * (dtype === 'float64' ? 8 : 4);
    const whole = makeArray(dtype, length);
    return length === n ? whole : whole.subarray(0, n);
  }

  release(view: AnyArray): void {
    const dtype = dtypeOf(view);
    const buf = view.byteLength === view.buffer.byteLength ? view : viewOf(dtype, view.buffer);
    if (this.pooledBytes + buf.byteLength > this.capacityBytes) return;
    const cls = sizeClass(buf.length), key = dtype + cls;
    if (buf.length < cls && this.sizes.get(key) === -1) return; // an exact-size buffer of a class that varies
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buf);
    this.pooledBytes += buf.byteLength;
  }

  /** Removes the buffers shorter than `length` from a free list. */
  private dropShort(list: AnyArray[], length: number): void {
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].length >= length) continue;
      this.pooledBytes -= list[i].byteLength;
      list[i] = list[list.length - 1];
      list.pop();
    }
  }

  /** Drops every pooled buffer (for the garbage collector to take). */
  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  get bytesPooled(): number {
    return this.pooledBytes;
  }
}

function viewOf(dtype: DType, buffer: ArrayBufferLike): AnyArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'int32': return new Int32Array(buffer);
  }
}

export const pool = new BufferPool();

/** A buffer shared by a tensor and its views; returned to the pool when the last one is disposed. */
export class Storage {
  refs = 1;
  constructor(public buf: AnyArray, readonly pooled: boolean) {}

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs === 0 && this.pooled) pool.release(this.buf);
  }
}

// ---- scopes ----
/** What a scope tracks: a tensor, seen only as something it may dispose (tensor.ts builds on this file). */
export interface Scoped {
  readonly isTensor: true;
  dispose(): void;
}

const scopes: Set<Scoped>[] = [];
const scopeExitHooks: (() => void)[] = [];

/** Called by the Tensor constructor: the tensor belongs to the innermost open scope, if any. */
export function track(t: Scoped): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Takes a tensor out of every scope, so that no scope disposes it (parameters, gradients, results). */
export function keep<T extends Scoped>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

/** Registers a function run whenever the outermost scope exits (the autograd tape clears itself). */
export function onOutermostScopeExit(fn: () => void): void {
  scopeExitHooks.push(fn);
}

function collect(result: unknown, into: Set<Scoped>): void {
  if (result === null || typeof result !== 'object') return;
  if ((result as Scoped).isTensor === true) into.add(result as Scoped);
  else if (Array.isArray(result)) for (const r of result) collect(r, into);
  else if (Object.getPrototypeOf(result) === Object.prototype) for (const r of Object.values(result)) collect(r, into);
}

/**
 * Runs fn and disposes every tensor it created, except those it returns (directly, in an array or
 * in a plain object), which move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Scoped>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    if (scopes.length === 0) for (const hook of scopeExitHooks) hook();
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Scoped>();
  collect(result, survivors);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  if (scopes.length === 0) for (const hook of scopeExitHooks) hook();
  return result;
}
