// bench/conv-norm: how far the norm after each AdaRec convolution leaks later positions into
// earlier outputs in training mode (src/models/adarec/ops/conv.ts, the network's convNorm).
//
// A batch of 32 left-padded training windows of length 50 from the synthetic default data: for a
// split s, every row's real items at positions t > s are replaced by other items, and the logits at
// the real positions t <= s are compared (the model in training mode, dropout off, so that only the
// norm's statistics can carry anything). Reported per model and norm: the largest |change| of a
// logit and how many top-1 predictions changed, over s = 12, 25, 37 together. A causal model
// changes nothing (exactly 0); batch norm's statistics over batch x time do. Batch norm in eval
// mode (running statistics) is shown as the control.
//
// Models (hidden 64, 4 cells x 3 nodes, default-mode operators, fresh weights from seed 1):
// the supernet with every operator of every edge mixed at weight 1/8 (as a search forward), and
// the student of the synthetic default's searched cell (conv3, conv3, avg pool, conv3, none, none).
// Any arguments are trained AdaRec student checkpoints (a run folder or best.ckpt), measured with
// their own norm as they were trained.
//
// npm run bench:conv-norm [-- runs/x/student ...]
import { Rng, noGrad, tensor, tidy } from '../src/engine/index.js';
import { nextItemBatch } from '../src/data/batch.js';
import { buildPrepared } from '../src/data/prepare.js';
import { syntheticLog } from '../src/data/synthetic.js';
import { cellEdges } from '../src/models/adarec/cell.js';
import { genotypeColumns } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { CONV_NORMS, DEFAULT_OPS, type ConvNorm } from '../src/models/adarec/operators.js';
import { loadTrainedModel, resolveCheckpoint } from '../src/train/load.js';

const B = 32, T = 50, C = 64, CELLS = 4, NODES = 3, SPLITS = [12, 25, 37];
const CELL = ['causal_conv_3', 'causal_conv_3', 'causal_avg_pool_3', 'causal_conv_3', 'none', 'none'];

// the synthetic default as `adarec train --data synthetic` prepares it: leave-one-out training sequences
const { dataset, split } = buildPrepared(syntheticLog(), {
  duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: null, seed: 42,
});
const vocab = dataset.numItems + 1;
const sequences = Array.from({ length: B }, (_, s) => split.train.items.subarray(split.train.offsets[s], split.train.offsets[s + 1]));
const { inputs } = nextItemBatch(sequences, T);
const ids = Int32Array.from(inputs.values as Int32Array);
inputs.dispose();

/** ids with every real item at positions t > s replaced by another item (drawn uniformly). */
function changeFuture(s: number, rng: Rng, V: number): Int32Array {
  const out = ids.slice();
  for (let i = 0; i < out.length; i++) if (i % T > s && out[i] > 0) out[i] = 1 + ((out[i] - 1 + 1 + rng.int(V - 2)) % (V - 1));
  return out;
}

function logits(model: AdaRecNet, x: Int32Array): Float32Array {
  return noGrad(() => tidy(() => Float32Array.from(model.forward(tensor(x, [B, T], 'int32')).values as Float32Array)));
}

interface Leak { maxChange: number; top1Changed: number; positions: number }

function measure(model: AdaRecNet, training: boolean): Leak {
  if (training) model.train(); else model.eval();
  model.drop.p = 0;
  const V = model.vocabSize, rng = new Rng(7);
  const base = logits(model, ids);
  const r: Leak = { maxChange: 0, top1Changed: 0, positions: 0 };
  for (const s of SPLITS) {
    const other = logits(model, changeFuture(s, rng, V));
    for (let b = 0; b < B; b++) for (let t = 0; t <= s; t++) {
      if (ids[b * T + t] === 0) continue; // padding: no prediction is read there
      const o = (b * T + t) * V;
      let ia = 0, ib = 0;
      for (let v = 0; v < V; v++) {
        r.maxChange = Math.max(r.maxChange, Math.abs(base[o + v] - other[o + v]));
        if (base[o + v] > base[o + ia]) ia = v;
        if (other[o + v] > other[o + ib]) ib = v;
      }
      r.positions++;
      if (ia !== ib) r.top1Changed++;
    }
  }
  return r;
}

function supernet(norm: ConvNorm): AdaRecNet {
  const net = new AdaRecNet({ vocabSize: vocab, maxLength: T, hidden: C, cells: CELLS, nodes: NODES, operators: DEFAULT_OPS, genotype: null, dropout: 0, convNorm: norm }, new Rng(1));
  const E = cellEdges(NODES).length, O = DEFAULT_OPS.length;
  const real = DEFAULT_OPS.flatMap((op, i) => (op.kind === 'none' ? [] : [i]));
  net.mix = { weights: tensor(new Float32Array(E * O).fill(1 / O), [E, O]), active: Array.from({ length: E }, () => real), perCell: false };
  return net;
}

function student(norm: ConvNorm): AdaRecNet {
  const g = { operators: DEFAULT_OPS.map((o) => o.name), nodes: NODES, cells: Array.from({ length: CELLS }, () => CELL.slice()) };
  return new AdaRecNet({ vocabSize: vocab, maxLength: T, hidden: C, cells: CELLS, nodes: NODES, operators: DEFAULT_OPS, genotype: genotypeColumns(g), dropout: 0, convNorm: norm }, new Rng(1));
}

const rows: { model: string; norm: string; mode: string; leak: Leak }[] = [];
for (const [name, build] of [['supernet (fresh)', supernet], ['student (fresh)', student]] as const) {
  for (const norm of CONV_NORMS) {
    const m = build(norm);
    rows.push({ model: name, norm, mode: 'train', leak: measure(m, true) });
    if (norm === 'batch') rows.push({ model: name, norm, mode: 'eval', leak: measure(m, false) });
    m.dispose();
  }
}
for (const path of process.argv.slice(2)) {
  const { model, config } = loadTrainedModel(resolveCheckpoint(path));
  if (!(model instanceof AdaRecNet)) throw new Error(`${path}: not an AdaRec student`);
  if (config.maxLength !== T) throw new Error(`${path}: trained with maxLength ${config.maxLength}, this bench uses ${T}`);
  if (model.vocabSize !== vocab) throw new Error(`${path}: trained on ${model.vocabSize - 1} items, not the synthetic default's ${vocab - 1}`);
  const norm = model.config.convNorm ?? 'batch';
  rows.push({ model: `student ${path}`, norm, mode: 'train', leak: measure(model, true) });
  if (norm === 'batch') rows.push({ model: `student ${path}`, norm, mode: 'eval', leak: measure(model, false) });
  model.dispose();
}

console.log(`conv-norm leak: ${B} synthetic windows x ${T}, real items after s = ${SPLITS.join(', ')} changed, logits at real positions <= s compared\n`);
console.log('| model | convNorm | mode | max abs change of a logit | top-1 changed |');
console.log('|---|---|---|---|---|');
for (const { model, norm, mode, leak } of rows)
  console.log(`| ${model} | ${norm} | ${mode} | ${leak.maxChange === 0 ? '0' : leak.maxChange.toPrecision(3)} | ${leak.top1Changed} / ${leak.positions} |`);
