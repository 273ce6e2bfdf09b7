// The norm after the AdaRec convolutions (convNorm: 'batch' | 'layer' | 'none'): causality in
// training mode (batch norm's batch statistics see later positions; layer norm and none do not),
// finite-difference gradients of the conv + norm op, the configs (an absent key is batch norm, so
// older checkpoints load as they were, a search's too), ONNX export and per-event streaming of
// layer-norm students, and adarec run building its students with their search's norm.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, backendName, noGrad, setBackend, setDefaultFloat, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { cellEdges } from '../src/models/adarec/cell.js';
import { genotypeColumns, type Genotype } from '../src/models/adarec/genotype.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { CONV_NORMS, ConvNormOp, DEFAULT_OPS, PAPER_OPS, getOperator, type ConvNorm } from '../src/models/adarec/operators.js';
import { exportOnnx } from '../src/onnx/export.js';
import { parseRunConfig } from '../src/pipeline/config.js';
import { runPipeline } from '../src/pipeline/run.js';
import { DEFAULT_CONV_NORM, parseSearchConfig, searchConvNorm } from '../src/search/config.js';
import { runSearch } from '../src/search/search.js';
import { fastScorer } from '../src/serve/fast-score.js';
import { StreamPlan } from '../src/serve/stream.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { buildModel, parseTrainConfig } from '../src/train/config.js';
import { loadTeacher } from '../src/train/teacher.js';
import { train } from '../src/train/trainer.js';
import { gradcheck, param64, weightedSum } from './gradcheck.js';
import { assertNear, perturb, randomIds, runOnnx } from './onnx-helpers.js';
import { tinyData } from './train-fixture.js';

const V = 29;
const OPS = DEFAULT_OPS.map((o) => o.name);
/** Every kind of operator, convs of both kernels and dilations. */
const CELL = ['causal_conv_3', 'causal_conv_5_d2', 'causal_avg_pool_3', 'causal_conv_3_d2', 'skip', 'causal_max_pool_3'];

function student(norm: ConvNorm | undefined, o: { positions?: 'learned' | 'none'; T?: number; seed?: number } = {}): AdaRecNet {
  const g: Genotype = { operators: OPS, nodes: 3, cells: [CELL, CELL.slice().reverse()] };
  const seed = o.seed ?? 1;
  const net = new AdaRecNet({ vocabSize: V, maxLength: o.T ?? 12, hidden: 8, cells: 2, nodes: 3, operators: DEFAULT_OPS,
    genotype: genotypeColumns(g), dropout: 0, positions: o.positions ?? 'learned', ...(norm ? { convNorm: norm } : {}) }, new Rng(seed));
  perturb(net, seed + 50);
  return net;
}

/** A supernet mixing every operator of every edge with weight 1/O (as a search forward, all computed). */
function supernet(norm: ConvNorm, T: number): AdaRecNet {
  const net = new AdaRecNet({ vocabSize: V, maxLength: T, hidden: 8, cells: 2, nodes: 3, operators: DEFAULT_OPS, genotype: null, dropout: 0, convNorm: norm }, new Rng(3));
  perturb(net, 4);
  const E = cellEdges(3).length, O = DEFAULT_OPS.length;
  const real = DEFAULT_OPS.flatMap((op, i) => (op.kind === 'none' ? [] : [i]));
  net.mix = { weights: tensor(new Float32Array(E * O).fill(1 / O), [E, O]), active: Array.from({ length: E }, () => real), perCell: false };
  return net;
}

/** ids with every real item at positions t > s replaced by another item. */
function changeFuture(ids: Int32Array, T: number, s: number, seed: number): Int32Array {
  const rng = new Rng(seed), out = ids.slice();
  for (let i = 0; i < out.length; i++) if (i % T > s && out[i] > 0) out[i] = 1 + ((out[i] - 1 + 1 + rng.int(V - 2)) % (V - 1));
  return out;
}

/** Largest change of the training-mode logits at positions <= s when every row's future changes. */
function leak(model: AdaRecNet, T: number, s: number): number {
  const B = 4;
  const ids = randomIds(B, T, V, 9), changed = changeFuture(ids, T, s, 10);
  model.train();
  const [a, b] = [ids, changed].map((x) => noGrad(() => tidy(() => Float32Array.from(model.forward(tensor(x, [B, T], 'int32')).values as Float32Array))));
  let worst = 0;
  for (let r = 0; r < B; r++) for (let t = 0; t <= s; t++) for (let v = 0; v < V; v++) {
    const i = (r * T + t) * V + v;
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

describe('convNorm: causality in training mode', () => {
  const T = 12, s = 5;
  it("'layer' and 'none': changing later positions changes no earlier output (student and supernet)", () => {
    for (const norm of ['layer', 'none'] as const) {
      assert.equal(leak(student(norm, { T }), T, s), 0, `student, ${norm}`);
      assert.equal(leak(supernet(norm, T), T, s), 0, `supernet, ${norm}`);
    }
  });
  it("'batch': the batch statistics carry later positions into earlier outputs; eval mode does not", () => {
    assert.ok(leak(student('batch', { T }), T, s) > 1e-3);
    assert.ok(leak(supernet('batch', T), T, s) > 1e-3);
    const m = student('batch', { T });
    const ids = randomIds(4, T, V, 9), changed = changeFuture(ids, T, s, 10);
    m.eval();
    const [a, b] = [ids, changed].map((x) => noGrad(() => tidy(() => Float32Array.from(m.forward(tensor(x, [4, T], 'int32')).values as Float32Array))));
    for (let r = 0; r < 4; r++) for (let i = r * T * V; i < (r * T + s + 1) * V; i++) assert.equal(a[i], b[i]);
  });
});

describe('convNorm: the conv + norm op', () => {
  it('builds conv.* then bn.* (batch), ln.* (layer) or nothing (none); an absent option is batch', () => {
    const names = (norm: ConvNorm | undefined) => [...student(norm).namedParameters(), ...student(norm).namedBuffers()]
      .map(([n]) => n).filter((n) => n.startsWith('cells.0.edges.0.causal_conv_3.')).map((n) => n.slice('cells.0.edges.0.causal_conv_3.'.length)).sort();
    assert.deepEqual(names(undefined), ['bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.weight', 'conv.bias', 'conv.weight']);
    assert.deepEqual(names('batch'), names(undefined));
    assert.deepEqual(names('layer'), ['conv.bias', 'conv.weight', 'ln.bias', 'ln.weight']);
    assert.deepEqual(names('none'), ['conv.bias', 'conv.weight']);
    const op = getOperator('causal_conv_3').build(4, new Rng(1));
    assert.ok(op instanceof ConvNormOp && op.norm === 'batch' && op.bn !== null && op.ln === null);
    assert.deepEqual([...CONV_NORMS], ['batch', 'layer', 'none']);
  });

  describe('gradients against finite differences (float64)', () => {
    let backend: ReturnType<typeof backendName>;
    before(() => { backend = backendName(); setBackend('js'); setDefaultFloat('float64'); });
    after(() => { setDefaultFloat('float32'); setBackend(backend); });
    for (const norm of CONV_NORMS) {
      it(`${norm}: input, conv weight and bias, norm scale and shift; causal and centred`, () => {
        for (const spec of [getOperator('causal_conv_3_d2'), PAPER_OPS.find((o) => o.name === 'std_conv_3')!]) {
          const op = spec.build(3, new Rng(5), { convNorm: norm }) as ConvNormOp;
          op.train();
          const params: Tensor[] = [...op.parameters()];
          perturb(op, 6);
          const x = param64([2, 6, 3], 7);
          gradcheck(`${spec.name} + ${norm}`, (xi) => weightedSum(op.forward(xi)), [x, ...params], 1e-6);
        }
      });
    }
  });
});

describe('convNorm in the configs', () => {
  const genotype = { operators: OPS, nodes: 3, cells: [CELL] };
  it("the adarec student config takes convNorm; without it the student is built with batch norm (older checkpoints load as they were)", () => {
    const build = (m: object) => buildModel(parseTrainConfig({ model: { kind: 'adarec', genotype, ...m } }, 'c.json'), V, new Rng(1)) as AdaRecNet;
    const old = parseTrainConfig({ model: { kind: 'adarec', genotype } }, 'c.json');
    assert.equal((old.model as { convNorm?: string }).convNorm, undefined, 'an absent key stays absent: stage keys of older runs are unchanged');
    assert.ok([...build({}).namedBuffers()].some(([n]) => n.endsWith('.bn.running_mean')));
    const layer = build({ convNorm: 'layer' });
    assert.ok([...layer.namedParameters()].some(([n]) => n.endsWith('.ln.weight')));
    assert.equal([...layer.namedBuffers()].length, 0);
    assert.throws(() => parseTrainConfig({ model: { kind: 'adarec', genotype, convNorm: 'group' } }, 'c.json'), /convNorm/);
  });
  it(`the search config: paper mode 'batch' (METHOD.md), default mode '${DEFAULT_CONV_NORM}', or as given; batch is left out of the parsed config`, () => {
    assert.equal(searchConvNorm(parseSearchConfig({ mode: 'paper' }, 's.json')), 'batch');
    assert.equal(searchConvNorm(parseSearchConfig({}, 's.json')), DEFAULT_CONV_NORM);
    for (const n of CONV_NORMS) assert.equal(searchConvNorm(parseSearchConfig({ convNorm: n }, 's.json')), n);
    assert.ok(!('convNorm' in parseSearchConfig({ mode: 'paper' }, 's.json')), 'stage keys of batch-norm searches are as before the option');
    assert.ok(!('convNorm' in parseSearchConfig({ convNorm: 'batch' }, 's.json')));
    assert.throws(() => parseSearchConfig({ convNorm: 'group' }, 's.json'), /convNorm/);
  });
});

describe('convNorm: serving and export of a layer-norm student', () => {
  it('ONNX export (LayerNormalization after the conv) matches our scores and signals', async () => {
    for (const norm of ['layer', 'none'] as const) {
      const T = 9, model = student(norm, { T, seed: 12 });
      model.eval();
      const { bytes, mapping } = exportOnnx(model, { maxLength: T, signals: true });
      assert.ok(mapping);
      const B = 3, ids = randomIds(B, T, V, 13);
      const out = await runOnnx(bytes, ids, B, T);
      noGrad(() => tidy(() => {
        const x = tensor(ids, [B, T], 'int32'), sig = model.signals(x);
        assertNear(out.scores.data, model.scoreLast(x).values, `${norm} scores`);
        assertNear(out.logits.data, sig.logits.values, `${norm} logits`);
        sig.intermediates.forEach((t, i) => assertNear(out[`intermediate_${i}`].data, t.values, `${norm} intermediate_${i}`));
      }));
    }
  });
  it('the receptive-field crop and per-event streaming give the full recompute', () => {
    const T = 30, model = student('layer', { positions: 'none', T, seed: 21 });
    model.eval();
    const score = (ids: Int32Array, len: number, f: (x: Tensor) => Tensor) =>
      noGrad(() => tidy(() => Float32Array.from(f(tensor(ids, [ids.length / len, len], 'int32')).values as Float32Array)));
    const ids = randomIds(4, T, V, 22);
    assertNear(score(ids, T, fastScorer(model)), score(ids, T, (x) => model.scoreLast(x)), 'crop vs scoreLast', 1e-5);
    const padding = 6, plan = new StreamPlan(model, padding), session = plan.session();
    const history = randomIds(1, 20, V, 23), full = new Int32Array(padding + history.length);
    history.forEach((id, n) => {
      session.push(id);
      full[padding + n] = id;
      const seq = full.slice(0, padding + n + 1);
      assertNear(session.logits(), score(seq, seq.length, (x) => model.scoreLast(x)), `stream item ${n + 1}`, 1e-5);
    });
  });
});

describe('convNorm: a search checkpoint written before the option', () => {
  const data = tinyData({ users: 120, items: 40 }, 21);
  let root = '';
  before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-convnorm-')); });
  after(() => rmSync(root, { recursive: true, force: true }));
  it("a batch-norm search resumes as such (its config has no convNorm, as before the option); asking for 'layer' is refused, naming the key", async () => {
    await train({ config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, maxLength: 10, epochs: 1 }, 'teacher'),
      data, outDir: join(root, 'teacher'), log: () => {} });
    const run = async (convNorm: ConvNorm, epochs: number, resume: boolean) => {
      const teacher = await loadTeacher({ path: join(root, 'teacher', 'best.ckpt'), field: 'teacher', maxLength: 10 });
      try {
        const config = parseSearchConfig({ hidden: 8, cells: 1, nodes: 2, epochs, maxLength: 10, batchSize: 32, convNorm }, 'search');
        return await runSearch({ config, teacher, data, outDir: join(root, 'search'), log: () => {}, resume });
      } finally {
        teacher.dispose();
      }
    };
    await run('batch', 1, false);
    // as a checkpoint written before the option: no convNorm in its config
    const path = join(root, 'search', 'last.ckpt'), ckpt = readCheckpoint<Record<string, unknown>>(path);
    assert.ok(!('convNorm' in ckpt.meta.config));
    assert.ok(ckpt.tensors.some((t) => t.name.endsWith('.bn.running_mean')));
    await assert.rejects(run('layer', 2, true), /convNorm unset \(now "layer"\)/);
    const r = await run('batch', 2, true);
    assert.equal(r.epochsRun, 2);
    assert.equal(r.entropy.length, 2, 'the second epoch ran after the first, resumed');
  });
});

describe('convNorm in adarec run', () => {
  it("the finetuned student is built with its search's norm; the paper-mode search and its student keep batch norm", async () => {
    const root = mkdtempSync(join(tmpdir(), 'adarec-convnorm-run-'));
    try {
      const config = parseRunConfig({
        teacher: { model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, maxLength: 10, epochs: 1 },
        search: { hidden: 8, cells: 1, nodes: 2, epochs: 1, maxLength: 10, convNorm: 'layer' },
        student: { epochs: 1 }, baselines: { scratch: false, kd: false, random: 0, randomAny: 0, randomSearch: false, paperMode: true }, latencyRuns: 1,
      }, 'test');
      await runPipeline({ config, data: tinyData({ users: 100, items: 30 }, 22), outDir: root, log: () => {} });
      const modelOf = (stage: string) => JSON.parse(readFileSync(join(root, stage, 'config.json'), 'utf8')).model;
      const searchOf = (stage: string) => readCheckpoint<{ convNorm?: string }>(join(root, stage, 'best.ckpt'));
      assert.equal(modelOf('student').convNorm, 'layer');
      assert.equal(searchOf('search').meta.config.convNorm, 'layer');
      assert.ok(searchOf('search').tensors.some((t) => t.name.endsWith('.ln.weight')));
      assert.equal(modelOf('student-paper').convNorm, undefined, 'batch: the key is left out, as in older configs');
      assert.equal(searchOf('search-paper').meta.config.convNorm, undefined);
      assert.ok(searchOf('search-paper').tensors.some((t) => t.name.endsWith('.bn.weight')));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
