// Fast exact inference: the receptive-field crop and per-event streaming give model.scoreLast's
// logits (max abs diff <= 1e-5) for NextItNet and for random causal AdaRec students; models that
// cannot stream say why.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { F, Rng, noGrad, tensor, tidy } from '../src/engine/index.js';
import { NEXTITNET_REFERENCE, NextItNet } from '../src/models/nextitnet.js';
import { SASRec } from '../src/models/sasrec.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { genotypeColumns, randomGenotype, type Genotype } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { CAUSAL_MEAN, DEFAULT_OPS, PAPER_OPS, type OperatorSpec } from '../src/models/adarec/operators.js';
import { parseSearchConfig } from '../src/search/config.js';
import { fastScorer } from '../src/serve/fast-score.js';
import { receptiveField } from '../src/serve/receptive-field.js';
import { StreamPlan, StreamUnsupportedError } from '../src/serve/stream.js';
import { buildModel, parseTrainConfig } from '../src/train/config.js';

const V = 37, TOL = 1e-5;

/** Gives every parameter and batch-norm statistic of a fresh model non-trivial values (eps 0 would hide NextItNet's blocks). */
function perturb<M extends SequentialRecommender>(model: M, seed: number): M {
  const rng = new Rng(seed);
  for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
    const v = t.values as Float32Array;
    if (name.endsWith('running_var')) for (let i = 0; i < v.length; i++) v[i] = 0.5 + rng.uniform();
    else if (name.endsWith('running_mean') || name.endsWith('eps')) for (let i = 0; i < v.length; i++) v[i] = 0.3 * rng.normal();
  }
  model.eval();
  return model;
}

function nextItNet(seed = 1): NextItNet {
  return perturb(new NextItNet({ vocabSize: V, hidden: 16, dilations: [1, 2, 1], kernelSize: 3, residual: 'learned' }, new Rng(seed)), seed + 100);
}

function student(g: Genotype, positions: 'learned' | 'none', maxLength: number, seed: number, operators: readonly OperatorSpec[] = DEFAULT_OPS): AdaRecNet {
  return perturb(new AdaRecNet({ vocabSize: V, maxLength, hidden: 12, cells: g.cells.length, nodes: g.nodes, operators,
    genotype: genotypeColumns(g), dropout: 0.1, positions }, new Rng(seed)), seed + 100);
}

/** Random left-padded windows [B, T] (some rows full, some mostly padding). */
function windows(B: number, T: number, seed: number): Int32Array {
  const rng = new Rng(seed), out = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const n = b === 0 ? T : 1 + rng.int(T);
    for (let t = T - n; t < T; t++) out[b * T + t] = 1 + rng.int(V - 1);
  }
  return out;
}

function scoreLast(model: SequentialRecommender, ids: Int32Array, T: number): Float32Array {
  return noGrad(() => tidy(() => Float32Array.from(model.scoreLast(tensor(ids, [ids.length / T, T], 'int32')).values as Float32Array)));
}

function fastScore(model: SequentialRecommender, ids: Int32Array, T: number): Float32Array {
  const score = fastScorer(model);
  return noGrad(() => tidy(() => Float32Array.from(score(tensor(ids, [ids.length / T, T], 'int32')).values as Float32Array)));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Random genotypes of the default (causal) operators, 3 nodes; at least one has a conv or pool. */
function causalGenotypes(count: number, cells: number, seed: number): Genotype[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => randomGenotype(DEFAULT_OPS, 3, cells, rng));
}

describe('receptive field', () => {
  it('is 241 for the reference NextItNet teacher and 9 for the ml-100k student', () => {
    assert.equal(receptiveField(new NextItNet({ vocabSize: 5, ...NEXTITNET_REFERENCE }, new Rng(1))), 241);
    const edges = ['none', 'none', 'none', 'causal_conv_3', 'none', 'none'];
    const g: Genotype = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 3, cells: Array.from({ length: 4 }, () => edges.slice()) };
    assert.equal(receptiveField(student(g, 'learned', 50, 1)), 9);
  });
  it('follows the longest path through a cell', () => {
    // x -conv5d2-> 1 -pool3-> 2 -skip-> 3 (8 + 2 + 0), beside x -conv3-> 3 (2)
    const edges = ['causal_conv_5_d2', 'none', 'causal_max_pool_3', 'causal_conv_3', 'none', 'skip'];
    const g: Genotype = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 3, cells: [edges, edges] };
    assert.equal(receptiveField(student(g, 'none', 50, 1)), 1 + 2 * 10);
  });
  it('is null for attention, supernets and operators that look ahead', () => {
    assert.equal(receptiveField(new SASRec({ vocabSize: V, maxLength: 8, hidden: 8, heads: 2, blocks: 1, ffnMultiplier: 2, dropout: 0, residual: 'plain' }, new Rng(1))), null);
    assert.equal(receptiveField(new AdaRecNet({ vocabSize: V, maxLength: 8, hidden: 8, cells: 1, nodes: 2, operators: DEFAULT_OPS, genotype: null, dropout: 0 }, new Rng(1))), null);
    const centred = { operators: PAPER_OPS.map((o) => o.name), nodes: 1, cells: [['std_conv_3']] };
    assert.equal(receptiveField(new AdaRecNet({ vocabSize: V, maxLength: 8, hidden: 8, cells: 1, nodes: 1, operators: PAPER_OPS, genotype: genotypeColumns(centred), dropout: 0 }, new Rng(1))), null);
  });
});

describe('receptive-field crop', () => {
  it('NextItNet: the crop scores windows as scoreLast does', () => {
    const model = nextItNet();
    const R = receptiveField(model)!, T = 40;
    assert.ok(R < T, `R ${R} < T ${T}: the crop is exercised`);
    const ids = windows(6, T, 5);
    assert.ok(maxAbsDiff(fastScore(model, ids, T), scoreLast(model, ids, T)) <= TOL);
  });
  it('AdaRec students of random causal genotypes, with and without position embeddings', () => {
    const T = 48;
    let cropped = 0;
    causalGenotypes(8, 2, 11).forEach((g, i) => {
      for (const positions of ['learned', 'none'] as const) {
        const model = student(g, positions, T, 20 + i);
        if (receptiveField(model)! < T) cropped++;
        const ids = windows(5, T, 30 + i);
        const diff = maxAbsDiff(fastScore(model, ids, T), scoreLast(model, ids, T));
        assert.ok(diff <= TOL, `${JSON.stringify(g.cells[0])} (${positions}): max abs diff ${diff}`);
      }
    });
    assert.ok(cropped >= 8, `${cropped} of 16 students scored through a crop`);
  });
  it('falls back to scoreLast for models without a receptive field and for short windows', () => {
    const sasrec = perturb(new SASRec({ vocabSize: V, maxLength: 10, hidden: 8, heads: 2, blocks: 1, ffnMultiplier: 2, dropout: 0, residual: 'plain' }, new Rng(2)), 3);
    const ids = windows(3, 10, 4);
    assert.deepEqual(fastScore(sasrec, ids, 10), scoreLast(sasrec, ids, 10));
    const model = nextItNet(), short = windows(2, 8, 6); // R = 25 > 8
    assert.deepEqual(fastScore(model, short, 8), scoreLast(model, short, 8));
  });
});

/** Streams a session item by item and compares every step with scoreLast on [0 x padding, h1..hn]. */
function checkStream(model: SequentialRecommender, padding: number, history: Int32Array, what: string): void {
  const plan = new StreamPlan(model, padding);
  const session = plan.session();
  const full = new Int32Array(padding + history.length);
  history.forEach((id, n) => {
    session.push(id);
    full[padding + n] = id;
    const seq = full.subarray(0, padding + n + 1);
    const diff = maxAbsDiff(session.logits(), scoreLast(model, seq, seq.length));
    assert.ok(diff <= TOL, `${what}, item ${n + 1}: max abs diff ${diff}`);
  });
}

describe('streaming', () => {
  it('NextItNet streamed item by item matches the full recompute at every step', () => {
    const model = nextItNet(3);
    checkStream(model, 10, windows(1, 40, 8), 'nextitnet');
  });
  it('position-free students of random causal genotypes match the full recompute at every step', () => {
    causalGenotypes(6, 3, 17).forEach((g, i) => {
      checkStream(student(g, 'none', 12, 40 + i), 12, windows(1, 25, 50 + i), JSON.stringify(g.cells[0]));
    });
  });
  it('equals windowed scoring when the receptive field fits in the window', () => {
    const model = nextItNet(4), T = 30; // R = 25
    const history = windows(1, 45, 9);
    const session = new StreamPlan(model, T).session(history);
    const window = history.subarray(history.length - T);
    assert.ok(maxAbsDiff(session.logits(), scoreLast(model, window, T)) <= TOL);
  });
  it('a batch of sessions advances as each would alone; clones are independent', () => {
    const g = causalGenotypes(1, 2, 23)[0];
    for (const model of [nextItNet(5), student(g, 'none', 10, 6)]) {
      const plan = new StreamPlan(model, 10);
      const a = plan.session([3, 4]), b = plan.session([5]), c = a.clone();
      plan.push([a, b], [7, 8]);
      assert.ok(maxAbsDiff(plan.logits([a, b]), Float32Array.from([...plan.session([3, 4, 7]).logits(), ...plan.session([5, 8]).logits()])) <= TOL);
      assert.ok(maxAbsDiff(c.logits(), plan.session([3, 4]).logits()) === 0, 'the clone did not move');
      assert.equal(a.bytes, 4 * (plan.stateFloats + plan.hidden));
    }
  });
  it('refuses models that cannot stream, saying why', () => {
    const sasrec = perturb(new SASRec({ vocabSize: V, maxLength: 10, hidden: 8, heads: 2, blocks: 1, ffnMultiplier: 2, dropout: 0, residual: 'plain' }, new Rng(2)), 3);
    assert.throws(() => new StreamPlan(sasrec, 10), (e: Error) => e instanceof StreamUnsupportedError && /SASRec cannot stream/.test(e.message));
    const g = causalGenotypes(1, 2, 29)[0];
    assert.throws(() => new StreamPlan(student(g, 'learned', 10, 7), 10), (e: Error) => e instanceof StreamUnsupportedError && /position embeddings/.test(e.message));
    const training = nextItNet(6).train();
    assert.throws(() => new StreamPlan(training, 10), /training mode/);
  });
});

describe('the running mean operator', () => {
  const OPS = [...DEFAULT_OPS, CAUSAL_MEAN];
  const names = OPS.map((o) => o.name);
  /** Random genotypes over the default operators and the running mean, each with a running mean on some edge. */
  const withMean = (count: number, cells: number, seed: number): Genotype[] => {
    const rng = new Rng(seed);
    return Array.from({ length: count }, () => {
      const g = randomGenotype(OPS, 3, cells, rng);
      g.cells[0][rng.int(6)] = 'causal_mean';
      return g;
    });
  };
  it('reads the whole window: an infinite receptive field, scored over the whole window', () => {
    const T = 20;
    withMean(4, 2, 61).forEach((g, i) => {
      const model = student({ ...g, operators: names }, 'learned', T, 70 + i, OPS);
      assert.equal(receptiveField(model), Infinity);
      const ids = windows(4, T, 80 + i);
      assert.ok(maxAbsDiff(fastScore(model, ids, T), scoreLast(model, ids, T)) <= TOL);
    });
  });
  it('leaves padding out: with only per-position operators beside it, more left padding changes nothing', () => {
    const g: Genotype = { operators: names, nodes: 3, cells: [['causal_mean', 'skip', 'causal_mean', 'none', 'skip', 'causal_mean'], ['skip', 'causal_mean', 'none', 'causal_mean', 'none', 'skip']] };
    const model = student(g, 'none', 16, 90, OPS);
    const short = windows(3, 8, 91), long = new Int32Array(3 * 16);
    for (let b = 0; b < 3; b++) long.set(short.subarray(b * 8, b * 8 + 8), b * 16 + 8);
    assert.ok(maxAbsDiff(scoreLast(model, long, 16), scoreLast(model, short, 8)) <= TOL);
    // a mean over the padding too would not be invariant: the check can fail
    const x = tensor(Float32Array.from({ length: 2 * 4 }, (_, i) => i + 1), [1, 8, 1]);
    const keep = tensor(Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1]), [1, 8]);
    assert.notEqual(F.causalMean(x, null).values[7], F.causalMean(x, keep).values[7]);
  });
  it('streams: a sum and a count per session, matching the full recompute at every step', () => {
    withMean(4, 2, 63).forEach((g, i) => {
      checkStream(student({ ...g, operators: names }, 'none', 12, 100 + i, OPS), 12, windows(1, 25, 110 + i), JSON.stringify(g.cells[0]));
    });
  });
});

describe('positions option', () => {
  const genotype = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 1, cells: [['causal_conv_3']] };
  it("adarec configs take positions 'none'; without the field the student keeps its position embedding", () => {
    const without = buildModel(parseTrainConfig({ model: { kind: 'adarec', genotype } }, 'c.json'), V, new Rng(1)) as AdaRecNet;
    assert.ok(without.positionEmbedding !== null);
    const none = buildModel(parseTrainConfig({ model: { kind: 'adarec', genotype, positions: 'none' } }, 'c.json'), V, new Rng(1)) as AdaRecNet;
    assert.equal(none.positionEmbedding, null);
    assert.ok(![...none.namedParameters()].some(([n]) => n.startsWith('positionEmbedding')));
    assert.throws(() => parseTrainConfig({ model: { kind: 'adarec', genotype, positions: 'sinusoid' } }, 'c.json'), /positions/);
  });
  it('the search config takes positions', () => {
    assert.equal(parseSearchConfig({ positions: 'none' }, 's.json').positions, 'none');
    assert.equal(parseSearchConfig({}, 's.json').positions, undefined);
  });
});
