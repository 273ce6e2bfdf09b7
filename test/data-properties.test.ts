// Property-based checks of the data pipeline on random small logs (fast-check): preprocessing agrees
// with a naive oracle, k-core output is a k-core, splits never train on a held-out target, negatives
// are distinct unseen items, and the same seed gives the same bytes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataError } from '../src/data/errors.js';
import { preprocess, type PreprocessOptions } from '../src/data/preprocess.js';
import { leaveOneOut, referenceChunks, temporalCutoffs, temporalSplit } from '../src/data/split.js';
import { sampleNegatives } from '../src/data/negatives.js';
import { encodeCache } from '../src/data/cache.js';
import { buildPrepared, type PrepareOptions } from '../src/data/prepare.js';
import type { EvalExamples, InteractionLog, SequenceDataset } from '../src/data/types.js';
import { makeLog as makeLogFromKeys } from './data-helpers.js';

type Row = { u: number; i: number; t: number; r: number; s: number };

/** Numeric test rows as a log with keys 'u<n>', 'i<n>', 's<n>' (every row rated and in a session). */
function makeLog(rows: Row[]): InteractionLog {
  return makeLogFromKeys(rows.map((r) => ({ u: `u${r.u}`, i: `i${r.i}`, t: r.t, r: r.r, s: `s${r.s}` })), 'random.csv');
}

/** The rules of preprocess.ts written the slow, obvious way: sequence key -> item keys, in output order. */
function oracle(log: InteractionLog, o: PreprocessOptions): { seqs: [string, string[]][]; itemKeys: string[] } {
  const seqCol = o.bySession ? log.session! : log.user, seqKeys = o.bySession ? log.sessionKeys! : log.userKeys;
  const groups = new Map<number, { item: number; t: number }[]>();
  for (let r = 0; r < log.user.length; r++) {
    if (o.minRating !== undefined && !(log.rating![r] >= o.minRating)) continue;
    const g = groups.get(seqCol[r]) ?? [];
    g.push({ item: log.item[r], t: log.time[r] });
    groups.set(seqCol[r], g);
  }
  let seqs = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([s, g]) => [s, g.sort((a, b) => a.t - b.t).map((x) => x.item)] as [number, number[]]);
  const collapse = (): void => { seqs = seqs.map(([s, g]) => [s, g.filter((x, k) => k === 0 || g[k - 1] !== x)]); };
  if (o.duplicates === 'keep-first') seqs = seqs.map(([s, g]) => [s, g.filter((x, k) => g.indexOf(x) === k)]);
  if (o.duplicates === 'collapse-consecutive') collapse();
  const minItem = o.kCore?.items ?? 0, minSeq = Math.max(o.kCore?.users ?? 0, o.minSequenceLength ?? 0);
  for (;;) {
    const before = seqs.flatMap(([, g]) => g).length;
    const count = new Map<number, number>();
    for (const [, g] of seqs) for (const x of g) count.set(x, (count.get(x) ?? 0) + 1);
    seqs = seqs.filter(([, g]) => g.length >= minSeq).map(([s, g]) => [s, g.filter((x) => count.get(x)! >= minItem)]);
    seqs = seqs.filter(([, g]) => g.length > 0);
    if (seqs.flatMap(([, g]) => g).length === before) break;
    if (o.duplicates === 'collapse-consecutive') collapse();
  }
  const used = [...new Set(seqs.flatMap(([, g]) => g))].sort((a, b) => a - b);
  return { seqs: seqs.map(([s, g]) => [seqKeys[s], g.map((x) => log.itemKeys[x])]), itemKeys: used.map((x) => log.itemKeys[x]) };
}

const rowArb = fc.record({
  u: fc.integer({ min: 0, max: 5 }), i: fc.integer({ min: 0, max: 9 }), t: fc.integer({ min: 0, max: 8 }),
  r: fc.integer({ min: 1, max: 5 }), s: fc.integer({ min: 0, max: 7 }),
});
const logArb = fc.array(rowArb, { minLength: 1, maxLength: 60 }).map(makeLog);
const optionsArb: fc.Arbitrary<PreprocessOptions> = fc.record({
  minRating: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  kCore: fc.option(fc.record({ users: fc.integer({ min: 0, max: 4 }), items: fc.integer({ min: 0, max: 4 }) }), { nil: undefined }),
  duplicates: fc.constantFrom('keep-all' as const, 'keep-first' as const, 'collapse-consecutive' as const),
  bySession: fc.boolean(),
  minSequenceLength: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
});

/** Random data sets built directly: sequences of item ids with nondecreasing times. */
const datasetArb: fc.Arbitrary<SequenceDataset> = fc
  .array(fc.array(fc.record({ item: fc.integer({ min: 1, max: 25 }), dt: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 14 }), { minLength: 1, maxLength: 12 })
  .map((seqs) => {
    const items: number[] = [], times: number[] = [], offsets = [0];
    for (const seq of seqs) {
      let t = 0;
      for (const x of seq) { items.push(x.item); times.push((t += x.dt)); }
      offsets.push(items.length);
    }
    return {
      numItems: 25, items: Int32Array.from(items), times: Float64Array.from(times), offsets: Int32Array.from(offsets),
      itemKeys: Array.from({ length: 25 }, (_, k) => `k${k + 1}`), sequenceKeys: seqs.map((_, s) => `s${s}`),
    };
  });

const seqOf = (ds: SequenceDataset, s: number): number[] => Array.from(ds.items.subarray(ds.offsets[s], ds.offsets[s + 1]));
const part = (a: Int32Array, offsets: Int32Array, k: number): number[] => Array.from(a.subarray(offsets[k], offsets[k + 1]));
const exampleList = (e: EvalExamples) => Array.from(e.targets, (target, k) => ({ s: e.sequence[k], input: part(e.inputs, e.offsets, k), target }));
const isPrefix = (p: number[], of: number[]): boolean => p.length <= of.length && p.every((x, k) => of[k] === x);
const RUNS = { numRuns: 150 };

describe('preprocess (properties)', () => {
  it('agrees with a naive implementation of its rules, or says that nothing is left', () => {
    fc.assert(fc.property(logArb, optionsArb, (log, o) => {
      const want = oracle(log, o);
      if (want.seqs.length === 0) {
        assert.throws(() => preprocess(log, o), DataError);
        return;
      }
      const ds = preprocess(log, o);
      assert.deepEqual(ds.sequenceKeys.map((k, s) => [k, seqOf(ds, s).map((i) => ds.itemKeys[i - 1])]), want.seqs);
      assert.deepEqual(ds.itemKeys, want.itemKeys);
      assert.equal(ds.numItems, ds.itemKeys.length);
    }), { numRuns: 300 });
  });

  it('keeps every sequence chronological and returns a k-core', () => {
    fc.assert(fc.property(logArb, optionsArb, (log, o) => {
      let ds: SequenceDataset;
      try { ds = preprocess(log, o); } catch (e) { if (e instanceof DataError) return; throw e; }
      const S = ds.offsets.length - 1, minSeq = Math.max(o.kCore?.users ?? 0, o.minSequenceLength ?? 0);
      const count = new Int32Array(ds.numItems + 1);
      for (let s = 0; s < S; s++) {
        assert.ok(ds.offsets[s + 1] - ds.offsets[s] >= Math.max(1, minSeq));
        for (let j = ds.offsets[s] + 1; j < ds.offsets[s + 1]; j++) assert.ok(ds.times[j] >= ds.times[j - 1]);
      }
      for (const x of ds.items) { assert.ok(x >= 1 && x <= ds.numItems); count[x]++; }
      for (let x = 1; x <= ds.numItems; x++) assert.ok(count[x] >= Math.max(1, o.kCore?.items ?? 0), `item ${x} has ${count[x]}`);
    }), RUNS);
  });
});

describe('splits (properties)', () => {
  it('leave-one-out trains on a strict prefix that excludes both held-out items', () => {
    fc.assert(fc.property(datasetArb, (ds) => {
      const sp = leaveOneOut(ds);
      const valid = exampleList(sp.valid), test = exampleList(sp.test);
      let e = 0;
      for (let s = 0; s + 1 < ds.offsets.length; s++) {
        const seq = seqOf(ds, s), train = part(sp.train.items, sp.train.offsets, s);
        assert.ok(isPrefix(train, seq));
        if (seq.length < 3) { assert.equal(train.length, seq.length); continue; }
        assert.equal(train.length, seq.length - 2);
        assert.deepEqual(valid[e], { s, input: train, target: seq[seq.length - 2] });
        assert.deepEqual(test[e], { s, input: seq.slice(0, -1), target: seq[seq.length - 1] });
        e++;
      }
      assert.equal(valid.length, e);
      assert.equal(test.length, e);
    }), RUNS);
  });

  it('reference chunks tile each sequence from its end and train only before both targets', () => {
    fc.assert(fc.property(datasetArb, fc.integer({ min: 4, max: 7 }), (ds, L) => {
      const sp = referenceChunks(ds, L);
      const valid = exampleList(sp.valid), test = exampleList(sp.test);
      let k = 0;
      for (let s = 0; s + 1 < ds.offsets.length; s++) {
        const seq = seqOf(ds, s), n = seq.length;
        const windows = Math.floor(n / L) + (n % L >= 4 ? 1 : 0);
        for (let w = windows - 1; w >= 0; w--, k++) { // oldest kept window first
          const end = n - w * L, start = Math.max(0, end - L);
          const window = seq.slice(start, end), train = part(sp.train.items, sp.train.offsets, k);
          assert.deepEqual(train, window.slice(0, -2));
          assert.deepEqual(valid[k], { s, input: train, target: window[window.length - 2] });
          assert.deepEqual(test[k], { s, input: train, target: window[window.length - 1] });
        }
      }
      assert.equal(sp.train.offsets.length - 1, k);
      assert.equal(test.length, k);
    }), RUNS);
  });

  it('temporal split trains only before the first cut-off and evaluates every later interaction', () => {
    const fractions = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([v, t]) => [v / 10, t / 10] as const);
    fc.assert(fc.property(datasetArb, fractions, (ds, [v, t]) => {
      const sp = temporalSplit(ds, { validFraction: v, testFraction: t });
      const { validStart, testStart } = temporalCutoffs(ds.times, v, t);
      const valid = exampleList(sp.valid), test = exampleList(sp.test);
      let vi = 0, ti = 0;
      for (let s = 0; s + 1 < ds.offsets.length; s++) {
        const seq = seqOf(ds, s), times = Array.from(ds.times.subarray(ds.offsets[s], ds.offsets[s + 1]));
        const train = part(sp.train.items, sp.train.offsets, s);
        assert.ok(isPrefix(train, seq));
        assert.ok(times.slice(0, train.length).every((x) => x < validStart));
        assert.ok(times.slice(train.length).every((x) => x >= validStart));
        for (let p = Math.max(1, train.length); p < seq.length; p++) {
          const ex = times[p] >= testStart ? test[ti++] : valid[vi++];
          assert.deepEqual(ex, { s, input: seq.slice(0, p), target: seq[p] });
        }
      }
      assert.equal(vi, valid.length);
      assert.equal(ti, test.length);
    }), RUNS);
  });
});

describe('negatives and bytes (properties)', () => {
  it('are distinct items outside the sequence, and the same bytes for the same seed', () => {
    const strategy = fc.constantFrom('uniform' as const, 'popularity' as const);
    fc.assert(fc.property(datasetArb, fc.integer({ min: 1, max: 10 }), strategy, fc.integer(), fc.boolean(), (ds, count, kind, seed, fromTrain) => {
      const o = { count, seed, strategy: kind, popularityFrom: fromTrain ? leaveOneOut(ds).train.items : undefined };
      const neg = sampleNegatives(ds, o);
      assert.equal(neg.items.length, count * (ds.offsets.length - 1));
      for (let s = 0; s + 1 < ds.offsets.length; s++) {
        const own = new Set(seqOf(ds, s)), row = Array.from(neg.items.subarray(s * count, (s + 1) * count));
        assert.equal(new Set(row).size, count);
        for (const x of row) assert.ok(x >= 1 && x <= ds.numItems && !own.has(x));
      }
      const again = sampleNegatives(ds, o);
      assert.ok(Buffer.from(again.items.buffer).equals(Buffer.from(neg.items.buffer)));
    }), RUNS);
  });

  it('prepares identical bytes twice from the same log, options and seed', () => {
    const splitArb = fc.constantFrom<PrepareOptions['split']>({ kind: 'leave-one-out' }, { kind: 'reference-chunks', length: 4 }, { kind: 'temporal', validFraction: 0.2, testFraction: 0.2 });
    fc.assert(fc.property(logArb, optionsArb, splitArb, fc.integer(), (log, pre, split, seed) => {
      const o: PrepareOptions = { ...pre, split, negatives: { count: 1, strategy: 'popularity' }, seed };
      const bytes = (): Buffer | string => {
        try {
          const b = buildPrepared(log, o);
          return Buffer.concat(encodeCache({ fixed: true }, {
            items: b.dataset.items, times: b.dataset.times, offsets: b.dataset.offsets, keys: { json: [b.dataset.itemKeys, b.dataset.sequenceKeys] },
            train: b.split.train.items, trainOffsets: b.split.train.offsets, test: b.split.test.inputs, testTargets: b.split.test.targets,
            valid: b.split.valid.inputs, validTargets: b.split.valid.targets, negatives: b.negatives!.items,
          }));
        } catch (e) {
          if (e instanceof DataError) return e.message;
          throw e;
        }
      };
      const a = bytes(), b = bytes();
      assert.ok(typeof a === 'string' ? a === b : Buffer.isBuffer(b) && a.equals(b));
    }), { numRuns: 100 });
  });
});
