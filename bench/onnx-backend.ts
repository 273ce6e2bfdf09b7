// bench/onnx-backend: which serving backend, our engine or onnxruntime-node? Last-position scoring
// (what serving computes) of the reference teacher (NextItNet hidden 256, 16 blocks, dilations
// 1/4, 1,204 items, length 50) and of a small AdaRec student (hidden 64, 4 cells of 3 nodes, one
// causal conv k3 per cell), at batch 1 and 128. Both run on ADAREC_THREADS threads (default the physical cores:
// our GEMM's threads, onnxruntime's intra-op threads), interleaved in rounds; each configuration
// gets about the same wall time, ~2 minutes in all.
import { Rng, backendName, keep, noGrad, tidy } from '../src/engine/index.js';
import { NEXTITNET_REFERENCE, NextItNet } from '../src/models/nextitnet.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { exportOnnx } from '../src/onnx/export.js';
import { idsTensor, openSession } from '../src/onnx/session.js';
import { engineThreads } from '../src/engine/backend/threads.js';
import { genotypeColumns } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { randomBatch } from './model-config.js';
import { percentile } from './torch-process.js';

const VOCAB = 1205, LENGTH = 50, ROUNDS = 5, SECONDS_PER_CONFIG = 40;

function student(): AdaRecNet {
  const cell = ['none', 'none', 'none', 'causal_conv_3', 'none', 'none'];
  const g = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 3, cells: [cell, cell, cell, cell] };
  return new AdaRecNet({ vocabSize: VOCAB, maxLength: LENGTH, hidden: 64, cells: 4, nodes: 3, operators: DEFAULT_OPS, genotype: genotypeColumns(g), dropout: 0.1 }, new Rng(2));
}

/** The reference NextItNet with its residual scales (0 at initialisation) at 0.5, so that every block counts as in a trained one. */
function teacher(): NextItNet {
  const m = new NextItNet({ ...NEXTITNET_REFERENCE, vocabSize: VOCAB }, new Rng(1));
  for (const b of m.blocks) b.eps?.values.fill(0.5);
  return m;
}

const models: { name: string; model: SequentialRecommender }[] = [
  { name: 'teacher NextItNet h256 x16', model: teacher() },
  { name: 'student AdaRec h64 4 cells', model: student() },
];
const threads = engineThreads();
console.log(`last-position scoring, length ${LENGTH}, ${VOCAB - 1} items; ours (${backendName()} backend) vs onnxruntime-node, ${threads} thread(s) each, interleaved`);
console.log('model                       batch  ours p50 ms  ort p50 ms  ours mean  ort mean  ort/ours (p50)  max |diff|');

for (const { name, model } of models) {
  model.eval();
  const session = await openSession(exportOnnx(model, { maxLength: LENGTH }).bytes, name, threads);
  for (const B of [1, 128]) {
    const { inputs } = randomBatch(B, LENGTH, VOCAB, 3 + B);
    keep(inputs);
    const feeds = { ids: idsTensor(inputs.values as Int32Array, B, LENGTH, 'int64') };
    let oursScores: Float32Array = new Float32Array(0), ortScores: Float32Array = new Float32Array(0);
    const ours = (): number => {
      const t = performance.now();
      noGrad(() => tidy(() => { oursScores = Float32Array.from(model.scoreLast(inputs).values); }));
      return performance.now() - t;
    };
    const ort = async (): Promise<number> => {
      const t = performance.now();
      ortScores = (await session.run(feeds)).scores.data as Float32Array;
      return performance.now() - t;
    };
    // warm-up, then calls per round so that each backend gets about SECONDS_PER_CONFIG / 2
    const once = Math.max(ours(), await ort(), ours(), await ort());
    const perRound = Math.max(1, Math.round((SECONDS_PER_CONFIG * 1000) / 2 / ROUNDS / once));
    const a: number[] = [], b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < perRound; i++) a.push(ours());
      for (let i = 0; i < perRound; i++) b.push(await ort());
    }
    let diff = 0;
    for (let i = 0; i < oursScores.length; i++) diff = Math.max(diff, Math.abs(oursScores[i] - ortScores[i]));
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const p50a = percentile(a, 50), p50b = percentile(b, 50);
    console.log(`${name.padEnd(27)} ${String(B).padStart(5)}  ${p50a.toFixed(3).padStart(11)}  ${p50b.toFixed(3).padStart(10)}  ` +
      `${mean(a).toFixed(3).padStart(9)}  ${mean(b).toFixed(3).padStart(8)}  ${(p50b / p50a).toFixed(2).padStart(14)}  ${diff.toExponential(1).padStart(10)}  (${a.length} calls each)`);
    inputs.dispose();
  }
  await session.release();
  model.dispose();
}
