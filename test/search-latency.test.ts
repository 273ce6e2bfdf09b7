// Searching for a latency budget: the operator latency table (profile, write, read back, bad
// tables), predictions from it, the latency term's gradient, the derivation within a budget, a
// synthetic search with a tight budget, and `adarec run` with one. Measured latencies depend on
// this machine and its load, so the assertions are on predicted latency; measured figures are the
// bench's (docs/RESULTS.md).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Rng, backendName, backward, setBackend, setDefaultFloat, tensor, tidy, type Tensor } from '../src/engine/index.js';
import {
  assertTableFits, fitTail, latencyTableSchema, predictLatency, readLatencyTable, writeLatencyTable, type LatencyTable,
} from '../src/eval/latency-table.js';
import { DEFAULT_OPS, getOperator } from '../src/models/adarec/operators.js';
import { genotypeReceptiveField, randomGenotypes, type Genotype } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { genotypeColumns } from '../src/models/adarec/genotype.js';
import { receptiveField } from '../src/serve/receptive-field.js';
import { lengthGrid, profileOperators } from '../src/serve/profile-ops.js';
import { timeInterleaved } from '../src/eval/timing.js';
import { expectedLatency, latencyHinge } from '../src/search/efficiency.js';
import { LatencyPricing } from '../src/search/latency.js';
import { genotypeOf } from '../src/search/derive.js';
import { parseSearchConfig, type SearchConfigInput } from '../src/search/config.js';
import { runSearch } from '../src/search/search.js';
import { train } from '../src/train/trainer.js';
import { parseTrainConfig } from '../src/train/config.js';
import { loadTeacher } from '../src/train/teacher.js';
import { parseRunConfig } from '../src/pipeline/config.js';
import { runPipeline } from '../src/pipeline/run.js';
import { gradcheck, param64 } from './gradcheck.js';
import { tinyData } from './train-fixture.js';

const OPS = DEFAULT_OPS.map((o) => o.name);

/**
 * A hand-made table (deterministic, unlike a profile): per position of the crop, a conv k3 costs
 * 0.002 ms, a k5 0.003, a pool 0.001, skip 0.0002 (+ fixed parts), so that depth and choice both
 * matter.
 */
function handTable(o: { hidden: number; length: number; items: number; nodes: number; convNorm?: 'batch' | 'layer' | 'none' }): LatencyTable {
  const lengths = lengthGrid(o.length);
  const lin = (a: number, b: number) => ({ p50: lengths.map((l) => a + b * l), p99: lengths.map((l) => 2 * (a + b * l)) });
  const perPos: Record<string, [number, number]> = {
    causal_conv_3: [0.01, 0.002], causal_conv_3_d2: [0.01, 0.002], causal_conv_5: [0.012, 0.003], causal_conv_5_d2: [0.012, 0.003],
    causal_max_pool_3: [0.003, 0.001], causal_avg_pool_3: [0.003, 0.001], skip: [0.002, 0.0002], none: [0, 0], causal_mean: [0.002, 0.0005],
  };
  const names = [...OPS, 'causal_mean'];
  return latencyTableSchema.parse({
    format: 'adarec-ops-latency', version: 1, created: '2026-12-08T00:00:00.000Z',
    machine: { cpu: 'test', cores: 1, load: [0, 0, 0], node: process.version, platform: 'test', backend: 'js', threads: 1, gemm: 'js' },
    settings: { hidden: o.hidden, length: o.length, items: o.items, nodes: o.nodes, convNorm: o.convNorm ?? 'layer', positions: 'learned', batch: 1, warmup: 0, rounds: 1, perRound: 1 },
    window: { lengths, base: lin(0.02, 0.0005), cell: lin(0.01, 0.0002), operators: Object.fromEntries(names.map((n) => [n, lin(...perPos[n])])) },
    stream: { base: { p50: 0.01, p99: 0.02 }, cell: { p50: 0.002, p99: 0.004 }, operators: Object.fromEntries(names.map((n) => [n, { p50: perPos[n][0], p99: 2 * perPos[n][0] }])) },
    // stream's fit without tailMs: a table written before the p99 line had an offset reads as offset 0
    fit: { window: { scale: 1.1, tail: 3, tailMs: 0.01 }, stream: { scale: 1, tail: 2 } },
    probes: [],
  });
}

const quiet = (): void => {};
let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-latency-')); });
after(() => rmSync(root, { recursive: true, force: true }));

describe('latency table', () => {
  it('times a task its own number of calls per round when it asks for more (the probes)', () => {
    const calls = { part: 0, probe: 0 };
    const times = timeInterleaved([
      { name: 'part', run: () => { calls.part++; } },
      { name: 'probe', run: () => { calls.probe++; }, perRound: 7 },
    ], { warmup: 1, rounds: 3, perRound: 2, turnWarmup: 1 });
    assert.equal(times.get('part')!.length, 3 * 2);
    assert.equal(times.get('probe')!.length, 3 * 7);
    assert.deepEqual(calls, { part: 1 + 3 * (1 + 2), probe: 1 + 3 * (1 + 7) }); // warm-up, then per round a turn warm-up and the timed calls
  });

  it('fits the p99 line: the slope of the points, raised to cover them; a ratio where sizes are too alike', () => {
    const line = (ps: { p50: number; p99: number }[]) => { const f = fitTail(ps); return [+f.tail.toFixed(9), +f.tailMs.toFixed(9)]; };
    // exactly on p99 = 2 p50 + 0.1
    assert.deepEqual(line([0.05, 0.1, 0.2, 0.4].map((x) => ({ p50: x, p99: 2 * x + 0.1 }))), [2, 0.1]);
    // noise around it: least-squares slope, intercept up to the highest point above the line
    const noisy = [{ p50: 0.1, p99: 0.32 }, { p50: 0.2, p99: 0.48 }, { p50: 0.3, p99: 0.72 }, { p50: 0.4, p99: 0.88 }];
    const f = fitTail(noisy);
    assert.ok(Math.abs(f.tail - 1.92) < 1e-9, `slope ${f.tail}`);
    assert.ok(noisy.every((p) => p.p99 <= f.tail * p.p50 + f.tailMs + 1e-12));
    assert.ok(noisy.some((p) => Math.abs(p.p99 - (f.tail * p.p50 + f.tailMs)) < 1e-12), 'the line touches a point');
    // a slope under 1 (p99 below p50 growth) is held at 1
    assert.deepEqual(line([{ p50: 0.1, p99: 0.5 }, { p50: 0.3, p99: 0.55 }]), [1, 0.4]);
    // medians within 1.5x of each other: the median ratio, then raised to cover the points
    assert.deepEqual(line([{ p50: 0.2, p99: 0.4 }, { p50: 0.22, p99: 0.55 }, { p50: 0.25, p99: 0.6 }]), [2.4, 0.022]);
    assert.deepEqual(line([]), [1, 0]);
  });

  it('profiles this machine, writes, reads back the same table, and names the file and field of a bad one', () => {
    const t = profileOperators({ hidden: 8, length: 12, items: 30, operators: DEFAULT_OPS, convNorm: 'layer', rounds: 2, perRound: 2, warmup: 1, probes: 2 });
    assert.deepEqual(t.window.lengths, [1, 2, 3, 5, 8, 12]);
    assert.deepEqual(Object.keys(t.window.operators).sort(), [...OPS].sort());
    assert.deepEqual(Object.keys(t.stream!.operators).sort(), [...OPS].sort());
    assert.ok(t.window.base.p50.every((x) => x > 0) && t.window.operators.causal_conv_5.p50.every((x) => x > 0));
    assert.ok(t.window.operators.none.p50.every((x) => x === 0));
    assert.equal(t.probes.length, 4); // 2 genotypes x (window, stream)
    assert.deepEqual(t.probes.map((p) => p.cells), [1, 1, 2, 2]); // probes of 1, 2, 4 cells in turn
    assert.ok(t.fit.window.scale > 0 && t.fit.window.tail >= 1 && t.fit.window.tailMs >= 0);
    for (const p of t.probes) { // the p99 line covers every probe it was fitted on
      const f = t.fit[p.path]!;
      assert.ok(p.measuredP99 <= f.tail * p.measuredP50 + f.tailMs + 1e-12, `${p.path} probe p99 ${p.measuredP99} over its line`);
    }
    assert.ok(t.machine.cores >= 1 && t.machine.node === process.version && t.machine.cpu.length > 0);
    const path = join(root, 'ops.json');
    writeLatencyTable(path, t);
    assert.deepEqual(readLatencyTable(path), t);
    // a bad table: the error names the file and each bad field
    const bad = JSON.parse(readFileSync(path, 'utf8'));
    bad.window.operators.causal_conv_3.p50.pop();
    bad.window.lengths[2] = 1;
    writeFileSync(path, JSON.stringify(bad));
    assert.throws(() => readLatencyTable(path), (e: Error) => e.message.startsWith(`${path}: `) &&
      /window\.lengths\.2: must be ascending/.test(e.message) && /window\.operators\.causal_conv_3\.p50: holds 5 values, window\.lengths 6/.test(e.message));
    writeFileSync(path, JSON.stringify({ ...t, settings: { ...t.settings, hidden: 'eight' }, stream: { ...t.stream, extra: 1 } }));
    assert.throws(() => readLatencyTable(path), (e: Error) => e.message.startsWith(`${path}: `) &&
      /settings\.hidden: expected number, got string/.test(e.message) && /stream: unknown key 'extra'/.test(e.message));
    writeFileSync(path, JSON.stringify({ ...t, format: 'something-else' }));
    assert.throws(() => readLatencyTable(path), /format: expected "adarec-ops-latency"/);
    writeFileSync(path, '{ not json');
    assert.throws(() => readLatencyTable(path), /not valid JSON/);
  });

  it('predicts a genotype as base + cells x glue + its edges at its crop, and refuses a table that does not fit', () => {
    const t = handTable({ hidden: 8, length: 20, items: 30, nodes: 3 });
    const g: Genotype = { operators: OPS, nodes: 3, cells: [0, 1].map(() => ['causal_conv_3', 'skip', 'none', 'causal_max_pool_3', 'none', 'none']) };
    // x->1 conv3 (2), 1->3 none, x->3 pool (2): a cell reads 2 back; two cells: R = 5
    assert.equal(genotypeReceptiveField(g), 5);
    const net = new AdaRecNet({ vocabSize: 31, maxLength: 20, hidden: 8, cells: 2, nodes: 3, operators: DEFAULT_OPS, genotype: genotypeColumns(g), dropout: 0 }, new Rng(1));
    assert.equal(receptiveField(net), 5);
    const p = predictLatency(t, g, 'window', 20);
    const at = (a: number, b: number) => a + b * 5;
    const sum = at(0.02, 0.0005) + 2 * at(0.01, 0.0002) + 2 * (at(0.01, 0.002) + at(0.002, 0.0002) + at(0.003, 0.001));
    assert.equal(p.cropLength, 5);
    assert.ok(Math.abs(p.sum - sum) < 1e-12 && Math.abs(p.p50 - 1.1 * sum) < 1e-12 && Math.abs(p.p99 - (3.3 * sum + 0.01)) < 1e-12, `${p.sum} vs ${sum}`);
    // interpolation between grid lengths, and the crop is at most the window
    const deep: Genotype = { operators: OPS, nodes: 3, cells: [0, 1, 2, 3].map(() => Array(6).fill('causal_conv_5_d2')) };
    assert.equal(predictLatency(t, deep, 'window', 20).cropLength, 20);
    const s = predictLatency(t, g, 'stream', 20);
    assert.equal(s.cropLength, null);
    assert.ok(Math.abs(s.p50 - (0.01 + 2 * 0.002 + 2 * (0.01 + 0.002 + 0.003))) < 1e-12);
    const need = { hidden: 8, length: 20, items: 30, nodes: 3, convNorm: 'layer' as const, positions: 'learned' as const, operators: OPS, path: 'window' as const };
    assertTableFits(t, need, 't.json');
    assert.throws(() => assertTableFits(t, { ...need, hidden: 16, items: 40, length: 50 }, 't.json'),
      (e: Error) => /^t\.json: .*settings\.hidden: profiled at 8, the search's student has 16.*settings\.length.*settings\.items: profiled for 30 items, the data has 40/.test(e.message));
    assert.throws(() => assertTableFits(t, { ...need, operators: [...OPS, 'std_conv_3'] }, 't.json'), /window\.operators: no entry for std_conv_3/);
     // a running mean reads the whole history: served (and priced) over the whole window, by the
    // prediction and by the search's pricing alike
    const withMean = [...OPS, 'causal_mean'];
    const m: Genotype = { operators: withMean, nodes: 3, cells: [['skip', 'none', 'none', 'causal_mean', 'none', 'causal_max_pool_3']] };
    assert.equal(genotypeReceptiveField(m), Infinity);
    const pm = predictLatency(t, m, 'window', 20);
    assert.equal(pm.cropLength, 20);
    const at20 = (a: number, b: number) => a + b * 20;
    const meanSum = at20(0.02, 0.0005) + at20(0.01, 0.0002) + at20(0.002, 0.0002) + at20(0.002, 0.0005) + at20(0.003, 0.001);
    assert.ok(Math.abs(pm.sum - meanSum) < 1e-12, `${pm.sum} vs ${meanSum}`);
    const pricing = new LatencyPricing(t, withMean.map(getOperator), { nodes: 3, cells: 1, perCell: false, window: 20, path: 'window', quantile: 'p50', budgetMs: 1 });
    const cols = genotypeColumns(m)[0];
    assert.equal(pricing.cropOf(cols), 20);
    assert.ok(Math.abs(pricing.predict(cols) - pm.p50) < 1e-12);
  });
});

describe('the latency term', () => {
  let was: ReturnType<typeof backendName>;
  before(() => { was = backendName(); setBackend('js'); setDefaultFloat('float64'); });
  after(() => { setDefaultFloat('float32'); setBackend(was); });

  it('hinge(E_p[latency]): gradient against finite differences, above and within the budget', () => {
    const prices = tensor(Float64Array.from([0.05, 0.03, 0.07, 0.01, 0]), [5]);
    const alpha = param64([3, 5], 7, -1, 1);
    // E = 0.02 + 4 * sum p.price: around 0.02 + 4 * 3 * 0.03 = 0.38 ms
    gradcheck('latency hinge above the budget', (a) => latencyHinge(expectedLatency(a, prices, 0.02, 4), 0.2), [alpha], 1e-6);
    gradcheck('expected latency', (a) => expectedLatency(a, prices, 0.02, 4), [alpha], 1e-6);
    const within = latencyHinge(expectedLatency(alpha, prices, 0.02, 4), 10);
    assert.equal(within.item(), 0);
    gradcheck('latency hinge within the budget (zero)', (a) => latencyHinge(expectedLatency(a, prices, 0.02, 4), 10), [alpha], 1e-9);
    // E_p is the mean of the sampled genotypes' latencies: check against enumeration of one row
    const one = param64([1, 5], 3);
    const e = expectedLatency(one, prices, 0.02, 4).item();
    const v = Array.from(one.values), z = v.reduce((s, x) => s + Math.exp(x), 0);
    const mean = v.reduce((s, x, i) => s + (Math.exp(x) / z) * (0.02 + 4 * prices.values[i]), 0);
    assert.ok(Math.abs(e - mean) < 1e-12);
    prices.dispose();
  });

  it("the 'derived' hinge: the argmax genotype's excess as its value, E_p's gradient while it is over, nothing once it fits", () => {
    const t = handTable({ hidden: 8, length: 20, items: 30, nodes: 2 });
    const ops = ['causal_conv_3', 'causal_conv_5', 'causal_avg_pool_3', 'none'].map(getOperator);
    const alpha = tensor(Float64Array.from([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 2]), [3, 4]);
    alpha.requiresGrad = true;
    const o = { nodes: 2, cells: 2, perCell: false, window: 20, path: 'window' as const, quantile: 'p50' as const };
    const argmaxMs = new LatencyPricing(t, ops, { ...o, budgetMs: 1 }).predict([0, 1, 3]);
    const gradOf = (f: () => Tensor): { value: number; grad: number[] } => {
      alpha.grad?.dispose();
      alpha.grad = null;
      return tidy(() => { const l = f(); backward(l); return { value: l.item(), grad: Array.from(alpha.grad!.values) }; });
    };
    const over = new LatencyPricing(t, ops, { ...o, budgetMs: argmaxMs / 1.5, penalty: 'derived' });
    const got = gradOf(() => over.penalty(alpha, [2, 2, 2]).loss);
    assert.ok(Math.abs(got.value - 0.5) < 1e-12, `${got.value}`);
    // the gradient: E_p at the argmax's crop, over the budget
    const R = over.cropOf([0, 1, 3]), { fixed, ops: prices } = over.pricesAt(R);
    const want = gradOf(() => F.mulScalar(expectedLatency(alpha, tensor(Float64Array.from(prices, (x) => x * over.factor), [4]), over.factor * fixed, 2), 1.5 / argmaxMs));
    assert.ok(got.grad.some((g) => g !== 0));
    got.grad.forEach((g, i) => assert.ok(Math.abs(g - want.grad[i]) < 1e-12, `entry ${i}: ${g} vs ${want.grad[i]}`));
    const fits = gradOf(() => new LatencyPricing(t, ops, { ...o, budgetMs: 2 * argmaxMs, penalty: 'derived' }).penalty(alpha, [2, 2, 2]).loss);
    assert.equal(fits.value, 0);
    assert.ok(fits.grad.every((g) => g === 0));
    // 'expected' prices the sample's crop and hinges E_p itself
    const e = new LatencyPricing(t, ops, { ...o, budgetMs: 0.01, penalty: 'expected' }).penalty(alpha, [2, 2, 2]);
    assert.ok(Math.abs(e.loss.item() - (e.expectedMs / 0.01 - 1)) < 1e-12);
    alpha.grad?.dispose();
  });
});

describe('derivation within a budget', () => {
  const t = handTable({ hidden: 8, length: 20, items: 30, nodes: 2 });
  const ops = ['causal_conv_3', 'causal_conv_5', 'causal_avg_pool_3', 'none'].map(getOperator);
  const names = ops.map((o) => o.name);

  it('is the most probable genotype that fits (checked against every genotype), the argmax when it fits', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 5; trial++) {
      const alpha = Float64Array.from({ length: 3 * 4 }, () => rng.normal());
      const fastest = new LatencyPricing(t, ops, { nodes: 2, cells: 2, perCell: false, window: 20, path: 'window', quantile: 'p50', budgetMs: 1 });
      const all: { cols: number[]; ms: number; lp: number }[] = [];
      for (let i = 0; i < 64; i++) {
        const cols = [i % 4, Math.floor(i / 4) % 4, Math.floor(i / 16)];
        const lp = cols.reduce((s, c, r) => s + alpha[r * 4 + c] - Math.log([0, 1, 2, 3].reduce((z, k) => z + Math.exp(alpha[r * 4 + k]), 0)), 0);
        all.push({ cols, ms: fastest.predict(cols), lp });
      }
      const sorted = all.map((x) => x.ms).sort((a, b) => a - b);
      const budget = sorted[8 + trial * 10] + 1e-9;
      const pricing = new LatencyPricing(t, ops, { nodes: 2, cells: 2, perCell: false, window: 20, path: 'window', quantile: 'p50', budgetMs: budget });
      const want = all.filter((x) => x.ms <= budget).sort((a, b) => b.lp - a.lp)[0];
      const got = pricing.derive(alpha);
      assert.ok(got.fits && got.predictedMs <= budget);
      assert.deepEqual(Array.from(got.index), want.cols, `trial ${trial}`);
      // the predicted latency is that of the genotype built from the columns
      const g = genotypeOf(got.index, alpha, ops, 2, 2);
      assert.ok(Math.abs(predictLatency(t, g, 'window', 20).p50 - got.predictedMs) < 1e-12);
    }
    // the stream path prices per event: no crop
    const stream = new LatencyPricing(t, ops, { nodes: 2, cells: 2, perCell: false, window: 20, path: 'stream', quantile: 'p99', budgetMs: 1 });
    const g = genotypeOf([0, 2, 1], new Float64Array(12), ops, 2, 2);
    assert.ok(Math.abs(stream.predict([0, 2, 1]) - predictLatency(t, g, 'stream', 20).p99) < 1e-12);
    assert.equal(stream.cropOf([1, 1, 1]), 1);
    const loose = new LatencyPricing(t, ops, { nodes: 2, cells: 2, perCell: false, window: 20, path: 'window', quantile: 'p50', budgetMs: 100 });
    const alpha = Float64Array.from([3, 0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0]);
    assert.deepEqual(Array.from(loose.derive(alpha).index), [0, 1, 2]);
    assert.equal(loose.derive(alpha).changedRows, 0);
  });

  it('per cell (too many genotypes to enumerate): greedy swaps until it fits; an impossible budget says so', () => {
    const t3 = handTable({ hidden: 8, length: 20, items: 30, nodes: 3 });
    const rng = new Rng(4);
    const alpha = Float64Array.from({ length: 4 * 6 * 4 }, () => rng.normal()); // 4^24 genotypes
    const o = { nodes: 3, cells: 4, perCell: true, window: 20, path: 'window' as const, quantile: 'p99' as const };
    const probe = new LatencyPricing(t3, ops, { ...o, budgetMs: 1 });
    const argmaxMs = probe.derive(alpha).argmaxPredictedMs;
    const tight = new LatencyPricing(t3, ops, { ...o, budgetMs: 0.6 * argmaxMs });
    const got = tight.derive(alpha);
    assert.ok(got.fits && got.predictedMs <= 0.6 * argmaxMs && got.changedRows > 0, JSON.stringify(got));
    const impossible = new LatencyPricing(t3, ops, { ...o, budgetMs: 1e-6 }).derive(alpha);
    assert.equal(impossible.fits, false);
    assert.deepEqual(Array.from(impossible.index), Array(24).fill(3)); // every edge none: the fastest there is
  });
});

describe('a search for a latency budget', () => {
  const data = tinyData({ users: 240, items: 50 }, 20);
  let teacherCkpt = '';
  before(async () => {
    await train({
      config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2, 1, 2] }, maxLength: 12, epochs: 3, optimizer: { lr: 0.01 } }, 'teacher'),
      data, outDir: join(root, 'teacher'), log: quiet,
    });
    teacherCkpt = join(root, 'teacher', 'best.ckpt');
  });
  const base: SearchConfigInput = { hidden: 8, cells: 2, nodes: 3, epochs: 3, maxLength: 12, batchSize: 64, alphaOptimizer: { lr: 0.05 } };
  const search = async (name: string, extra: SearchConfigInput, table?: LatencyTable) => {
    const teacher = await loadTeacher({ path: teacherCkpt, field: 'teacher', maxLength: 12 });
    try {
      return await runSearch({ config: parseSearchConfig({ ...base, ...extra }, name), teacher, data, outDir: join(root, name), log: quiet, ...(table ? { latencyTable: table } : {}) });
    } finally {
      teacher.dispose();
    }
  };

  it('a tight budget gives a genotype predicted within it; the MACs-priced search\'s is over it', async () => {
    const table = handTable({ hidden: 8, length: 12, items: 50, nodes: 3 });
    const free = await search('macs', {});
    const freeMs = predictLatency(table, free.genotype, 'window', 12).p99;
    const budget = 0.7 * freeMs; // binds: the unconstrained genotype does not fit
    const tight = await search('tight', { cost: 'latency', latencyBudgetMs: budget }, table);
    const lat = tight.latency!;
    assert.ok(lat.fits && lat.predictedMs <= budget, `${lat.predictedMs} vs budget ${budget}`);
    assert.ok(Math.abs(predictLatency(table, tight.genotype, 'window', 12).p99 - lat.predictedMs) < 1e-12);
    assert.equal(lat.quantile, 'p99');
    const epochs = readFileSync(join(root, 'tight', 'search.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const e of epochs) assert.ok(e.latency.fits && e.latency.predictedMs <= budget && Number.isFinite(e.latency.expectedMs), JSON.stringify(e.latency));
    const steps = readFileSync(join(root, 'tight', 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(steps.some((s) => s.efficiency > 0), 'the hinge is active while E[latency] is over the budget');
    // the table file route, and the config's checks
    const path = join(root, 'hand.json');
    writeLatencyTable(path, table);
    const fromFile = await search('tight-file', { cost: 'latency', latencyBudgetMs: budget, latencyTable: path });
    assert.deepEqual(fromFile.genotype.cells, tight.genotype.cells);
    assert.throws(() => parseSearchConfig({ cost: 'latency' }, 'c.json'), /c\.json: latencyBudgetMs: required with cost "latency"/);
    assert.throws(() => parseSearchConfig({ latencyBudgetMs: 1 }, 'c.json'), /latencyBudgetMs: needs cost "latency"/);
    assert.throws(() => parseSearchConfig({ cost: 'latency', latencyBudgetMs: 1, latencyPath: 'stream' }, 'c.json'), /positions "none"/);
    const parsed = parseSearchConfig({}, 'c');
    for (const k of ['cost', 'latencyBudgetMs', 'latencyQuantile', 'latencyPath', 'latencyTable']) assert.ok(!(k in parsed), `${k} stays out of a MACs-priced config`);
    await assert.rejects(search('no-table', { cost: 'latency', latencyBudgetMs: 1 }), /needs a latency table/);
    await assert.rejects(search('bad-table', { cost: 'latency', latencyBudgetMs: 1, hidden: 16 }, table), /settings\.hidden: profiled at 8, the search's student has 16/);
  });

  it('adarec run: profiles on the fly, keeps the student predicted within the budget, matches random genotypes by latency; keys follow the table', async () => {
    const run = (search: SearchConfigInput, baselines = { random: 1 }) => parseRunConfig({
      teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 2 },
      search: { hidden: 8, cells: 2, nodes: 3, epochs: 2, maxLength: 12, ...search },
      student: { epochs: 1 }, baselines: { scratch: false, kd: false, randomAny: 0, randomSearch: false, ...baselines }, latencyRuns: 3,
    }, 'test');
    // profiled on the fly (a generous p50 budget: this machine's figures are not known in advance)
    const out = join(root, 'run-fly');
    const fly = await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: 1000, latencyQuantile: 'p50' }, { random: 0 }), data, outDir: out, log: quiet });
    assert.ok(existsSync(join(out, 'ops-latency', 'ops-latency.json')));
    const profiled = readLatencyTable(join(out, 'ops-latency', 'ops-latency.json'));
    assert.equal(profiled.settings.items, 50);
    const check = fly.latencyCheck!;
    assert.ok(check.measuredP50Ms > 0 && check.measuredP99Ms >= check.measuredP50Ms && check.withinBudget);
    assert.ok(check.slowdown !== null && check.slowdown > 0); // a probe of the table timed beside the student
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /## Latency budget/);
    assert.ok(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).latencyCheck);

    // a table file and a tight budget: the student's predicted latency is within it
    const table = handTable({ hidden: 8, length: 12, items: 50, nodes: 3 });
    const path = join(root, 'run-table.json');
    writeLatencyTable(path, table);
    const genotypes = randomGenotypes(DEFAULT_OPS, 3, 2, 200, new Rng(9)).map((g) => predictLatency(table, g, 'window', 12).p99).sort((a, b) => a - b);
    const budget = genotypes[40]; // a fifth of the space fits
    const out2 = join(root, 'run-table');
    const r = await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: budget, latencyTable: path }), data, outDir: out2, log: quiet });
    const student = predictLatency(table, r.genotype, 'window', 12);
    assert.ok(student.p99 <= budget, `student ${student.p99} vs budget ${budget}`);
    assert.ok(!existsSync(join(out2, 'ops-latency')));
    const random = r.rows.find((x) => x.baseline === 'random-latency-matched')!;
    assert.match(random.name, /latency-matched/);
    const g = { ...r.genotype, cells: r.genotype.cells.map(() => random.genotype!) };
    assert.ok(Math.abs(predictLatency(table, g, 'window', 12).p50 / student.p50 - 1) <= 0.1 + 1e-9);
    // the search's key holds the table's content, not its path: the same table elsewhere is up to date, another one reruns it
    const moved = join(root, 'moved.json');
    writeLatencyTable(moved, table);
    const logs: string[] = [];
    await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: budget, latencyTable: moved }), data, outDir: out2, log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /\[search\] up to date/.test(l)), logs.join('\n'));
    writeLatencyTable(moved, { ...table, fit: { ...table.fit, window: { scale: 1.2, tail: 3, tailMs: 0.01 } } });
    const changed: string[] = [];
    await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: budget, latencyTable: moved }), data, outDir: out2, log: (l) => changed.push(l) });
    assert.ok(changed.some((l) => /\[search\] its inputs changed/.test(l)), changed.join('\n'));
    // a table written before the p99 offset existed (no tailMs) keys its search as one with tailMs 0
    writeLatencyTable(moved, { ...table, fit: { window: { ...table.fit.window, tailMs: 0 }, stream: { ...table.fit.stream!, tailMs: 0 } } });
    await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: budget, latencyTable: moved }), data, outDir: out2, log: quiet });
    const legacy = JSON.parse(readFileSync(moved, 'utf8'));
    delete legacy.fit.window.tailMs;
    delete legacy.fit.stream.tailMs;
    writeFileSync(moved, JSON.stringify(legacy));
    const again: string[] = [];
    await runPipeline({ config: run({ cost: 'latency', latencyBudgetMs: budget, latencyTable: moved }), data, outDir: out2, log: (l) => again.push(l) });
    assert.ok(again.some((l) => /\[search\] up to date/.test(l)), again.join('\n'));
  });
});
