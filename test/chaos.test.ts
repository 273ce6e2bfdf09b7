// Repeated kills (docs/RELIABILITY.md): `adarec run` SIGKILLed at seeded random moments and
// restarted ends identical to an uninterrupted run (bench/chaos.ts, a small N here; npm run chaos
// for more), and one test per failure the chaos run found: a stage folder whose stage-key.json was
// being written is resumed, not moved aside; a run killed in its first epoch leaves no duplicate
// log line or stale best.ckpt for the next start; temporary files of killed writers are removed
// by the next write of the same file, those of live writers are not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStage } from '../src/pipeline/stage.js';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { readCheckpoint, saveCheckpoint } from '../src/train/checkpoint.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { formatChaosReport, runChaos } from '../bench/chaos.js';
import { tinyData } from './train-fixture.js';

let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-chaos-test-')); });
after(() => rmSync(root, { recursive: true, force: true }));
const quiet = (): void => {};
const DEAD_PID = 999_999_999; // above any pid_max: no such process

describe('what the chaos run found, one case each', () => {
  it('a stage whose start was killed while writing stage-key.json is started in place, not moved aside', async () => {
    const out = join(root, 'stages');
    mkdirSync(join(out, 'teacher'), { recursive: true });
    writeFileSync(join(out, 'teacher', `.stage-key.json.${DEAD_PID}.0badc0de.tmp`), '{"ke');
    const logs: string[] = [];
    const r = await runStage(out, 'teacher', 'k1', (l) => logs.push(l), async ({ resume }) => ({ resume }));
    assert.deepEqual(r, { resume: false });
    assert.deepEqual(readdirSync(out), ['teacher'], 'nothing moved aside');
    assert.deepEqual(readdirSync(join(out, 'teacher')).sort(), ['stage-key.json', 'stage.json'], 'the orphan temporary file is gone');
    assert.ok(!logs.some((l) => /moved/.test(l)), logs.join('\n'));
    // a folder with other content and no key is still moved aside (it is not ours to reuse)
    mkdirSync(join(out, 'search'));
    writeFileSync(join(out, 'search', 'notes.txt'), 'x');
    await runStage(out, 'search', 'k2', quiet, async () => 1);
    assert.equal(readdirSync(out).filter((f) => f.startsWith('search.stale-')).length, 1);
  });

  it('a run killed in its first epoch (log line and best.ckpt written, last.ckpt not) restarts with logs and best.ckpt of its own', async () => {
    const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 2, batchSize: 64 }, 'test');
    const data = tinyData({ users: 120, items: 40 });
    const ref = join(root, 'first-ref'), cut = join(root, 'first-cut');
    await train({ config, data, outDir: ref, log: quiet });
    // what the kill between best.ckpt and last.ckpt of epoch 1 leaves, with a best.ckpt of other weights
    mkdirSync(cut);
    writeFileSync(join(cut, 'train.jsonl'), readFileSync(join(ref, 'train.jsonl'), 'utf8').split('\n')[0] + '\n{"epoch":2,"los');
    const other = readCheckpoint(join(ref, 'last.ckpt'));
    saveCheckpoint(join(cut, 'best.ckpt'), { ...other, tensors: other.tensors.map((t) => ({ ...t, values: t.values.map(() => 0.5) as typeof t.values })) });
    await train({ config, data, outDir: cut, resume: true, log: quiet });
    const lines = (dir: string) => readFileSync(join(dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => {
      const { seconds: _s, evalSeconds: _e, sequencesPerSecond: _r, ...rest } = JSON.parse(l);
      return rest;
    });
    assert.deepEqual(lines(cut), lines(ref));
    assert.deepEqual(readCheckpoint(join(cut, 'best.ckpt')).tensors, readCheckpoint(join(ref, 'best.ckpt')).tensors);
  });

  it('a write removes the temporary files killed writers left for the same file, not those of live writers', () => {
    const dir = join(root, 'temps');
    mkdirSync(dir);
    const dead = `.results.json.${DEAD_PID}.0123abcd.tmp`, live = `.results.json.${process.ppid}.89abcdef.tmp`, otherFile = `.report.md.${DEAD_PID}.0123abcd.tmp`;
    for (const f of [dead, live, otherFile]) writeFileSync(join(dir, f), 'partial');
    writeFileAtomic(join(dir, 'results.json'), [Buffer.from('{}\n')]);
    assert.deepEqual(readdirSync(dir).sort(), [live, otherFile, 'results.json'].sort());
    writeFileAtomic(join(dir, 'report.md'), [Buffer.from('# r\n')]);
    assert.ok(!existsSync(join(dir, otherFile)));
  });
});

describe('chaos run (bench/chaos.ts)', () => {
  it('adarec run killed 6 times at seeded random moments ends identical to an uninterrupted run', async () => {
    const r = await runChaos({ kills: 6, seed: 3, config: 'fast', log: quiet });
    assert.deepEqual(r.problems, [], formatChaosReport(r));
    assert.equal(r.kills.length + r.missed, 6);
    assert.ok(r.kills.length >= 4, formatChaosReport(r));
    assert.equal(r.compared['results.json'], 1);
    assert.ok(r.compared['best.ckpt'] >= 8, formatChaosReport(r));
  });
});
