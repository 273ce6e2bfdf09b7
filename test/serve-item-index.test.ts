// The large-catalog top-k (src/serve/item-index.ts) against brute force: every item scored exactly
// (float64 sum in c order + bias, rounded to float32: the index's definition of the exact score,
// written out again here), then fully sorted. Ids and scores must be identical on random,
// trained-like, clustered and adversarial catalogs (many ties, one huge-norm item, all scores
// negative, no bias), with and without exclusions, k up to 100, on both backends; and the
// Recommender must answer through it what it answers without it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, nativeAvailable, noGrad, setBackend, tensor, tidy, type BackendName } from '../src/engine/index.js';
import { nativeInfo, setNativeThreads } from '../src/engine/backend/native.js';
import { engineThreads } from '../src/engine/backend/threads.js';
import { padBatch } from '../src/eval/scorer.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { fastHidden } from '../src/serve/fast-score.js';
import { ItemIndex } from '../src/serve/item-index.js';
import { Recommender, type ModelInfo } from '../src/serve/recommender.js';
import type { TrainConfig } from '../src/train/config.js';

interface Catalog { weight: Float32Array; bias: Float32Array | null; C: number; V: number }

/** weight [C, V] from per-item vectors (item 0 = padding, random like the rest). */
function catalog(C: number, V: number, vector: (i: number) => ArrayLike<number>, bias: ((i: number) => number) | null): Catalog {
  const weight = new Float32Array(C * V);
  for (let i = 0; i < V; i++) { const v = vector(i); for (let c = 0; c < C; c++) weight[c * V + i] = v[c]; }
  return { weight, bias: bias ? Float32Array.from({ length: V }, (_, i) => bias(i)) : null, C, V };
}

function catalogs(C: number, V: number, seed: number): Record<string, Catalog> {
  const rng = new Rng(seed);
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
  const vec = (std: number): Float32Array => Float32Array.from({ length: C }, () => std * rng.normal());
  const random = (): Float32Array => Float32Array.from({ length: C }, () => uniform(-0.125, 0.125));
  const centers = Array.from({ length: 12 }, () => vec(1));
  const distinct = Array.from({ length: 7 }, () => Float32Array.from({ length: C }, () => Math.round(4 * rng.normal()) / 4));
  const popularity = Float32Array.from({ length: V }, () => Math.exp(1.2 * rng.normal()));
  const huge = 1 + rng.int(V - 1);
  return {
    random: catalog(C, V, random, () => uniform(-0.125, 0.125)),
    'trained-like': catalog(C, V, (i) => vec(0.1 * popularity[i]), (i) => 0.3 * Math.log(popularity[i]) + 0.05 * rng.normal()),
    clustered: catalog(C, V, (i) => centers[i % 12].map((x) => x + 0.01 * rng.normal()), () => 0.001 * rng.normal()),
    'many ties': catalog(C, V, (i) => distinct[i % 7], (i) => [0, 0.5][i % 2]),
    'one huge-norm item': catalog(C, V, (i) => (i === huge ? vec(1e4) : random()), () => uniform(-0.125, 0.125)),
    'all negative': catalog(C, V, random, () => -100 - uniform(0, 1)),
    'no bias': catalog(C, V, () => vec(0.3), null),
  };
}

/** Brute force: the exact score of every item, then a full sort (score desc, id asc), excluded items, padding and NaN left out. */
function bruteForce(cat: Catalog, h: Float32Array, k: number, exclude?: ReadonlySet<number>): { ids: number[]; scores: number[] } {
  const { weight, bias, C, V } = cat;
  const score = new Float64Array(V);
  for (let i = 1; i < V; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += h[c] * weight[c * V + i];
    score[i] = Math.fround(s + (bias ? bias[i] : 0));
  }
  const ids: number[] = [];
  for (let i = 1; i < V; i++) if (!exclude?.has(i) && !Number.isNaN(score[i])) ids.push(i);
  ids.sort((a, b) => score[b] - score[a] || a - b);
  const top = ids.slice(0, k);
  return { ids: top, scores: top.map((i) => score[i]) };
}

function queries(cat: Catalog, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed), { C, V, weight } = cat;
  const item = 1 + rng.int(V - 1);
  return {
    random: Float32Array.from({ length: C }, () => rng.normal()),
    'an item, scaled': Float32Array.from({ length: C }, (_, c) => 3 * weight[c * V + item]),
    zero: new Float32Array(C),
    'one large value': Float32Array.from({ length: C }, (_, c) => (c === 1 ? 1e3 : 0.01 * rng.normal())),
  };
}

const backends: BackendName[] = nativeAvailable() ? ['js', 'native'] : ['js'];

describe('ItemIndex', () => {
  for (const backend of backends) {
    it(`top-k equals brute force: ids and scores, every catalog, k 1/10/100, with and without exclusions (${backend})`, () => {
      setBackend(backend);
      try {
        for (const [C, V] of [[16, 3001], [64, 2000]] as const) {
          for (const [name, cat] of Object.entries(catalogs(C, V, C + V))) {
            const index = ItemIndex.build(cat.weight, cat.bias, C, V, { blockRows: 32 });
            assert.ok(index, name);
            for (const [qname, h] of Object.entries(queries(cat, V))) {
              for (const k of [1, 10, 100]) {
                const plain = bruteForce(cat, h, k);
                const exclude = new Set([0, V + 5, ...plain.ids.slice(0, 5), ...Array.from({ length: 20 }, (_, j) => 1 + ((j * 131) % (V - 1)))]);
                for (const ex of [undefined, exclude]) {
                  const want = ex ? bruteForce(cat, h, k, ex) : plain;
                  const got = index.topK(h, k, ex);
                  const what = `C ${C}, ${name}, query ${qname}, k ${k}${ex ? ', exclusions' : ''}`;
                  assert.deepEqual(Array.from(got.ids), want.ids, what);
                  assert.deepEqual(Array.from(got.scores), want.scores, what);
                }
              }
            }
          }
        }
      } finally {
        setBackend(nativeAvailable() ? 'native' : 'js');
      }
    });
  }

  it('keeps the items int8 hurts most: rounding errors aligned with the query, where the Cauchy-Schwarz bound is tight', () => {
    // scale 2^-7 for every item (dim 0 = 127 * 2^-7), query all ones: every 5th item sits at
    // 50.49 (in units of the scale) in the 15 other dims, rounds down to 50 and loses 7.35 units;
    // the others are exact at 50 plus 0..7 ones, so they lead it in int8 and trail it in truth
    const C = 16, V = 401, s = 2 ** -7, rng = new Rng(11);
    const cat = catalog(C, V, (i) => {
      const ones = rng.int(8);
      return Float32Array.from({ length: C }, (_, c) => (c === 0 ? 127 : i % 5 === 0 ? 50.49 : 50 + (c <= ones ? 1 : 0)) * s);
    }, null);
    const index = ItemIndex.build(cat.weight, cat.bias, C, V, { blockRows: 16 })!;
    const h = new Float32Array(C).fill(1);
    for (const k of [1, 5, 10, 30]) {
      const want = bruteForce(cat, h, k);
      assert.ok(want.ids.some((i) => i % 5 === 0), 'the test needs rounded-down items in the top-k');
      const got = index.topK(h, k);
      assert.deepEqual(Array.from(got.ids), want.ids, `k ${k}`);
      assert.deepEqual(Array.from(got.scores), want.scores, `k ${k}`);
    }
  });

  it('prunes: a random catalog scores a small fraction of its items exactly (default blocks)', () => {
    const C = 64, V = 40_001;
    const cat = catalogs(C, V, 5).random;
    const index = ItemIndex.build(cat.weight, cat.bias, C, V)!;
    for (const h of [queries(cat, 1).random, queries(cat, 2)['an item, scaled']]) {
      const got = index.topK(h, 10);
      assert.deepEqual(Array.from(got.ids), bruteForce(cat, h, 10).ids);
      assert.ok(index.lastCandidates >= 10 && index.lastCandidates < (V - 1) / 20, `${index.lastCandidates} candidates of ${V - 1}`);
    }
  });

  it('splits a large scan among threads (interleaved blocks, a shared floor): the same top k at 1 and 3 threads', { skip: !nativeAvailable() }, () => {
    const C = 64, V = 40_001; // 40,000 x 64 > the parallel threshold
    const regions = (): number => nativeInfo()?.parallelRegions ?? 0;
    try {
      for (const name of ['random', 'trained-like', 'many ties', 'all negative'] as const) {
        const cat = catalogs(C, V, 8)[name];
        const index = ItemIndex.build(cat.weight, cat.bias, C, V)!;
        for (const [qname, h] of Object.entries(queries(cat, 3))) {
          for (const k of [1, 10, 100]) {
            const want = bruteForce(cat, h, k);
            const exclude = new Set(want.ids.slice(0, 3));
            const wantEx = bruteForce(cat, h, k, exclude);
            for (const threads of [1, 3]) {
              setNativeThreads(threads);
              const before = regions();
              const what = `${name}, query ${qname}, k ${k}, ${threads} thread(s)`;
              const got = index.topK(h, k), gotEx = index.topK(h, k, exclude);
              assert.deepEqual(Array.from(got.ids), want.ids, what);
              assert.deepEqual(Array.from(got.scores), want.scores, what);
              assert.deepEqual(Array.from(gotEx.ids), wantEx.ids, `${what}, exclusions`);
              assert.deepEqual(Array.from(gotEx.scores), wantEx.scores, `${what}, exclusions`);
              if (threads === 3) assert.ok(regions() > before, `${what}: the scan forks`);
              else assert.equal(regions(), before, `${what}: one thread, no region`);
            }
          }
        }
      }
    } finally {
      setNativeThreads(engineThreads());
    }
  });

  it('returns every eligible item when k exceeds them, and nothing for k 0', () => {
    const cat = catalogs(8, 41, 3)['many ties'];
    const index = ItemIndex.build(cat.weight, cat.bias, 8, 41, { blockRows: 16 })!;
    const h = Float32Array.from({ length: 8 }, (_, c) => c - 3);
    const exclude = new Set(Array.from({ length: 30 }, (_, i) => i + 1));
    assert.deepEqual(Array.from(index.topK(h, 100, exclude).ids), bruteForce(cat, h, 100, exclude).ids);
    assert.equal(index.topK(h, 100, exclude).ids.length, 10);
    assert.equal(index.topK(h, 0).ids.length, 0);
  });

  it('is not built for hidden sizes it cannot hold or weights that are not finite', () => {
    const cat = catalogs(8, 50, 4).random;
    assert.equal(ItemIndex.build(new Float32Array(6 * 50), null, 6, 50), null);
    const bad = cat.weight.slice();
    bad[77] = Number.NaN;
    assert.equal(ItemIndex.build(bad, cat.bias, 8, 50), null);
    assert.ok(ItemIndex.build(cat.weight, cat.bias, 8, 50));
  });
});

describe('Recommender over an ItemIndex', () => {
  it('recommends what it recommends without the index (scores within float32 rounding of the full forward)', () => {
    const V = 3001, T = 20;
    const columns = ['none', 'none', 'none', 'causal_conv_3', 'none', 'none'].map((n) => DEFAULT_OPS.findIndex((o) => o.name === n));
    const model = new AdaRecNet({ vocabSize: V, maxLength: T, hidden: 16, cells: 2, nodes: 3, operators: DEFAULT_OPS,
      genotype: [columns, columns], dropout: 0.1 }, new Rng(9)).eval();
    const keys = Array.from({ length: V - 1 }, (_, i) => `item${i + 1}`);
    const info: ModelInfo = { kind: 'adarec', checkpoint: '', version: '', items: V - 1, parameters: 0, maxLength: T, loadedAt: '' };
    const config = { maxLength: T } as TrainConfig;
    const brute = new Recommender(model, config, keys, info, { itemIndexFrom: Infinity });
    const indexed = new Recommender(model, config, keys, info, { itemIndexFrom: 1000 });
    assert.equal(brute.itemIndex, null);
    assert.ok(indexed.itemIndex);
    const rng = new Rng(2);
    const requests = Array.from({ length: 12 }, (_, j) => ({
      history: Array.from({ length: 1 + rng.int(30) }, () => keys[rng.int(V - 1)]), k: [1, 10, 100][j % 3], excludeSeen: j % 2 === 0,
    }));
    const want = brute.recommendBatch(requests), got = indexed.recommendBatch(requests);
    for (let j = 0; j < requests.length; j++) {
      assert.deepEqual(got[j].items.map((r) => r.item), want[j].items.map((r) => r.item), `request ${j}`);
      got[j].items.forEach((r, n) => assert.ok(Math.abs(r.score - want[j].items[n].score) <= 1e-5 * Math.max(1, Math.abs(r.score)), `request ${j}`));
      // the index's scores are its exact scores of the hidden state the serving path computes
      const ids = brute.encode(requests[j].history).ids;
      const h = noGrad(() => tidy(() => Float32Array.from(fastHidden(model)(tensor(padBatch([ids], T), [1, T], 'int32')).values)));
      got[j].items.forEach((r) => assert.equal(r.score, indexed.itemIndex!.score(h, keys.indexOf(r.item) + 1)));
    }
    assert.deepEqual(got.map((r) => r.items.map((x) => x.item)), requests.map((r) => indexed.recommend(r).items.map((x) => x.item)));
  });
});
