// Serving through a trained run folder: top-K selection against a full sort, the run's item
// vocabulary (items.json), unknown ids, exclusion of the history, batching.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readItemKeys } from '../src/data/item-keys.js';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { Recommender, UnknownItemsError } from '../src/serve/recommender.js';
import { topK } from '../src/serve/top-k.js';
import { tinyData } from './train-fixture.js';

/** The reference: every eligible item sorted by score (desc), then id (asc). */
function sortedTop(scores: ArrayLike<number>, k: number, exclude: Set<number>): number[] {
  const ids: number[] = [];
  for (let i = 1; i < scores.length; i++) if (!exclude.has(i) && !Number.isNaN(scores[i])) ids.push(i);
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  return ids.slice(0, k);
}

describe('topK', () => {
  it('equals a full sort (ties by lower id, padding, NaN and excluded items never returned)', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constant(Number.NaN)), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 70 }), fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 10 }),
      (values, k, excluded) => {
        const scores = Float32Array.from(values);
        const exclude = new Set(excluded);
        const got = topK(scores, 0, scores.length, k, exclude);
        const want = sortedTop(scores, k, exclude);
        assert.deepEqual(Array.from(got.ids), want);
        assert.deepEqual(Array.from(got.scores), want.map((i) => scores[i]));
      }), { numRuns: 300, seed: 7 });
  });

  it('reads one row of a batch at an offset', () => {
    const scores = Float32Array.from([9, 1, 2, 3, /* row 1 */ 9, 5, 4, 6]);
    assert.deepEqual(Array.from(topK(scores, 4, 4, 2).ids), [3, 1]);
  });
});

describe('Recommender', () => {
  let root = '', run = '';
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'adarec-serve-'));
    run = join(root, 'run');
    const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 32, epochs: 2 }, 'test');
    await train({ config, data: tinyData(), outDir: run, log: () => {} });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the trainer writes the item vocabulary beside the checkpoints', () => {
    const keys = readItemKeys(run);
    assert.equal(keys.itemKeys.length, 60);
    assert.equal(keys.itemKeys[0], 'i1');
    assert.equal(keys.manifestHash, tinyData().manifestHash);
  });

  it('recommends original ids in the order of the model scores', () => {
    const rec = Recommender.load(run);
    assert.equal(rec.info.kind, 'nextitnet');
    assert.match(rec.info.version, /^[0-9a-f]{12}$/);
    const history = ['i3', 'i7', 'i8'];
    const scores = rec.scoreIds([Int32Array.from([3, 7, 8])]);
    const r = rec.recommend({ history, k: 5 });
    assert.deepEqual(r.items.map((x) => x.item), sortedTop(scores, 5, new Set()).map((i) => `i${i}`));
    assert.deepEqual(r.items.map((x) => x.score), sortedTop(scores, 5, new Set()).map((i) => scores[i]));
    assert.deepEqual(r.unknown, []);
    const seen = rec.recommend({ history, k: 60, excludeSeen: true });
    assert.equal(seen.items.length, 57);
    assert.ok(seen.items.every((x) => !history.includes(x.item)));
  });

  it('skips or rejects unknown items, as configured', () => {
    const skip = Recommender.load(run);
    const r = skip.recommend({ history: ['i3', 'nope', 'i7'], k: 3 });
    assert.deepEqual(r.unknown, ['nope']);
    assert.deepEqual(r.items, skip.recommend({ history: ['i3', 'i7'], k: 3 }).items);
    const strict = Recommender.load(run, { unknownItems: 'error' });
    assert.throws(() => strict.recommend({ history: ['i3', 'nope'], k: 3 }), (e: unknown) => e instanceof UnknownItemsError && e.items[0] === 'nope');
  });

  it('a batch equals the requests one by one, across forward chunks', () => {
    const rec = Recommender.load(run, { maxBatch: 2 });
    const requests = [['i1'], ['i2', 'i9'], [], ['i5', 'i5', 'i6', 'i7', 'i8', 'i9', 'i10', 'i11', 'i12', 'i13', 'i14', 'i15', 'i16', 'i17']]
      .map((history, n) => ({ history, k: 4 + n, excludeSeen: n % 2 === 0 }));
    const batch = rec.recommendBatch(requests);
    requests.forEach((q, n) => {
      const one = rec.recommend(q);
      assert.deepEqual(batch[n].items.map((x) => x.item), one.items.map((x) => x.item));
      batch[n].items.forEach((x, j) => assert.ok(Math.abs(x.score - one.items[j].score) < 1e-5));
    });
  });

  it('clear errors for a folder without a run or with a vocabulary of other data', () => {
    assert.throws(() => Recommender.load(join(root, 'missing')), /missing: no such run folder or checkpoint/);
    assert.throws(() => Recommender.load(root), /no best\.ckpt in this folder/);
    writeFileSync(join(run, 'items.json'), JSON.stringify({ manifestHash: 'other', itemKeys: readItemKeys(run).itemKeys }));
    assert.throws(() => Recommender.load(run), /items\.json: written for data other, but best\.ckpt was trained on synthetic/);
  });
});
