// `adarec data ...` end to end, including the pinned ml-100k counts (rating >= 3, 5-core).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const ML100K = fileURLToPath(new URL('../../../shared/data/ml-100k/u.data', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adarec-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function adarec(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--cache-dir', dir], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const count = (out: string, label: string): number => Number(out.match(new RegExp(`^\\s*${label}\\s+([\\d,]+)`, 'm'))![1].replace(/,/g, ''));

describe('adarec data', () => {
  it('pins the ml-100k counts at rating >= 3 and 5-core, then serves them from the cache', { skip: !existsSync(ML100K) && 'shared/data/ml-100k is not beside the repository' }, () => {
    const first = adarec('data', 'stats', ML100K, '--min-rating', '3', '--k-core', '5');
    assert.equal(first.code, 0, first.err);
    assert.equal(count(first.out, 'sequences'), 943);
    assert.equal(count(first.out, 'items'), 1203);
    assert.equal(count(first.out, 'interactions'), 81697);
    assert.match(first.err, /^prepared data in/m);
    const second = adarec('data', 'stats', ML100K, '--min-rating', '3', '--k-core', '5');
    assert.match(second.err, /^loaded prepared data in/m);
    assert.equal(second.out, first.out);
    const other = adarec('data', 'prepare', ML100K, '--min-rating', '4', '--k-core', '5');
    assert.match(other.err, /^prepared data in/m, 'a changed option is not served from the old cache');
  });

  it('prepares the synthetic default', () => {
    const r = adarec('data', 'prepare', 'synthetic:users=200,items=300,seed=2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /sequences 200, items \d+, interactions \d+; train 200 sequences/);
  });

  it('reports bad input in one line naming file, line and field, without a stack trace', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'user,item,rating,timestamp\nu1,i1,5,100\nu1,i2,5,yesterday\n');
    const r = adarec('data', 'stats', bad);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /bad\.csv:3 \(field 'timestamp'\)/);
    assert.doesNotMatch(r.err, /\n\s+at /);
    const unknown = adarec('data', 'stats', join(dir, 'missing.tsv'));
    assert.match(unknown.err, /no such file, and not a known data set/);
    const opt = adarec('data', 'stats', 'synthetic', '--k-core', 'many');
    assert.match(opt.err, /expected a positive integer, got 'many'/);
  });
});
