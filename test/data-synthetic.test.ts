// The generator is deterministic and has sequential structure that popularity cannot exploit.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticLog, syntheticSequences, writeSyntheticCsv } from '../src/data/synthetic.js';

/** HR@10 on each sequence's last item, for a scorer given the prefix. */
function hitRate(seqs: Int32Array[], topFor: (prefix: Int32Array) => number[]): number {
  let hits = 0;
  for (const s of seqs) if (topFor(s.subarray(0, s.length - 1)).includes(s[s.length - 1])) hits++;
  return hits / seqs.length;
}

function top10(scores: Map<number, number> | Float64Array): number[] {
  const entries = scores instanceof Map ? [...scores] : [...scores].map((v, i) => [i, v] as [number, number]);
  return entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10).map(([i]) => i);
}

describe('synthetic generator', () => {
  it('is deterministic for a seed and different across seeds', () => {
    const a = syntheticSequences({ users: 50, seed: 4 }), b = syntheticSequences({ users: 50, seed: 4 });
    const c = syntheticSequences({ users: 50, seed: 5 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('respects its size arguments', () => {
    const seqs = syntheticSequences({ users: 200, items: 80, minLength: 5, maxLength: 9, topics: 4, seed: 2 });
    assert.equal(seqs.length, 200);
    for (const s of seqs) {
      assert.ok(s.length >= 5 && s.length <= 9);
      for (const i of s) assert.ok(i >= 1 && i <= 80);
    }
    assert.throws(() => syntheticSequences({ items: 3, topics: 5 }), /items \(3\) >= topics \(5\)/);
  });

  it('lets a first-order sequential model beat popularity by a wide margin', () => {
    const seqs = syntheticSequences({ users: 2000, items: 300, seed: 9 });
    const pop = new Float64Array(301), trans = new Map<number, Map<number, number>>();
    for (const s of seqs) {
      for (let i = 0; i < s.length - 1; i++) {
        pop[s[i]]++;
        if (i > 0) {
          const m = trans.get(s[i - 1]) ?? new Map<number, number>();
          m.set(s[i], (m.get(s[i]) ?? 0) + 1);
          trans.set(s[i - 1], m);
        }
      }
    }
    const popTop = top10(pop);
    const hrPop = hitRate(seqs, () => popTop);
    const hrSeq = hitRate(seqs, (p) => {
      const next = trans.get(p[p.length - 1]);
      return next ? top10(next) : popTop;
    });
    assert.ok(hrSeq > 2 * hrPop, `sequential HR@10 ${hrSeq.toFixed(3)} vs popularity ${hrPop.toFixed(3)}`);
  });

  it('has long-tailed popularity', () => {
    const counts = new Map<number, number>();
    for (const s of syntheticSequences({ users: 2000, items: 500, seed: 3 })) for (const i of s) counts.set(i, (counts.get(i) ?? 0) + 1);
    const sorted = [...counts.values()].sort((a, b) => b - a), total = sorted.reduce((a, b) => a + b, 0);
    const top10pct = sorted.slice(0, 50).reduce((a, b) => a + b, 0);
    assert.ok(top10pct / total > 0.3, `top 10% of items get ${(100 * top10pct / total).toFixed(1)}% of interactions`);
  });

  it('writes the same interactions as a CSV log and as an InteractionLog', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adarec-syn-'));
    try {
      const o = { users: 30, items: 40, topics: 4, seed: 7 };
      const rows = writeSyntheticCsv(join(dir, 'log.csv'), o);
      const lines = readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n');
      assert.equal(lines[0], 'user,item,rating,timestamp');
      assert.equal(lines.length - 1, rows);
      const log = syntheticLog(o);
      assert.equal(log.user.length, rows);
      lines.slice(1).forEach((line, r) => {
        const [u, i, , t] = line.split(',');
        assert.equal(u, log.userKeys[log.user[r]]);
        assert.equal(i, log.itemKeys[log.item[r]]);
        assert.equal(Number(t), log.time[r]);
        if (r > 0 && log.user[r] === log.user[r - 1]) assert.ok(log.time[r] > log.time[r - 1]);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
