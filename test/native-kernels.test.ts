// The native backend against the js reference, kernel by kernel, on random float32 inputs:
// relative error <= 1e-4 everywhere. Output buffers start as identical garbage in both backends,
// so a kernel that forgets to write (or to clear) something shows up.
// Skipped when the addon is not built, unless ADAREC_REQUIRE_NATIVE=1 (CI), where it must fail.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JsKernels } from '../src/engine/backend/js.js';
import { BINARY_OPS, UNARY_OPS } from '../src/engine/backend/kernels.js';
import type { FloatArray, Kernels, QuantizedItems, QuantizedQuery, UnaryOp } from '../src/engine/backend/kernels.js';
import { loadNativeKernels, nativeInfo, setNativeGemm, setNativeThreads } from '../src/engine/backend/native.js';
import { engineThreads } from '../src/engine/backend/threads.js';
import { assertClose, lcg, randomArray } from './helpers.js';

const js = new JsKernels();
let loaded: Kernels | null = null;
let loadError = '';
try {
  loaded = loadNativeKernels(js);
} catch (e) {
  loadError = (e as Error).message;
}
const required = process.env.ADAREC_REQUIRE_NATIVE === '1';
const skip = loaded === null && !required
  ? `native addon not loadable: ${loadError} (with ADAREC_REQUIRE_NATIVE=1 this is a failure)`
  : false;

function nat(): Kernels {
  assert.ok(loaded, `native addon failed to load: ${loadError}`);
  return loaded;
}

const TOL = 1e-4;
let seed = 1000;
const next = (): number => ++seed;
const rnd = (n: number, lo = -1, hi = 1): Float32Array => randomArray(n, next(), lo, hi);
/** Two identical garbage-filled output buffers (js, native). */
const outs = (n: number): [Float32Array, Float32Array] => {
  const a = randomArray(n, next(), -7, 7);
  return [a, a.slice()];
};
const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, tol = TOL, floor = 1e-3): void =>
  assertClose(got, want, tol, what, floor);
const closeNum = (got: number, want: number, what: string, tol = TOL): void =>
  close([got], [want], what, tol);
/**
 * For float32 dot products (gemm, attention, normalisation backward): the js reference sums in
 * double, float32 sums lose relative accuracy where terms cancel, so values within 10% of the
 * output's RMS of zero are measured relative to 10% of that RMS instead of to themselves.
 */
const closeDot = (got: ArrayLike<number>, want: ArrayLike<number>, what: string): void => {
  let ss = 0;
  for (let i = 0; i < want.length; i++) ss += want[i] * want[i];
  const rms = want.length ? Math.sqrt(ss / want.length) : 0;
  assertClose(got, want, TOL, what, Math.max(1e-3, 0.1 * rms));
};
/** Runs a js kernel in float64 on copies of float32 arguments (for accumulations, where js-float32 itself drifts). */
const to64 = (a: Float32Array): Float64Array => Float64Array.from(a);
const ints = (n: number, lo: number, hi: number): Int32Array => {
  const r = lcg(next());
  return Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
};
const contiguous = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
};
const span = (shape: readonly number[], strides: readonly number[]): number =>
  shape.some((s) => s === 0) ? 0 : 1 + shape.reduce((a, s, d) => a + (s - 1) * strides[d], 0);

interface ScanCase { items: QuantizedItems; query: QuantizedQuery }
/** Random int8 rows (a partial last group), blocks some of which the bound skips, 10% of rows excluded. */
function scanCase(rows: number, groups: number, blockRows: number, k: number): ScanCase {
  const r = lcg(next()), padded = Math.ceil(rows / 16) * 16, blocks = Math.ceil(rows / blockRows);
  const int8 = (n: number): Int8Array => Int8Array.from({ length: n }, () => Math.floor(r() * 255) - 127);
  const items = int8(padded * groups * 4);
  for (let row = rows; row < padded; row++) for (let g = 0; g < groups; g++) items.fill(0, ((row >> 4) * groups + g) * 64 + (row & 15) * 4, ((row >> 4) * groups + g) * 64 + (row & 15) * 4 + 4);
  return {
    items: {
      items, rows, groups, blockRows,
      rowScale: Float32Array.from({ length: padded }, (_, i) => (i < rows ? 0.001 + 0.01 * r() : 0)),
      bias: Float32Array.from({ length: padded }, (_, i) => (i < rows ? 2 * r() - 1 : -Infinity)),
    },
    query: {
      query: int8(groups * 4), queryScale: Math.fround(0.02), k,
      blockErr: Float64Array.from({ length: blocks }, () => 0.3 * r()),
      blockMax: Float64Array.from({ length: blocks }, () => (r() < 0.3 ? -1e9 : 1e9)),
      excluded: Uint8Array.from({ length: rows }, () => (r() < 0.1 ? 1 : 0)),
    },
  };
}

describe('native kernels', { skip }, () => {
  it('loads and reports its GEMM library', () => {
    const k = nat();
    assert.equal(k.name, 'native');
    const info = nativeInfo();
    assert.ok(info);
    assert.ok(info.available.includes(info.gemm), JSON.stringify(info));
    const wantThreads = engineThreads();
    assert.equal(info.threads, wantThreads);
  });

  describe('gemm', () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [3, 17, 33], [17, 1, 5], [1, 33, 17], [33, 17, 257], [5, 3, 1]];
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`transA=${ta} transB=${tb}`, () => {
        for (const [M, N, K] of shapes) {
          for (const beta of [0, 1]) {
            for (const [batch, bcastA, bcastB] of [[1, false, false], [3, false, false], [3, true, false], [2, false, true]] as const) {
              const sA = bcastA ? 0 : M * K, sB = bcastB ? 0 : K * N;
              const A = rnd((bcastA ? 1 : batch) * M * K), B = rnd((bcastB ? 1 : batch) * K * N);
              const [c1, c2] = outs(batch * M * N);
              js.gemm(ta, tb, batch, M, N, K, A, sA, B, sB, c1, beta);
              nat().gemm(ta, tb, batch, M, N, K, A, sA, B, sB, c2, beta);
              closeDot(c2, c1, `gemm ${M}x${N}x${K} batch ${batch} sA ${sA} sB ${sB} beta ${beta}`);
            }
          }
        }
      });
    }

    it('views with offsets, K = 0, empty batch', () => {
      const M = 4, N = 6, K = 9;
      const bufA = rnd(M * K + 3), bufB = rnd(K * N + 5);
      const A = bufA.subarray(3), B = bufB.subarray(5);
      const [c1, c2] = outs(M * N + 2);
      js.gemm(false, false, 1, M, N, K, A, 0, B, 0, c1.subarray(2), 1);
      nat().gemm(false, false, 1, M, N, K, A, 0, B, 0, c2.subarray(2), 1);
      closeDot(c2, c1, 'gemm on subarrays');
      for (const beta of [0, 1, 0.5]) {
        const [d1, d2] = outs(2 * M * N);
        js.gemm(false, true, 2, M, N, 0, new Float32Array(0), 0, new Float32Array(0), 0, d1, beta);
        nat().gemm(false, true, 2, M, N, 0, new Float32Array(0), 0, new Float32Array(0), 0, d2, beta);
        close(d2, d1, `gemm K=0 beta ${beta}`);
      }
      const [e1, e2] = outs(5);
      nat().gemm(false, false, 0, M, N, K, A, M * K, B, K * N, e2, 0);
      close(e2, e1, 'gemm batch 0 leaves C alone');
    });

    it('rejects a too-short C instead of writing past it', () => {
      assert.throws(() => nat().gemm(false, false, 1, 4, 4, 4, rnd(16), 0, rnd(16), 0, new Float32Array(15), 0), RangeError);
    });

    it('onednn and openblas agree (in process and through ADAREC_GEMM)', () => {
      const info = nativeInfo();
      assert.ok(info);
      const M = 37, N = 29, K = 65;
      const A = randomArray(M * K, 7), B = randomArray(K * N, 8);
      const results = new Map<string, Float32Array>();
      const original = info.gemm;
      try {
        for (const lib of info.available) {
          setNativeGemm(lib);
          assert.equal(nativeInfo()?.gemm, lib);
          const C = new Float32Array(M * N);
          nat().gemm(false, true, 1, M, N, K, A, 0, B.subarray(0, N * K), 0, C, 0);
          results.set(lib, C);
        }
      } finally {
        setNativeGemm(original);
      }
      const ref = new Float32Array(M * N);
      js.gemm(false, true, 1, M, N, K, A, 0, B.subarray(0, N * K), 0, ref, 0);
      for (const [lib, C] of results) closeDot(C, ref, `gemm on ${lib}`);
      const libs = [...results.values()];
      for (const C of libs.slice(1)) closeDot(C, libs[0], 'onednn vs openblas');
      // ADAREC_GEMM is read when the addon loads: check each library in a fresh process
      const nativeJs = fileURLToPath(new URL('../src/engine/backend/native.js', import.meta.url));
      const jsJs = fileURLToPath(new URL('../src/engine/backend/js.js', import.meta.url));
      const script = `
        import { loadNativeKernels, nativeInfo } from ${JSON.stringify(nativeJs)};
        import { JsKernels } from ${JSON.stringify(jsJs)};
        const k = loadNativeKernels(new JsKernels());
        const r = (s) => () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
        const fill = (n, s) => { const g = r(s), a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = -1 + 2 * g(); return a; };
        const C = new Float32Array(${M * N});
        k.gemm(false, true, 1, ${M}, ${N}, ${K}, fill(${M * K}, 7), 0, fill(${K * N}, 8), 0, C, 0);
        console.log(JSON.stringify({ gemm: nativeInfo().gemm, C: Array.from(C) }));`;
      for (const lib of info.available) {
        const env = { ...process.env, ADAREC_GEMM: lib };
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const got = JSON.parse(r.stdout) as { gemm: string; C: number[] };
        assert.equal(got.gemm, lib);
        closeDot(got.C, ref, `gemm in a child with ADAREC_GEMM=${lib}`);
      }
      // a bad value makes the addon refuse to load, with a one-line reason
      const bad = spawnSync(process.execPath, ['--input-type=module', '-e', script],
        { env: { ...process.env, ADAREC_GEMM: 'mkl' }, encoding: 'utf8' });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /ADAREC_GEMM must be 'onednn' or 'openblas'/);
    });

    it('a signal handled during a oneDNN GEMM leaves the heap intact', (t) => {
      // oneDNN 2.6's JIT sgemm runs with rsp inside a heap buffer: the frame of a signal handled
      // mid-call (SIGTERM/SIGHUP in `adarec serve`) was written onto the heap, and glibc aborted
      // later ("corrupted size vs. prev_size while consolidating"). A child process takes a
      // stream of handled SIGUSR2 while it runs GEMMs of a conv's shape and allocates; unfixed,
      // it aborted within a second every time.
      if (!nativeInfo()?.available.includes('onednn')) return t.skip('built without oneDNN');
      const nativeJs = fileURLToPath(new URL('../src/engine/backend/native.js', import.meta.url));
      const jsJs = fileURLToPath(new URL('../src/engine/backend/js.js', import.meta.url));
      const script = `
        import { Worker } from 'node:worker_threads';
        import { loadNativeKernels } from ${JSON.stringify(nativeJs)};
        import { JsKernels } from ${JSON.stringify(jsJs)};
        const k = loadNativeKernels(new JsKernels());
        let signals = 0;
        process.on('SIGUSR2', () => { signals++; });
        const stop = new Int32Array(new SharedArrayBuffer(4));
        const w = new Worker(\`const f = new Int32Array(require('node:worker_threads').workerData);
          while (Atomics.load(f, 0) === 0) process.kill(process.pid, 'SIGUSR2');\`, { eval: true, execArgv: [], workerData: stop.buffer });
        await new Promise((r) => setTimeout(r, 50));
        const keep = [];
        for (const [M, N, K, n] of [[30, 64, 192, 5000], [1, 64, 192, 1000], [16, 500, 64, 1000]]) {
          const A = new Float32Array(M * K).fill(0.5), B = new Float32Array(K * N).fill(0.25), C = new Float32Array(M * N);
          for (let i = 0; i < n; i++) {
            k.gemm(false, false, 1, M, N, K, A, 0, B, 0, C, 0);
            keep.push(new Float32Array(64 + (i * 37) % 2000));
            if (keep.length > 200) keep.splice(0, 100);
          }
          if (C[0] !== K / 8) throw new Error('wrong product ' + C[0]);
        }
        Atomics.store(stop, 0, 1);
        await w.terminate();
        await new Promise((r) => setImmediate(r));
        console.log(JSON.stringify({ signals }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script],
        { env: { ...process.env, ADAREC_GEMM: 'onednn' }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { signals: number }).signals > 0, 'no signal was handled');
    });

    it('setNativeThreads', () => {
      const before = nativeInfo()?.threads ?? 1;
      setNativeThreads(2);
      assert.equal(nativeInfo()?.threads, 2);
      const M = 64, N = 48, K = 80;
      const A = rnd(M * K), B = rnd(K * N);
      const [c1, c2] = outs(M * N);
      js.gemm(false, false, 1, M, N, K, A, 0, B, 0, c1, 0);
      nat().gemm(false, false, 1, M, N, K, A, 0, B, 0, c2, 0);
      setNativeThreads(before);
      closeDot(c2, c1, 'gemm with 2 threads');
      assert.throws(() => setNativeThreads(0), RangeError);
    });
  });

  describe('binary', () => {
    // [shape, stridesA, stridesB, length of a, length of b]
    const cases: { name: string; shape: number[]; sa: number[]; sb: number[] }[] = [
      { name: 'same shape', shape: [3, 17], sa: [17, 1], sb: [17, 1] },
      { name: 'odd 1-d', shape: [257], sa: [1], sb: [1] },
      { name: 'broadcast last axis (bias)', shape: [5, 33], sa: [33, 1], sb: [0, 1] },
      { name: 'scalar b', shape: [4, 17], sa: [17, 1], sb: [0, 0] },
      { name: 'scalar a', shape: [33], sa: [0], sb: [1] },
      { name: 'column b', shape: [5, 3], sa: [3, 1], sb: [1, 0] },
      { name: 'outer broadcast of a', shape: [3, 4, 5], sa: [0, 5, 1], sb: [20, 5, 1] },
      { name: 'transposed a', shape: [3, 17], sa: [1, 3], sb: [17, 1] },
      { name: 'both transposed + size-1 dims', shape: [2, 1, 3, 5], sa: [1, 0, 10, 2], sb: [15, 7, 1, 3] },
      { name: 'single element', shape: [1], sa: [1], sb: [1] },
      { name: 'rank 0', shape: [], sa: [], sb: [] },
      { name: 'empty', shape: [3, 0], sa: [0, 1], sb: [0, 1] },
      { name: 'rank 8', shape: [2, 1, 2, 1, 3, 1, 2, 2], sa: [48, 0, 24, 0, 8, 0, 4, 1], sb: [0, 0, 1, 0, 2, 0, 0, 6] },
      { name: 'rank 9 (js fallback)', shape: [1, 2, 1, 2, 1, 3, 1, 2, 2], sa: [0, 24, 0, 12, 0, 4, 0, 2, 1], sb: [0, 24, 0, 12, 0, 4, 0, 2, 1] },
    ];
    for (const op of BINARY_OPS) {
      it(op, () => {
        for (const c of cases) {
          const size = c.shape.reduce((a, b) => a * b, 1);
          const lo = op === 'div' ? 0.25 : -2;
          const a = rnd(Math.max(span(c.shape, c.sa), 1), -2, 2);
          const b = rnd(Math.max(span(c.shape, c.sb), 1), lo, 2);
          const [o1, o2] = outs(size);
          js.binary(op, c.shape, a, c.sa, b, c.sb, o1);
          nat().binary(op, c.shape, a, c.sa, b, c.sb, o2);
          close(o2, o1, `${op} ${c.name}`, 0);
        }
      });
    }
    it('NaN propagation in max/min', () => {
      const a = Float32Array.from([NaN, 1, 2, NaN, -1]);
      const b = Float32Array.from([0, NaN, 1, NaN, -2]);
      for (const op of ['max', 'min'] as const) {
        const [o1, o2] = outs(5);
        js.binary(op, [5], a, [1], b, [1], o1);
        nat().binary(op, [5], a, [1], b, [1], o2);
        close(o2, o1, op, 0);
      }
    });
  });

  describe('unary and unaryGrad', () => {
    const domain = (op: UnaryOp): [number, number] =>
      op === 'log' || op === 'sqrt' ? [0.01, 5] : op === 'exp' ? [-20, 20] : [-4, 4];
    for (const op of UNARY_OPS) {
      it(op, () => {
        for (const n of [1, 3, 17, 257, 1031]) {
          const [lo, hi] = domain(op);
          const x = rnd(n, lo, hi);
          const [y1, y2] = outs(n);
          js.unary(op, x, y1);
          nat().unary(op, x, y2);
          close(y2, y1, `${op} n=${n}`);
          // in place
          const x2 = x.slice();
          nat().unary(op, x2, x2);
          close(x2, y1, `${op} in place`);
          const dy = rnd(n, -2, 2);
          const [d1, d2] = outs(n);
          js.unaryGrad(op, x, y1, dy, d1);
          nat().unaryGrad(op, x, y1, dy, d2);
          close(d2, d1, `${op}' n=${n}`);
          const dyInPlace = dy.slice();
          nat().unaryGrad(op, x, y1, dyInPlace, dyInPlace);
          close(dyInPlace, d1, `${op}' in place`);
        }
      });
    }
    it('special values', () => {
      const x = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 88.5, 89, -87, -100, -104, 1e-30, -1e-30]);
      for (const op of UNARY_OPS) {
        const [y1, y2] = outs(x.length);
        js.unary(op, x, y1);
        nat().unary(op, x, y2);
        close(y2, y1, `${op} on special values`, 1e-4, 1e-30);
      }
    });
  });

  describe('reduce', () => {
    const cases: { name: string; shape: number[]; so: number[]; outLen: number }[] = [
      { name: 'last axis', shape: [4, 17], so: [1, 0], outLen: 4 },
      { name: 'first axis', shape: [33, 5], so: [0, 1], outLen: 5 },
      { name: 'all', shape: [3, 257], so: [0, 0], outLen: 1 },
      { name: 'middle axis', shape: [3, 5, 7], so: [7, 0, 1], outLen: 21 },
      { name: 'first and last', shape: [3, 5, 7], so: [0, 1, 0], outLen: 5 },
      { name: 'nothing reduced', shape: [3, 5], so: [5, 1], outLen: 15 },
      { name: 'transposed out', shape: [3, 5], so: [1, 3], outLen: 15 },
      { name: 'transposed out, middle reduced', shape: [4, 3, 6], so: [1, 0, 4], outLen: 24 },
      { name: 'size-1 dims', shape: [1, 33, 1], so: [0, 0, 0], outLen: 1 },
      { name: 'rank 0', shape: [], so: [], outLen: 1 },
      { name: 'empty input', shape: [0, 3], so: [0, 1], outLen: 3 },
      { name: 'rank 9 (js fallback)', shape: [1, 2, 1, 2, 1, 3, 1, 2, 2], so: [0, 0, 0, 1, 0, 0, 0, 0, 2], outLen: 4 },
    ];
    for (const op of ['sum', 'max'] as const) {
      it(op, () => {
        for (const c of cases) {
          const size = c.shape.reduce((a, b) => a * b, 1);
          const x = rnd(size, -2, 2);
          const [o1, o2] = outs(c.outLen);
          js.reduce(op, c.shape, x, c.so, o1);
          nat().reduce(op, c.shape, x, c.so, o2);
          close(o2, o1, `${op} ${c.name}`);
        }
      });
    }
    it('max with NaN and -Infinity follows the reference', () => {
      const x = Float32Array.from([1, NaN, 0.5, -Infinity, 3, NaN, -Infinity, -Infinity]);
      for (const [shape, so, outLen] of [[[8], [0], 1], [[2, 4], [1, 0], 2], [[4, 2], [0, 1], 2]] as const) {
        const [o1, o2] = outs(outLen);
        js.reduce('max', shape, x, so, o1);
        nat().reduce('max', shape, x, so, o2);
        close(o2, o1, `max over ${shape.join('x')}`, 0);
      }
    });
  });

  describe('stridedCopy', () => {
    const cases: { name: string; shape: number[]; ss: number[]; ds: number[] }[] = [
      { name: 'contiguous', shape: [3, 17], ss: [17, 1], ds: [17, 1] },
      { name: 'transpose', shape: [17, 3], ss: [1, 17], ds: [3, 1] },
      { name: 'transposed dst', shape: [5, 33], ss: [33, 1], ds: [1, 5] },
      { name: 'broadcast src', shape: [4, 5], ss: [0, 1], ds: [5, 1] },
      { name: 'scalar src', shape: [4, 5], ss: [0, 0], ds: [5, 1] },
      { name: 'into a column block', shape: [3, 4], ss: [4, 1], ds: [10, 1] },
      { name: '3-d permute with size-1', shape: [2, 1, 3, 4], ss: [1, 0, 8, 2], ds: [12, 12, 4, 1] },
      { name: 'single', shape: [1], ss: [1], ds: [1] },
      { name: 'rank 0', shape: [], ss: [], ds: [] },
      { name: 'empty', shape: [0, 4], ss: [4, 1], ds: [4, 1] },
      { name: 'rank 9 (js fallback)', shape: [1, 2, 1, 2, 1, 3, 1, 2, 2], ss: [0, 1, 0, 2, 0, 4, 0, 12, 24], ds: [0, 24, 0, 12, 0, 4, 0, 2, 1] },
    ];
    it('float32', () => {
      for (const c of cases) {
        const src = rnd(Math.max(span(c.shape, c.ss), 1));
        const [d1, d2] = outs(Math.max(span(c.shape, c.ds), 1) + 3);
        js.stridedCopy(c.shape, src, c.ss, d1.subarray(2), c.ds);
        nat().stridedCopy(c.shape, src, c.ss, d2.subarray(2), c.ds);
        close(d2, d1, `stridedCopy ${c.name}`, 0);
      }
    });
    it('int32', () => {
      for (const c of cases) {
        const src = ints(Math.max(span(c.shape, c.ss), 1), -1e9, 1e9);
        const dLen = Math.max(span(c.shape, c.ds), 1) + 3;
        const d1 = ints(dLen, -5, 5), d2 = d1.slice();
        js.stridedCopy(c.shape, src, c.ss, d1.subarray(3), c.ds);
        nat().stridedCopy(c.shape, src, c.ss, d2.subarray(3), c.ds);
        assert.deepEqual(d2, d1, `int32 stridedCopy ${c.name}`);
      }
    });
    it('mixed element types go through js', () => {
      const src = rnd(6, -9, 9);
      const d1 = new Int32Array(6), d2 = new Int32Array(6);
      js.stridedCopy([2, 3], src, [3, 1], d1, [1, 2]);
      nat().stridedCopy([2, 3], src, [3, 1], d2, [1, 2]);
      assert.deepEqual(d2, d1);
    });
    it('rejects strides that reach outside the arrays', () => {
      assert.throws(() => nat().stridedCopy([3, 4], rnd(12), [4, 1], new Float32Array(11), [4, 1]), RangeError);
    });
  });

  it('axpy, scale, sumSquares', () => {
    for (const n of [1, 3, 17, 257, 4099]) {
      const x = rnd(n, -3, 3);
      const [y1, y2] = outs(n);
      js.axpy(-0.37, x, y1);
      nat().axpy(-0.37, x, y2);
      close(y2, y1, `axpy n=${n}`);
      const [s1, s2] = outs(n);
      js.scale(s1, 1.7);
      nat().scale(s2, 1.7);
      close(s2, s1, `scale n=${n}`);
      closeNum(nat().sumSquares(x), js.sumSquares(x), `sumSquares n=${n}`, 1e-9);
    }
    assert.equal(nat().sumSquares(new Float32Array(0)), 0);
  });

  it('causalIm2col and causalCol2im', () => {
    for (const [B, T, C, k, d] of [[2, 7, 3, 3, 1], [2, 7, 3, 3, 2], [1, 9, 17, 3, 4], [3, 5, 1, 1, 1], [1, 1, 5, 3, 4], [2, 6, 4, 2, 0]]) {
      const x = rnd(B * T * C);
      const [c1, c2] = outs(B * T * k * C);
      js.causalIm2col(x, B, T, C, k, d, c1);
      nat().causalIm2col(x, B, T, C, k, d, c2);
      close(c2, c1, `im2col B${B} T${T} C${C} k${k} d${d}`, 0);
      const dcol = rnd(B * T * k * C);
      const [x1, x2] = outs(B * T * C);
      js.causalCol2im(dcol, B, T, C, k, d, x1);
      nat().causalCol2im(dcol, B, T, C, k, d, x2);
      close(x2, x1, `col2im B${B} T${T} C${C} k${k} d${d}`);
    }
  });

  it('addRowVector and sumRows', () => {
    for (const [R, N] of [[1, 1], [3, 17], [33, 5], [257, 3]]) {
      const bias = rnd(N);
      const [o1, o2] = outs(R * N);
      js.addRowVector(o1, bias, R, N);
      nat().addRowVector(o2, bias, R, N);
      close(o2, o1, `addRowVector ${R}x${N}`, 0);
      const dy = rnd(R * N);
      for (const accumulate of [false, true]) {
        const [d1, d2] = outs(N);
        const ref = to64(d1);
        js.sumRows(to64(dy), R, N, ref, accumulate);
        nat().sumRows(dy, R, N, d2, accumulate);
        close(d2, ref, `sumRows ${R}x${N} accumulate=${accumulate}`);
      }
    }
  });

  describe('layerNorm', () => {
    for (const relu of [false, true]) {
      it(`forward and backward, relu=${relu}`, () => {
        for (const [R, C] of [[1, 1], [5, 3], [4, 17], [3, 257], [2, 768]]) {
          const x = rnd(R * C, -2, 3), gamma = rnd(C, 0.5, 1.5), beta = rnd(C, -0.5, 0.5);
          const [y1, y2] = outs(R * C), [m1, m2] = outs(R), [r1, r2] = outs(R);
          js.layerNormForward(x, gamma, beta, R, C, 1e-5, relu, y1, m1, r1);
          nat().layerNormForward(x, gamma, beta, R, C, 1e-5, relu, y2, m2, r2);
          close(y2, y1, `layerNorm y ${R}x${C}`);
          close(m2, m1, 'layerNorm mean');
          close(r2, r1, 'layerNorm rstd');
          const dy = rnd(R * C);
          const [dx1, dx2] = outs(R * C), [dg1, dg2] = outs(C), [db1, db2] = outs(C);
          const mask = relu ? y1 : null;
          js.layerNormBackward(dy, x, gamma, m1, r1, mask, R, C, dx1, dg1, db1);
          nat().layerNormBackward(dy, x, gamma, m1, r1, mask, R, C, dx2, dg2, db2);
          closeDot(dx2, dx1, `layerNorm dx ${R}x${C}`);
          close(dg2, dg1, 'layerNorm dgamma');
          close(db2, db1, 'layerNorm dbeta');
        }
      });
    }
  });

  describe('batchNorm', () => {
    for (const training of [true, false]) {
      it(`forward (training=${training}) and backward`, () => {
        for (const [R, C] of [[1, 3], [7, 1], [33, 17], [257, 5]]) {
          const x = rnd(R * C, -2, 3), gamma = rnd(C, 0.5, 1.5), beta = rnd(C, -0.5, 0.5);
          const rm1 = rnd(C, -0.2, 0.2), rv1 = rnd(C, 0.5, 2), rm2 = rm1.slice(), rv2 = rv1.slice();
          const [y1, y2] = outs(R * C), [m1, m2] = outs(C), [s1, s2] = outs(C);
          js.batchNormForward(x, gamma, beta, R, C, 1e-5, training, 0.1, rm1, rv1, y1, m1, s1);
          nat().batchNormForward(x, gamma, beta, R, C, 1e-5, training, 0.1, rm2, rv2, y2, m2, s2);
          close(y2, y1, `batchNorm y ${R}x${C}`);
          close(m2, m1, 'batchNorm mean');
          close(s2, s1, 'batchNorm rstd', R === 1 ? 1e-3 : TOL); // R = 1: rstd = 1/sqrt(eps), float rounding of eps
          close(rm2, rm1, 'batchNorm runningMean');
          close(rv2, rv1, 'batchNorm runningVar');
          if (!training || R === 1) continue;
          const dy = rnd(R * C);
          const [dx1, dx2] = outs(R * C), [dg1, dg2] = outs(C), [db1, db2] = outs(C);
          js.batchNormBackward(dy, x, gamma, m1, s1, R, C, dx1, dg1, db1);
          nat().batchNormBackward(dy, x, gamma, m1, s1, R, C, dx2, dg2, db2);
          closeDot(dx2, dx1, `batchNorm dx ${R}x${C}`);
          close(dg2, dg1, 'batchNorm dgamma');
          close(db2, db1, 'batchNorm dbeta');
        }
      });
    }
  });

  it('softmax and softmaxGrad', () => {
    for (const [R, C] of [[1, 1], [4, 3], [3, 17], [2, 257], [2, 3001]]) {
      const x = rnd(R * C, -10, 10);
      const [y1, y2] = outs(R * C);
      js.softmax(x, R, C, y1);
      nat().softmax(x, R, C, y2);
      close(y2, y1, `softmax ${R}x${C}`, TOL, 1e-6);
      const dy = rnd(R * C);
      const [d1, d2] = outs(R * C);
      js.softmaxGrad(y1, dy, R, C, d1);
      nat().softmaxGrad(y1, dy, R, C, d2);
      close(d2, d1, `softmaxGrad ${R}x${C}`, TOL, 1e-5);
    }
  });

  describe('softmaxCrossEntropy', () => {
    it('loss, count and gradient with ignored rows', () => {
      for (const [R, V, spread] of [[1, 1, 1], [9, 3, 5], [17, 33, 10], [33, 257, 30], [8, 3001, 8]] as const) {
        const logits = rnd(R * V, -spread, spread);
        const labels = ints(R, 0, V);
        labels[0] = -100; // ignored
        if (R > 2) labels[R - 1] = -100;
        for (const withGrad of [true, false]) {
          const [g1, g2] = outs(R * V);
          const r1 = js.softmaxCrossEntropy(logits, labels, R, V, -100, withGrad ? g1 : null, 0.25);
          const r2 = nat().softmaxCrossEntropy(logits, labels, R, V, -100, withGrad ? g2 : null, 0.25);
          assert.equal(r2.count, r1.count);
          closeNum(r2.loss, r1.loss, `CE loss ${R}x${V}`);
          close(g2, g1, `CE grad ${R}x${V}`, TOL, 1e-7);
        }
      }
    });
    it('ignore index 0 (padding) and all rows ignored', () => {
      const R = 6, V = 11, logits = rnd(R * V, -3, 3);
      const labels = Int32Array.from([0, 3, 0, 10, 1, 0]);
      const [g1, g2] = outs(R * V);
      const r1 = js.softmaxCrossEntropy(logits, labels, R, V, 0, g1, 1 / 3);
      const r2 = nat().softmaxCrossEntropy(logits, labels, R, V, 0, g2, 1 / 3);
      assert.deepEqual([r2.count, r2.loss > 0], [r1.count, true]);
      closeNum(r2.loss, r1.loss, 'CE loss');
      close(g2, g1, 'CE grad', TOL, 1e-7);
      const none = new Int32Array(R);
      const [h1, h2] = outs(R * V);
      const z1 = js.softmaxCrossEntropy(logits, none, R, V, 0, h1, 1);
      const z2 = nat().softmaxCrossEntropy(logits, none, R, V, 0, h2, 1);
      assert.deepEqual(z2, z1);
      close(h2, h1, 'CE grad, all ignored', 0);
    });
    it('the gradient written over the logits themselves (crossEntropy consume) equals a separate buffer', () => {
      const R = 9, V = 257, logits = rnd(R * V, -8, 8);
      const labels = ints(R, 0, V);
      labels[2] = 0;
      for (const k of [js, nat()]) {
        const [g] = outs(R * V);
        const separate = k.softmaxCrossEntropy(logits, labels, R, V, 0, g, 0.5);
        const own = Float32Array.from(logits);
        const inPlace = k.softmaxCrossEntropy(own, labels, R, V, 0, own, 0.5);
        assert.deepEqual(inPlace, separate);
        close(own, g, 'CE grad in place', 0);
      }
    });
  });

  describe('distillKL', () => {
    it('with and without mask and grad', () => {
      for (const [R, V] of [[1, 1], [6, 5], [5, 257], [3, 3001]]) {
        const teacher = rnd(R * V, -4, 4), student = rnd(R * V, -4, 4);
        const mask = rnd(R, 0, 1);
        mask[0] = 0;
        if (R > 2) mask[2] = 0;
        for (const T of [1, 2.5]) {
          for (const m of [null, mask]) {
            for (const withGrad of [true, false]) {
              const [g1, g2] = outs(R * V);
              const k1 = js.distillKL(teacher, student, R, V, T, m, withGrad ? g1 : null, 0.3);
              const k2 = nat().distillKL(teacher, student, R, V, T, m, withGrad ? g2 : null, 0.3);
              closeNum(k2, k1, `KL ${R}x${V} T=${T} mask=${m !== null}`);
              close(g2, g1, `KL grad ${R}x${V} T=${T} mask=${m !== null}`, TOL, 1e-6);
            }
          }
        }
      }
    });
  });

  it('gatherRows and scatterAddRows', () => {
    for (const [rows, D, n] of [[1, 1, 1], [11, 17, 23], [5, 3, 40], [3001, 64, 257]]) {
      const table = rnd(rows * D);
      const idx = ints(n, 0, rows);
      const [o1, o2] = outs(n * D);
      js.gatherRows(table, idx, D, o1);
      nat().gatherRows(table, idx, D, o2);
      close(o2, o1, `gatherRows D=${D}`, 0);
      const src = rnd(n * D);
      const [s1, s2] = outs(rows * D);
      js.scatterAddRows(src, idx, D, s1);
      nat().scatterAddRows(src, idx, D, s2);
      close(s2, s1, `scatterAddRows D=${D}`);
    }
    assert.throws(() => nat().gatherRows(rnd(6), Int32Array.from([0, 3]), 2, new Float32Array(4)), RangeError);
    assert.throws(() => nat().scatterAddRows(rnd(4), Int32Array.from([-1, 0]), 2, new Float32Array(6)), RangeError);
  });

  describe('attention', () => {
    const configs: [number, number, number, number][] = [[1, 1, 1, 16], [2, 5, 1, 3], [2, 17, 3, 16], [3, 9, 2, 33], [2, 50, 2, 64], [2, 97, 2, 8]]; // T 50, 97: causal row blocks of 32, the last partial
    for (const causal of [false, true]) {
      for (const maskKind of ['none', 'partial', 'all-masked batch', 'first key masked'] as const) {
        it(`causal=${causal} mask=${maskKind}`, () => {
          for (const [B, T, H, Dh] of configs) {
            const E = H * Dh, n = B * T * E;
            const q = rnd(n, -2, 2), k = rnd(n, -2, 2), v = rnd(n);
            let keyMask: Float32Array | null = null;
            if (maskKind !== 'none') {
              const r = lcg(next());
              keyMask = Float32Array.from({ length: B * T }, () => (r() < 0.7 ? 1 : 0));
              if (maskKind === 'all-masked batch') keyMask.fill(0, 0, T);
              if (maskKind === 'first key masked') for (let b = 0; b < B; b++) keyMask[b * T] = 0;
            }
            const [o1, o2] = outs(n), [p1, p2] = outs(B * H * T * T);
            js.attentionForward(q, k, v, B, T, H, Dh, causal, keyMask, o1, p1);
            nat().attentionForward(q, k, v, B, T, H, Dh, causal, keyMask, o2, p2);
            const what = `B${B} T${T} H${H} Dh${Dh}`;
            close(p2, p1, `attention probs ${what}`, TOL, 1e-5);
            closeDot(o2, o1, `attention out ${what}`);
            const dout = rnd(n);
            const [dq1, dq2] = outs(n), [dk1, dk2] = outs(n), [dv1, dv2] = outs(n);
            js.attentionBackward(dout, q, k, v, p1, B, T, H, Dh, dq1, dk1, dv1, causal);
            nat().attentionBackward(dout, q, k, v, p1, B, T, H, Dh, dq2, dk2, dv2, causal);
            closeDot(dq2, dq1, `attention dq ${what}`);
            closeDot(dk2, dk1, `attention dk ${what}`);
            closeDot(dv2, dv1, `attention dv ${what}`);
          }
        });
      }
    }
  });

  it('maskedScale', () => {
    for (const n of [1, 3, 17, 1025]) {
      const x = rnd(n), r = lcg(next());
      const mask = Uint8Array.from({ length: n }, () => (r() < 0.6 ? 1 : 0));
      const [o1, o2] = outs(n);
      js.maskedScale(x, mask, 1 / 0.6, o1);
      nat().maskedScale(x, mask, 1 / 0.6, o2);
      close(o2, o1, `maskedScale n=${n}`);
    }
  });

  describe('optimizers', () => {
    for (const decoupled of [false, true]) {
      it(`adamStep decoupled=${decoupled}`, () => {
        for (const n of [1, 17, 1031]) {
          for (const [step, wd] of [[1, 0], [7, 0.01]]) {
            const p1 = rnd(n), g = rnd(n, -0.1, 0.1), m1 = rnd(n, -0.01, 0.01), v1 = rnd(n, 0, 1e-3);
            const p2 = p1.slice(), m2 = m1.slice(), v2 = v1.slice();
            const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: wd, decoupled, step };
            js.adamStep(p1, g, m1, v1, h);
            nat().adamStep(p2, g, m2, v2, h);
            close(p2, p1, `adam p n=${n} step=${step}`);
            close(m2, m1, 'adam m');
            close(v2, v1, 'adam v', TOL, 1e-9);
          }
        }
      });
    }
    for (const debias of [false, true]) {
      it(`lambStep debias=${debias}`, () => {
        for (const n of [1, 17, 1031]) {
          for (const [step, wd, clampNorm] of [[1, 0, 0], [5, 0.01, 0], [3, 0.01, 0.5]]) {
            const p1 = rnd(n), g = rnd(n, -0.1, 0.1), m1 = rnd(n, -0.01, 0.01), v1 = rnd(n, 0, 1e-3);
            const p2 = p1.slice(), m2 = m1.slice(), v2 = v1.slice();
            const h = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: wd, step, debias, clampNorm };
            js.lambStep(p1, g, m1, v1, h);
            nat().lambStep(p2, g, m2, v2, h);
            close(p2, p1, `lamb p n=${n} step=${step} clamp=${clampNorm}`);
            close(m2, m1, 'lamb m');
            close(v2, v1, 'lamb v', TOL, 1e-9);
          }
        }
      });
    }
  });

  it('quantizedScan: the same candidates and bounds as js, on every SIMD path (ADAREC_SCAN_ISA in a child)', () => {
    const cases = [scanCase(1000, 16, 64, 10), scanCase(997, 3, 32, 1), scanCase(300, 9, 16, 50)];
    const run = (k: Kernels, c: ScanCase): { n: number; cand: number[]; upper: number[] } => {
      const cand = new Int32Array(c.items.rows).fill(-1), upper = new Float64Array(c.items.rows);
      const n = k.quantizedScan(c.items, c.query, cand, upper);
      return { n, cand: Array.from(cand.subarray(0, n)), upper: Array.from(upper.subarray(0, n)) };
    };
    const want = cases.map((c) => run(js, c));
    for (const w of want) assert.ok(w.n > 0 && w.n < 300, `${w.n} candidates: the cases should prune some rows and keep some`);
    assert.deepEqual(cases.map((c) => run(nat(), c)), want);
    const nativeJs = fileURLToPath(new URL('../src/engine/backend/native.js', import.meta.url));
    const jsJs = fileURLToPath(new URL('../src/engine/backend/js.js', import.meta.url));
    const script = `
      import { loadNativeKernels } from ${JSON.stringify(nativeJs)};
      import { JsKernels } from ${JSON.stringify(jsJs)};
      import { readFileSync } from 'node:fs';
      const k = loadNativeKernels(new JsKernels());
      const out = JSON.parse(readFileSync(0, 'utf8')).map(({ items, query }) => {
        const ix = { ...items, items: Int8Array.from(items.items), rowScale: Float32Array.from(items.rowScale), bias: Float32Array.from(items.bias, (x) => x ?? -Infinity) };
        const q = { ...query, query: Int8Array.from(query.query), blockErr: Float64Array.from(query.blockErr), blockMax: Float64Array.from(query.blockMax), excluded: Uint8Array.from(query.excluded) };
        const cand = new Int32Array(ix.rows), upper = new Float64Array(ix.rows);
        const n = k.quantizedScan(ix, q, cand, upper);
        return { n, cand: Array.from(cand.subarray(0, n)), upper: Array.from(upper.subarray(0, n)) };
      });
      process.stdout.write(JSON.stringify(out));`;
    const input = JSON.stringify(cases.map((c) => ({
      items: { ...c.items, items: Array.from(c.items.items), rowScale: Array.from(c.items.rowScale), bias: Array.from(c.items.bias) },
      query: { ...c.query, query: Array.from(c.query.query), blockErr: Array.from(c.query.blockErr), blockMax: Array.from(c.query.blockMax), excluded: Array.from(c.query.excluded) },
    })));
    for (const isa of ['avx2', 'scalar']) {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ADAREC_SCAN_ISA: isa }, input, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), want, `ADAREC_SCAN_ISA=${isa}`);
    }
  });

  it('float64 arguments are delegated to the fallback', () => {
    const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);
    const A = f64(rnd(12)), B = f64(rnd(12));
    const c1 = new Float64Array(9), c2 = new Float64Array(9);
    js.gemm(false, false, 1, 3, 3, 4, A, 0, B, 0, c1, 0);
    nat().gemm(false, false, 1, 3, 3, 4, A, 0, B, 0, c2, 0);
    assert.deepEqual(c2, c1);
    const logits = f64(rnd(12, -3, 3)), labels = Int32Array.from([1, 2, 0]);
    const g1 = new Float64Array(12), g2 = new Float64Array(12);
    assert.deepEqual(nat().softmaxCrossEntropy(logits, labels, 3, 4, -1, g2, 1),
      js.softmaxCrossEntropy(logits, labels, 3, 4, -1, g1, 1));
    assert.deepEqual(g2, g1);
    // mixed: a float32 input with a float64 output also goes to js
    const x = rnd(5), y1: FloatArray = new Float64Array(5), y2: FloatArray = new Float64Array(5);
    js.unary('exp', x, y1);
    nat().unary('exp', x, y2);
    assert.deepEqual(y2, y1);
  });

  it('pool1dForward and pool1dBackward (max and avg, windows past both ends)', () => {
    for (const [B, T, C, before, after] of [[2, 7, 3, 2, 0], [2, 7, 3, 1, 1], [1, 9, 17, 4, 2], [3, 5, 1, 0, 0], [1, 3, 5, 6, 6], [2, 1, 4, 2, 0]]) {
      const n = B * T * C;
      const x = rnd(n);
      x[C] = x[0]; // a tie: the first of equal inputs wins on both backends
      const dy = rnd(n);
      for (const max of [true, false]) {
        const tag = `${max ? 'max' : 'avg'} B${B} T${T} C${C} -${before}/+${after}`;
        const [o1, o2] = outs(n);
        const a1 = new Int32Array(max ? n : 0), a2 = new Int32Array(max ? n : 0);
        js.pool1dForward(x, B, T, C, before, after, max, o1, a1);
        nat().pool1dForward(x, B, T, C, before, after, max, o2, a2);
        close(o2, o1, `pool forward ${tag}`, max ? 0 : TOL);
        assert.deepEqual(a2, a1, `argmax ${tag}`);
        const [d1, d2] = outs(n);
        d2.fill(7); // overwritten, not accumulated
        js.pool1dBackward(dy, B, T, C, before, after, max, a1, d1);
        nat().pool1dBackward(dy, B, T, C, before, after, max, a2, d2);
        close(d2, d1, `pool backward ${tag}`);
      }
    }
    assert.throws(() => nat().pool1dForward(rnd(6), 1, 2, 3, 1, 0, true, new Float32Array(6), new Int32Array(5)), /argmax is too short/);
    // max without an argmax (no backward to come): the same values on both backends
    const x = rnd(2 * 9 * 5), [v1, v2] = outs(x.length), withArg = new Float32Array(x.length);
    js.pool1dForward(x, 2, 9, 5, 2, 1, true, v1, new Int32Array(0));
    nat().pool1dForward(x, 2, 9, 5, 2, 1, true, v2, new Int32Array(0));
    nat().pool1dForward(x, 2, 9, 5, 2, 1, true, withArg, new Int32Array(x.length));
    close(v2, v1, 'max pool without argmax', 0);
    close(v2, withArg, 'max pool with and without argmax', 0);
    assert.throws(() => nat().pool1dBackward(rnd(6), 1, 2, 3, 1, 0, true, new Int32Array(0), new Float32Array(6)), /argmax is too short/);
  });
});
