// bench/threads: training steps of the three teachers at 1 thread and at N threads (ADAREC_THREADS
// or --threads, default: this machine's physical cores, at least 2), interleaved step by step in
// one process, so load from other processes hits both alike. Prints ms/step for each count, the
// batch-1 scoring p50 at each count, and `ratio: X` (training, N threads / 1 thread; below 1 is a
// speed-up). GEMMs run on oneDNN's OpenMP threads,
// attention on one task per (batch, head), layer norm, softmax, cross-entropy and the element-wise
// kernels on contiguous row/element slices (native/common.h).
import { Rng, backendName, keep, optim, physicalCores } from '../src/engine/index.js';
import { setNativeThreads, nativeInfo } from '../src/engine/backend/native.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import { BERT4Rec } from '../src/models/bert4rec.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { randomBatch, timedStep } from './model-config.js';
import { median } from './torch-process.js';
import { measureLatency } from '../src/eval/cost.js';

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const STEPS = Number(arg('steps') ?? 6), WARMUP = 2;
const N = Number(arg('threads') ?? Math.max(2, physicalCores()));
if (backendName() !== 'native') {
  console.error('bench:threads needs the native backend (npm run build:native)');
  process.exit(1);
}
const V = 3_417, T = 200, B = 64;
const transformer = { vocabSize: V, hidden: 64, heads: 2, blocks: 2, ffnMultiplier: 4, dropout: 0.2, residual: 'plain' as const, maxLength: T };
const models: [string, () => SequentialRecommender][] = [
  ['SASRec 2 x 64', () => new SASRec(transformer, new Rng(1))],
  ['BERT4Rec 2 x 64 (causal)', () => { const m = new BERT4Rec(transformer, new Rng(2)); m.causal = true; return m; }],
  ['NextItNet 8 x 64', () => new NextItNet({ vocabSize: V, hidden: 64, dilations: [1, 4, 1, 4, 1, 4, 1, 4], kernelSize: 3, residual: 'plain' }, new Rng(3))],
];
console.log(`threads: training steps at 1 and ${N} threads, ML-1M-sized (${V - 1} items), batch ${B} x ${T}, Adam; ` +
  `${physicalCores()} physical cores here; gemm ${nativeInfo()?.gemm}`);
const ratios: number[] = [];
for (const [name, make] of models) {
  const m = make();
  const opt = new optim.Adam(m.parameters(), { lr: 1e-3 });
  const { inputs, targets } = randomBatch(B, T, V, 7);
  keep(inputs); keep(targets);
  const step = (threads: number): number => {
    setNativeThreads(threads);
    return timedStep(m, opt, inputs, targets).ms;
  };
  const one: number[] = [], many: number[] = [];
  for (let i = 0; i < WARMUP + STEPS; i++) {
    let a: number, b: number; // alternate which count goes first
    if (i % 2 === 0) { a = step(1); b = step(N); } else { b = step(N); a = step(1); }
    if (i >= WARMUP) { one.push(a); many.push(b); }
  }
  // batch-1 scoring (the serving path's single sequence): small GEMMs stay on one thread, so
  // more threads must not slow it down
  const lat = (threads: number): number => { setNativeThreads(threads); return measureLatency(m, 50, 100).p50; };
  const l1: number[] = [], lN: number[] = [];
  for (let i = 0; i < 3; i++) { l1.push(lat(1)); lN.push(lat(N)); }
  m.dispose(); inputs.dispose(); targets.dispose();
  const r = median(many) / median(one);
  ratios.push(r);
  console.log(`  ${name}: 1 thread ${median(one).toFixed(0)} ms/step, ${N} threads ${median(many).toFixed(0)} ms/step (ratio ${r.toFixed(3)}); ` +
    `batch-1 scoring of 50 items p50 ${median(l1).toFixed(3)} / ${median(lN).toFixed(3)} ms`);
}
console.log(`ratio: ${(ratios.reduce((a, b) => a * b, 1) ** (1 / ratios.length)).toFixed(3)} (geometric mean, ${N} threads / 1)`);
