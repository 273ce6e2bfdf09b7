// Threads: the default count (ADAREC_THREADS, else the physical cores, read from a sysfs tree),
// and the native kernels' results across thread counts. The parallel kernels split independent
// rows/elements, and their reductions sum fixed-size chunks in order, so 1 and 3 threads must give
// bit-identical results (3 on a 2-core machine still forks: uneven splits are covered); a whole
// training step, whose large GEMMs oneDNN may split differently, must agree within float tolerance.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsKernels } from '../src/engine/backend/js.js';
import { loadNativeKernels, nativeInfo, setNativeThreads } from '../src/engine/backend/native.js';
import { engineThreads, physicalCores } from '../src/engine/backend/threads.js';
import type { Kernels } from '../src/engine/backend/kernels.js';
import { F, Rng, backward, setBackend, backendName, tensor, tidy } from '../src/engine/index.js';
import { SASRec } from '../src/models/sasrec.js';
import { assertClose, randomArray } from './helpers.js';

describe('thread count', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adarec-sysfs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cpu = (root: string, i: number, pkg: number, core: number): void => {
    mkdirSync(join(root, `cpu${i}`, 'topology'), { recursive: true });
    writeFileSync(join(root, `cpu${i}`, 'topology', 'physical_package_id'), `${pkg}\n`);
    writeFileSync(join(root, `cpu${i}`, 'topology', 'core_id'), `${core}\n`);
  };

  it('counts distinct (package, core) pairs: hyper-threads are not cores', () => {
    const smt = join(dir, 'smt');
    // 2 packages x 2 cores x 2 hyper-threads = 8 logical CPUs, 4 cores (core ids repeat across packages)
    let i = 0;
    for (const pkg of [0, 1]) for (const core of [0, 1]) for (let t = 0; t < 2; t++) cpu(smt, i++, pkg, core);
    mkdirSync(join(smt, 'cpufreq'), { recursive: true }); // not a cpu<N> entry
    assert.equal(physicalCores(smt), 4);
    const flat = join(dir, 'flat');
    for (let k = 0; k < 3; k++) cpu(flat, k, 0, k);
    assert.equal(physicalCores(flat), 3);
  });

  it('falls back to the logical CPUs without a sysfs topology', () => {
    assert.ok(physicalCores(join(dir, 'missing')) >= 1);
  });

  it('ADAREC_THREADS wins; a bad value is an error naming the variable', () => {
    assert.equal(engineThreads({ ADAREC_THREADS: '3' }), 3);
    assert.equal(engineThreads({}), physicalCores());
    for (const bad of ['0', '-1', '1.5', 'two', '5000'])
      assert.throws(() => engineThreads({ ADAREC_THREADS: bad }), /ADAREC_THREADS must be an integer in \[1, 1024\], got/);
  });
});

const js = new JsKernels();
let nat: Kernels | null = null;
try {
  nat = loadNativeKernels(js);
} catch {
  nat = null;
}
const skip = nat === null && process.env.ADAREC_REQUIRE_NATIVE !== '1' ? 'native addon not loadable' : false;

describe('native kernels across thread counts', { skip }, () => {
  const k = (): Kernels => {
    assert.ok(nat, 'native addon failed to load');
    return nat;
  };
  const initial = nativeInfo()?.threads ?? 1;
  after(() => setNativeThreads(initial));
  let seed = 500;
  const rnd = (n: number, lo = -1, hi = 1): Float32Array => randomArray(n, ++seed, lo, hi);

  const regions = (): number => nativeInfo()?.parallelRegions ?? 0;
  /**
   * Runs `f` (which returns every output it wrote) at 1 and at 3 threads; the outputs must be
   * identical, and the 3-thread run must have opened parallel regions (the sizes are above the
   * kernels' threshold) while the 1-thread run opened none.
   */
  const same = (what: string, f: () => ArrayLike<number>[]): ArrayLike<number>[] => {
    setNativeThreads(1);
    const r0 = regions();
    const one = f().map((a) => Array.from(a));
    assert.equal(regions(), r0, `${what}: no parallel region at 1 thread`);
    setNativeThreads(3);
    const three = f().map((a) => Array.from(a));
    assert.ok(regions() > r0, `${what}: the 3-thread run opened no parallel region (inputs below the threshold?)`);
    setNativeThreads(initial);
    assert.equal(three.length, one.length);
    for (let i = 0; i < one.length; i++) assert.deepEqual(three[i], one[i], `${what}: output ${i} differs between 1 and 3 threads`);
    return one;
  };

  it('is the physical core count by default', () => {
    if (!process.env.ADAREC_THREADS) assert.equal(initial, physicalCores());
  });

  it('element-wise: unary, unary gradients, masked scale, axpy, scale', () => {
    const n = 1_200_001; // odd: uneven slices; above the kernels' parallel threshold
    const x = rnd(n, -3, 3), dy = rnd(n);
    const mask = Uint8Array.from(rnd(n), (v) => (v > 0 ? 1 : 0));
    for (const op of ['exp', 'tanh', 'relu', 'sigmoid', 'square'] as const) {
      const [y] = same(`unary ${op}`, () => {
        const y = new Float32Array(n), dx = new Float32Array(n);
        k().unary(op, x, y);
        k().unaryGrad(op, x, y, dy, dx);
        return [y, dx];
      });
      const want = new Float32Array(n);
      js.unary(op, x, want);
      assertClose(y, want, 1e-5, `unary ${op} vs js`);
    }
    same('maskedScale, axpy, scale', () => {
      const out = new Float32Array(n), acc = dy.slice(), s = x.slice();
      k().maskedScale(x, mask, 1.25, out);
      k().axpy(0.5, x, acc);
      k().scale(s, -0.75);
      return [out, acc, s];
    });
  });

  it('binary ops with broadcasting split along the outer axis', () => {
    const B = 101, T = 103, C = 107; // > 2^20 elements
    const a = rnd(B * T * C), row = rnd(C), col = rnd(B * T);
    for (const op of ['add', 'mul', 'max'] as const) {
      const [full, bcastRow, bcastCol] = same(`binary ${op}`, () => {
        const o1 = new Float32Array(B * T * C), o2 = new Float32Array(B * T * C), o3 = new Float32Array(B * T * C);
        k().binary(op, [B, T, C], a, [T * C, C, 1], a, [T * C, C, 1], o1);
        k().binary(op, [B, T, C], a, [T * C, C, 1], row, [0, 0, 1], o2);
        k().binary(op, [B, T, C], a, [T * C, C, 1], col, [T, 1, 0], o3);
        return [o1, o2, o3];
      });
      const want = new Float32Array(B * T * C);
      js.binary(op, [B, T, C], a, [T * C, C, 1], row, [0, 0, 1], want);
      assertClose(bcastRow, want, 1e-6, `binary ${op} row broadcast vs js`);
      js.binary(op, [B, T, C], a, [T * C, C, 1], col, [T, 1, 0], want);
      assertClose(bcastCol, want, 1e-6, `binary ${op} column broadcast vs js`);
      assert.equal(full.length, B * T * C);
    }
  });

  it('layer norm forward and backward (parameter gradients summed over row chunks)', () => {
    const R = 4_000, C = 64; // 16 chunks of 256 rows, the last partial
    const x = rnd(R * C, -2, 2), gamma = rnd(C, 0.5, 1.5), beta = rnd(C), dy = rnd(R * C);
    for (const relu of [false, true]) {
      const [y, , , dx, dg, db] = same(`layerNorm relu=${relu}`, () => {
        const y = new Float32Array(R * C), mean = new Float32Array(R), rstd = new Float32Array(R);
        k().layerNormForward(x, gamma, beta, R, C, 1e-5, relu, y, mean, rstd);
        const dx = new Float32Array(R * C), dg = new Float32Array(C), db = new Float32Array(C);
        k().layerNormBackward(dy, x, gamma, mean, rstd, relu ? y : null, R, C, dx, dg, db);
        return [y, mean, rstd, dx, dg, db];
      });
      const jy = new Float64Array(R * C), jm = new Float64Array(R), jr = new Float64Array(R);
      const x64 = Float64Array.from(x), g64 = Float64Array.from(gamma);
      js.layerNormForward(x64, g64, Float64Array.from(beta), R, C, 1e-5, relu, jy, jm, jr);
      const jdx = new Float64Array(R * C), jdg = new Float64Array(C), jdb = new Float64Array(C);
      js.layerNormBackward(Float64Array.from(dy), x64, g64, jm, jr, relu ? jy : null, R, C, jdx, jdg, jdb);
      assertClose(y, jy, 1e-4, 'layerNorm y vs js', 1e-2);
      assertClose(dx, jdx, 1e-3, 'layerNorm dx vs js', 1e-2);
      assertClose(dg, jdg, 1e-4, 'layerNorm dgamma vs js', 1e-1);
      assertClose(db, jdb, 1e-4, 'layerNorm dbeta vs js', 1e-1);
    }
  });

  it('softmax, its gradient, cross-entropy and the distillation KL (losses summed over row chunks)', () => {
    const R = 515, V = 997;
    const logits = rnd(R * V, -4, 4), teacher = rnd(R * V, -4, 4), dy = rnd(R * V);
    const labels = Int32Array.from({ length: R }, (_, r) => (r % 7 === 3 ? -100 : (r * 31) % V));
    const mask = Float32Array.from({ length: R }, (_, r) => (r % 5 === 0 ? 0 : 1));
    let ce = { loss: 0, count: 0 }, kl = 0;
    const [y, , grad, klGrad] = same('softmax/CE/KL', () => {
      const y = new Float32Array(R * V), dx = new Float32Array(R * V), grad = new Float32Array(R * V), g2 = new Float32Array(R * V);
      k().softmax(logits, R, V, y);
      k().softmaxGrad(y, dy, R, V, dx);
      ce = k().softmaxCrossEntropy(logits, labels, R, V, -100, grad, 0.5);
      kl = k().distillKL(teacher, logits, R, V, 2, mask, g2, 0.25);
      return [y, dx, grad, g2, [ce.loss, ce.count, kl]];
    });
    const jy = new Float32Array(R * V);
    js.softmax(logits, R, V, jy);
    assertClose(y, jy, 1e-5, 'softmax vs js');
    const jg = new Float64Array(R * V);
    const jce = js.softmaxCrossEntropy(Float64Array.from(logits), labels, R, V, -100, jg, 0.5);
    assert.equal(ce.count, jce.count);
    assertClose([ce.loss], [jce.loss], 1e-6, 'cross-entropy loss vs js');
    assertClose(grad, jg, 1e-4, 'cross-entropy gradient vs js', 1e-4);
    const jkg = new Float64Array(R * V);
    const jkl = js.distillKL(Float64Array.from(teacher), Float64Array.from(logits), R, V, 2, Float64Array.from(mask), jkg, 0.25);
    assertClose([kl], [jkl], 1e-5, 'distillation KL vs js');
    assertClose(klGrad, jkg, 1e-4, 'distillation KL gradient vs js', 1e-5);
  });

  it('attention forward and backward, one task per (batch, head)', () => {
    const B = 6, T = 80, H = 2, Dh = 16, E = H * Dh, n = B * T * E;
    const q = rnd(n), kk = rnd(n), v = rnd(n), dout = rnd(n);
    const keyMask = Float32Array.from({ length: B * T }, (_, i) => (i % T < 5 * (i % B === 0 ? 1 : 0) ? 0 : 1));
    for (const causal of [true, false]) {
      const [out, probs, dq, dk, dv] = same(`attention causal=${causal}`, () => {
        const out = new Float32Array(n), probs = new Float32Array(B * H * T * T);
        k().attentionForward(q, kk, v, B, T, H, Dh, causal, keyMask, out, probs);
        const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
        k().attentionBackward(dout, q, kk, v, probs, B, T, H, Dh, dq, dk, dv, causal);
        return [out, probs, dq, dk, dv];
      });
      const jo = new Float64Array(n), jp = new Float64Array(B * H * T * T);
      const [q64, k64, v64] = [q, kk, v].map((a) => Float64Array.from(a));
      js.attentionForward(q64, k64, v64, B, T, H, Dh, causal, Float64Array.from(keyMask), jo, jp);
      const jdq = new Float64Array(n), jdk = new Float64Array(n), jdv = new Float64Array(n);
      js.attentionBackward(Float64Array.from(dout), q64, k64, v64, jp, B, T, H, Dh, jdq, jdk, jdv, causal);
      assertClose(out, jo, 1e-4, 'attention out vs js', 1e-2);
      assertClose(probs, jp, 1e-4, 'attention probs vs js', 1e-3);
      for (const [got, want, name] of [[dq, jdq, 'dq'], [dk, jdk, 'dk'], [dv, jdv, 'dv']] as const)
        assertClose(got, want, 1e-3, `attention ${name} vs js`, 1e-2);
    }
  });

  it('a SASRec training step: loss and every gradient agree at 1 and 2 threads', () => {
    const before = backendName();
    setBackend('native');
    try {
      const V = 2_001, T = 50, B = 32;
      const rng = new Rng(4);
      const x = Int32Array.from({ length: B * T }, (_, i) => (i % T < (i / T) % 10 ? 0 : 1 + rng.int(V - 1)));
      const y = Int32Array.from({ length: B * T }, (_, i) => (x[i] === 0 ? 0 : 1 + rng.int(V - 1)));
      const step = (threads: number): { loss: number; grads: Float32Array[] } => {
        setNativeThreads(threads);
        const m = new SASRec({ vocabSize: V, hidden: 64, heads: 2, blocks: 2, ffnMultiplier: 4, dropout: 0, residual: 'plain', maxLength: T }, new Rng(9));
        const loss = tidy(() => {
          const l = F.crossEntropy(F.reshape(m.forward(tensor(x, [B, T], 'int32')), [B * T, V]), tensor(y, [B * T], 'int32'), 0);
          backward(l);
          return l.item();
        });
        const grads = m.parameters().map((p) => Float32Array.from(p.grad ? p.grad.values : []));
        m.dispose();
        return { loss, grads };
      };
      const one = step(1), two = step(2);
      setNativeThreads(initial);
      assertClose([two.loss], [one.loss], 1e-6, 'loss');
      one.grads.forEach((g, i) => assertClose(two.grads[i], g, 1e-4, `gradient ${i}`, 1e-3));
    } finally {
      setBackend(before);
    }
  });
});
