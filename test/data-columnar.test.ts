// Parquet and Arrow IPC logs: the files are written here with the libraries adarec reads them with
// (apache-arrow builds the table and writes Arrow IPC, parquet-wasm writes Parquet), each beside
// its CSV twin, and every reading must give the twin's InteractionLog (ids interned as the CSV's
// text, file order for ties and without times), prepare the same data set, and fail clearly.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Bool, DateDay, Dictionary, Float64, Int32, Int64, Table, TimestampMillisecond, TimestampSecond, Uint64, Utf8,
  tableToIPC, vectorFromArray, type DataType, type Vector,
} from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { detectFormat, readLog } from '../src/data/read-log.js';
import { buildPrepared, type PrepareOptions } from '../src/data/prepare.js';
import { COLUMNAR_READ, parquetRowCount } from '../src/data/formats/columnar.js';
import type { InteractionLog } from '../src/data/types.js';
import { syntheticLog } from '../src/data/synthetic.js';
import { throwsData } from './data-helpers.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adarec-columnar-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Columns = Record<string, Vector>;
const vec = (values: unknown[], type: DataType): Vector => vectorFromArray(values as never[], type as never) as Vector;

/** Writes the columns as Parquet (small row groups, snappy) and returns the path. */
function parquetFile(name: string, columns: Columns, rowGroup = 4, compression = Compression.SNAPPY): string {
  const path = join(dir, name);
  const props = new WriterPropertiesBuilder().setMaxRowGroupSize(rowGroup).setCompression(compression).build();
  writeFileSync(path, writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(columns), 'stream')), props));
  return path;
}

/** Writes the columns as an Arrow IPC file (or stream) and returns the path. */
function arrowFile(name: string, columns: Columns, kind: 'file' | 'stream' = 'file'): string {
  const path = join(dir, name);
  writeFileSync(path, tableToIPC(new Table(columns), kind));
  return path;
}

function csvFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The log without its source and lines (a CSV's lines count the header; a table's rows start at 1). */
function body(log: InteractionLog): Omit<InteractionLog, 'source' | 'line'> {
  const { source: _source, line: _line, ...rest } = log;
  return { ...rest, order: log.order ?? 'time' };
}

// rows with string ids, ties (u1's i2 and i3 share t=20: file order decides), a rating
const ROWS = [
  ['u1', 'i1', 10, 5], ['u2', 'i2', 15, 3], ['u1', 'i2', 20, 4], ['u1', 'i3', 20, 1], ['u3', 'i1', 5, 2],
  ['u2', 'i4', 15, 5], ['u2', 'i1', 30, 4], ['u3', 'i5', 7, 3], ['u1', 'i5', 40, 5], ['u3', 'i2', 9, 1],
] as const;
const CSV = 'user,item,timestamp,rating\n' + ROWS.map((r) => r.join(',')).join('\n') + '\n';
const cols = (pick: (r: (typeof ROWS)[number]) => unknown, type: DataType): Vector => vec(ROWS.map(pick), type);

describe('Parquet and Arrow IPC logs read as their CSV twin', () => {
  const csv = csvFile('twin.csv', CSV);
  const twin = readLog(csv, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item', time: 'timestamp', rating: 'rating' } });
  const mapping = { user: 'user', item: 'item', time: 'timestamp', rating: 'rating' };
  const stringCols = (): Columns => ({
    user: cols((r) => r[0], new Utf8()), item: cols((r) => r[1], new Utf8()),
    timestamp: cols((r) => BigInt(r[2]), new Int64()), rating: cols((r) => r[3], new Float64()),
  });

  it('string ids, int64 times, a rating: Parquet (several row groups and read steps), Arrow file and stream', () => {
    const pq = parquetFile('strings.parquet', stringCols());
    const log = readLog(pq, { kind: 'parquet', columns: mapping });
    assert.deepEqual(body(log), body(twin));
    assert.deepEqual([...log.line], ROWS.map((_, k) => k + 1), 'rows are numbered from 1, as messages name them');
    const saved = COLUMNAR_READ.rows;
    COLUMNAR_READ.rows = 3; // steps that end inside row groups
    try {
      assert.deepEqual(body(readLog(pq, { kind: 'parquet', columns: mapping })), body(twin));
    } finally {
      COLUMNAR_READ.rows = saved;
    }
    assert.equal(parquetRowCount(readFileBytes(pq)), ROWS.length);
    assert.deepEqual(body(readLog(arrowFile('strings.arrow', stringCols()), { kind: 'arrow', columns: mapping })), body(twin));
    assert.deepEqual(body(readLog(arrowFile('strings.arrows', stringCols(), 'stream'), { kind: 'arrow', columns: mapping })), body(twin));
  });

  it('detects the format by its magic bytes and the columns by their usual names', () => {
    const pq = parquetFile('detect.parquet.bin', stringCols());
    assert.deepEqual(detectFormat(pq), { kind: 'parquet' });
    assert.deepEqual(body(readLog(pq, detectFormat(pq))), body(twin));
    const ar = arrowFile('detect.feather', stringCols());
    assert.deepEqual(detectFormat(ar), { kind: 'arrow' });
    assert.deepEqual(body(readLog(ar, detectFormat(ar))), body(twin));
    const stream = arrowFile('detect.arrows', stringCols(), 'stream');
    assert.deepEqual(detectFormat(stream), { kind: 'arrow' });
  });

  it('dictionary-encoded ids are interned in order of first appearance in the rows, not in the dictionary', () => {
    const dict = (pick: (r: (typeof ROWS)[number]) => string): Vector => vec(ROWS.map(pick), new Dictionary(new Utf8(), new Int32()));
    const columns = { user: dict((r) => r[0]), item: dict((r) => r[1]), timestamp: cols((r) => BigInt(r[2]), new Int64()), rating: cols((r) => r[3], new Float64()) };
    assert.deepEqual(body(readLog(parquetFile('dict.parquet', columns), { kind: 'parquet', columns: mapping })), body(twin));
    assert.deepEqual(body(readLog(arrowFile('dict.arrow', columns), { kind: 'arrow', columns: mapping })), body(twin));
  });

  it('integer ids intern as their decimal text (int32, int64 beyond 2^53, uint64), as in a CSV', () => {
    const big = [1n, 9007199254740993n, 123456789012345678n, 42n, 1n];
    const text = 'user,item,ts\n' + big.map((b, k) => `${k},${b},${k}`).join('\n') + '\n';
    const csvLog = readLog(csvFile('ints.csv', text), { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item', time: 'ts' } });
    for (const itemType of [new Int64(), new Uint64()]) {
      const columns = { user: vec([0, 1, 2, 3, 4], new Int32()), item: vec(big, itemType), ts: vec([0, 1, 2, 3, 4], new Int32()) };
      const log = readLog(parquetFile(`ints-${itemType}.parquet`, columns), { kind: 'parquet', columns: { user: 'user', item: 'item', time: 'ts' } });
      assert.deepEqual(log.itemKeys, ['1', '9007199254740993', '123456789012345678', '42']);
      assert.deepEqual(body(log), body(csvLog));
    }
  });

  it('timestamps and dates become seconds; ISO text too; plain numbers are seconds unless timeUnit ms', () => {
    const ms = [1_600_000_000_500n, 1_600_000_001_000n];
    const base = { user: vec(['a', 'a'], new Utf8()), item: vec(['x', 'y'], new Utf8()) };
    const m = { user: 'user', item: 'item', time: 'when' };
    const read = (name: string, when: Vector, extra: object = {}): number[] =>
      [...readLog(parquetFile(name, { ...base, when }), { kind: 'parquet', columns: m, ...extra }).time];
    assert.deepEqual(read('ts-ms.parquet', vec(ms.map(Number), new TimestampMillisecond())), [1_600_000_000.5, 1_600_000_001]);
    assert.deepEqual(read('ts-s.parquet', vec([1_600_000_000_000, 1_600_000_001_000], new TimestampSecond())), [1_600_000_000, 1_600_000_001]);
    assert.deepEqual(read('date.parquet', vec([Date.UTC(2020, 0, 1), Date.UTC(2020, 0, 2)], new DateDay())), [1_577_836_800, 1_577_923_200]);
    assert.deepEqual(read('iso.parquet', vec(['2020-01-01T00:00:00Z', '2020-01-01 00:00:01'], new Utf8())), [1_577_836_800, 1_577_836_801]);
    assert.deepEqual(read('num-ms.parquet', vec(ms, new Int64()), { timeUnit: 'ms' }), [1_600_000_000.5, 1_600_000_001]);
    assert.deepEqual(read('num-s.parquet', vec(ms, new Int64())), [1_600_000_000_500, 1_600_000_001_000]);
    // detected columns guess the unit from the first value, as a detected CSV does
    const detected = parquetFile('ms-detected.parquet', { ...base, timestamp: vec(ms, new Int64()) });
    assert.deepEqual([...readLog(detected, detectFormat(detected)).time], [1_600_000_000.5, 1_600_000_001]);
  });

  it('without a time column the order is the file\'s, as for a CSV mapped without time=', () => {
    const csvLog = readLog(csv, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item' } });
    const log = readLog(parquetFile('no-time.parquet', stringCols()), { kind: 'parquet', columns: { user: 'user', item: 'item' } });
    assert.equal(log.order, 'file');
    assert.deepEqual(body(log), body(csvLog));
  });

  it('prepares the same data set as the CSV twin (synthetic log: k-core, leave-one-out, negatives)', () => {
    const synth = syntheticLog({ users: 120, items: 80, seed: 4 });
    const users = Array.from(synth.user, (u) => synth.userKeys[u]);
    const items = Array.from(synth.item, (i) => synth.itemKeys[i]);
    const text = 'user_id,item_id,timestamp\n' + users.map((u, k) => `${u},${items[k]},${synth.time[k]}`).join('\n') + '\n';
    const csvPath = csvFile('synth.csv', text);
    const pq = parquetFile('synth.parquet', {
      user_id: vec(users, new Utf8()), item_id: vec(items, new Utf8()), timestamp: vec(Array.from(synth.time, (t) => BigInt(t)), new Int64()),
    }, 500);
    const options: PrepareOptions = {
      kCore: { users: 5, items: 5 }, duplicates: 'keep-all', bySession: false,
      split: { kind: 'leave-one-out' }, negatives: { count: 20, strategy: 'uniform' }, seed: 42,
    };
    const fromCsv = buildPrepared(readLog(csvPath, detectFormat(csvPath)), options);
    const fromParquet = buildPrepared(readLog(pq, detectFormat(pq)), options);
    assert.deepEqual(fromParquet, fromCsv);
  });
});

const readFileBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

describe('bad Parquet and Arrow files give one clear DataError', () => {
  const good = (): Columns => ({ user: vec(['u1', 'u2', null, 'u4'], new Utf8()), item: vec(['i1', 'i2', 'i3', 'i4'], new Utf8()), ts: vec([1, 2, 3, null], new Int32()) });

  it('names the row and the column of a null id or time; lenient skips and counts them', () => {
    const pq = parquetFile('nulls.parquet', good(), 2);
    throwsData(() => readLog(pq, { kind: 'parquet', columns: { user: 'user', item: 'item', time: 'ts' } }), pq, 'null user id', 3, 'user');
    const log = readLog(pq, { kind: 'parquet', columns: { user: 'user', item: 'item', time: 'ts' } }, { lenient: true });
    assert.deepEqual(log.skipped, { 'empty id (user)': 1, 'bad time (ts)': 1 });
    assert.deepEqual([...log.line], [1, 2]);
    const ar = arrowFile('nulls.arrow', good());
    throwsData(() => readLog(ar, { kind: 'arrow', columns: { user: 'user', item: 'item', time: 'ts' } }), ar, 'null user id', 3, 'user');
  });

  it('a missing or unusable column lists the file\'s columns', () => {
    const pq = parquetFile('cols.parquet', { ...good(), liked: vec([true, false, true, true], new Bool()) });
    throwsData(() => readLog(pq, { kind: 'parquet', columns: { user: 'user', item: 'product', time: 'ts' } }), pq,
      `no column 'product' (the file has: 'user' (utf8), 'item' (utf8), 'ts' (int32), 'liked' (bool))`, undefined, 'product');
    throwsData(() => readLog(pq, { kind: 'parquet', columns: { user: 'user', item: 'liked' } }), pq,
      'column \'liked\' is bool: item ids must be integers or text', undefined, 'liked');
    throwsData(() => readLog(pq, { kind: 'parquet', columns: { user: 'user', item: 'item', time: 9 } }), pq,
      /^bad format: columns\.time is index 9 but the file has 4 columns/);
    const odd = parquetFile('odd.parquet', { who: vec(['a'], new Utf8()), what: vec(['b'], new Utf8()) });
    throwsData(() => readLog(odd, { kind: 'parquet' }), odd, /^cannot tell the user and item columns from their names \('who' \(utf8\), 'what' \(utf8\)\): give --columns/);
  });

  it('a file that is not Parquet or Arrow, a truncated one, an empty table', () => {
    const text = csvFile('text.parquet', 'user,item\n1,2\n');
    throwsData(() => readLog(text, detectFormat(text)), text, `not a Parquet file (it does not start with 'PAR1')`);
    const whole = readFileBytes(parquetFile('whole.parquet', good()));
    const cut = join(dir, 'cut.parquet');
    writeFileSync(cut, whole.subarray(0, whole.length - 100));
    throwsData(() => readLog(cut, detectFormat(cut)), cut, /^truncated Parquet file/);
    const notArrow = csvFile('x.feather', 'hello\n');
    throwsData(() => readLog(notArrow, detectFormat(notArrow)), notArrow, /^not an Arrow IPC file/);
    const empty = parquetFile('empty.parquet', { user: vec([], new Utf8()), item: vec([], new Utf8()), timestamp: vec([], new Int64()) });
    throwsData(() => readLog(empty, detectFormat(empty)), empty, 'no interactions (the table has no rows)');
    assert.equal(parquetRowCount(new Uint8Array(20)), null);
  });
});

const ML100K = fileURLToPath(new URL('../../../shared/data/ml-100k/u.data', import.meta.url));

describe('adarec data with Parquet', () => {
  const adarec = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--cache-dir', join(dir, 'cache')], { encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('--columns maps a Parquet file by column name and prepares what its CSV twin prepares; a bad name is one line', () => {
    const pq = parquetFile('cli.parquet', {
      uid: cols((r) => r[0], new Utf8()), iid: cols((r) => r[1], new Utf8()), t: cols((r) => BigInt(r[2]), new Int64()),
    });
    const csv = csvFile('cli.csv', 'uid,iid,t\n' + ROWS.map((r) => `${r[0]},${r[1]},${r[2]}`).join('\n') + '\n');
    const a = adarec('data', 'stats', pq, '--columns', 'user=uid,item=iid,time=t', '--negatives', '0');
    const b = adarec('data', 'stats', csv, '--columns', 'user=uid,item=iid,time=t', '--negatives', '0');
    assert.equal(a.code, 0, a.err);
    assert.equal(a.out, b.out);
    const bad = adarec('data', 'stats', pq, '--columns', 'user=user_id,item=iid');
    assert.equal(bad.code, 1);
    assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
    assert.match(bad.err, /cli\.parquet \(field 'user_id'\): no column 'user_id' \(the file has: 'uid' \(utf8\), 'iid' \(utf8\), 't' \(int64\)\)/);
  });

  it('adarec train on a Parquet log and on its CSV twin ends with the same test metrics', () => {
    const synth = syntheticLog({ users: 60, items: 40, seed: 6 });
    const users = Array.from(synth.user, (u) => synth.userKeys[u]);
    const items = Array.from(synth.item, (i) => synth.itemKeys[i]);
    const csv = csvFile('train-twin.csv', 'visitor,product,at\n' + users.map((u, k) => `${u},${items[k]},${synth.time[k]}`).join('\n') + '\n');
    const pq = parquetFile('train-twin.parquet', {
      visitor: vec(users, new Utf8()), product: vec(items, new Dictionary(new Utf8(), new Int32())),
      at: vec(Array.from(synth.time, (t) => t * 1000), new TimestampMillisecond()),
    }, 100);
    const train = (data: string, out: string) => adarec('train', '--model', 'nextitnet', '--data', data, '--columns', 'user=visitor,item=product,time=at',
      '--negatives', '0', '--epochs', '1', '--batch-size', '16', '--max-length', '10', '--out', join(dir, out));
    const a = train(pq, 'run-parquet'), b = train(csv, 'run-csv');
    assert.equal(a.code, 0, a.err);
    assert.equal(b.code, 0, b.err);
    assert.match(a.out, /^best epoch 1; test hr@10 [\d.]+, ndcg@10 [\d.]+, mrr@10 [\d.]+$/m);
    assert.equal(a.out, b.out);
  });

  it('ml-100k written as Parquet (int32 ids, float rating, timestamp[s]) gives u.data\'s pinned counts', { skip: !existsSync(ML100K) && 'shared/data/ml-100k is not beside the repository' }, () => {
    const rows = readFileSync(ML100K, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
    const pq = parquetFile('ml-100k.parquet', {
      userId: vec(rows.map((r) => r[0]), new Int32()), movieId: vec(rows.map((r) => r[1]), new Int32()),
      rating: vec(rows.map((r) => r[2]), new Float64()), timestamp: vec(rows.map((r) => r[3] * 1000), new TimestampSecond()),
    }, 1 << 20);
    const r = adarec('data', 'stats', pq, '--min-rating', '3', '--k-core', '5');
    assert.equal(r.code, 0, r.err);
    const count = (label: string): number => Number(r.out.match(new RegExp(`^\\s*${label}\\s+([\\d,]+)`, 'm'))![1].replace(/,/g, ''));
    assert.deepEqual([count('sequences'), count('items'), count('interactions'), count('same time as previous')], [943, 1203, 81697, 38492]);
  });
});
