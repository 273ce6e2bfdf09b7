// bench/train-step: one training step of the FINDINGS.md model on our engine against the PyTorch
// reference, interleaved in one script, single thread each. Prints ms/step, peak RSS and the ratio.
import { Rng, backendName, keep, optim, pool } from '../src/engine/index.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { BENCH_BATCH, BENCH_LENGTH, BENCH_MODEL, randomBatch, timedStep, torchInit } from './model-config.js';
import { TorchProcess, median, torchMissing } from './torch-process.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 7), WARMUP = 2;

const missing = torchMissing();
if (missing) {
  console.error(missing);
  process.exit(1);
}

const model = new NextItNet(BENCH_MODEL, new Rng(0));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const { inputs, targets } = randomBatch(BENCH_BATCH, BENCH_LENGTH, BENCH_MODEL.vocabSize, 7);
keep(inputs); keep(targets);
const ourStep = (): { ms: number; loss: number } => timedStep(model, opt, inputs, targets);

const torch = new TorchProcess();
const info = await torch.call<{ torch: string; threads: number }>(torchInit(1));
console.log(`train step: NextItNet vocab ${BENCH_MODEL.vocabSize}, hidden ${BENCH_MODEL.hidden}, ${BENCH_MODEL.dilations.length} blocks, ` +
  `batch ${BENCH_BATCH} x ${BENCH_LENGTH}, Adam; adarec backend ${backendName()} vs torch ${info.torch} (${info.threads} thread)`);

const ours: number[] = [], theirs: number[] = [];
let ourLosses: number[] = [], torchLosses: number[] = [];
let allocBefore = 0;
for (let i = 0; i < WARMUP + STEPS; i++) {
  if (i === WARMUP) allocBefore = pool.stats.allocated;
  const a = ourStep();
  const b = await torch.call<{ ms: number; loss: number }>({ cmd: 'train_step' });
  ourLosses.push(a.loss); torchLosses.push(b.loss);
  if (i >= WARMUP) { ours.push(a.ms); theirs.push(b.ms); }
  console.log(`  step ${i + 1}${i < WARMUP ? ' (warm-up)' : ''}: adarec ${a.ms.toFixed(0)} ms (loss ${a.loss.toFixed(4)}), torch ${b.ms.toFixed(0)} ms (loss ${b.loss.toFixed(4)})`);
}
const allocsPerStep = (pool.stats.allocated - allocBefore) / STEPS;
const ourRss = process.resourceUsage().maxRSS / 1024;
const torchRss = (await torch.call<{ maxrss_mb: number }>({ cmd: 'stats' })).maxrss_mb;
torch.close();
const mo = median(ours), mt = median(theirs);
console.log(`adarec: ${mo.toFixed(1)} ms/step (median of ${STEPS}), peak RSS ${ourRss.toFixed(0)} MB, ${allocsPerStep.toFixed(1)} new buffers/step after warm-up`);
console.log(`torch:  ${mt.toFixed(1)} ms/step (median of ${STEPS}), peak RSS ${torchRss.toFixed(0)} MB`);
console.log(`loss after ${WARMUP + STEPS} steps: adarec ${ourLosses.at(-1)!.toFixed(4)}, torch ${torchLosses.at(-1)!.toFixed(4)} (different initial weights)`);
console.log(`rss ratio: ${(ourRss / torchRss).toFixed(2)}`);
console.log(`ratio: ${(mo / mt).toFixed(3)}`);
