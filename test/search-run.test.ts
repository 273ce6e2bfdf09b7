// The search loop, the student finetune and the pipeline, end to end on small generated data:
// logs and artefacts, alpha moving, resume after an interruption to the same result, the
// distillation trainer, and stage skipping in `adarec run`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSearchConfig, type SearchConfigInput } from '../src/search/config.js';
import { runSearch, type SearchEpochRecord } from '../src/search/search.js';
import { train } from '../src/train/trainer.js';
import { parseTrainConfig } from '../src/train/config.js';
import { loadTrainedModel } from '../src/train/load.js';
import { loadTeacher } from '../src/train/teacher.js';
import { EmdLayerMapping } from '../src/distill/emd.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { parseRunConfig } from '../src/pipeline/config.js';
import { runPipeline } from '../src/pipeline/run.js';
import { runStage } from '../src/pipeline/stage.js';
import { tinyData } from './train-fixture.js';

const data = tinyData({ users: 240, items: 50 }, 20);
const quiet = (): void => {};
let root = '', teacherCkpt = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'adarec-search-'));
  await train({
    config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2, 1, 2] }, maxLength: 12, epochs: 3, optimizer: { lr: 0.01 } }, 'teacher'),
    data, outDir: join(root, 'teacher'), log: quiet,
  });
  teacherCkpt = join(root, 'teacher', 'best.ckpt');
});
after(() => rmSync(root, { recursive: true, force: true }));

const base: SearchConfigInput = { hidden: 8, cells: 2, nodes: 2, epochs: 3, maxLength: 12, batchSize: 64, alphaOptimizer: { lr: 0.05 }, beta: 0.1 };

async function search(name: string, extra: SearchConfigInput = {}, o: { signal?: AbortSignal; resume?: boolean; onBatchEnd?: (i: { step: number }) => void } = {}) {
  const teacher = await loadTeacher({ path: teacherCkpt, field: 'teacher', maxLength: 12 });
  try {
    return await runSearch({
      config: parseSearchConfig({ ...base, ...extra }, name), teacher,
      data, outDir: join(root, name), log: quiet, ...o,
    });
  } finally {
    teacher.dispose();
  }
}

const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('search', () => {
  it('writes its logs and artefacts; alpha moves and its entropy falls', async () => {
    const r = await search('s1');
    const dir = join(root, 's1');
    const epochs = lines(join(dir, 'search.jsonl')) as SearchEpochRecord[];
    assert.equal(epochs.length, 3);
    const steps = lines(join(dir, 'steps.jsonl'));
    assert.equal(steps.length, epochs.reduce((s, e) => s + e.steps, 0));
    for (const s of steps) for (const k of ['ce', 'embedding', 'hidden', 'logits', 'efficiency', 'total']) assert.ok(Number.isFinite(s[k]), `step term ${k}`);
    assert.ok(steps.some((s) => s.hidden > 0) && steps.some((s) => s.logits > 0));
    assert.deepEqual(r.entropy, epochs.map((e) => e.alphaEntropy));
    assert.ok(r.entropy[2] < r.entropy[0] && r.entropy[0] < Math.log(8), `entropy falls: ${r.entropy}`);
    const alpha = JSON.parse(readFileSync(join(dir, 'alpha.json'), 'utf8'));
    assert.equal(alpha.epochs.length, 3);
    assert.equal(alpha.edges.length, 3);
    const g = JSON.parse(readFileSync(join(dir, 'genotype.json'), 'utf8'));
    assert.deepEqual(g.cells, r.genotype.cells);
    assert.equal(g.cells.length, 2);
    assert.ok(existsSync(join(dir, 'best.ckpt')));
    const ck = readCheckpoint(join(dir, 'last.ckpt'));
    assert.ok(ck.tensors.some((t) => t.name === 'param/alpha'));
    assert.ok(ck.tensors.some((t) => t.name.startsWith('optimizers/alpha/')) && ck.tensors.some((t) => t.name.startsWith('optimizers/weights/')));
    assert.equal((ck.meta.extra as any).emd.studentWeights.length, 2);
  });

  it('resumes an interrupted search to the same alpha, weights and genotype', async () => {
    const whole = await search('whole');
    const controller = new AbortController();
    await assert.rejects(search('cut', {}, { signal: controller.signal, onBatchEnd: (i) => { if (i.step === 5) controller.abort(); } }), /interrupted/);
    const resumed = await search('cut', {}, { resume: true });
    assert.deepEqual(resumed.genotype, whole.genotype);
    assert.deepEqual(resumed.entropy, whole.entropy);
    const a = readCheckpoint(join(root, 'whole', 'last.ckpt')), b = readCheckpoint(join(root, 'cut', 'last.ckpt'));
    assert.deepEqual(a.tensors.map((t) => t.name), b.tensors.map((t) => t.name));
    a.tensors.forEach((t, i) => assert.deepEqual(Array.from(t.values), Array.from(b.tensors[i].values), t.name));
    assert.deepEqual(readFileSync(join(root, 'cut', 'steps.jsonl'), 'utf8'), readFileSync(join(root, 'whole', 'steps.jsonl'), 'utf8'));
  });

  it('caching the teacher signals gives the same search', async () => {
    await search('cached', { cacheTeacher: true });
    const a = lines(join(root, 's1', 'steps.jsonl')), b = lines(join(root, 'cached', 'steps.jsonl'));
    assert.equal(a.length, b.length);
    a.forEach((x, i) => assert.ok(Math.abs(x.total - b[i].total) <= 1e-4 * Math.abs(x.total), `step ${i + 1}: ${x.total} vs ${b[i].total}`));
  });

  it('distils over candidates (the teacher top k + drawn items), single- and bi-level', async () => {
    for (const bilevel of [false, true]) {
      const r = await search(`cand-${bilevel}`, { epochs: 2, bilevel, logitItems: { over: 'candidates', topK: 5, negatives: 12 } });
      const steps = lines(join(root, `cand-${bilevel}`, 'steps.jsonl'));
      for (const s of steps) for (const k of ['ce', 'logits', 'hidden', 'total']) assert.ok(Number.isFinite(s[k]), `step term ${k}`);
      assert.ok(steps.every((s) => s.logits > 0));
      assert.ok(r.entropy[1] < Math.log(8));
    }
    assert.throws(() => parseSearchConfig({ mode: 'paper', logitItems: { over: 'candidates' } }, 'p'), /paper mode/);
    assert.throws(() => parseSearchConfig({ cacheTeacher: true, logitItems: { over: 'candidates' } }, 'c'), /cacheTeacher/);
  });

  it('keeps alpha at its initial values during the warm-up epochs', async () => {
    const r = await search('warmup', { alphaWarmupEpochs: 2 });
    const a = JSON.parse(readFileSync(join(root, 'warmup', 'alpha.json'), 'utf8'));
    assert.deepEqual(a.epochs[1], a.epochs[0]);
    assert.equal(r.entropy[1], r.entropy[0]);
    assert.notDeepEqual(a.epochs[2], a.epochs[1]);
  });

  it('runs bi-level, per-cell, the all-operators estimator and paper mode', async () => {
    const bi = await search('bilevel', { bilevel: true, epochs: 2 });
    assert.ok(bi.entropy[1] < Math.log(8));
    const pc = await search('percell', { perCell: true, epochs: 1, estimator: 'all' });
    assert.equal(pc.genotype.probabilities!.length, 2 * 3);
    const paper = await search('paper', { mode: 'paper', epochs: 1 });
    assert.equal(paper.genotype.operators.length, 10);
    assert.ok(paper.genotype.operators.includes('std_conv_3'));
    assert.throws(() => parseSearchConfig({ mode: 'paper', bilevel: true }, 'x'), /bilevel/);
  });
  it('bi-level: only the weight steps update the EMD layer weights, not the held-out alpha steps', async () => {
    const update = EmdLayerMapping.prototype.update;
    let updates = 0;
    EmdLayerMapping.prototype.update = function (this: EmdLayerMapping, ...args: Parameters<typeof update>) { updates++; return update.apply(this, args); };
    try {
      await search('bilevel-emd', { bilevel: true, epochs: 2 });
    } finally {
      EmdLayerMapping.prototype.update = update;
    }
    const steps = lines(join(root, 'bilevel-emd', 'steps.jsonl'));
    assert.ok(steps.length > 2);
    assert.equal(updates, steps.length, `${updates} EMD updates for ${steps.length} weight steps`);
  });

});

describe('search with attention teachers', () => {
  for (const [kind, model] of [
    ['sasrec', { kind: 'sasrec', hidden: 16, blocks: 2, heads: 2 }],
    ['bert4rec', { kind: 'bert4rec', hidden: 16, blocks: 2, heads: 2, pretrainEpochs: 1 }],
  ] as const) {
    it(`${kind}: its blocks are the intermediates and the student is 32 wide by default`, async () => {
      const dir = join(root, `teacher-${kind}`);
      await train({ config: parseTrainConfig({ model, maxLength: 12, epochs: 1 }, kind), data, outDir: dir, log: quiet });
      const teacher = await loadTeacher({ path: join(dir, 'best.ckpt'), field: 'teacher', maxLength: 12 });
      try {
        assert.equal(teacher.intermediates, 2);
        const { hidden: _, ...config } = { ...base, epochs: 1 };
        const r = await runSearch({ config: parseSearchConfig(config, kind), teacher, data, outDir: join(root, `search-${kind}`), log: quiet });
        assert.equal(r.epochsRun, 1);
        const ckpt = readCheckpoint(join(root, `search-${kind}`, 'best.ckpt'));
        assert.deepEqual(ckpt.tensors.find((t) => t.name === 'param/net.itemEmbedding.weight')!.shape, [51, 32]);
      } finally {
        teacher.dispose();
      }
    });
  }
});

describe('student finetune and distillation', () => {
  it('trains a derived student from the search weights, with CE + distillation, and reloads it', async () => {
    const g = JSON.parse(readFileSync(join(root, 's1', 'genotype.json'), 'utf8'));
    const cfg = parseTrainConfig({
      model: { kind: 'adarec', hidden: 8, genotype: { operators: g.operators, nodes: g.nodes, cells: g.cells } }, maxLength: 12, epochs: 2,
      init: { checkpoint: join(root, 's1', 'best.ckpt'), prefix: 'net.' }, distillation: { teacher: teacherCkpt },
    }, 'student');
    const logs: string[] = [];
    const r = await train({ config: cfg, data, outDir: join(root, 'student'), log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /initialised \d+ of \d+ tensors/.test(l)));
    assert.ok(Number.isFinite(r.testMetrics['ndcg@10']));
    const ck = readCheckpoint(join(root, 'student', 'last.ckpt'));
    assert.ok(ck.tensors.some((t) => t.name.startsWith('module/distiller/param/')));
    const m = loadTrainedModel(join(root, 'student', 'best.ckpt'));
    assert.equal(m.model.vocabSize, 51);
    m.model.dispose();
    assert.throws(() => parseTrainConfig({ model: { kind: 'adarec', genotype: { operators: ['skip', 'none'], nodes: 2, cells: [['skip', 'bogus', 'none']] } } }, 'x'),
      /genotype: .*bogus/);
  });
});

describe('adarec run', () => {
  it('a stage is current under a former key (what an older adarec keyed the same work): skipped when finished, resumed when not', async () => {
    const stages = join(root, 'former-keys');
    await runStage(stages, 'done', 'old', quiet, async () => 'first');
    mkdirSync(join(stages, 'started'), { recursive: true });
    writeFileSync(join(stages, 'started', 'stage-key.json'), JSON.stringify({ key: 'old' }));
    const logs: string[] = [];
    assert.equal(await runStage(stages, 'done', 'new', (l) => logs.push(l), async () => 'again', ['old']), 'first');
    assert.deepEqual(await runStage(stages, 'started', 'new', (l) => logs.push(l), async ({ resume }) => resume, ['old']), true);
    assert.equal(JSON.parse(readFileSync(join(stages, 'started', 'stage-key.json'), 'utf8')).key, 'new', 'the key is brought up to date');
    assert.equal(await runStage(stages, 'done', 'other', (l) => logs.push(l), async () => 'redone', ['older']), 'redone');
    assert.ok(readdirSync(stages).some((d) => d.startsWith('done.stale-')), 'another key still moves the folder aside');
  });

  it('runs every stage, writes the report, and skips finished stages when run again', async () => {
    const config = parseRunConfig({
      teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 2 },
      search: { hidden: 8, cells: 2, nodes: 2, epochs: 2, maxLength: 12 },
      student: { epochs: 2 }, baselines: { random: 1, randomAny: 0, randomSearch: false }, latencyRuns: 3, // the other random baselines: search-baselines.test.ts
    }, 'test');
    const out = join(root, 'run');
    const first = await runPipeline({ config, data, outDir: out, log: quiet });
    assert.deepEqual(first.rows.map((r) => r.kind), ['teacher', 'student', 'baseline', 'baseline', 'baseline']);
    for (const f of ['report.md', 'results.json', 'cell.svg', 'alpha.svg', 'tradeoff.svg']) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /AdaRec student/);
    const logs: string[] = [];
    const again = await runPipeline({ config, data, outDir: out, log: (l) => logs.push(l) });
    assert.equal(logs.filter((l) => /skipped/.test(l)).length, 6, logs.join('\n'));
    assert.deepEqual(again.genotype, first.genotype);
    // a moved run folder keeps its stage keys (they hold no paths)
    const moved = join(root, 'run-moved');
    cpSync(out, moved, { recursive: true });
    const movedLogs: string[] = [];
    await runPipeline({ config, data, outDir: moved, log: (l) => movedLogs.push(l) });
    assert.equal(movedLogs.filter((l) => /skipped/.test(l)).length, 6, movedLogs.join('\n'));
    // an option added later, at the value that reproduces the older behaviour, keeps every stage
    // (logitItems scoring every item, whatever its other fields: folders begun before it existed)
    const upgraded = parseRunConfig({ ...config, search: { ...config.search, logitItems: { over: 'all', topK: 5 } } }, 'test');
    const upgradeLogs: string[] = [];
    await runPipeline({ config: upgraded, data, outDir: out, log: (l) => upgradeLogs.push(l) });
    assert.equal(upgradeLogs.filter((l) => /skipped/.test(l)).length, 6, upgradeLogs.join('\n'));
    // a folder written by an older adarec (at b7aa28c, when the logitItems default was in every
    // search and distillation key; test/fixtures/make-old-run.mjs) keeps every stage
    const old = join(root, 'run-b7aa28c');
    cpSync(fileURLToPath(new URL('../../test/fixtures/run-b7aa28c', import.meta.url)), old, { recursive: true });
    const oldLogs: string[] = [];
    await runPipeline({ config, data, outDir: old, log: (l) => oldLogs.push(l) });
    assert.equal(oldLogs.filter((l) => /skipped/.test(l)).length, 6, oldLogs.join('\n'));
    assert.ok(!readdirSync(old).some((d) => d.includes('.stale-')), 'nothing moved aside');
    // more finetune seeds: the first seed's stages are reused, the others trained; rows are means
    const seeded = parseRunConfig({ ...config, seeds: 2 }, 'test');
    const seedLogs: string[] = [];
    const two = await runPipeline({ config: seeded, data, outDir: out, log: (l) => seedLogs.push(l) });
    assert.equal(seedLogs.filter((l) => /skipped/.test(l)).length, 6, seedLogs.join('\n'));
    assert.equal(two.rows[0].seedNdcg10, undefined); // the teacher is trained once
    for (const [i, stage] of ['student', 'scratch', 'kd', 'random-1'].entries()) {
      const second = JSON.parse(readFileSync(join(out, `${stage}-seed2`, 'stage.json'), 'utf8')).result.figures.full['ndcg@10'];
      const row = two.rows[i + 1], firstRow = first.rows[i + 1];
      assert.deepEqual(row.seedNdcg10, [firstRow.figures.full['ndcg@10'], second], stage);
      assert.ok(Math.abs(row.figures.full['ndcg@10'] - (firstRow.figures.full['ndcg@10'] + second) / 2) < 1e-12, stage);
    }
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /means over 2 finetune seeds/);
    // a second run on a folder in use is refused; a lock left by a dead process is taken over
    writeFileSync(join(out, '.adarec-run.lock'), String(process.ppid));
    await assert.rejects(runPipeline({ config, data, outDir: out, log: quiet }), /in use by another adarec run/);
    writeFileSync(join(out, '.adarec-run.lock'), '999999999');
    await runPipeline({ config, data, outDir: out, log: quiet });
    assert.ok(!existsSync(join(out, '.adarec-run.lock')));
  });
});
