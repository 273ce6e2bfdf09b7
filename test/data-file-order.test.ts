// Logs without times, whose order is the file's: interaction pairs (SASRec, BERT4Rec, gSASRec),
// one user per line (S3Rec, CL4SRec, ICLRec, DuoRec), RecBole atomic files with and without a
// timestamp, and generic CSV/JSONL without a time column. Their detection next to the published
// layouts, their bad input, what the manifest and `data stats` say about their order, and the
// field's real files from ../shared/data.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCacheFile, writeCacheFile } from '../src/data/cache.js';
import { DataError } from '../src/data/errors.js';
import { throwsData } from './data-helpers.js';
import { formatByName, type LogFormat } from '../src/data/formats.js';
import { loadPrepared, prepareDataset, type PrepareOptions } from '../src/data/prepare.js';
import { detectFormat, readLog } from '../src/data/read-log.js';
import { openSource } from '../src/data/source.js';
import { datasetStats, formatStats } from '../src/data/stats.js';
import { tiedItemCount } from '../src/data/tie-shuffle.js';
import type { InteractionLog } from '../src/data/types.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const ML1M = join(SHARED, 'ml-1m-sasrec', 'ml-1m.txt');
const BEAUTY = join(SHARED, 'beauty-s3rec', 'Beauty.txt');

const dir = mkdtempSync(join(tmpdir(), 'adarec-file-order-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function sample(name: string, content: string): string {
  const sub = join(dir, String(counter++));
  mkdirSync(sub, { recursive: true });
  const path = join(sub, name);
  writeFileSync(path, content);
  return path;
}

/** Rows as [user key, item key, time, rating?]. */
function rows(log: InteractionLog): (string | number)[][] {
  return Array.from(log.user, (u, r) => {
    const row: (string | number)[] = [log.userKeys[u], log.itemKeys[log.item[r]], log.time[r]];
    if (log.rating) row.push(log.rating[r]);
    return row;
  });
}

const OPTIONS: PrepareOptions = { duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: null, seed: 1 };

describe('interaction pairs in file order', () => {
  it('reads `user item` lines separated by runs of blanks; time is the row position', () => {
    const p = sample('ml-1m.txt', '1 10\n1\t11\r\n2   10 \n\n  1 12\n2 13\n');
    assert.deepEqual(detectFormat(p), { kind: 'pairs' });
    const log = readLog(p, { kind: 'pairs' });
    assert.deepEqual(rows(log), [['1', '10', 0], ['1', '11', 1], ['2', '10', 2], ['1', '12', 3], ['2', '13', 4]]);
    assert.deepEqual(Array.from(log.line), [1, 2, 3, 5, 6]);
    assert.equal(log.order, 'file');
    assert.equal(log.rating, null);
    for (let chunkSize = 1; chunkSize <= 24; chunkSize++) assert.deepEqual(rows(readLog(p, { kind: 'pairs' }, { chunkSize })), rows(log), `chunk ${chunkSize}`);
  });

  it('takes any delimiter; detection finds comma, semicolon and bar pairs of integers', () => {
    const p = sample('pairs.csv', '5,7\n5,8\n6,7\n');
    assert.deepEqual(detectFormat(p), { kind: 'pairs', delimiter: ',' });
    assert.deepEqual(rows(readLog(p, detectFormat(p))), [['5', '7', 0], ['5', '8', 1], ['6', '7', 2]]);
    assert.deepEqual(detectFormat(sample('x.txt', '5;7\n6;8\n')), { kind: 'pairs', delimiter: ';' });
    assert.deepEqual(rows(readLog(sample('x.txt', 'a||b\nc||d\n'), { kind: 'pairs', delimiter: '||' })), [['a', 'b', 0], ['c', 'd', 1]]);
  });

  it('bad input names file, line and field', () => {
    const three = sample('x.txt', '1 2\n1 2 3\n');
    throwsData(() => readLog(three, { kind: 'pairs' }), three, 'expected 2 columns, found 3', 2, 'column 3');
    const one = sample('x.txt', '1 2\n3\n');
    throwsData(() => readLog(one, { kind: 'pairs' }), one, 'expected 2 columns, found 1', 2, 'item');
    const empty = sample('x.csv', '1,2\n,3\n');
    throwsData(() => readLog(empty, { kind: 'pairs', delimiter: ',' }), empty, 'empty user id', 2, 'user');
    const log = readLog(three, { kind: 'pairs' }, { lenient: true });
    assert.deepEqual(log.skipped, { 'wrong column count': 1 });
    throwsData(() => readLog(three, { kind: 'pairs', delimiter: '' }), three, 'bad format: delimiter must be a non-empty string');
  });
});

describe('one user per line', () => {
  it('reads `user item item ...`; each item is one row in line order, times are positions', () => {
    const p = sample('Beauty.txt', '1 1 2 3\n2 4 2\n\n3 1 5 6 7\r\n');
    assert.deepEqual(detectFormat(p), { kind: 'user-per-line' });
    const log = readLog(p, { kind: 'user-per-line' });
    assert.deepEqual(rows(log), [
      ['1', '1', 0], ['1', '2', 1], ['1', '3', 2], ['2', '4', 3], ['2', '2', 4], ['3', '1', 5], ['3', '5', 6], ['3', '6', 7], ['3', '7', 8],
    ]);
    assert.deepEqual(Array.from(log.line), [1, 1, 1, 2, 2, 4, 4, 4, 4]);
    assert.equal(log.order, 'file');
  });

  it('reads lines of any length (beyond the tokenizer\'s first capacity) across chunk boundaries', () => {
    const long = Array.from({ length: 700 }, (_, k) => 1000 + k);
    const p = sample('long.txt', `7 ${long.join(' ')}\n8 1 2\n`);
    const want = [...long.map((x, k) => ['7', String(x), k]), ['8', '1', 700], ['8', '2', 701]];
    for (const chunkSize of [16, 1000, 4096, 1 << 20]) assert.deepEqual(rows(readLog(p, { kind: 'user-per-line' }, { chunkSize })), want);
  });

  it('bad input: a user without items, an empty id; lenient skips the whole line', () => {
    const p = sample('x.txt', '1 2 3\n4\n5 6\n');
    throwsData(() => readLog(p, { kind: 'user-per-line' }), p, 'a user without items (expected: user item item ...)', 2, 'item 1');
    const lenient = readLog(p, { kind: 'user-per-line' }, { lenient: true });
    assert.deepEqual(rows(lenient), [['1', '2', 0], ['1', '3', 1], ['5', '6', 2]]);
    assert.deepEqual(lenient.skipped, { 'no items': 1 });
    const csv = sample('x.csv', '1,2,3\n4,5,,6\n7,8\n');
    throwsData(() => readLog(csv, { kind: 'user-per-line', delimiter: ',' }), csv, 'empty item id', 2, 'item 2');
    const skipped = readLog(csv, { kind: 'user-per-line', delimiter: ',' }, { lenient: true });
    assert.deepEqual(rows(skipped), [['1', '2', 0], ['1', '3', 1], ['7', '8', 2]], 'nothing of the bad line is kept');
    const blank = sample('x.txt', '\n \n');
    throwsData(() => readLog(blank, { kind: 'user-per-line' }), blank, 'empty file');
  });
});

describe('RecBole atomic files', () => {
  it('finds the fields by name in any order; timestamp and rating are read', () => {
    const p = sample('ml-100k.inter', 'timestamp:float\titem_id:token\trating:float\tuser_id:token\n881250949\t242\t3\t196\n881250950\t302\t5\t196\n891717742\t377\t1\t22\n881250951\t51\t4\t196\n');
    assert.deepEqual(detectFormat(p), { kind: 'recbole' });
    const log = readLog(p, { kind: 'recbole' });
    assert.deepEqual(rows(log), [['196', '242', 881250949, 3], ['196', '302', 881250950, 5], ['22', '377', 891717742, 1], ['196', '51', 881250951, 4]]);
    assert.equal(log.order, undefined);
    const prepared = prepareDataset({ log: () => log, sourceHash: 'recbole', sourceDescription: p }, { ...OPTIONS, minRating: 3 }, join(dir, 'cache-recbole'));
    assert.deepEqual(prepared.data.dataset.sequenceKeys, ['196'], 'the rating threshold applies to the rating field');
  });

  it('without a timestamp the order is the file\'s; a session_id stands for the user', () => {
    const p = sample('x.inter', 'user_id:token\titem_id:token\n1\ta\n2\tb\n1\tc\n');
    const log = readLog(p, detectFormat(p));
    assert.deepEqual(rows(log), [['1', 'a', 0], ['2', 'b', 1], ['1', 'c', 2]]);
    assert.equal(log.order, 'file');
    const sessions = sample('diginetica.inter', 'session_id:token\titem_id:token\ttimestamp:float\ns1\t9\t5\ns1\t8\t4\n');
    assert.deepEqual(rows(readLog(sessions, { kind: 'recbole' })), [['s1', '9', 5], ['s1', '8', 4]]);
  });

  it('bad input: untyped header, no item field, a bad timestamp', () => {
    const untyped = sample('x.inter', 'user_id:token\titem\tstamp\n1\t2\t3\n');
    throwsData(() => readLog(untyped, { kind: 'recbole' }), untyped,
      'a RecBole header names each field as name:type (token, token_seq, float, float_seq); found "item", "stamp"', 1, 'item');
    throwsData(() => detectFormat(untyped), untyped, /^cannot tell the format \(first line: "user_id:token\\titem\\tstamp"\): a \.inter name, but the first line is not a RecBole header/, 1);
    // an untyped header of known names is a plain TSV
    assert.deepEqual(detectFormat(sample('y.inter', 'user_id\titem_id\n1\t2\n')), { kind: 'delimited', delimiter: '\t', header: true, columns: { user: 'user_id', item: 'item_id' } });
    const noItem = sample('x.inter', 'user_id:token\trating:float\n1\t2\n');
    throwsData(() => readLog(noItem, { kind: 'recbole' }), noItem,
      "the RecBole header names no item (item_id:token) field (found: 'user_id:token', 'rating:float')", 1, 'item_id');
    const badTime = sample('x.inter', 'user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t2\tsoon\n');
    throwsData(() => readLog(badTime, { kind: 'recbole' }), badTime, '"soon" is not a number', 3, 'timestamp:float');
  });
});

describe('generic files without a time column', () => {
  it('CSV/TSV by a mapping without time, or detected when every column is a known one', () => {
    const p = sample('clicks.csv', 'user_id,item_id,rating\nu1,i1,5\nu2,i1,3\nu1,i2,4\n');
    const detected = detectFormat(p);
    assert.deepEqual(detected, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user_id', item: 'item_id', rating: 'rating' } });
    const log = readLog(p, detected);
    assert.deepEqual(rows(log), [['u1', 'i1', 0, 5], ['u2', 'i1', 1, 3], ['u1', 'i2', 2, 4]]);
    assert.equal(log.order, 'file');
    const tsv = sample('x.tsv', 'a\tb\nc\td\n');
    assert.deepEqual(rows(readLog(tsv, { kind: 'delimited', delimiter: '\t', header: false, columns: { user: 0, item: 1 } })), [['a', 'b', 0], ['c', 'd', 1]]);
    const unknown = sample('y.csv', 'user_id,item_id,when\nu1,i1,yesterday\n');
    throwsData(() => detectFormat(unknown), unknown,
      /^cannot tell the format \(first line: "user_id,item_id,when"\): the header names user and item columns but no time column .*--columns user=user_id,item=item_id,time=<column>/, 1);
  });

  it('JSON Lines without a time key', () => {
    const p = sample('x.jsonl', '{"user": "a", "item": 1}\n{"user": "b", "item": 2}\n{"user": "a", "item": 3}\n');
    const format = detectFormat(p);
    assert.deepEqual(format, { kind: 'jsonl', keys: { user: 'user', item: 'item' } });
    const log = readLog(p, format);
    assert.deepEqual(rows(log), [['a', '1', 0], ['b', '2', 1], ['a', '3', 2]]);
    assert.equal(log.order, 'file');
    const other = sample('y.jsonl', '{"user": "a", "item": 1, "when": 5}\n');
    throwsData(() => detectFormat(other), other, /^cannot tell the format \(first line: .*\): JSON Lines, but the first line does not name/, 1);
  });
});

describe('detection', () => {
  it('asks for --format when integer columns could be one user per line or a log with a time column', () => {
    for (const [name, text] of [['x.txt', '1 2 900\n1 3 901\n2 2 950\n'], ['ratings.tsv', '1\t2\t3\t881250949\n']]) {
      const p = sample(name, text);
      throwsData(() => detectFormat(p), p,
        /^cannot tell the format \(first line: .*\): every line holds \d numbers and there is no header: one user per line \(--format user-per-line\), or columns such as user item \.\.\. time \(e\.g\. --columns user=0,item=1,time=\d --no-header --delimiter ' '\); known formats: .*pairs, user-per-line, recbole/, 1);
    }
  });

  it('keeps telling the published layouts apart from the id lists', () => {
    assert.deepEqual(detectFormat(sample('u.data', '196\t242\t3\t881250949\n186\t302\t3\t891717742\n')), { kind: 'movielens-100k' });
    assert.deepEqual(detectFormat(sample('ratings.dat', '1::1193::5::978300760\n')), { kind: 'movielens-dat' });
    assert.deepEqual(detectFormat(sample('30music.tsv', '10\t100\t5000\t1390000000\t77\n')), { kind: '30music' });
    // names, not numbers: nothing to go by
    const words = sample('x.txt', 'hello world\n');
    throwsData(() => detectFormat(words), words, /^cannot tell the format \(first line: "hello world"\); known formats/, 1);
  });

  it('--format names and aliases', () => {
    assert.deepEqual(formatByName('pairs'), { kind: 'pairs' });
    assert.deepEqual(formatByName('SASRec'), { kind: 'pairs' });
    assert.deepEqual(formatByName('s3rec'), { kind: 'user-per-line' });
    assert.deepEqual(formatByName('recbole'), { kind: 'recbole' });
    const a = formatByName('pairs') as LogFormat & { delimiter?: string };
    a.delimiter = ',';
    assert.deepEqual(formatByName('pairs'), { kind: 'pairs' }, 'each call gives a fresh object');
  });
});

describe('order through the manifest and stats', () => {
  it('a file-order log: manifest order "file", no ties, stats say so and suggest no tie shuffling', () => {
    const p = sample('x.txt', '1 5 6 7 8\n2 5 6 7\n3 8 7 6 5 4\n');
    const cacheDir = join(dir, 'cache-order');
    const input = { log: () => readLog(p, { kind: 'user-per-line' }), sourceHash: 'file-order', sourceDescription: p };
    const built = prepareDataset(input, OPTIONS, cacheDir);
    assert.equal(built.data.manifest.order, 'file');
    assert.equal(tiedItemCount(built.data.split.train), 0);
    const text = formatStats(datasetStats(built.data.dataset, 5, built.data.manifest.order));
    assert.match(text, /^order: file order/m);
    assert.doesNotMatch(text, /same time as previous|--shuffle-ties/);
    const again = prepareDataset(input, OPTIONS, cacheDir);
    assert.equal(again.fromCache, true);
    assert.equal(again.data.manifest.order, 'file');
  });

  it('a cache written before the manifest had an order loads as time order', () => {
    const p = sample('u.data', '1\t10\t5\t100\n1\t11\t5\t100\n1\t12\t5\t101\n2\t10\t5\t7\n');
    const cacheDir = join(dir, 'cache-old');
    const input = { log: () => readLog(p, { kind: 'movielens-100k' }), sourceHash: 'old', sourceDescription: p };
    const { path } = prepareDataset(input, OPTIONS, cacheDir);
    const { manifest, sections } = readCacheFile(path);
    const { order, ...older } = manifest as Record<string, unknown>;
    assert.equal(order, 'time');
    writeCacheFile(path, older, sections);
    const warnings: string[] = [];
    const loaded = prepareDataset(input, OPTIONS, cacheDir, { warn: (m) => warnings.push(m) });
    assert.equal(loaded.fromCache, true);
    assert.deepEqual(warnings, []);
    assert.equal(loaded.data.manifest.order, 'time');
    assert.equal(loadPrepared(path).manifest.order, 'time');
    assert.match(formatStats(datasetStats(loaded.data.dataset, 5, loaded.data.manifest.order)), /same time as previous +1 \(25\.0%\)/);
  });

  it('the reading is part of the cache key: the same file read two ways gives two keys', async () => {
    const p = sample('x.txt', '1 2\n1 3\n2 2\n');
    const cacheDir = join(dir, 'cache-keys');
    const pairs = await openSource(p, { format: { kind: 'pairs' }, cacheDir });
    const detected = await openSource(p, { cacheDir });
    const columns = await openSource(p, { format: { kind: 'delimited', delimiter: ' ', header: false, columns: { user: 0, item: 1 } }, cacheDir });
    assert.equal(detected.sourceHash, pairs.sourceHash, 'detection gives the named format');
    assert.notEqual(columns.sourceHash, pairs.sourceHash);
  });

  it('a temporal split of a file-order log warns that it cuts by position', () => {
    const p = sample('x.txt', '1 5 6 7 8\n2 5 6 7\n3 8 7 6 5 4\n');
    const warnings: string[] = [];
    prepareDataset({ log: () => readLog(p, { kind: 'user-per-line' }), sourceHash: 'temporal', sourceDescription: p },
      { ...OPTIONS, split: { kind: 'temporal', validFraction: 0.2, testFraction: 0.2 } }, join(dir, 'cache-temporal'), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [`${p} has no times (its order is the file's): the temporal split cuts it by position in the file`]);
  });
});

describe('adarec data on files without times', () => {
  const cacheDir = join(dir, 'cli-cache');
  const adarec = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--cache-dir', cacheDir], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const count = (out: string, label: string): number => Number(out.match(new RegExp(`^\\s*${label}\\s+([\\d,]+)`, 'm'))![1].replace(/,/g, ''));

  it('--columns without time, --format with --delimiter, and the format names in --help', () => {
    const p = sample('x.txt', '1 5\n1 6\n1 7\n2 5\n2 6\n2 8\n');
    const r = adarec('data', 'stats', p, '--columns', 'user=0,item=1', '--no-header', '--delimiter', ' ', '--negatives', '0');
    assert.equal(r.code, 0, r.err);
    assert.equal(count(r.out, 'sequences'), 2);
    assert.match(r.out, /^order: file order/m);
    const csv = sample('x.csv', '1,5,6,7\n2,5,6\n');
    const s = adarec('data', 'stats', csv, '--format', 's3rec', '--delimiter', ',', '--negatives', '0');
    assert.equal(s.code, 0, s.err);
    assert.equal(count(s.out, 'interactions'), 5);
    const help = spawnSync(process.execPath, [CLI, 'data', '--help'], { encoding: 'utf8' }).stdout;
    for (const name of ['movielens-100k', 'retailrocket', 'pairs', 'user-per-line', 'recbole']) assert.match(help, new RegExp(`^  ${name} `, 'm'));
  });

  it('an ambiguous file is one line naming the choices, without a stack trace', () => {
    const p = sample('x.txt', '1 2 3\n4 5 6\n');
    const r = adarec('data', 'stats', p);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /cannot tell the format .*--format user-per-line.*--columns user=0,item=1,time=2/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  it('the SASRec MovieLens-1M file: 6,040 users, 3,416 items, 999,611 interactions in file order', { skip: !existsSync(ML1M) && `${ML1M} is absent` }, () => {
    assert.deepEqual(detectFormat(ML1M), { kind: 'pairs' });
    const r = adarec('data', 'stats', ML1M);
    assert.equal(r.code, 0, r.err);
    assert.equal(count(r.out, 'sequences'), 6040);
    assert.equal(count(r.out, 'items'), 3416);
    assert.equal(count(r.out, 'interactions'), 999_611);
    assert.match(r.out, /^order: file order/m);
    assert.doesNotMatch(r.out, /same time as previous|--shuffle-ties/);
  });

  it('the S3Rec Amazon Beauty file: 22,363 users, 12,101 items, 198,502 interactions in file order', { skip: !existsSync(BEAUTY) && `${BEAUTY} is absent` }, () => {
    assert.deepEqual(detectFormat(BEAUTY), { kind: 'user-per-line' });
    const r = adarec('data', 'stats', BEAUTY);
    assert.equal(r.code, 0, r.err);
    assert.equal(count(r.out, 'sequences'), 22_363);
    assert.equal(count(r.out, 'items'), 12_101);
    assert.equal(count(r.out, 'interactions'), 198_502);
    assert.match(r.out, /^order: file order/m);
    assert.doesNotMatch(r.out, /same time as previous|--shuffle-ties/);
  });
});
