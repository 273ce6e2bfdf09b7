// bench/pool-kernel: what the native pooling kernels save in a training step of a pool-heavy
// student, the MovieLens-1M student of docs/RESULTS.md (4 cells of max, max, max, conv3-d2, avg,
// avg; hidden 32; inputs of 200; batch 128; 3,416 items; CE only, no teacher). Steps alternate
// between the native backend as it is and the same backend with the two pooling kernels sent to
// the JS loops (what pool1d ran before the kernels existed), in one process; each variant's
// losses must agree. Prints ms per step (median), the pooling ops' share of the step, and
// `ratio: X` (native kernels / JS loops).
//
//   npm run bench:pool-kernel [-- --steps N]
import { Rng, backendName, kernels, keep, optim } from '../src/engine/index.js';
import { JsKernels } from '../src/engine/backend/js.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { randomBatch, timedStep } from './model-config.js';
import { median } from './torch-process.js';

const args = process.argv.slice(2);
const steps = Number(args[args.indexOf('--steps') + 1] ?? 0) || 7;
const B = 128, T = 200, V = 3417, C = 32;
if (backendName() !== 'native') { console.error('bench:pool-kernel compares native kernels: build the native backend first (npm run build:native)'); process.exit(1); }

const cell = ['causal_max_pool_3', 'causal_max_pool_3', 'causal_max_pool_3', 'causal_conv_3_d2', 'causal_avg_pool_3', 'causal_avg_pool_3'];
const column = cell.map((name) => DEFAULT_OPS.findIndex((o) => o.name === name));
const model = new AdaRecNet({ vocabSize: V, maxLength: T, hidden: C, cells: 4, nodes: 3, operators: DEFAULT_OPS, genotype: [0, 1, 2, 3].map(() => column), dropout: 0, convNorm: 'layer' }, new Rng(0));
const opt = new optim.Adam(model.parameters(), { lr: 0 }); // lr 0: every step sees the same weights
const { inputs, targets } = randomBatch(B, T, V, 7);
keep(inputs); keep(targets);

// the pooling kernels alone, and the switch to the JS loops (own properties shadow the class's methods)
const k = kernels() as unknown as Record<string, unknown>, js = new JsKernels();
let poolMs = 0;
const wrap = (name: 'pool1dForward' | 'pool1dBackward', impl: (...a: never[]) => void): void => {
  k[name] = (...a: never[]): void => { const t = performance.now(); impl(...a); poolMs += performance.now() - t; };
};
const native = { pool1dForward: kernels().pool1dForward.bind(kernels()), pool1dBackward: kernels().pool1dBackward.bind(kernels()) };
const use = (which: 'native' | 'js'): void => {
  wrap('pool1dForward', which === 'native' ? native.pool1dForward : js.pool1dForward.bind(js));
  wrap('pool1dBackward', which === 'native' ? native.pool1dBackward : js.pool1dBackward.bind(js));
};

const step = (which: 'native' | 'js'): { ms: number; pool: number; loss: number } => {
  use(which);
  poolMs = 0;
  return { ...timedStep(model, opt, inputs, targets), pool: poolMs };
};

console.log(`pool-kernel: AdaRec student 4 cells (${cell.join(', ')}), hidden ${C}, batch ${B} x ${T}, vocab ${V}; ${backendName()}, ${steps} steps each, interleaved`);
step('native'); step('js'); // warm-up
const runs = { native: [] as { ms: number; pool: number; loss: number }[], js: [] as { ms: number; pool: number; loss: number }[] };
for (let i = 0; i < steps; i++) for (const which of ['native', 'js'] as const) runs[which].push(step(which));
const gap = Math.max(...runs.native.map((r, i) => Math.abs(r.loss - runs.js[i].loss)));
if (gap > 1e-4) { console.error(`losses differ by ${gap}: the two pooling paths do not compute the same function`); process.exit(1); }
for (const which of ['js', 'native'] as const) {
  const ms = median(runs[which].map((r) => r.ms)), pool = median(runs[which].map((r) => r.pool));
  console.log(`${which === 'js' ? 'JS loops     ' : 'native kernel'}: ${ms.toFixed(0)} ms/step, pooling ${pool.toFixed(0)} ms (${(100 * pool / ms).toFixed(1)}% of the step)`);
}
console.log(`ratio: ${(median(runs.native.map((r) => r.ms)) / median(runs.js.map((r) => r.ms))).toFixed(3)} (step, native kernels / JS loops); ` +
  `pooling alone ${(median(runs.native.map((r) => r.pool)) / median(runs.js.map((r) => r.pool))).toFixed(3)}; losses agree within ${gap.toExponential(1)}`);
