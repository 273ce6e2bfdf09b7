// ONNX export: every model kind (NextItNet, SASRec, causal BERT4Rec, AdaRec students over random
// genotypes covering convs, pools, the running mean, skip and none) run in onnxruntime-node matches our scores and
// signals within 1e-4, at two batch sizes (the batch dimension is dynamic), with int32 input and a
// later opset.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, noGrad, tensor, tidy } from '../src/engine/index.js';
import { BERT4Rec } from '../src/models/bert4rec.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { exportOnnx, type ExportOptions } from '../src/onnx/export.js';
import { genotypeColumns, randomGenotype } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { CAUSAL_MEAN, DEFAULT_OPS, PAPER_OPS, getOperator } from '../src/models/adarec/operators.js';
import type { OperatorSpec } from '../src/models/adarec/ops/edge-op.js';
import { assertNear, perturb, randomIds, runOnnx } from './onnx-helpers.js';

const V = 23, T = 7;

async function checkModel(model: SequentialRecommender, name: string, o: Partial<ExportOptions> = {}): Promise<void> {
  model.eval();
  const { bytes, mapping } = exportOnnx(model, { maxLength: T, signals: true, ...o });
  assert.ok(mapping);
  for (const B of [3, 1]) {
    const ids = randomIds(B, T, V, 5 + B);
    const out = await runOnnx(bytes, ids, B, T, o.inputType ?? 'int64');
    noGrad(() => tidy(() => {
      const x = tensor(ids, [B, T], 'int32');
      const s = model.signals(x);
      assert.deepEqual(out.scores.dims, [B, V]);
      assertNear(out.scores.data, model.scoreLast(x).values, `${name} scores (batch ${B})`);
      assertNear(out.embedding.data, s.embedding.values, `${name} embedding`);
      assert.equal(s.intermediates.length, mapping.outputs.intermediates.length);
      s.intermediates.forEach((t, i) => assertNear(out[`intermediate_${i}`].data, t.values, `${name} intermediate_${i}`));
      assert.deepEqual(out.logits.dims, [B, T, V]);
      assertNear(out.logits.data, s.logits.values, `${name} logits`);
    }));
  }
}

function adarec(ops: readonly OperatorSpec[], cells: string[][], seed: number, positions: 'learned' | 'none' = 'learned'): AdaRecNet {
  const g = { operators: ops.map((o) => o.name), nodes: 3, cells };
  const net = new AdaRecNet({ vocabSize: V, maxLength: T + 2, hidden: 8, cells: cells.length, nodes: 3, operators: ops, genotype: genotypeColumns(g), dropout: 0.1, positions }, new Rng(seed));
  perturb(net, seed);
  return net;
}

describe('ONNX export', () => {
  it('NextItNet (learned and plain residuals)', async () => {
    for (const residual of ['learned', 'plain'] as const) {
      const m = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2, 1, 4], kernelSize: 3, residual, dropout: 0.2 }, new Rng(1));
      perturb(m, 2);
      await checkModel(m, `NextItNet ${residual}`);
    }
  });

  it('SASRec', async () => {
    const m = new SASRec({ vocabSize: V, maxLength: T + 3, hidden: 8, heads: 2, blocks: 2, ffnMultiplier: 2, dropout: 0.2, residual: 'learned' }, new Rng(3));
    perturb(m, 4);
    await checkModel(m, 'SASRec');
  });

  it('BERT4Rec in its causal mode; the bidirectional one is refused', async () => {
    const m = new BERT4Rec({ vocabSize: V, maxLength: T, hidden: 8, heads: 2, blocks: 2, ffnMultiplier: 2, dropout: 0.2, residual: 'plain' }, new Rng(5));
    perturb(m, 6);
    assert.throws(() => exportOnnx(m, { maxLength: T }), /bidirectional/);
    m.causal = true;
    await checkModel(m, 'BERT4Rec');
  });

  it('AdaRec students over random genotypes covering convs, pools, skip and none (causal and centred)', async () => {
    const rng = new Rng(7);
    const kinds = new Set<string>();
    for (const [i, ops] of [DEFAULT_OPS, DEFAULT_OPS, DEFAULT_OPS, PAPER_OPS, PAPER_OPS].entries()) {
      const g = randomGenotype(ops, 3, 2, rng);
      for (const n of g.cells[0]) kinds.add(getOperator(n).kind);
      await checkModel(adarec(ops, g.cells, 10 + i), `AdaRec ${g.cells[0].join(',')}`);
    }
    assert.deepEqual([...kinds].sort(), ['conv', 'none', 'pool', 'skip']);
    // every edge none (each node zeros) and a conv reading a node without edges
    await checkModel(adarec(DEFAULT_OPS, [['none', 'none', 'none', 'none', 'none', 'none'], ['none', 'causal_conv_3', 'none', 'none', 'none', 'skip']], 20), 'AdaRec none');
    // without a position embedding
    await checkModel(adarec(DEFAULT_OPS, [['causal_conv_5_d2', 'causal_avg_pool_3', 'skip', 'causal_max_pool_3', 'none', 'causal_conv_3']], 21, 'none'), 'AdaRec positions none');
     // the running mean over the window's items (CumSum over the item mask), in both cells
    const withMean = [...DEFAULT_OPS, CAUSAL_MEAN];
    await checkModel(adarec(withMean, [['causal_mean', 'causal_conv_3', 'skip', 'causal_max_pool_3', 'causal_mean', 'none'], ['skip', 'none', 'causal_mean', 'none', 'causal_avg_pool_3', 'causal_mean']], 22), 'AdaRec running mean');
    await checkModel(adarec(withMean, [['causal_mean', 'none', 'skip', 'none', 'none', 'causal_mean']], 23, 'none'), 'AdaRec running mean, positions none');
  });

  it('int32 ids and opset 20', async () => {
    const m = new NextItNet({ vocabSize: V, hidden: 8, dilations: [1, 2], kernelSize: 2, residual: 'learned' }, new Rng(8));
    perturb(m, 9);
    await checkModel(m, 'NextItNet int32', { inputType: 'int32', opset: 20 });
  });

  it('refuses a supernet, an unsupported opset and a length past the position embedding', () => {
    const net = new AdaRecNet({ vocabSize: V, maxLength: T, hidden: 8, cells: 1, nodes: 2, operators: DEFAULT_OPS, genotype: null, dropout: 0 }, new Rng(1));
    assert.throws(() => exportOnnx(net, { maxLength: T }), /supernet/);
    const m = new SASRec({ vocabSize: V, maxLength: T, hidden: 8, heads: 2, blocks: 1, ffnMultiplier: 2, dropout: 0, residual: 'plain' }, new Rng(3));
    assert.throws(() => exportOnnx(m, { maxLength: T, opset: 13 }), /opset 13 is not supported/);
    assert.throws(() => exportOnnx(m, { maxLength: T + 1 }), /exceeds/);
  });
});
