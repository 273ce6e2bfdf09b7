// The corruption sweep (docs/RELIABILITY.md): checkpoints, prepared-data caches, ONNX teachers,
// items.json, stage records and run configs, truncated at many lengths and with bytes flipped at
// many offsets (every byte of the first 128, then seeded random offsets; one bit, a whole byte
// or a random value). Every load must refuse with one error (one line) naming the file, or give
// exactly what the intact file gives (e.g. a changed trailing newline): never a crash of another
// kind, never a different model, vocabulary, data set or figure. Run configs are files people
// write, so a change that still parses to a valid config is counted, not refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readItemKeys } from '../src/data/item-keys.js';
import { loadPrepared, prepareDataset, type PrepareOptions } from '../src/data/prepare.js';
import { openSource } from '../src/data/source.js';
import { parseRunConfig } from '../src/pipeline/config.js';
import { runStage } from '../src/pipeline/stage.js';
import { Recommender } from '../src/serve/recommender.js';
import { parseTrainConfig } from '../src/train/config.js';
import { loadTrainedModel } from '../src/train/load.js';
import { loadTeacher } from '../src/train/teacher.js';
import { train } from '../src/train/trainer.js';
import { readJsonFile } from '../src/util/config-file.js';
import { exportModelFile } from '../src/cli/export.js';
import { lcg } from './helpers.js';
import { tinyData } from './train-fixture.js';

let root = '', run = '';
const quiet = (): void => {};
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'adarec-corrupt-'));
  run = join(root, 'run');
  const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] }, maxLength: 10, epochs: 1, batchSize: 64 }, 'test');
  await train({ config, data: tinyData({ users: 80, items: 30 }), outDir: run, log: quiet });
});
after(() => rmSync(root, { recursive: true, force: true }));

interface Mutation { what: string; bytes: Buffer }

/** Truncations at fixed and random lengths, flips of every byte of the first 128 and at random offsets. */
function mutations(original: Buffer, seed: number, randomOffsets = 160): Mutation[] {
  const n = original.length, rnd = lcg(seed);
  const out: Mutation[] = [];
  const lengths = new Set([0, 1, 7, 8, 15, 16, 17, 47, 48, 49, 56, 57, n - 1, n - 2, n - 8, n - 9].filter((l) => l >= 0 && l < n));
  for (let i = 0; i < 40; i++) lengths.add(Math.floor(rnd() * n));
  for (const l of lengths) out.push({ what: `truncated to ${l} bytes`, bytes: original.subarray(0, l) });
  const flip = (at: number, mode: number): void => {
    const b = Buffer.from(original);
    const before = b[at];
    b[at] = mode === 0 ? before ^ 0xff : mode === 1 ? before ^ (1 << Math.floor(rnd() * 8)) : (before + 1 + Math.floor(rnd() * 255)) & 0xff;
    out.push({ what: `byte ${at} ${before} -> ${b[at]}`, bytes: b });
  };
  for (let at = 0; at < Math.min(n, 128); at++) flip(at, at % 3);
  for (let i = 0; i < randomOffsets; i++) flip(Math.floor(rnd() * n), i % 3);
  return out;
}

interface SweepResult { refused: number; harmless: number; accepted: number; failures: string[] }

/**
 * Writes each mutation to `path` and runs `load`: it must throw one Error (one line) naming
 * `named` (default `path`), or return what `same` accepts as the intact file's value.
 * `accept` (configs only) may count a different but valid value as accepted.
 */
async function sweep<T>(path: string, o: {
  seed: number; load: () => T | Promise<T>; same: (v: T) => boolean; accept?: (v: T) => boolean; named?: string; restore?: () => void;
}): Promise<SweepResult> {
  const original = readFileSync(path);
  const r: SweepResult = { refused: 0, harmless: 0, accepted: 0, failures: [] };
  for (const m of mutations(original, o.seed)) {
    o.restore?.();
    writeFileSync(path, m.bytes);
    try {
      const v = await o.load();
      if (o.same(v)) r.harmless++;
      else if (o.accept?.(v)) r.accepted++;
      else r.failures.push(`${m.what}: loaded, and differs from the intact file`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!(e instanceof Error)) r.failures.push(`${m.what}: threw a non-Error: ${msg}`);
      else if (!msg.includes(o.named ?? path)) r.failures.push(`${m.what}: the error does not name the file: ${msg}`);
      else if (msg.includes('\n')) r.failures.push(`${m.what}: the error is not one line: ${msg}`);
      else r.refused++;
    }
  }
  writeFileSync(path, original);
  return r;
}

/** The sweep's figures (printed by the spec reporter; docs/RELIABILITY.md quotes them). */
const figures: string[] = [];
after(() => { if (process.env.ADAREC_SWEEP_FIGURES) console.log(figures.join('\n')); });

function check(name: string, r: SweepResult, total = r.refused + r.harmless + r.accepted + r.failures.length): void {
  figures.push(`${name}: ${total} mutations, ${r.refused} refused, ${r.harmless} read as intact, ${r.accepted} accepted as valid, ${r.failures.length} failed`);
  assert.deepEqual(r.failures.slice(0, 10), [], `${name}: ${r.failures.length} of ${total} mutations failed`);
  assert.ok(r.refused > 0.9 * total || r.accepted > 0, `${name}: only ${r.refused} of ${total} refused`);
}

const sameArray = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => Object.is(x, b[i]));

describe('corruption sweep', () => {
  it('checkpoints: every truncation and changed byte is refused, naming the file', async () => {
    for (const [i, name] of ['best.ckpt', 'last.ckpt'].entries()) {
      const path = join(run, name);
      const r = await sweep(path, { seed: 11 + i, load: () => { loadTrainedModel(path).model.dispose(); return null; }, same: () => false });
      check(name, r);
      assert.equal(r.harmless, 0, 'the checksum covers every byte');
    }
  });

  it('items.json: refused or read as it was; a served run never maps ids to other items', async () => {
    const path = join(run, 'items.json');
    const intact = readItemKeys(run);
    const r = await sweep(path, { seed: 21, load: () => readItemKeys(run), same: (v) => JSON.stringify(v) === JSON.stringify(intact) });
    check('items.json', r);
    // the same through the serving load (model + vocabulary), on a sample
    const served = await sweep(path, {
      seed: 22, load: () => { const m = Recommender.load(run); const keys = m.itemKeys; m.model.dispose(); return keys; },
      same: (v) => JSON.stringify(v) === JSON.stringify(intact.itemKeys),
    });
    check('items.json (Recommender.load)', served);
  });

  it('prepared-data caches: loadPrepared refuses with a CacheError naming the file; prepareDataset rebuilds the same data', async () => {
    const cacheDir = join(root, 'cache');
    const options: PrepareOptions = { duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: { count: 10 }, seed: 3 };
    const input = await openSource('synthetic:users=60,items=30,minLength=5,maxLength=12', { cacheDir });
    const now = (): Date => new Date(0);
    const first = prepareDataset(input, options, cacheDir, { warn: quiet, now });
    const key = first.data.manifest.key;
    const r = await sweep(first.path, {
      seed: 31, load: () => loadPrepared(first.path, key),
      same: (d) => sameArray(d.dataset.items, first.data.dataset.items) && sameArray(d.split.train.items, first.data.split.train.items) && sameArray(d.negatives!.items, first.data.negatives!.items),
    });
    check('prepared cache', r);
    assert.equal(r.harmless, 0);
    // through prepareDataset: one warning naming the file, and the rebuilt data equals the original
    const bytes = readFileSync(first.path);
    for (const m of mutations(bytes, 32, 10).filter((_, i) => i % 7 === 0)) {
      writeFileSync(first.path, m.bytes);
      const warnings: string[] = [];
      const again = prepareDataset(input, options, cacheDir, { warn: (w) => warnings.push(w), now });
      assert.equal(again.fromCache, false, m.what);
      assert.equal(warnings.length, 1, m.what);
      assert.ok(warnings[0].includes(first.path), warnings[0]);
      assert.ok(sameArray(again.data.split.train.items, first.data.split.train.items), m.what);
      assert.ok(readFileSync(first.path).equals(bytes), `${m.what}: the cache was rewritten`);
    }
  });

  it('ONNX teachers (adarec export --signals): a changed or truncated .onnx is refused before onnxruntime reads it', async () => {
    const onnx = join(root, 'teacher.onnx');
    const r0 = exportModelFile({ model: run, out: onnx, signals: true, opset: 17 });
    assert.ok(r0.mapping);
    assert.match(readFileSync(r0.mapping!, 'utf8'), /"sha256": "[0-9a-f]{64}"/);
    const t = await loadTeacher({ path: onnx, field: 'teacher', maxLength: 10 });
    t.dispose();
    const r = await sweep(onnx, { seed: 41, load: async () => { (await loadTeacher({ path: onnx, field: 'teacher', maxLength: 10 })).dispose(); return null; }, same: () => false });
    check('teacher.onnx', r);
    assert.match(await loadTeacher({ path: onnx, field: 'teacher', maxLength: 10 }).then((x) => { x.dispose(); return 'loaded'; }), /loaded/);
  });

  it('stage records (stage.json): a damaged record is never reused: the stage is finished again', async () => {
    const out = join(root, 'stages');
    const figures = { ndcg: 0.123456789, params: 4321 };
    await runStage(out, 'student', 'key1', quiet, async () => figures);
    const path = join(out, 'student', 'stage.json');
    const intact = readFileSync(path);
    const r = await sweep(path, {
      seed: 51, named: 'unused', load: () => runStage(out, 'student', 'key1', quiet, async () => 'finished again' as const),
      same: (v) => JSON.stringify(v) === JSON.stringify(figures), accept: (v) => v === 'finished again',
      restore: () => { rmSync(out, { recursive: true, force: true }); mkdirSync(join(out, 'student'), { recursive: true }); writeFileSync(join(out, 'student', 'stage-key.json'), '{"key":"key1"}\n'); writeFileSync(path, intact); },
    });
    check('stage.json (finished again counted as accepted)', r);
    assert.ok(r.accepted > 0.9 * (r.accepted + r.harmless), `${r.accepted} finished again, ${r.harmless} reused`);
  });

  it('run configs: refused with one error naming the file, or read as a valid config (a file people write carries no checksum)', async () => {
    const path = join(root, 'run.json');
    const json = {
      teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 3 },
      search: { hidden: 8, cells: 2, nodes: 2, epochs: 2 }, student: { epochs: 2 }, baselines: { random: 1, randomAny: 1 }, seed: 1,
    };
    writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
    const intact = parseRunConfig(readJsonFile(path), path);
    const r = await sweep(path, {
      seed: 61, load: () => parseRunConfig(readJsonFile(path), path),
      same: (v) => JSON.stringify(v) === JSON.stringify(intact), accept: () => true,
    });
    check('run config', r);
    assert.ok(r.refused > r.accepted, `${r.refused} refused, ${r.accepted} valid but different`);
    copyFileSync(path, join(root, 'run-copy.json')); // the intact file is back
    assert.deepEqual(parseRunConfig(readJsonFile(path), path), intact);
  });
});
