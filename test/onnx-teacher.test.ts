// ONNX teachers: a trained teacher exported with its signals and imported through its mapping
// gives the search and the KD trainer the same signals as its checkpoint (1e-4); a tiny search
// and a KD run work with it; mapping problems are errors naming the file and the field.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tensor } from '../src/engine/index.js';
import { disposeSignals } from '../src/models/teacher.js';
import { exportModelFile } from '../src/cli/export.js';
import { parseSearchConfig } from '../src/search/config.js';
import { runSearch } from '../src/search/search.js';
import { parseTrainConfig } from '../src/train/config.js';
import { loadTeacher } from '../src/train/teacher.js';
import { train } from '../src/train/trainer.js';
import { assertNear, randomIds } from './onnx-helpers.js';
import { tinyData } from './train-fixture.js';

const data = tinyData();
const T = 12, V = data.dataset.numItems + 1;
const quiet = () => {};
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
let root = '', ckpt = '', onnx = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'adarec-onnx-teacher-'));
  await train({
    config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2, 1, 2] }, maxLength: T, epochs: 1, optimizer: { lr: 0.01 } }, 'teacher'),
    data, outDir: join(root, 'teacher'), log: quiet,
  });
  ckpt = join(root, 'teacher', 'best.ckpt');
  onnx = join(root, 'teacher.onnx');
  const r = exportModelFile({ model: join(root, 'teacher'), out: onnx, signals: true, opset: 17 });
  assert.equal(r.mapping, join(root, 'teacher.mapping.json'));
  assert.equal(r.items, join(root, 'teacher.items.json'));
  assert.deepEqual(JSON.parse(readFileSync(r.items!, 'utf8')), JSON.parse(readFileSync(join(root, 'teacher', 'items.json'), 'utf8')));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('ONNX teacher', () => {
  it('gives the checkpoint teacher\'s signals (1e-4) and its sizes', async () => {
    const ours = await loadTeacher({ path: ckpt, field: 'teacher', maxLength: T });
    const theirs = await loadTeacher({ path: onnx, field: 'teacher', maxLength: T });
    try {
      assert.deepEqual([theirs.kind, theirs.vocabSize, theirs.hidden, theirs.intermediates], [ours.kind, ours.vocabSize, ours.hidden, ours.intermediates]);
      const ids = tensor(randomIds(5, T, V, 3), [5, T], 'int32');
      const a = await ours.signals(ids), b = await theirs.signals(ids);
      assertNear(b.embedding.values, a.embedding.values, 'embedding');
      a.intermediates.forEach((t, i) => assertNear(b.intermediates[i].values, t.values, `intermediate ${i}`));
      assertNear(b.logits.values, a.logits.values, 'logits');
      disposeSignals(a);
      disposeSignals(b);
      ids.dispose();
    } finally {
      ours.dispose();
      theirs.dispose();
    }
  });

  it('runs a tiny search (teacher cache on) and a KD run', async () => {
    const teacher = await loadTeacher({ path: onnx, field: 'teacher', maxLength: T });
    try {
      const config = parseSearchConfig({ hidden: 8, cells: 2, nodes: 2, epochs: 2, maxLength: T, batchSize: 64, cacheTeacher: true }, 'search');
      const r = await runSearch({ config, teacher, data, outDir: join(root, 'search'), log: quiet });
      assert.equal(r.epochsRun, 2);
      assert.ok(existsSync(join(root, 'search', 'genotype.json')));
    } finally {
      teacher.dispose();
    }
    const kd = await train({
      config: parseTrainConfig({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, maxLength: T, epochs: 1, distillation: { teacher: onnx } }, 'kd'),
      data, outDir: join(root, 'kd'), log: quiet,
    });
    assert.ok(kd.bestEpoch !== null && Number.isFinite(kd.testMetrics['ndcg@10']));
  });

  it('adarec export: writes the model and its mapping; clear errors for bad paths and a supernet', () => {
    const out = join(root, 'cli', 'student.onnx');
    const r = spawnSync(process.execPath, [CLI, 'export', '--model', join(root, 'kd'), '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*student\.onnx \(nextitnet/);
    assert.ok(existsSync(out) && !existsSync(join(root, 'cli', 'student.mapping.json')));
    const bad = spawnSync(process.execPath, [CLI, 'export', '--model', join(root, 'search'), '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /adarec: --model: .*search.best\.ckpt is not a trained model's checkpoint/);
    const opts = { model: join(root, 'teacher'), out, signals: false, opset: 17 };
    assert.throws(() => exportModelFile({ ...opts, out: join(root, 'x.bin') }), /--out: expected a file name ending in \.onnx/);
    assert.throws(() => exportModelFile({ ...opts, model: join(root, 'nope') }), /nope: no such run folder or checkpoint/);
    assert.throws(() => exportModelFile({ ...opts, model: join(root, 'cli') }), /cli: no best\.ckpt in this folder/);
  });

  it('names the mapping file and the field in its errors', async () => {
    const mapping = JSON.parse(readFileSync(join(root, 'teacher.mapping.json'), 'utf8'));
    const bad = join(root, 'bad.mapping.json');
    const load = (m: unknown, maxLength = T) => {
      writeFileSync(bad, JSON.stringify(m));
      return loadTeacher({ path: onnx, mapping: bad, field: 'distillation.teacher', maxLength });
    };
    await assert.rejects(load({ ...mapping, outputs: { ...mapping.outputs, logits: 'nope' } }), new RegExp(`${bad}: outputs.logits: 'nope' is not an output`));
    await assert.rejects(load({ ...mapping, input: { name: 'x' } }), new RegExp(`${bad}: input.name: 'x' is not an input`));
    await assert.rejects(load({ ...mapping, hidden: 'wide' }), new RegExp(`${bad}: hidden: expected number, got string`));
    await assert.rejects(load(mapping, T + 1), new RegExp(`${bad}: maxLength: the ONNX teacher takes ${T} positions`));
    const wrongHidden = await load({ ...mapping, hidden: 7 });
    const ids = tensor(randomIds(2, T, V, 4), [2, T], 'int32');
    await assert.rejects(wrongHidden.signals(ids), new RegExp(`${bad}: outputs.embedding: output 'embedding' is float32 \\[2, ${T}, 16\\], expected float32 \\[2, ${T}, 7\\]`));
    wrongHidden.dispose();
    ids.dispose();
    await assert.rejects(loadTeacher({ path: join(root, 'missing.onnx'), field: 'distillation.teacher', maxLength: T }), /distillation.teacher: .*missing.onnx: no such file/);
    rmSync(join(root, 'lonely.onnx'), { force: true });
    writeFileSync(join(root, 'lonely.onnx'), readFileSync(onnx));
    await assert.rejects(loadTeacher({ path: join(root, 'lonely.onnx'), field: '--teacher', maxLength: T }), /--teacher: .*lonely.onnx is an ONNX teacher and needs a mapping file; .*lonely.mapping.json: no such file/);
  });
});
