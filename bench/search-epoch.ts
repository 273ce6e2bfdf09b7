// bench/search-epoch: seconds per AdaRec search epoch on MovieLens 100K (rating >= 3, 5-core,
// leave-one-out training sequences, length 50, batch 128) with a NextItNet teacher at the
// reference size (hidden 256, 16 blocks; random weights: this times, it does not learn) and the
// default-mode supernet (K = 4 cells x N = 3 nodes, hidden 64, the 8 default operators).
//
// Ours runs the inner step of runSearch (src/search/search.ts): the frozen teacher's signals, a
// straight-through Gumbel sample of alpha, the supernet forward under the sampled mix, the
// distillation loss with the EMD layer mapping, backward, gradient clipping (the default 5),
// AdamW on the weights and on alpha (single-level), the EMD weight update. Two estimators:
// 'all' (every operator computed, weighted by the one-hot: the reference's) and 'single-path'.
// PyTorch (bench/torch_supernet.py) runs the supernet written like the reference, all operators,
// in two variants: the reference as it is (the teacher's forward with autograd, backward running
// through it) and a fair one with the teacher frozen (no_grad, eval). All four run on the very
// same batches, batch by batch interleaved, one thread each. Prints seconds per epoch and ratios.
//
// SEARCH_BENCH_BATCHES=n times only the first n batches of the epoch and scales to a full epoch;
// SEARCH_BENCH_WARMUP=w warms up on the first w batches (default: the batches timed).
import { fileURLToPath } from 'node:url';
import { F, Rng, backendName, backward, nn, noGrad, optim, tensor, tidy, zeros, type Tensor } from '../src/engine/index.js';
import { NextItNet, NEXTITNET_REFERENCE } from '../src/models/nextitnet.js';
import { nextItemBatch } from '../src/data/batch.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { Distiller } from '../src/distill/distiller.js';
import { sampleEdges } from '../src/search/gumbel.js';
import { cellEdges } from '../src/models/adarec/cell.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { opCosts } from '../src/search/efficiency.js';
import type { OperatorSpec } from '../src/models/adarec/ops/edge-op.js';
import { TorchProcess } from './torch-process.js';
import { ml100kTrainingSequences } from './ml100k.js';

const SCRIPT = fileURLToPath(new URL('../../bench/torch_supernet.py', import.meta.url));
const B = 128, T = 50, C = 64, CELLS = 4, NODES = 3, GAMMA = 0.5, BETA = 8, TAU = 1, CLIP = 5;
const OPS: readonly OperatorSpec[] = DEFAULT_OPS;
const { vocab, sequences, order } = ml100kTrainingSequences();
const allBatches = Math.ceil(order.length / B);
const batchesFrom = (v: string | undefined, fallback: number) => (v ? Math.min(allBatches, Math.max(1, Math.floor(Number(v)))) : fallback);
const limit = batchesFrom(process.env.SEARCH_BENCH_BATCHES, allBatches);
const warmup = batchesFrom(process.env.SEARCH_BENCH_WARMUP, limit);

// ---- ours: the teacher, and one search state per estimator ----
const teacher = new NextItNet({ vocabSize: vocab, ...NEXTITNET_REFERENCE }, new Rng(0));
teacher.eval();
const teacherLayers = NEXTITNET_REFERENCE.dilations.length / 2;
const costs = opCosts(OPS);
const E = cellEdges(NODES).length, O = OPS.length;

/** The supernet, the projections and alpha (as runSearch's SearchModules). */
class SearchState extends nn.Module {
  readonly net: AdaRecNet;
  readonly distiller: Distiller;
  readonly alpha: Tensor;
  readonly wOpt: optim.AdamW;
  readonly aOpt: optim.AdamW;
  readonly weightParams: Tensor[];
  readonly gumbel: Rng;
  readonly costs: Tensor;

  constructor(readonly estimator: 'all' | 'single-path', seed: number) {
    super();
    const rng = new Rng(seed);
    this.net = this.child('net', new AdaRecNet({ vocabSize: vocab, maxLength: T, hidden: C, cells: CELLS, nodes: NODES, operators: OPS, genotype: null, dropout: 0.1 }, rng));
    this.distiller = this.child('distiller', new Distiller(C, NEXTITNET_REFERENCE.hidden, CELLS, teacherLayers, {
      gamma: GAMMA, beta: BETA, terms: { ce: true, embedding: true, hidden: true, logits: true, efficiency: true },
      mapping: 'emd', maskPads: true, temperature: 1,
    }, rng));
    const a = zeros([E, O]);
    for (let i = 0; i < a.values.length; i++) a.values[i] = 0.01 * rng.normal();
    this.alpha = this.param('alpha', a);
    this.weightParams = [...this.net.parameters(), ...this.distiller.parameters()];
    this.wOpt = new optim.AdamW(this.weightParams, { lr: 5e-3, weightDecay: 5e-4 });
    this.aOpt = new optim.AdamW([this.alpha], { lr: 3e-4, weightDecay: 1e-4 });
    this.gumbel = new Rng(seed + 1000);
    this.costs = tensor(costs, [O], this.alpha.dtype);
  }

  /** runSearch's activeColumns. */
  private active(index: Int32Array): number[][] {
    const real = OPS.map((o, i) => (o.kind === 'none' ? -1 : i)).filter((i) => i >= 0);
    return Array.from(index, (o) => (this.estimator === 'all' ? real : OPS[o].kind === 'none' ? [] : [o]));
  }

  /** One single-level search step (runSearch's stepLoss + the optimizer steps); returns the loss. */
  step(inputs: Tensor, targets: Tensor): number {
    this.train();
    const total = tidy(() => {
      const t = noGrad(() => teacher.signals(inputs));
      const sample = sampleEdges(this.alpha, TAU, this.gumbel);
      this.net.mix = { weights: sample.weights, active: this.active(sample.index), perCell: false };
      const s = this.net.signals(inputs);
      const eff = F.sum(F.mul(sample.weights, this.costs));
      const { loss, parts } = this.distiller.loss(s, t, inputs, targets, eff);
      this.wOpt.zeroGrad(); this.aOpt.zeroGrad();
      backward(loss);
      optim.clipGradNorm(this.weightParams, CLIP);
      this.wOpt.step();
      this.aOpt.step();
      return parts.total;
    });
    this.distiller.afterStep();
    this.wOpt.zeroGrad(); this.aOpt.zeroGrad();
    this.net.mix = null;
    return total;
  }
}

const ours = { all: new SearchState('all', 1), single: new SearchState('single-path', 2) };

// ---- torch ----
const torch = new TorchProcess(SCRIPT);
const opSpec = (o: OperatorSpec) => (o.kind === 'conv' ? { kind: 'conv', k: o.kernelSize, d: o.dilation }
  : o.kind === 'pool' ? { kind: 'pool', pool: o.pool, k: o.kernelSize } : { kind: o.kind });
if (OPS.some((o) => !o.causal)) throw new Error('torch_supernet.py implements causal operators only');
const info = await torch.call<{ torch: string; threads: number; params: { teacher: number; supernet: number } }>({
  cmd: 'init', vocab, length: T, teacher_hidden: NEXTITNET_REFERENCE.hidden, dilations: NEXTITNET_REFERENCE.dilations,
  kernel: NEXTITNET_REFERENCE.kernelSize, student_hidden: C, cells: CELLS, nodes: NODES, ops: OPS.map(opSpec),
  costs: Array.from(costs), gamma: GAMMA, beta: BETA, tau: TAU, threads: 1,
});
console.log(`search epoch: NextItNet teacher hidden ${NEXTITNET_REFERENCE.hidden}, ${NEXTITNET_REFERENCE.dilations.length} blocks ` +
  `(${teacher.parameterCount().toLocaleString('en-US')} params, torch ${info.params.teacher.toLocaleString('en-US')}); supernet ${CELLS} cells x ${NODES} nodes, ` +
  `hidden ${C}, ${O} operators (${ours.all.net.parameterCount().toLocaleString('en-US')} params, torch ${info.params.supernet.toLocaleString('en-US')}); ` +
  `vocab ${vocab}, ${sequences.length} sequences in ${allBatches} batches of ${B} x ${T}; adarec ${backendName()} vs torch ${info.torch} (${info.threads} thread)`);
if (limit < allBatches) console.log(`timing the first ${limit} of ${allBatches} batches of an epoch, scaled to the full epoch (${sequences.length} sequences), after a warm-up on ${warmup} batches`);

const names = ['ours all-ops', 'ours single-path', 'torch reference', 'torch fair'] as const;
let timed = [0, 0, 0, 0];
for (let epoch = 0; epoch < 2; epoch++) { // epoch 0 warms everything up
  const ms = [0, 0, 0, 0];
  let seqs = 0;
  for (let b = 0; b < (epoch === 0 ? warmup : limit); b++) {
    const batch = nextItemBatch(order.slice(b * B, (b + 1) * B).map((i) => sequences[i]), T);
    const n = batch.inputs.shape[0];
    seqs += n;
    let t0 = performance.now();
    ours.all.step(batch.inputs, batch.targets);
    ms[0] += performance.now() - t0;
    t0 = performance.now();
    ours.single.step(batch.inputs, batch.targets);
    ms[1] += performance.now() - t0;
    const msg = { cmd: 'step', batch: n, inputs: Array.from(batch.inputs.values), targets: Array.from(batch.targets.values) };
    ms[2] += (await torch.call<{ ms: number }>({ ...msg, variant: 'ref' })).ms;
    ms[3] += (await torch.call<{ ms: number }>({ ...msg, variant: 'fair' })).ms;
    batch.inputs.dispose(); batch.targets.dispose();
  }
  const scale = sequences.length / seqs;
  const perEpoch = ms.map((m) => (m / 1000) * scale);
  console.log(`  ${epoch === 0 ? 'warm-up' : 'timed'} (${seqs} sequences, per epoch): ` + names.map((nm, i) => `${nm} ${perEpoch[i].toFixed(1)} s`).join(', '));
  timed = perEpoch;
}
const rss = await torch.call<{ maxrss_mb: number }>({ cmd: 'stats' });
torch.close();
for (let i = 0; i < 4; i++) console.log(`${names[i].padEnd(17)} ${timed[i].toFixed(2)} s/epoch (${(sequences.length / timed[i]).toFixed(0)} sequences/s)`);
console.log(`ours all-ops / torch reference:  ${(timed[0] / timed[2]).toFixed(3)}  (target <= 0.5)`);
console.log(`ours all-ops / torch fair:       ${(timed[0] / timed[3]).toFixed(3)}  (target <= 0.9)`);
console.log(`ours single-path / torch fair:   ${(timed[1] / timed[3]).toFixed(3)}`);
console.log(`ours single-path / torch reference: ${(timed[1] / timed[2]).toFixed(3)}`);
console.log(`memory: node rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB, torch max rss ${rss.maxrss_mb.toFixed(0)} MiB`);
