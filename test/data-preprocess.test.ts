// Preprocessing, splits, negatives, the prepared-data cache and stats, on small hand-made logs whose
// every expected output is written out.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../src/data/errors.js';
import { preprocess, type PreprocessOptions } from '../src/data/preprocess.js';
import { leaveOneOut, referenceChunks, temporalSplit } from '../src/data/split.js';
import { sampleNegatives } from '../src/data/negatives.js';
import { hashFile, readCacheFile, writeCacheFile } from '../src/data/cache.js';
import { prepareDataset, type PrepareOptions } from '../src/data/prepare.js';
import { datasetStats, formatStats } from '../src/data/stats.js';
import type { DataSplit, EvalExamples, InteractionLog, SequenceDataset } from '../src/data/types.js';
import { makeLog, type LogRow } from './data-helpers.js';

/** Sequences as lists of original item keys, by sequence key. */
function byKey(ds: SequenceDataset): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  ds.sequenceKeys.forEach((k, s) => {
    out[k] = Array.from(ds.items.subarray(ds.offsets[s], ds.offsets[s + 1]), (i) => ds.itemKeys[i - 1]);
  });
  return out;
}

const base: PreprocessOptions = { duplicates: 'keep-all', bySession: false };

/** Sequences given as item id lists; times are 1, 2, 3, ... across the whole data set unless given. */
function dataset(seqs: number[][], times?: number[][]): SequenceDataset {
  const numItems = Math.max(...seqs.flat());
  let clock = 0;
  return {
    numItems,
    items: Int32Array.from(seqs.flat()),
    times: Float64Array.from(times ? times.flat() : seqs.flat().map(() => ++clock)),
    offsets: Int32Array.from([0, ...seqs.map((_, s) => seqs.slice(0, s + 1).flat().length)]),
    itemKeys: Array.from({ length: numItems }, (_, i) => `k${i + 1}`),
    sequenceKeys: seqs.map((_, s) => `s${s}`),
  };
}

const lists = (a: { items?: Int32Array; inputs?: Int32Array; offsets: Int32Array }): number[][] => {
  const data = a.items ?? a.inputs!;
  return Array.from({ length: a.offsets.length - 1 }, (_, k) => Array.from(data.subarray(a.offsets[k], a.offsets[k + 1])));
};
const examples = (e: EvalExamples): [number, number[], number][] =>
  lists(e).map((input, k) => [e.sequence[k], input, e.targets[k]]);

function throwsData(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof DataError && e.file === 'test.csv' && pattern.test(e.message));
}

describe('preprocess', () => {
  it('orders each sequence by time, equal times in row order, and numbers items by the log index', () => {
    const log = makeLog([
      { u: 'B', i: 'x', t: 5 }, { u: 'A', i: 'y', t: 5 }, { u: 'A', i: 'x', t: 1 },
      { u: 'A', i: 'z', t: 5 }, { u: 'A', i: 'w', t: 1 }, { u: 'B', i: 'w', t: 2 },
    ]);
    const ds = preprocess(log, base);
    assert.deepEqual(ds.itemKeys, ['x', 'y', 'z', 'w']); // x=1 y=2 z=3 w=4
    assert.deepEqual(ds.sequenceKeys, ['B', 'A']); // log user order
    assert.deepEqual(Array.from(ds.items), [4, 1, /* A: */ 1, 4, 2, 3]);
    assert.deepEqual(Array.from(ds.times), [2, 5, 1, 1, 5, 5]);
    assert.deepEqual(Array.from(ds.offsets), [0, 2, 6]);
    assert.equal(ds.numItems, 4);
  });

  it('renumbers densely after filtering, keeping 0 free', () => {
    const log = makeLog([{ u: 'A', i: 'x', t: 1, r: 1 }, { u: 'A', i: 'y', t: 2, r: 5 }, { u: 'B', i: 'z', t: 1, r: 4 }]);
    const ds = preprocess(log, { ...base, minRating: 4 });
    assert.deepEqual(ds.itemKeys, ['y', 'z']);
    assert.deepEqual(Array.from(ds.items), [1, 2]);
  });

  it('keeps ratings >= minRating, and refuses a threshold without ratings or one that leaves nothing', () => {
    const log = makeLog([{ u: 'A', i: 'x', t: 1, r: 3 }, { u: 'A', i: 'y', t: 2, r: 2.5 }, { u: 'A', i: 'z', t: 3, r: 4 }]);
    assert.deepEqual(byKey(preprocess(log, { ...base, minRating: 3 })), { A: ['x', 'z'] });
    throwsData(() => preprocess(log, { ...base, minRating: 5 }), /no interactions left after the rating filter \(rating >= 5\): relax minRating/);
    throwsData(() => preprocess(makeLog([{ u: 'A', i: 'x', t: 1 }]), { ...base, minRating: 3 }), /needs a rating column/);
  });

  // pass 1 drops d (1 interaction), then u3 (left with 1), then a, then u4, then b, then u5
  const cascade = makeLog([
    { u: 'u1', i: 'p', t: 1 }, { u: 'u1', i: 'q', t: 2 }, { u: 'u2', i: 'p', t: 1 }, { u: 'u2', i: 'q', t: 2 },
    { u: 'u3', i: 'a', t: 1 }, { u: 'u3', i: 'd', t: 2 }, { u: 'u4', i: 'a', t: 1 }, { u: 'u4', i: 'b', t: 2 },
    { u: 'u5', i: 'b', t: 1 }, { u: 'u5', i: 'q', t: 2 },
  ]);

  it('iterates k-core filtering to the fixpoint', () => {
    const ds = preprocess(cascade, { ...base, kCore: { users: 2, items: 2 } });
    assert.deepEqual(byKey(ds), { u1: ['p', 'q'], u2: ['p', 'q'] });
    assert.deepEqual(ds.itemKeys, ['p', 'q']);
  });

  it("single-pass k-core filters items once then users once, as the reference does", () => {
    const ds = preprocess(cascade, { ...base, kCore: { users: 2, items: 2, mode: 'single-pass' } });
    assert.deepEqual(byKey(ds), { u1: ['p', 'q'], u2: ['p', 'q'], u4: ['a', 'b'], u5: ['b', 'q'] });
  });

  it('errors when k-core filtering leaves nothing', () => {
    throwsData(() => preprocess(cascade, { ...base, kCore: { users: 3, items: 3 } }), /no interactions left after k-core filtering \(sequences >= 3, items >= 3\): relax kCore/);
  });

  const repeats = makeLog(['a', 'b', 'a', 'a', 'c', 'b'].map((i, t) => ({ u: 'U', i, t })).reverse());
  it('keeps every repeat with keep-all', () => {
    assert.deepEqual(byKey(preprocess(repeats, base)).U, ['a', 'b', 'a', 'a', 'c', 'b']);
  });
  it('keeps the earliest interaction of an item with keep-first', () => {
    assert.deepEqual(byKey(preprocess(repeats, { ...base, duplicates: 'keep-first' })).U, ['a', 'b', 'c']);
  });
  it('drops an item equal to the previous one with collapse-consecutive', () => {
    assert.deepEqual(byKey(preprocess(repeats, { ...base, duplicates: 'collapse-consecutive' })).U, ['a', 'b', 'a', 'c', 'b']);
  });
  it('collapses again when filtering makes repeats adjacent', () => {
    const log = makeLog([
      { u: 'U', i: 'a', t: 1 }, { u: 'U', i: 'x', t: 2 }, { u: 'U', i: 'a', t: 3 }, { u: 'U', i: 'b', t: 4 },
      { u: 'V', i: 'a', t: 1 }, { u: 'V', i: 'b', t: 2 },
    ]);
    const ds = preprocess(log, { ...base, duplicates: 'collapse-consecutive', kCore: { users: 1, items: 2 } });
    assert.deepEqual(byKey(ds), { U: ['a', 'b'], V: ['a', 'b'] });
  });
  it('applies keep-first per sequence, not across users', () => {
    const log = makeLog([{ u: 'U', i: 'a', t: 1 }, { u: 'V', i: 'a', t: 2 }, { u: 'U', i: 'a', t: 3 }]);
    assert.deepEqual(byKey(preprocess(log, { ...base, duplicates: 'keep-first' })), { U: ['a'], V: ['a'] });
  });

  const sessions = makeLog([
    { u: 'U', s: 's1', i: 'a', t: 1 }, { u: 'U', s: 's1', i: 'b', t: 2 }, { u: 'U', s: 's2', i: 'c', t: 3 },
    { u: 'U', s: 's1', i: 'c', t: 2.5 }, { u: 'U', s: 's2', i: 'a', t: 4 }, { u: 'V', s: 's3', i: 'b', t: 1 },
  ]);
  it('makes sessions the sequences with bySession, and drops short ones', () => {
    assert.deepEqual(byKey(preprocess(sessions, { ...base, bySession: true })), { s1: ['a', 'b', 'c'], s2: ['c', 'a'], s3: ['b'] });
    assert.deepEqual(byKey(preprocess(sessions, { ...base, bySession: true, minSequenceLength: 3 })), { s1: ['a', 'b', 'c'] });
    assert.deepEqual(byKey(preprocess(sessions, base)), { U: ['a', 'b', 'c', 'c', 'a'], V: ['b'] });
  });
  it('refuses bySession without a session column, and a length filter that leaves nothing', () => {
    throwsData(() => preprocess(cascade, { ...base, bySession: true }), /session column/);
    throwsData(() => preprocess(sessions, { ...base, bySession: true, minSequenceLength: 4 }), /no interactions left after dropping sequences shorter than 4: relax minSequenceLength/);
  });
  it('names the line of a non-numeric time, and refuses an empty log', () => {
    const log = makeLog([{ u: 'A', i: 'x', t: 1 }, { u: 'A', i: 'y', t: NaN }]);
    assert.throws(() => preprocess(log, base), (e: unknown) => e instanceof DataError && e.line === 2 && e.field === 'time');
    throwsData(() => preprocess(makeLog([]), base), /no interactions/);
  });
});

describe('splits', () => {
  const ds = dataset([[1, 2, 3, 4, 5], [6, 7], [8, 9, 10]]);
  it('leave-one-out: train items[:-2], validate items[-2] from items[:-2], test items[-1] from items[:-1]', () => {
    const sp = leaveOneOut(ds);
    assert.deepEqual(lists(sp.train), [[1, 2, 3], [6, 7], [8]]);
    assert.deepEqual(Array.from(sp.train.times), [1, 2, 3, 6, 7, 8], 'each training item keeps its timestamp');
    assert.deepEqual(examples(sp.valid), [[0, [1, 2, 3], 4], [2, [8], 9]]);
    assert.deepEqual(examples(sp.test), [[0, [1, 2, 3, 4], 5], [2, [8, 9], 10]]);
  });

  it('reference chunks: windows counted from the end, short ones dropped, test input skips the validation item', () => {
    const sp = referenceChunks(dataset([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13], [14, 15, 16, 17, 18]]), 4);
    // sequence 0: [1 2] dropped, [3 4 5 6], [7 8 9 10]; sequence 1 too short; sequence 2: [14] dropped, [15 16 17 18]
    assert.deepEqual(lists(sp.train), [[3, 4], [7, 8], [15, 16]]);
    assert.deepEqual(Array.from(sp.train.times), [3, 4, 7, 8, 15, 16]);
    assert.deepEqual(examples(sp.valid), [[0, [3, 4], 5], [0, [7, 8], 9], [2, [15, 16], 17]]);
    assert.deepEqual(examples(sp.test), [[0, [3, 4], 6], [0, [7, 8], 10], [2, [15, 16], 18]]);
    assert.throws(() => referenceChunks(ds, 3), RangeError);
  });

  it('temporal: global cut-offs at time quantiles, full prefixes as inputs', () => {
    const t = dataset([[1, 2, 3, 4], [5, 6, 7], [8, 9]], [[1, 2, 3, 4], [5, 6, 7], [8, 9]]);
    // 9 timestamps: validStart = T[floor(9 * 0.6)] = 6, testStart = T[floor(9 * 0.8)] = 8
    const sp = temporalSplit(t, { validFraction: 0.2, testFraction: 0.2 });
    assert.deepEqual(lists(sp.train), [[1, 2, 3, 4], [5], []]);
    assert.deepEqual(Array.from(sp.train.times), [1, 2, 3, 4, 5]);
    assert.deepEqual(examples(sp.valid), [[1, [5], 6], [1, [5, 6], 7]]);
    assert.deepEqual(examples(sp.test), [[2, [8], 9]]); // item 8 opens its sequence: no input, no example
    const capped = temporalSplit(t, { validFraction: 0.2, testFraction: 0.2, maxInputLength: 1 });
    assert.deepEqual(examples(capped.valid), [[1, [5], 6], [1, [6], 7]]);
  });
});

describe('negatives', () => {
  const ds = dataset([[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 1], [2, 30]]);
  it('draws distinct unseen items, the same for the same seed', () => {
    const a = sampleNegatives(ds, { count: 20, seed: 42, strategy: 'uniform' });
    assert.equal(a.count, 20);
    assert.equal(a.items.length, 60);
    for (let s = 0; s < 3; s++) {
      const own = new Set(ds.items.subarray(ds.offsets[s], ds.offsets[s + 1]));
      const neg = Array.from(a.items.subarray(s * 20, s * 20 + 20));
      assert.equal(new Set(neg).size, 20);
      for (const x of neg) assert.ok(x >= 1 && x <= 30 && !own.has(x), `${x} in sequence ${s}`);
    }
    assert.deepEqual(sampleNegatives(ds, { count: 20, seed: 42, strategy: 'uniform' }), a);
    assert.notDeepEqual(sampleNegatives(ds, { count: 20, seed: 43, strategy: 'uniform' }).items, a.items);
  });
  it('errors when a sequence has fewer unseen items than asked', () => {
    assert.throws(() => sampleNegatives(ds, { count: 23, seed: 1, strategy: 'uniform' }), (e: unknown) => e instanceof DataError && /'s1' has only 22 unseen items/.test(e.message));
  });
  it('favours popular training items, and fills from unpopular ones when it must', () => {
    const many = { ...dataset(Array.from({ length: 200 }, (_, s) => [1 + (s % 50), 51 + (s % 50)])), numItems: 120 };
    const popular = Int32Array.from({ length: 1000 }, (_, k) => (k < 900 ? 110 : 1 + (k % 50)));
    const neg = sampleNegatives(many, { count: 5, seed: 7, strategy: 'popularity', popularityFrom: popular });
    let hits = 0;
    for (let s = 0; s < 200; s++) if (neg.items.subarray(s * 5, s * 5 + 5).includes(110)) hits++;
    assert.equal(hits, 200); // weight 900 of 1000: drawn first in practically every list
    // only 2 items have training counts: the other 3 come uniformly from the rest, still distinct and unseen
    const two = sampleNegatives(many, { count: 5, seed: 7, strategy: 'popularity', popularityFrom: Int32Array.from([111, 112, 112]) });
    for (let s = 0; s < 200; s++) {
      const row = Array.from(two.items.subarray(s * 5, s * 5 + 5));
      assert.equal(new Set(row).size, 5);
      assert.ok(row.includes(111) && row.includes(112));
      for (const x of row) assert.ok(!many.items.subarray(many.offsets[s], many.offsets[s + 1]).includes(x));
    }
  });
});

describe('prepared-data cache', () => {
  const rows: LogRow[] = [];
  for (let u = 0; u < 40; u++) for (let k = 0; k < 8; k++) rows.push({ u: `u${u}`, i: `i${(u * 7 + k * 3) % 150}`, t: k * 10 + (u % 3), r: 1 + ((u + k) % 5) });
  const log = makeLog(rows, 'ratings.csv');
  const options: PrepareOptions = { ...base, minRating: 2, split: { kind: 'leave-one-out' }, negatives: { count: 10 }, seed: 42 };
  const now = (): Date => new Date('2024-01-01T00:00:00Z');

  function withDir(f: (dir: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), 'adarec-cache-'));
    try { f(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  }
  const counted = (sourceHash = 'h1') => {
    const input = { calls: 0, sourceHash, sourceDescription: 'ratings.csv', log: () => { input.calls++; return log; } };
    return input;
  };
  const sameData = (a: { dataset: SequenceDataset; split: DataSplit }, b: typeof a): void => {
    assert.deepEqual(Array.from(a.dataset.items), Array.from(b.dataset.items));
    assert.deepEqual(Array.from(a.dataset.times), Array.from(b.dataset.times));
    assert.deepEqual(a.dataset.itemKeys, b.dataset.itemKeys);
    assert.deepEqual(a.dataset.sequenceKeys, b.dataset.sequenceKeys);
    assert.deepEqual(examples(a.split.test), examples(b.split.test));
    assert.deepEqual(lists(a.split.train), lists(b.split.train));
    assert.deepEqual(Array.from(a.split.train.times), Array.from(b.split.train.times));
  };

  it('builds once, then loads the same data without reading the log', () => {
    withDir((dir) => {
      const input = counted();
      const first = prepareDataset(input, options, dir, { now });
      assert.equal(first.fromCache, false);
      const second = prepareDataset(input, options, dir, { now });
      assert.equal(second.fromCache, true);
      assert.equal(input.calls, 1);
      assert.equal(second.path, first.path);
      sameData(second.data, first.data);
      assert.deepEqual(Array.from(second.data.negatives!.items), Array.from(first.data.negatives!.items));
      assert.deepEqual(second.data.manifest, first.data.manifest);
      const m = first.data.manifest;
      assert.equal(m.counts.sequences, 40);
      assert.equal(m.counts.test, 40);
      assert.equal(m.counts.negativesPerSequence, 10);
      assert.equal(m.sourceHash, 'h1');
      assert.deepEqual(m.options.negatives, { count: 10, strategy: 'uniform' });
      assert.deepEqual(readdirSync(dir), [first.path.split('/').pop()]); // no temporary files left
    });
  });

  it('writes the same bytes for the same source, options and seed', () => {
    withDir((d1) => withDir((d2) => {
      const a = prepareDataset(counted(), options, d1, { now }), b = prepareDataset(counted(), options, d2, { now });
      assert.ok(readFileSync(a.path).equals(readFileSync(b.path)));
    }));
  });

  it('rebuilds when an option, the seed or the source changes', () => {
    withDir((dir) => {
      const first = prepareDataset(counted(), options, dir, { now });
      const variants: [string, PrepareOptions][] = [
        ['minRating', { ...options, minRating: 3 }], ['seed', { ...options, seed: 43 }],
        ['negatives', { ...options, negatives: { count: 10, strategy: 'popularity' } }],
        ['split', { ...options, split: { kind: 'reference-chunks', length: 5 } }],
        ['duplicates', { ...options, duplicates: 'keep-first' }],
      ];
      const paths = new Set([first.path]);
      for (const [what, o] of variants) {
        const r = prepareDataset(counted(), o, dir, { now });
        assert.equal(r.fromCache, false, what);
        paths.add(r.path);
      }
      const other = prepareDataset(counted('h2'), options, dir, { now });
      assert.equal(other.fromCache, false);
      paths.add(other.path);
      assert.equal(paths.size, 7);
      // defaults written out give the same key as defaults left implicit
      const explicit = prepareDataset(counted(), { ...options, negatives: { count: 10, strategy: 'uniform' } }, dir, { now });
      assert.equal(explicit.fromCache, true);
      assert.notEqual(readFileSync(other.path).length, 0);
    });
  });

  it('rebuilds a corrupt or truncated file with a warning', () => {
    withDir((dir) => {
      const first = prepareDataset(counted(), options, dir, { now });
      const bytes = readFileSync(first.path);
      const damaged = Buffer.from(bytes);
      damaged[damaged.length - 5] ^= 0xff;
      for (const [what, write] of [
        ['flipped byte', () => writeFileSync(first.path, damaged)],
        ['truncated', () => truncateSync(first.path, bytes.length - 100)],
        ['garbage', () => writeFileSync(first.path, 'not a cache')],
        ['empty', () => writeFileSync(first.path, '')],
      ] as const) {
        write();
        const warnings: string[] = [];
        const r = prepareDataset(counted(), options, dir, { now, warn: (m) => warnings.push(m) });
        assert.equal(r.fromCache, false, what);
        assert.equal(warnings.length, 1, what);
        assert.match(warnings[0], /rebuilding/);
        sameData(r.data, first.data);
        assert.ok(readFileSync(first.path).equals(bytes), what);
      }
      assert.equal(readdirSync(dir).length, 1);
    });
  });

  it('rebuilds, under the same key, a cache written before training times were stored', () => {
    withDir((dir) => {
      const first = prepareDataset(counted(), options, dir, { now });
      const { manifest, sections } = readCacheFile(first.path);
      const { ['train.times']: dropped, ...older } = sections;
      assert.ok(dropped instanceof Float64Array && dropped.length === first.data.split.train.items.length);
      writeCacheFile(first.path, manifest, older);
      const warnings: string[] = [];
      const r = prepareDataset(counted(), options, dir, { now, warn: (m) => warnings.push(m) });
      assert.equal(r.fromCache, false);
      assert.match(warnings[0], /lacks section 'train\.times'.*rebuilding/);
      assert.equal(r.data.manifest.key, first.data.manifest.key, 'the same data key: runs trained on the old file still match');
      sameData(r.data, first.data);
    });
  });

  it('hashes a file in chunks', () => {
    withDir((dir) => {
      const p = join(dir, 'big.bin');
      const content = Buffer.alloc(3 * (1 << 20) + 17, 7);
      content.write('adarec', 1 << 20);
      writeFileSync(p, content);
      assert.equal(hashFile(p), createHash('sha256').update(content).digest('hex'));
    });
  });
});

describe('stats', () => {
  it('counts, length distribution and top items', () => {
    const ds = dataset([[1, 2, 3, 1], [1, 2], [3, 1, 4, 5, 6, 7, 8, 9]]);
    const st = datasetStats(ds, 2);
    assert.equal(st.sequences, 3);
    assert.equal(st.items, 9);
    assert.equal(st.interactions, 14);
    assert.equal(st.density, 14 / 27);
    assert.deepEqual(st.length, { min: 2, median: 4, mean: 14 / 3, p90: 8, max: 8 });
    assert.deepEqual(st.histogram, [{ from: 1, to: 1, count: 0 }, { from: 2, to: 3, count: 1 }, { from: 4, to: 7, count: 1 }, { from: 8, to: 15, count: 1 }]);
    assert.deepEqual(st.topItems, [{ item: 1, key: 'k1', count: 4 }, { item: 2, key: 'k2', count: 2 }]);
    const text = formatStats(st);
    assert.match(text, /sequences +3/);
    assert.match(text, /interactions +14/);
    assert.match(text, /k1 +4/);
    assert.equal(st.tiedWithPrevious, 0);
    assert.match(text, /same time as previous +0 \(0\.0%\)/);
    assert.doesNotMatch(text, /--shuffle-ties/);
    // times 1, 1, 2 | 5, 5: the second and the fifth interaction repeat their predecessor's time
    const tied = formatStats(datasetStats(dataset([[1, 2, 3], [4, 5]], [[1, 1, 2], [5, 5]])));
    assert.match(tied, /same time as previous +2 \(40\.0%\)/);
    assert.match(tied, /--shuffle-ties/);
  });
});
