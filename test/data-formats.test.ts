// The log readers: every published layout on small samples written in that exact layout, the real
// MovieLens 100K file from ../shared/data, bad input (file, line and field named), leniency, and
// format detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/data/errors.js';
import { throwsData } from './data-helpers.js';
import { compileFormat, formatByName, parseIsoSeconds, type LogFormat } from '../src/data/formats.js';
import { detectFormat, parseNumberBytes, readLog } from '../src/data/read-log.js';
import type { InteractionLog } from '../src/data/types.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ML100K = resolve(repoRoot, '..', 'shared', 'data', 'ml-100k', 'u.data');

const dir = mkdtempSync(join(tmpdir(), 'adarec-formats-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
/** Writes a sample file (text or bytes) under the temp folder and returns its path. */
function sample(name: string, content: string | Buffer): string {
  const sub = join(dir, String(counter++));
  const path = join(sub, name);
  mkdirSync(sub, { recursive: true });
  writeFileSync(path, content);
  return path;
}

/** Rows as [user key, item key, time, rating?, session?] for easy comparison. */
function rows(log: InteractionLog): (string | number | null)[][] {
  const out: (string | number | null)[][] = [];
  for (let r = 0; r < log.user.length; r++) {
    const row: (string | number | null)[] = [log.userKeys[log.user[r]], log.itemKeys[log.item[r]], log.time[r]];
    if (log.rating) row.push(log.rating[r]);
    if (log.session && log.sessionKeys) row.push(log.sessionKeys[log.session[r]]);
    out.push(row);
  }
  return out;
}

// ---- real data ----

test('MovieLens 100K u.data from ../shared/data: 100,000 rows, 943 users, 1,682 items', { skip: !existsSync(ML100K) && `${ML100K} is absent` }, () => {
  assert.deepEqual(detectFormat(ML100K), { kind: 'movielens-100k' });
  let progress = 0, total = 0;
  const log = readLog(ML100K, { kind: 'movielens-100k' }, { onProgress: (b, t) => { progress = b; total = t; } });
  assert.equal(log.user.length, 100_000);
  assert.equal(log.userKeys.length, 943);
  assert.equal(log.itemKeys.length, 1682);
  assert.equal(progress, 1_979_173);
  assert.equal(total, 1_979_173);
  assert.deepEqual(rows(log)[0], ['196', '242', 881250949, 3]);
  assert.deepEqual(rows(log)[99_999], ['12', '203', 879959583, 3]);
  assert.equal(log.line[0], 1);
  assert.equal(log.line[99_999], 100_000);
  assert.equal(log.session, null);
  assert.deepEqual(log.skipped, {});
  let min = Infinity, max = -Infinity;
  for (const r of log.rating!) { min = Math.min(min, r); max = Math.max(max, r); }
  assert.deepEqual([min, max], [1, 5]);
  // records split across small chunks give the same columns
  const small = readLog(ML100K, { kind: 'movielens-100k' }, { chunkSize: 4093 });
  assert.deepEqual(small.user, log.user);
  assert.deepEqual(small.item, log.item);
  assert.deepEqual(small.time, log.time);
  assert.deepEqual(small.rating, log.rating);
  assert.deepEqual(small.userKeys, log.userKeys);
});

// ---- every published layout ----

test('MovieLens 1M/10M ratings.dat (:: separated, no header)', () => {
  const p = sample('ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n');
  assert.deepEqual(detectFormat(p), { kind: 'movielens-dat' });
  const log = readLog(p, { kind: 'movielens-dat' });
  assert.deepEqual(rows(log), [['1', '1193', 978300760, 5], ['1', '661', 978302109, 3], ['2', '1193', 978298413, 4]]);
  assert.deepEqual(Array.from(log.user), [0, 0, 1]);
  assert.deepEqual(Array.from(log.item), [0, 1, 0]);
  assert.deepEqual(Array.from(log.line), [1, 2, 3]);
});

test('MovieLens ratings.csv with a BOM, CRLF line ends and blank trailing lines', () => {
  const p = sample('ratings.csv', '\uFEFFuserId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,3,3.5,964981247\r\n2,1,0.5,1445714835\r\n\r\n\r\n');
  assert.deepEqual(detectFormat(p), { kind: 'movielens-csv' });
  const log = readLog(p, { kind: 'movielens-csv' });
  assert.deepEqual(rows(log), [['1', '1', 964982703, 4], ['1', '3', 964981247, 3.5], ['2', '1', 1445714835, 0.5]]);
  assert.deepEqual(Array.from(log.line), [2, 3, 4]);
});

test('ratings.csv header variants: other column order and letter case, no final newline', () => {
  const p = sample('ratings.csv', 'Timestamp,MovieId,UserId,Rating\n964982703,10,7,4.5');
  const log = readLog(p, { kind: 'movielens-csv' });
  assert.deepEqual(rows(log), [['7', '10', 964982703, 4.5]]);
});

test('hetrec2011-movielens-2k user_ratedmovies-timestamps.dat (tab, header, milliseconds)', () => {
  const p = sample('user_ratedmovies-timestamps.dat',
    'userID\tmovieID\trating\ttimestamp\n75\t3\t1\t1162160236000\n75\t32\t4.5\t1162160624000\r\n78\t32\t3.5\t1162160624500\n');
  assert.deepEqual(detectFormat(p), { kind: 'movielens-hetrec' });
  const log = readLog(p, { kind: 'movielens-hetrec' });
  assert.deepEqual(rows(log), [['75', '3', 1162160236, 1], ['75', '32', 1162160624, 4.5], ['78', '32', 1162160624.5, 3.5]]);
});

const RETAIL = 'timestamp,visitorid,event,itemid,transactionid\n' +
  '1433221332117,257597,view,355908,\n' +
  '1433224214164,992329,view,248676,\n' +
  '1433221955914,257597,addtocart,355908,\n' +
  '1433222276276,257597,transaction,355908,4000\n';

test('RetailRocket events.csv: milliseconds, default event weights as rating, event filter', () => {
  const p = sample('events.csv', RETAIL);
  assert.deepEqual(detectFormat(p), { kind: 'retailrocket' });
  const log = readLog(p, { kind: 'retailrocket' });
  assert.deepEqual(rows(log), [
    ['257597', '355908', 1433221332.117, 1], ['992329', '248676', 1433224214.164, 1],
    ['257597', '355908', 1433221955.914, 2], ['257597', '355908', 1433222276.276, 3],
  ]);
  const filtered = readLog(p, { kind: 'retailrocket', eventWeights: { view: 1, addtocart: 5, transaction: 10 }, events: ['addtocart', 'transaction'] });
  assert.deepEqual(rows(filtered), [['257597', '355908', 1433221955.914, 5], ['257597', '355908', 1433222276.276, 10]]);
  assert.deepEqual(Array.from(filtered.line), [4, 5]);
  assert.deepEqual(filtered.skipped, {}, 'rows left out by the filter are not bad rows');
  throwsData(() => readLog(p, { kind: 'retailrocket', eventWeights: { view: 1 } }), p,
    'unknown event "addtocart" (weights are given for view)', 4, 'event');
  throwsData(() => readLog(p, { kind: 'retailrocket', eventWeights: { view: 1 }, events: ['view', 'click'] }), p,
    "bad format: event 'click' is kept but has no weight (weights: view)");
  const onlyViews = sample('events.csv', RETAIL.split('\n').filter((l) => !l.includes(',view,')).join('\n'));
  throwsData(() => readLog(onlyViews, { kind: 'retailrocket', events: ['view'] }), onlyViews,
    'no interactions (every row was left out by the event filter)');
});

test('30Music session export, with and without a header: session column filled', () => {
  const body = '10\t100\t5000\t1390000000\t77\n10\t100\t5001\t1390000100\t77\n10\t101\t5000\t1390500000\t78\n11\t200\t5002\t1390000200\t79\n';
  for (const [name, text] of [['30music_sessions.tsv', body], ['sessions.tsv', 'UserId\tSessionId\tItemId\tTime\tArtistId\n' + body]]) {
    const p = sample(name, text);
    assert.deepEqual(detectFormat(p), { kind: '30music' });
    const log = readLog(p, { kind: '30music' });
    assert.deepEqual(rows(log), [
      ['10', '5000', 1390000000, '100'], ['10', '5001', 1390000100, '100'], ['10', '5000', 1390500000, '101'], ['11', '5002', 1390000200, '200'],
    ]);
    assert.deepEqual(log.sessionKeys, ['100', '101', '200']);
    assert.deepEqual(Array.from(log.session!), [0, 0, 1, 2]);
    assert.equal(log.rating, null);
  }
});

// ---- generic files ----

test('generic CSV: RFC-4180 quoting (commas, doubled quotes, a line break inside quotes), ISO dates, names mapped', () => {
  const text = 'ts,who,what,stars\n' +
    '2020-01-01T00:00:00Z,"smith, j","the ""best"" one",5\n' +
    '"2020-01-01 00:00:01","jones","multi\nline",4\n' +
    '2020-01-01T01:00:02+01:00,"7",12,"3"\n';
  const p = sample('log.csv', text);
  const format: LogFormat = { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'who', item: 'what', time: 'ts', rating: 'stars' }, timeFormat: 'iso' };
  const log = readLog(p, format);
  assert.deepEqual(rows(log), [
    ['smith, j', 'the "best" one', 1577836800, 5],
    ['jones', 'multi\nline', 1577836801, 4],
    ['7', '12', 1577836802, 3],
  ]);
  assert.deepEqual(Array.from(log.line), [2, 3, 5], 'a line break inside quotes counts as a line');
  // every chunk size splits records, quotes and CRLFs somewhere else: same result
  const crlf = sample('log.csv', text.replace(/\n(?!line)/g, '\r\n'));
  for (let chunkSize = 1; chunkSize <= 40; chunkSize++) {
    assert.deepEqual(rows(readLog(p, format, { chunkSize })), rows(log), `chunk ${chunkSize}`);
    assert.deepEqual(rows(readLog(crlf, format, { chunkSize })), rows(log), `CRLF, chunk ${chunkSize}`);
  }
});

test('generic files: TSV without a header by index, multi-character delimiter, ms times, quote off', () => {
  const tsv = sample('x.tsv', 'a\t1\t1000\nb\t2\t2000.5\n');
  const log = readLog(tsv, { kind: 'delimited', delimiter: '\t', header: false, columns: { user: 0, item: 1, time: 2 } });
  assert.deepEqual(rows(log), [['a', '1', 1000], ['b', '2', 2000.5]]);
  assert.equal(log.rating, null);
  const multi = sample('x.txt', 'u1||i1||1700000000000||s1\nu2||i|2||1700000001000||s1\n');
  const f: LogFormat = { kind: 'delimited', delimiter: '||', header: false, columns: { user: 0, item: 1, time: 2, session: 3 }, timeUnit: 'ms' };
  for (const chunkSize of [1, 2, 3, 5, 7, 11, 4096]) {
    assert.deepEqual(rows(readLog(multi, f, { chunkSize })), [['u1', 'i1', 1700000000, 's1'], ['u2', 'i|2', 1700000001, 's1']]);
  }
  const quoted = sample('q.csv', 'u,i,t\n"x,1,5\n');
  assert.deepEqual(rows(readLog(quoted, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'u', item: 1, time: 't' }, quote: false })),
    [['"x', '1', 5]]);
});

test('JSON Lines: key mapping, numeric and string ids, ISO and millisecond times', () => {
  const p = sample('log.jsonl', '{"user_id": 1, "item": "a", "ts": 1700000000000, "r": 4}\n{"user_id": "1", "item": 2, "ts": "1700000001000", "r": "5"}\r\n\n');
  const log = readLog(p, { kind: 'jsonl', keys: { user: 'user_id', item: 'item', time: 'ts', rating: 'r' }, timeUnit: 'ms' });
  assert.deepEqual(rows(log), [['1', 'a', 1700000000, 4], ['1', '2', 1700000001, 5]]);
  assert.deepEqual(Array.from(log.user), [0, 0], 'the number 1 and the string "1" are one id');
  assert.deepEqual(detectFormat(p), { kind: 'jsonl', keys: { user: 'user_id', item: 'item', time: 'ts' }, timeFormat: 'number', timeUnit: 'ms' });
  const iso = sample('log.ndjson', '{"session":"s1","user":"u","item":"i","time":"2020-01-01T00:00:00Z"}\n');
  assert.deepEqual(detectFormat(iso), { kind: 'jsonl', keys: { user: 'user', item: 'item', time: 'time', session: 'session' }, timeFormat: 'iso', timeUnit: 's' });
  const log2 = readLog(iso, detectFormat(iso));
  assert.deepEqual(rows(log2), [['u', 'i', 1577836800, 's1']]);
});

test('ids: interned in order of first appearance, keys are the original text', () => {
  const p = sample('ids.csv', 'u,i,t\n007,1,1\n7,1,2\n"7",1,3\n12345678901234567890,1,4\n99999999,-3,5\n user x ,1,6\n');
  const log = readLog(p, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'u', item: 'i', time: 't' } });
  assert.deepEqual(log.userKeys, ['007', '7', '12345678901234567890', '99999999', 'user x']);
  assert.deepEqual(Array.from(log.user), [0, 1, 1, 2, 3, 4]);
  assert.deepEqual(log.itemKeys, ['1', '-3']);
});

test('numbers from bytes: integers, fractions, signs, exponents, blanks; junk is NaN', () => {
  const n = (s: string): number => { const b = Buffer.from(s); return parseNumberBytes(b, 0, b.length); };
  assert.equal(n('881250949'), 881250949);
  assert.equal(n(' 3.5 '), 3.5);
  assert.equal(n('-0.25'), -0.25);
  assert.equal(n('+4'), 4);
  assert.equal(n('1e3'), 1000);
  assert.equal(n('1.5E-2'), 0.015);
  assert.equal(n('.5'), 0.5);
  assert.equal(n('5.'), 5);
  assert.equal(n('1433221332117'), 1433221332117);
  assert.equal(n('0.1234567890123456789'), 0.1234567890123456789);
  for (const bad of ['', ' ', 'abc', '1a', '1.2.3', '-', '.', 'NaN', 'Infinity', '1e', '0x10']) assert.ok(Number.isNaN(n(bad)), bad);
});

test('ISO-8601 times: zones, a date alone, no zone taken as UTC, fractions; junk is NaN', () => {
  assert.equal(parseIsoSeconds('2020-01-01'), 1577836800);
  assert.equal(parseIsoSeconds('2020-01-01T00:00:00Z'), 1577836800);
  assert.equal(parseIsoSeconds('2020-01-01 00:00:00'), 1577836800);
  assert.equal(parseIsoSeconds('2020-01-01T02:00:00+02:00'), 1577836800);
  assert.equal(parseIsoSeconds('2020-01-01T02:00:00+0200'), 1577836800);
  assert.equal(parseIsoSeconds('2020-01-01T00:00:00.250Z'), 1577836800.25);
  for (const bad of ['', '1', '2020', '2020-13-01', 'yesterday', '01/02/2020']) assert.ok(Number.isNaN(parseIsoSeconds(bad)), bad);
});

// ---- bad input ----

test('bad input: empty file, header lacking columns, no rows after the header', () => {
  for (const content of ['', '\n\n  \r\n', '\uFEFF']) {
    const p = sample('u.data', content);
    throwsData(() => readLog(p, { kind: 'movielens-100k' }), p, 'empty file');
    throwsData(() => detectFormat(p), p, 'empty file');
  }
  const noRating = sample('ratings.csv', 'userId,movieId,timestamp\n1,2,3\n');
  throwsData(() => readLog(noRating, { kind: 'movielens-csv' }), noRating,
    "the header lacks column 'rating' (found: 'userId', 'movieId', 'timestamp')", 1, 'rating');
  const twoMissing = sample('events.csv', 'timestamp,visitorid,itemid\n1,2,3\n');
  throwsData(() => readLog(twoMissing, { kind: 'retailrocket' }), twoMissing,
    "the header lacks columns 'event', 'transactionid' (found: 'timestamp', 'visitorid', 'itemid')", 1, 'event, transactionid');
  const generic = sample('g.csv', 'a,b,c\n1,2,3\n');
  throwsData(() => readLog(generic, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'a', item: 'item_id', time: 'c' } }), generic,
    "the header lacks column 'item_id' (found: 'a', 'b', 'c')", 1, 'item_id');
  const headerOnly = sample('ratings.csv', 'userId,movieId,rating,timestamp\r\n\r\n');
  throwsData(() => readLog(headerOnly, { kind: 'movielens-csv' }), headerOnly, 'no interactions (the file has a header but no rows)');
});

test('bad input: wrong column count names the missing or first extra column', () => {
  const p = sample('u.data', '1\t2\t3\t4\n1\t2\t3\t4\n5\t6\t7\n');
  throwsData(() => readLog(p, { kind: 'movielens-100k' }), p, 'expected 4 columns, found 3', 3, 'timestamp');
  const extra = sample('ratings.csv', 'userId,movieId,rating,timestamp\n1,2,3,4\n1,2,3,4,5\n');
  throwsData(() => readLog(extra, { kind: 'movielens-csv' }), extra, 'expected 4 columns, found 5', 3, 'column 5');
  const short = sample('ratings.csv', 'userId,movieId,rating,timestamp\n1,2\n');
  throwsData(() => readLog(short, { kind: 'movielens-csv' }), short, 'expected 4 columns, found 2', 2, 'rating');
  const dat = sample('ratings.dat', '1::2::3::4\n1:2::3::4\n');
  throwsData(() => readLog(dat, { kind: 'movielens-dat' }), dat, 'expected 4 columns, found 3', 2, 'Timestamp');
  const byIndex = sample('x.tsv', 'a\tb\n');
  throwsData(() => readLog(byIndex, { kind: 'delimited', delimiter: '\t', header: false, columns: { user: 0, item: 1, time: 2 } }), byIndex,
    'found 2 columns but the mapping uses index 2', 1, 'column 3');
});

test('bad input: non-numeric timestamp or rating, empty ids, bad quoting', () => {
  const time = sample('u.data', '1\t2\t3\t881250949\n1\t2\t3\t88125x949\n');
  throwsData(() => readLog(time, { kind: 'movielens-100k' }), time, '"88125x949" is not a number', 2, 'timestamp');
  const rating = sample('ratings.csv', 'userId,movieId,rating,timestamp\n1,2,four,5\n');
  throwsData(() => readLog(rating, { kind: 'movielens-csv' }), rating, '"four" is not a number', 2, 'rating');
  const header = sample('u.data', 'user-id\titem-id\trating\ttimestamp\n1\t2\t3\t4\n');
  throwsData(() => readLog(header, { kind: 'movielens-100k' }), header, '"timestamp" is not a number (this format has no header line)', 1, 'timestamp');
  const emptyUser = sample('ratings.dat', '1::2::3::4\n::2::3::4\n');
  throwsData(() => readLog(emptyUser, { kind: 'movielens-dat' }), emptyUser, 'empty user id', 2, 'UserID');
  const emptyItem = sample('ratings.csv', 'userId,movieId,rating,timestamp\n1,"",3,4\n');
  throwsData(() => readLog(emptyItem, { kind: 'movielens-csv' }), emptyItem, 'empty item id', 2, 'movieId');
  const iso = sample('g.csv', 'u,i,t\na,b,2020-01-01\na,b,01/02/2020\n');
  throwsData(() => readLog(iso, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'u', item: 'i', time: 't' }, timeFormat: 'iso' }),
    iso, '"01/02/2020" is not an ISO-8601 date', 3, 't');
  const unclosed = sample('g.csv', 'u,i,t\na,b,1\n"a,b,2\nc,d,3\n');
  throwsData(() => readLog(unclosed, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'u', item: 'i', time: 't' } }),
    unclosed, 'a quoted field is not closed', 3, 'u');
  const after = sample('g.csv', 'u,i,t\n"a"x,b,1\n');
  throwsData(() => readLog(after, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'u', item: 'i', time: 't' } }),
    after, 'unexpected text after a closing quote', 2, 'u');
});

test('bad input: malformed JSON lines and missing keys', () => {
  const keys = { user: 'u', item: 'i', time: 't' };
  const p = sample('x.jsonl', '{"u":1,"i":2,"t":3}\n{"u":1,"i":2,"t":\n');
  throwsData(() => readLog(p, { kind: 'jsonl', keys }), p, /^malformed JSON \(.+\)$/, 2);
  const arr = sample('x.jsonl', '[1,2,3]\n');
  throwsData(() => readLog(arr, { kind: 'jsonl', keys }), arr, 'expected a JSON object on the line', 1);
  const missing = sample('x.jsonl', '{"u":1,"i":2,"t":3}\n{"u":1,"t":3}\n');
  throwsData(() => readLog(missing, { kind: 'jsonl', keys }), missing, "no 'i' (the item id)", 2, 'i');
  const badTime = sample('x.jsonl', '{"u":1,"i":2,"t":"soon"}\n');
  throwsData(() => readLog(badTime, { kind: 'jsonl', keys }), badTime, '"soon" is not a number', 1, 't');
  const emptyId = sample('x.jsonl', '{"u":" ","i":2,"t":1}\n');
  throwsData(() => readLog(emptyId, { kind: 'jsonl', keys }), emptyId, 'empty user id', 1, 'u');
});

test('bad input: unknown format and bad format objects', () => {
  const p = sample('mystery.txt', 'hello world\nsomething else\n');
  throwsData(() => detectFormat(p), p, /^cannot tell the format \(first line: "hello world"\); known formats: movielens-100k, .*column mapping: user, item, time/, 1);
  const missing = join(dir, 'nope.csv');
  throwsData(() => readLog(missing, { kind: 'movielens-csv' }), missing, 'no such file');
  throwsData(() => readLog(p, { kind: 'excel' } as unknown as LogFormat), p, /^bad format: unknown kind 'excel'; known formats: /);
  throwsData(() => readLog(p, { kind: 'delimited', delimiter: ',', header: false, columns: { user: 'u', item: 1, time: 2 } }), p,
    "bad format: columns.user is given by name ('u') but the file has no header; give a 0-based index");
  throwsData(() => compileFormat({ kind: 'delimited', delimiter: '', header: true, columns: { user: 0, item: 1, time: 2 } }, 'f'), 'f',
    'bad format: delimiter must be a non-empty string');
  throwsData(() => formatByName('movielens-5m'), 'movielens-5m', /^unknown format name; known: movielens-100k, movielens-1m/);
  assert.deepEqual(formatByName('movielens-25m'), { kind: 'movielens-csv' });
  assert.deepEqual(formatByName('ml-1m'), { kind: 'movielens-dat' });
});

test('lenient: bad rows are skipped and counted by reason, good rows keep their line numbers', () => {
  const p = sample('ratings.csv', [
    'userId,movieId,rating,timestamp',
    '1,10,4,100',      // 2 ok
    '1,11,4',          // 3 wrong column count
    '2,12,x,101',      // 4 bad rating
    '2,13,5,10l',      // 5 bad time
    ',14,5,102',       // 6 empty user
    '3,15,1,103',      // 7 ok
    '3,"16,3,104',     // 8 unclosed quote runs to the end of the file
    '4,17,2,105',
  ].join('\n'));
  const log = readLog(p, { kind: 'movielens-csv' }, { lenient: true });
  assert.deepEqual(rows(log), [['1', '10', 100, 4], ['3', '15', 103, 1]]);
  assert.deepEqual(Array.from(log.line), [2, 7]);
  assert.deepEqual(log.skipped, {
    'wrong column count': 1, 'bad rating (rating)': 1, 'bad time (timestamp)': 1, 'empty id (userId)': 1, 'malformed quoting': 1,
  });
  assert.throws(() => readLog(p, { kind: 'movielens-csv' }), /ratings\.csv:3 \(field 'timestamp'\): expected 4 columns, found 3/);
  const allBad = sample('u.data', 'a\tb\n1\t2\t3\n');
  throwsData(() => readLog(allBad, { kind: 'movielens-100k' }, { lenient: true }), allBad, 'no interactions (all rows skipped: 2 wrong column count)');
  const json = sample('x.jsonl', '{"u":1,"i":2,"t":3}\nnot json\n{"u":1,"t":3}\n{"u":2,"i":2,"t":4}\n');
  const jl = readLog(json, { kind: 'jsonl', keys: { user: 'u', item: 'i', time: 't' } }, { lenient: true });
  assert.deepEqual(rows(jl), [['1', '2', 3], ['2', '2', 4]]);
  assert.deepEqual(Array.from(jl.line), [1, 4]);
  assert.deepEqual(jl.skipped, { 'malformed JSON line': 1, 'missing key (i)': 1 });
});

test('detectFormat: generic headers by usual names, time format guessed from the first row', () => {
  const csv = sample('clicks.csv', 'session_id,user_id,item_id,timestamp,score\ns1,u1,i1,1700000000,1\n');
  assert.deepEqual(detectFormat(csv), {
    kind: 'delimited', delimiter: ',', header: true,
    columns: { user: 'user_id', item: 'item_id', time: 'timestamp', rating: 'score', session: 'session_id' }, timeFormat: 'number', timeUnit: 's',
  });
  const tsv = sample('plays.tsv', 'user\titem\tdate\nu1\ti1\t2021-05-01T10:00:00Z\n');
  assert.deepEqual(detectFormat(tsv), { kind: 'delimited', delimiter: '\t', header: true, columns: { user: 'user', item: 'item', time: 'date' }, timeFormat: 'iso', timeUnit: 's' });
  assert.deepEqual(rows(readLog(tsv, detectFormat(tsv))), [['u1', 'i1', 1619863200]]);
  // the MovieLens ratings.csv header with tabs and millisecond times is the hetrec layout
  const hetrec = sample('ratings.tsv', 'userID\tmovieID\trating\ttimestamp\n1\t2\t3\t1162160236000\n');
  assert.deepEqual(detectFormat(hetrec), { kind: 'movielens-hetrec' });
  const ml100kSplit = sample('u1.base', '1\t1\t5\t874965758\n');
  assert.deepEqual(detectFormat(ml100kSplit), { kind: 'movielens-100k' });
  const headerless = sample('x.csv', '1,2,3\n');
  throwsData(() => detectFormat(headerless), headerless, /^cannot tell the format/, 1);
});
