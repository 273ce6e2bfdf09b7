// `adarec demo`: a short training run of a small NextItNet on generated data. It shows that the
// engine works on this machine (loss going down) and how fast (sequences per second).
import { syntheticSequences } from '../data/synthetic.js';
import { nextItemBatch } from '../data/batch.js';
import { Rng, backendName, backward, optim, tidy } from '../engine/index.js';
import { NextItNet } from '../models/nextitnet.js';

export interface DemoOptions {
  steps: number;
  batchSize: number;
  maxLen: number;
  hidden: number;
  items: number;
  seed: number;
  logEvery: number;
}

export interface DemoResult {
  firstLoss: number;
  lastLoss: number;
  sequencesPerSecond: number;
  backend: string;
}

export function runDemo(o: DemoOptions, print: (line: string) => void = console.log): DemoResult {
  const sequences = syntheticSequences({ users: 2000, items: o.items, maxLength: o.maxLen + 1, seed: o.seed });
  const rng = new Rng(o.seed);
  const model = new NextItNet({ vocabSize: o.items + 1, hidden: o.hidden, dilations: [1, 4, 1, 4], kernelSize: 3, residual: 'learned' }, rng);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  print(`adarec demo: NextItNet (${model.parameterCount().toLocaleString('en-US')} parameters, hidden ${o.hidden}, 4 blocks) ` +
    `on ${sequences.length} generated sequences of ${o.items} items; backend ${backendName()}`);
  const order = Array.from({ length: sequences.length }, (_, i) => i);
  let cursor = order.length, firstLoss = NaN, lastLoss = NaN, windowLoss = 0, windowSteps = 0;
  const t0 = performance.now();
  for (let step = 1; step <= o.steps; step++) {
    if (cursor + o.batchSize > order.length) { rng.shuffle(order); cursor = 0; }
    const batch = order.slice(cursor, (cursor += o.batchSize)).map((i) => sequences[i]);
    const loss = tidy(() => {
      const { inputs, targets } = nextItemBatch(batch, o.maxLen);
      const l = model.loss(inputs, targets);
      opt.zeroGrad();
      backward(l);
      opt.step();
      return l.item();
    });
    if (step === 1) firstLoss = loss;
    windowLoss += loss; windowSteps++;
    if (step % o.logEvery === 0 || step === o.steps) {
      lastLoss = windowLoss / windowSteps;
      const secs = (performance.now() - t0) / 1000;
      print(`step ${String(step).padStart(4)}  loss ${lastLoss.toFixed(4)}  ${((step * o.batchSize) / secs).toFixed(0)} sequences/s`);
      windowLoss = 0; windowSteps = 0;
    }
  }
  const sequencesPerSecond = (o.steps * o.batchSize) / ((performance.now() - t0) / 1000);
  print(`done: loss ${firstLoss.toFixed(4)} -> ${lastLoss.toFixed(4)}, ${sequencesPerSecond.toFixed(0)} sequences/s ` +
    `(${(((performance.now() - t0) / o.steps)).toFixed(1)} ms/step, batch ${o.batchSize} x length ${o.maxLen})`);
  model.dispose();
  return { firstLoss, lastLoss, sequencesPerSecond, backend: backendName() };
}
