// shuffleTiedItems: each epoch's fresh order for training items that share a timestamp.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/engine/index.js';
import { shuffleTiedItems, tiedItemCount } from '../src/data/tie-shuffle.js';

// two sequences; runs of equal time: [1 2 3] at t=5, [4] at 6, [5 6] at 7 | [7 8] at 7 (a new sequence: a new run), [9] at 8
const train = {
  items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]),
  times: Float64Array.from([5, 5, 5, 6, 7, 7, 7, 7, 8]),
  offsets: Int32Array.from([0, 6, 9]),
};
const runs = (items: Int32Array): number[][] => [[...items.subarray(0, 3)], [...items.subarray(3, 4)], [...items.subarray(4, 6)], [...items.subarray(6, 8)], [...items.subarray(8)]];

it('permutes items only within runs of equal time inside one sequence', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 200; seed++) {
    const out = shuffleTiedItems(train, new Rng(seed));
    const r = runs(out);
    assert.deepEqual(r.map((x) => [...x].sort()), [[1, 2, 3], [4], [5, 6], [7, 8], [9]], `seed ${seed}: ${[...out]}`);
    seen.add(r[0].join(''));
  }
  assert.equal(seen.size, 6, 'every order of a three-item run occurs');
  assert.deepEqual([...train.items], [1, 2, 3, 4, 5, 6, 7, 8, 9], 'the input is not modified');
});

it('is deterministic for a seed and leaves untied data as it is', () => {
  assert.deepEqual(shuffleTiedItems(train, new Rng(3)), shuffleTiedItems(train, new Rng(3)));
  const distinct = { ...train, times: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]) };
  assert.deepEqual([...shuffleTiedItems(distinct, new Rng(3))], [...train.items]);
  assert.equal(tiedItemCount(distinct), 0);
  assert.equal(tiedItemCount(train), 4); // 2, 3, 6 and 8 share the time of the item before them
});
