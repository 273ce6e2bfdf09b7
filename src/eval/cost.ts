// What a model costs: parameters (all, and without the vocabulary-sized tables), multiply-
// accumulates to score one sequence, and measured single-sequence latency.
//
// MACs count what serving runs: every layer over all L input positions (a causal model needs
// them for the last one) and the output layer at the last position only. Convolutions count
// L*C*C*k, attention L*L*C for scores and as much for the weighted sum, linear maps in*out per
// position; norms, activations and pools are counted as METHOD.md counts ops (a pool L*C, a
// batch norm 2*L*C, a bias L*C), and are small next to the products anyway.
import { noGrad, tensor, tidy } from '../engine/index.js';
import { NextItNet } from '../models/nextitnet.js';
import { TransformerRecommender } from '../models/transformer-recommender.js';
import type { SequentialRecommender } from '../models/types.js';
import { AdaRecNet } from '../models/adarec/network.js';

export interface ModelCost {
  params: number;
  /** Without the item/position embedding tables and the output layer over items. */
  nonEmbeddingParams: number;
  /** Multiply-accumulates to score one sequence of `length` items (last position). */
  macs: number;
}

function vocabParams(m: SequentialRecommender): number {
  let n = 0;
  for (const [name, p] of m.namedParameters()) if (/^(embedding|itemEmbedding|positionEmbedding|output)\./.test(name)) n += p.size;
  return n;
}

export function modelCost(m: SequentialRecommender, length: number): ModelCost {
  const params = m.parameterCount();
  const nonEmbeddingParams = params - vocabParams(m);
  const L = length, V = m.vocabSize;
  let macs: number;
  if (m instanceof NextItNet) {
    const { hidden: C, kernelSize: k, dilations } = m.config;
    macs = dilations.length * 2 * (L * C * C * k + L * C);
    macs += C * V;
  } else if (m instanceof TransformerRecommender) {
    const { hidden: C, ffnMultiplier: f } = m.config, blocks = m.blocks.length;
    macs = blocks * (L * 4 * C * C + 2 * L * L * C + 2 * L * C * C * f) + C * V;
  } else if (m instanceof AdaRecNet) {
    const { hidden: C, genotype, operators } = m.config;
    if (!genotype) throw new Error('modelCost: a supernet has no single cost; derive a genotype first');
    macs = genotype.flat().reduce((s, o) => s + operators[o].macs(L, C), 0) + C * V;
  } else {
    throw new Error(`modelCost: unknown model ${m.constructor.name}`);
  }
  return { params, nonEmbeddingParams, macs };
}

/** Median and 99th percentile milliseconds of scoreLast on one sequence of `length` items (after warm-up). */
export function measureLatency(m: SequentialRecommender, length: number, runs = 50, batch = 1): { p50: number; p99: number } {
  m.eval();
  const ids = tensor(Int32Array.from({ length: batch * length }, (_, i) => 1 + (i % (m.vocabSize - 1))), [batch, length], 'int32');
  const once = (): number => {
    const t0 = performance.now();
    noGrad(() => tidy(() => { m.scoreLast(ids).values; }));
    return performance.now() - t0;
  };
  for (let i = 0; i < Math.min(5, runs); i++) once();
  const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
  ids.dispose();
  return { p50: times[Math.floor(runs / 2)], p99: times[Math.min(runs - 1, Math.floor(runs * 0.99))] };
}
