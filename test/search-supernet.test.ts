// The supernet and its estimators: pooling gradients, operator causality, the straight-through
// Gumbel gradient of alpha against finite differences of the relaxed loss, and the single-path
// (GDAS) estimator against the all-operators one.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { F, Rng, backward, noGrad, setBackend, setDefaultFloat, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { parseSearchConfig } from '../src/search/config.js';
import { searchOperators } from '../src/search/search.js';
import { DEFAULT_OPS, EXTRA_OPS, PAPER_OPS } from '../src/models/adarec/operators.js';
import { oneHot, sampleEdges, straightThrough, temperatureAt } from '../src/search/gumbel.js';
import { mixEdge } from '../src/models/adarec/mix-edge.js';
import { cellEdges } from '../src/models/adarec/cell.js';
import { genotypeColumns, randomGenotypesLike, genotypeCost } from '../src/models/adarec/genotype.js';
import { deriveGenotype, alphaEntropy } from '../src/search/derive.js';
import { gradcheck, param64, weightedSum } from './gradcheck.js';
import { assertClose } from './helpers.js';

before(() => { setBackend('js'); setDefaultFloat('float64'); });
after(() => { setDefaultFloat('float32'); });

const V = 9, T = 6, C = 4, CELLS = 2, NODES = 2;
const E = cellEdges(NODES).length, O = DEFAULT_OPS.length;
const ids = tensor(new Int32Array([0, 1, 2, 3, 4, 5, 3, 4, 8, 7, 6, 2]), [2, T], 'int32');
const targets = tensor(new Int32Array([1, 2, 3, 4, 5, 6, 4, 8, 7, 6, 2, 1]), [2, T], 'int32');
const allCols = DEFAULT_OPS.map((o, i) => (o.kind === 'none' ? -1 : i)).filter((i) => i >= 0);

function supernet(ops = DEFAULT_OPS): AdaRecNet {
  return new AdaRecNet({ vocabSize: V, maxLength: T, hidden: C, cells: CELLS, nodes: NODES, operators: ops, genotype: null, dropout: 0 }, new Rng(3));
}

describe('pool1d', () => {
  for (const [mode, before, after] of [['max', 2, 0], ['avg', 2, 0], ['max', 1, 1], ['avg', 1, 1]] as const) {
    it(`${mode} pool (${before} before, ${after} after): gradient matches finite differences`, () => {
      const x = param64([2, 5, 3], 11);
      gradcheck(`pool ${mode}`, (a) => weightedSum(F.pool1d(a, mode, before, after)), [x]);
    });
  }
  it('clips the window at the ends and averages over the positions it covers', () => {
    const x = tensor(Float64Array.from([1, 2, 3, 4]), [1, 4, 1]);
    assert.deepEqual(Array.from(F.pool1d(x, 'avg', 2, 0).values), [1, 1.5, 2, 3]);
    assert.deepEqual(Array.from(F.pool1d(x, 'max', 1, 1).values), [2, 3, 4, 4]);
  });
});

describe('operators', () => {
  const probe = (ops: typeof DEFAULT_OPS) => ops.filter((o) => o.kind !== 'none').map((spec) => {
    const op = spec.build(C, new Rng(2));
    op.eval();
    const a = Float64Array.from({ length: 2 * 8 * C }, (_, i) => Math.sin(i));
    const b = Float64Array.from(a);
    for (let c = 0; c < C; c++) b[(0 * 8 + 6) * C + c] += 1; // change position 6 of row 0
    const run = (v: Float64Array) => noGrad(() => tidy(() => Array.from(op.forward(tensor(v, [2, 8, C]))!.values)));
    const ya = run(a), yb = run(b);
    const earlierChanged = ya.slice(0, 6 * C).some((v, i) => Math.abs(v - yb[i]) > 1e-12);
    assert.equal(ya.length, 2 * 8 * C, `${spec.name} keeps the shape`);
    return { spec, earlierChanged };
  });
  it('default-mode operators are causal: outputs before t ignore the input at t', () => {
    for (const { spec, earlierChanged } of probe(DEFAULT_OPS)) assert.equal(earlierChanged, false, spec.name);
  });
  it('paper-mode operators flagged non-causal really see the future, the causal ones do not', () => {
    for (const { spec, earlierChanged } of probe(PAPER_OPS)) assert.equal(earlierChanged, !spec.causal, spec.name);
  });  it('the extra operators (the running mean) are causal too, and a search lists them by name', () => {
    for (const { spec, earlierChanged } of probe(EXTRA_OPS)) assert.equal(earlierChanged, false, spec.name);
    const cfg = parseSearchConfig({ operators: ['causal_conv_3', 'causal_mean', 'none'] }, 's.json');
    assert.deepEqual(searchOperators(cfg).map((o) => o.name), ['causal_conv_3', 'causal_mean', 'none']);
    assert.throws(() => parseSearchConfig({ operators: ['causal_conv_3', 'causal_meen'] }, 's.json'), /^Error: s\.json: operators: unknown operator 'causal_meen' \(known: .*causal_mean/);
    assert.throws(() => parseSearchConfig({ operators: ['skip', 'none', 'skip'] }, 's.json'), /s\.json: operators: operator 'skip' listed twice/);
  });
});

describe('straight-through Gumbel-softmax', () => {
  it('samples one-hot rows whose argmax follows alpha + noise, and the temperature schedule of METHOD.md', () => {
    const alpha = tensor(Float64Array.from([5, 0, 0, 0, 0, 9]), [2, 3]);
    const s = noGrad(() => sampleEdges(alpha, 1, new Rng(1)));
    assert.deepEqual(Array.from(s.weights.values), [1, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(s.index), [0, 2]);
    assert.deepEqual([0, 4, 5, 9, 10].map((e) => temperatureAt(e)), [1, 1, 0.8, 0.8, 0.8 ** 2]);
  });

  // The straight-through gradient of each estimator against central differences of the relaxed
  // loss L(onehot + m * (soft(alpha) - soft(alpha0))), same Gumbel noise: with m = 1 this is the
  // exact gradient METHOD.md asks for; single-path drops the unsampled operators' terms (m = onehot).
  const alphaGradients = (estimator: 'all' | 'single-path') => {
    const net = supernet();
    const alpha = param64([E, O], 21, -0.5, 0.5);
    const tau = 0.7, seed = 5;
    const sample = tidy(() => {
      const s = sampleEdges(alpha, tau, new Rng(seed));
      const active = Array.from(s.index, (o) => (estimator === 'all' ? allCols : o === O - 1 ? [] : [o]));
      net.mix = { weights: s.weights, active, perCell: false };
      backward(net.loss(ids, targets));
      return Array.from(s.index);
    });
    const analytic = Array.from(alpha.grad!.values);
    const rng = new Rng(seed), g = Float64Array.from({ length: E * O }, () => rng.gumbel());
    const softOf = (a: Tensor) => F.softmax(F.mulScalar(F.add(a, tensor(g, [E, O])), 1 / tau));
    const alpha0 = tensor(Float64Array.from(alpha.values), [E, O]);
    const hot = oneHot(Int32Array.from(sample), O, 'float64');
    const numericWith = (masked: boolean) => {
      const relaxed = () => noGrad(() => tidy(() => {
        const delta = F.sub(softOf(alpha), softOf(alpha0));
        const w = F.add(masked ? F.mul(delta, hot) : delta, hot);
        net.mix = { weights: w, active: Array.from({ length: E }, () => allCols), perCell: false };
        return net.loss(ids, targets).item();
      }));
      const h = 1e-6, v = alpha.values;
      return Array.from({ length: E * O }, (_, j) => {
        const orig = v[j];
        v[j] = orig + h; const fp = relaxed();
        v[j] = orig - h; const fm = relaxed();
        v[j] = orig;
        return (fp - fm) / (2 * h);
      });
    };
    return { analytic, exact: numericWith(false), sampledOnly: numericWith(true) };
  };
  const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);

  it('all-operators estimator (the default): alpha gradient = finite differences of the relaxed loss at the sample', () => {
    const { analytic, exact } = alphaGradients('all');
    assertClose(analytic, exact, 1e-5, 'alpha gradient');
    assert.ok(analytic.some((x) => Math.abs(x) > 1e-6), 'alpha receives a gradient');
    assert.equal(parseSearchConfig({}, 'default').estimator, 'all');
    assert.equal(parseSearchConfig({ mode: 'paper' }, 'paper').estimator, 'all');
  });

  it('single-path estimator: finite differences with the unsampled operators removed, not the exact gradient', () => {
    const { analytic, exact, sampledOnly } = alphaGradients('single-path');
    assertClose(analytic, sampledOnly, 1e-5, 'alpha gradient');
    const c = cosine(analytic, exact);
    assert.ok(c < 0.99, `single-path differs from the exact gradient (cosine ${c.toFixed(3)})`);
  });

  it('single-path estimator: same forward, same weight gradients, alpha gradient through the sampled entries only', () => {
    const runWith = (active: (index: Int32Array) => number[][]) => {
      const net = supernet();
      const w = tensor(Float64Array.from(oneHot(Int32Array.from([0, 4, 6]), O, 'float64').values), [E, O]);
      w.requiresGrad = true;
      const index = Int32Array.from([0, 4, 6]); // conv, max pool, skip
      const loss = tidy(() => {
        net.mix = { weights: w, active: active(index), perCell: false };
        const l = net.loss(ids, targets);
        backward(l);
        return l.item();
      });
      const grads = new Map([...net.namedParameters()].map(([n, p]) => [n, p.grad ? Array.from(p.grad.values) : null]));
      return { loss, dw: Array.from(w.grad!.values), grads };
    };
    const all = runWith(() => Array.from({ length: E }, () => allCols));
    const single = runWith((index) => Array.from(index, (o) => [o]));
    assert.equal(single.loss, all.loss);
    for (let r = 0; r < E; r++) for (let o = 0; o < O; o++) {
      const sampled = [0, 4, 6][r] === o;
      if (sampled) assertClose([single.dw[r * O + o]], [all.dw[r * O + o]], 1e-9, `dL/dw[${r}, ${o}]`);
      else assert.equal(single.dw[r * O + o], 0, `single-path: no gradient for unsampled [${r}, ${o}]`);
    }
    assert.ok(all.dw.some((x, i) => x !== 0 && ![0, O + 4, 2 * O + 6].includes(i)), 'all-ops: unsampled operators give alpha a gradient');
    for (const [name, g] of single.grads) {
      const a = all.grads.get(name);
      if (g && a) assertClose(g, a, 1e-9, name);
      else assert.ok(!g && (!a || a.every((x) => x === 0)), `${name}: only unsampled operators lack a gradient`);
    }
  });

  it('mixEdge gradients match finite differences', () => {
    const ys = [param64([2, 3, 2], 1), param64([2, 3, 2], 2)];
    const w = param64([2, 3], 3);
    gradcheck('mixEdge', (a, b, ww) => weightedSum(mixEdge([a, b], [0, 2], ww, 1, [2, 3, 2])), [...ys, w]);
    // straight-through: the forward is the constant one-hot, the gradient passes to `soft` unchanged
    const soft = param64([2, 3], 4), coef = param64([2, 3], 5);
    coef.requiresGrad = false;
    tidy(() => backward(F.sum(F.mul(straightThrough(soft, Int32Array.from([2, 0])), coef))));
    assert.deepEqual(Array.from(soft.grad!.values), Array.from(coef.values));
  });
});

describe('genotypes', () => {
  it('derives the argmax per edge, shared or per cell, and builds a student whose parameters are a subset of the supernet', () => {
    const alpha = new Float64Array(E * O);
    alpha[0 * O + 2] = 3; alpha[1 * O + 7] = 3; alpha[2 * O + 5] = 3;
    const g = deriveGenotype(alpha, DEFAULT_OPS, NODES, CELLS);
    assert.deepEqual(g.cells, [['causal_conv_5', 'none', 'causal_avg_pool_3'], ['causal_conv_5', 'none', 'causal_avg_pool_3']]);
    assert.ok(Math.abs(g.probabilities![0].reduce((a, b) => a + b) - 1) < 1e-12);
    const student = new AdaRecNet({ vocabSize: V, maxLength: T, hidden: C, cells: CELLS, nodes: NODES, operators: DEFAULT_OPS, genotype: genotypeColumns(g), dropout: 0 }, new Rng(1));
    const superNames = new Set([...supernet().namedParameters()].map(([n]) => n));
    const names = [...student.namedParameters()].map(([n]) => n);
    assert.ok(names.every((n) => superNames.has(n)), 'student names are supernet names');
    assert.ok(names.some((n) => n.includes('causal_conv_5')) && !names.some((n) => n.includes('causal_conv_3.')));
    const perCell = new Float64Array(CELLS * E * O);
    perCell[E * O + 1] = 5;
    assert.equal(deriveGenotype(perCell, DEFAULT_OPS, NODES, CELLS).cells[1][0], 'causal_conv_3_d2');
    assert.ok(Math.abs(alphaEntropy(new Float64Array(E * O), O) - Math.log(O)) < 1e-12);
  });
  it('random genotypes of similar cost differ from the target and sit within the tolerance', () => {
    const g = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 3, cells: Array.from({ length: 4 }, () => ['causal_conv_3', 'skip', 'causal_conv_5', 'none', 'causal_max_pool_3', 'causal_conv_3_d2']) };
    const want = genotypeCost(g, 64, 50).params;
    const rs = randomGenotypesLike(g, 5, new Rng(4), { C: 64, L: 50 });
    assert.equal(rs.length, 5);
    assert.equal(new Set(rs.map((r) => JSON.stringify(r.cells))).size, 5);
    for (const r of rs) {
      assert.notDeepEqual(r.cells, g.cells);
      assert.ok(Math.abs(genotypeCost(r, 64, 50).params - want) / want <= 0.25);
    }
  });
});
