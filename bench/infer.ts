// bench/infer: batch-1 scoring of the last position with the FINDINGS.md model, ours (last
// position only) against PyTorch (model.out(hidden(ids)[:, -1]) in inference mode), interleaved.
import { Rng, backendName, keep, noGrad, tidy } from '../src/engine/index.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { BENCH_LENGTH, BENCH_MODEL, randomBatch, torchInit } from './model-config.js';
import { TorchProcess, percentile, torchMissing } from './torch-process.js';

const ROUNDS = 10, PER_ROUND = 50;

const missing = torchMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}

const model = new NextItNet(BENCH_MODEL, new Rng(0)).eval();
const { inputs } = randomBatch(1, BENCH_LENGTH, BENCH_MODEL.vocabSize, 3);
keep(inputs);
const torch = new TorchProcess();
const info = await torch.call<{ torch: string; threads: number }>(torchInit(1));
console.log(`inference: batch 1, length ${BENCH_LENGTH}, last position only; adarec backend ${backendName()} vs torch ${info.torch} (${info.threads} thread)`);

const ours: number[] = [], theirs: number[] = [];
const score = (): number => {
  const t = performance.now();
  noGrad(() => tidy(() => { model.scoreLast(inputs); }));
  return performance.now() - t;
};
for (let i = 0; i < 20; i++) score(); // warm-up
await torch.call({ cmd: 'infer', n: 20 });
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < PER_ROUND; i++) ours.push(score());
  theirs.push(...(await torch.call<{ ms: number[] }>({ cmd: 'infer', n: PER_ROUND })).ms);
}
torch.close();
const p50o = percentile(ours, 50), p50t = percentile(theirs, 50);
console.log(`adarec: p50 ${p50o.toFixed(3)} ms, p99 ${percentile(ours, 99).toFixed(3)} ms over ${ours.length} calls`);
console.log(`torch:  p50 ${p50t.toFixed(3)} ms, p99 ${percentile(theirs, 99).toFixed(3)} ms over ${theirs.length} calls`);
console.log(`ratio: ${(p50o / p50t).toFixed(3)}`);
