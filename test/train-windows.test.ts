// Long training sequences are cut into overlapping windows so that every transition is trained once.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { trainingSequences } from '../src/train/trainer.js';

it('cuts training sequences into windows of maxLength + 1 that share one item', () => {
  const split = {
    train: { items: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), times: new Float64Array(10), offsets: Int32Array.from([0, 7, 9, 10]) },
    valid: { sequence: new Int32Array(), inputs: new Int32Array(), offsets: Int32Array.from([0]), targets: new Int32Array() },
    test: { sequence: new Int32Array(), inputs: new Int32Array(), offsets: Int32Array.from([0]), targets: new Int32Array() },
  };
  assert.deepEqual(trainingSequences(split, 3).map((w) => [...w]), [[4, 5, 6, 7], [1, 2, 3, 4], [8, 9]]);
  assert.deepEqual(trainingSequences(split, 50).map((w) => [...w]), [[1, 2, 3, 4, 5, 6, 7], [8, 9]]);
  // every transition of the first sequence appears exactly once
  const pairs = trainingSequences(split, 2).slice(0, -1).flatMap((w) => [...w].slice(1).map((x, i) => `${w[i]}>${x}`));
  assert.deepEqual(pairs.sort(), ['1>2', '2>3', '3>4', '4>5', '5>6', '6>7']);
});
