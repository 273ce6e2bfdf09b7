// bench/export-split.ts writes the prepared split in its documented layout, and bench/torch_sasrec.py
// (the PyTorch SASRec of docs/RESULTS.md "ML-1M, SASRec's protocol") reads exactly those arrays,
// trains an epoch on a tiny split, writes its result, and resumes a killed run to the same numbers.
// The PyTorch parts need /usr/bin/python3 with torch (or ADAREC_PYTHON) and are skipped, with the
// reason, where it is missing (CI has no torch); the layout test needs nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPrepared, type PreparedData } from '../src/data/prepare.js';
import { syntheticLog } from '../src/data/synthetic.js';
import { encodeSplit, SPLIT_MAGIC, type SplitHeader } from '../bench/export-split.js';

const PYTHON = process.env.ADAREC_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../bench/torch_sasrec.py', import.meta.url));

function torchMissing(): string | false {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return false;
  const why = (r.stderr || r.error?.message || '').trim().split('\n').pop() || `exit status ${r.status}`;
  return `PyTorch is not available to ${PYTHON} (${why}); apt-get install python3-torch or set ADAREC_PYTHON`;
}

function tinyData(): PreparedData {
  const log = syntheticLog({ users: 40, items: 30, topics: 3, minLength: 5, maxLength: 15, seed: 3 });
  const built = buildPrepared(log, { duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: { count: 10 }, seed: 42 });
  const manifest = { key: 'f'.repeat(64), sourceDescription: 'synthetic', options: {} } as unknown as PreparedData['manifest'];
  return { manifest, ...built };
}

function sections(d: PreparedData): Record<string, Int32Array> {
  const out: Record<string, Int32Array> = { 'train.items': d.split.train.items, 'train.offsets': d.split.train.offsets };
  for (const part of ['valid', 'test'] as const)
    for (const f of ['sequence', 'inputs', 'offsets', 'targets'] as const) out[`${part}.${f}`] = d.split[part][f];
  out['negatives.items'] = d.negatives!.items;
  return out;
}

describe('bench/export-split', () => {
  it('writes the magic line, a JSON header padded to 4 bytes, then every section as little-endian int32', () => {
    const d = tinyData();
    const bytes = Buffer.concat(encodeSplit(d));
    assert.equal(bytes.subarray(0, SPLIT_MAGIC.length).toString('utf8'), SPLIT_MAGIC);
    const end = bytes.indexOf(0x0a, SPLIT_MAGIC.length);
    assert.equal((end + 1) % 4, 0);
    const header = JSON.parse(bytes.subarray(SPLIT_MAGIC.length, end).toString('utf8')) as SplitHeader;
    assert.equal(header.numItems, d.dataset.numItems);
    assert.equal(header.numSequences, d.dataset.offsets.length - 1);
    assert.equal(header.negativesPerSequence, 10);
    const expected = sections(d);
    assert.deepEqual(header.sections.map((s) => s.name).sort(), Object.keys(expected).sort());
    let pos = end + 1;
    for (const s of header.sections) {
      const got = Array.from({ length: s.length }, (_, i) => bytes.readInt32LE(pos + 4 * i));
      assert.deepEqual(got, [...expected[s.name]], s.name);
      pos += 4 * s.length;
    }
    assert.equal(pos, bytes.length);
  });
});

describe('bench/torch_sasrec.py', { skip: torchMissing() }, () => {
  const SMALL = ['--hidden', '8', '--maxlen', '10', '--batch', '16', '--eval-batch', '16'];
  const run = (args: string[]): string => {
    const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    assert.equal(r.status, 0, `${SCRIPT} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };

  it('reads the exported arrays, trains an epoch, writes its result and resumes to the same numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'adarec-torch-sasrec-'));
    try {
      const d = tinyData();
      const split = join(dir, 'tiny.split');
      writeFileSync(split, Buffer.concat(encodeSplit(d)));

      // python sees the same arrays
      const py = spawnSync(PYTHON, ['-c', 'import sys, json; sys.path.insert(0, sys.argv[1]); import torch_sasrec as t\n' +
        'h, a = t.read_split(sys.argv[2]); print(json.dumps({k: [int(x) for x in v] for k, v in a.items()}))',
      join(SCRIPT, '..'), split], { encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      const arrays = JSON.parse(py.stdout) as Record<string, number[]>;
      for (const [name, a] of Object.entries(sections(d))) assert.deepEqual(arrays[name], [...a], name);

      // one epoch
      run(['--split', split, '--out', join(dir, 'one'), '--epochs', '1', ...SMALL]);
      const one = JSON.parse(readFileSync(join(dir, 'one', 'result.json'), 'utf8'));
      assert.equal(one.bestEpoch, 1);
      for (const protocol of ['sampled', 'full']) {
        const m = one.test[protocol];
        assert.ok(m['hr@10'] >= 0 && m['hr@10'] <= 1 && m['ndcg@10'] <= m['hr@10'], `${protocol}: ${JSON.stringify(m)}`);
      }
      assert.equal(readFileSync(join(dir, 'one', 'train.jsonl'), 'utf8').trim().split('\n').length, 1);

      // a second epoch by resuming equals two epochs in one go
      run(['--split', split, '--out', join(dir, 'one'), '--epochs', '2', '--resume', ...SMALL]);
      run(['--split', split, '--out', join(dir, 'two'), '--epochs', '2', ...SMALL]);
      const resumed = JSON.parse(readFileSync(join(dir, 'one', 'result.json'), 'utf8'));
      const straight = JSON.parse(readFileSync(join(dir, 'two', 'result.json'), 'utf8'));
      assert.equal(resumed.epochsRun, 2);
      assert.deepEqual([resumed.valid, resumed.test], [straight.valid, straight.test]);
      const loss = (p: string): number[] => readFileSync(p, 'utf8').trim().split('\n').map((l) => JSON.parse(l).loss);
      assert.deepEqual(loss(join(dir, 'one', 'train.jsonl')), loss(join(dir, 'two', 'train.jsonl')));

      // an existing run is not overwritten without --resume
      const again = spawnSync(PYTHON, [SCRIPT, '--split', split, '--out', join(dir, 'two'), ...SMALL], { encoding: 'utf8' });
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /--resume/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
