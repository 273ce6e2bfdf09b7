// bench/data-parquet: the Parquet side of bench/data, one child process per job so that each peak
// RSS is its own.
//   write <out.parquet> <generator options JSON>: the same synthetic log as bench/data's CSV (user and item as text
//     u123/i45, rating float64, timestamp int64), snappy, row groups of 1M rows, as Spark or pandas
//     would write it; written by parquet-wasm from apache-arrow batches
//   read <file.parquet>: adarec reads and prepares it (the CSV run's steps); prints one JSON line
import { writeFileSync } from 'node:fs';
import { Float64, Int64, RecordBatch, Table, Utf8, makeData, tableToIPC, Field, Schema, Struct, type Vector } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { buildPrepared } from '../src/data/prepare.js';
import { readLog } from '../src/data/read-log.js';
import { generateSynthetic, type SyntheticOptions } from '../src/data/synthetic.js';

/** A Utf8 column from strings (offsets + bytes built directly: no per-value builder). */
function utf8(values: string[]): Vector {
  const bytes = Buffer.from(values.join(''), 'utf8');
  const offsets = new Int32Array(values.length + 1);
  let o = 0;
  for (let k = 0; k < values.length; k++) { o += Buffer.byteLength(values[k]); offsets[k + 1] = o; }
  if (o !== bytes.length) throw new Error('offsets');
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes }) as unknown as Vector;
}

function write(out: string, options: Partial<SyntheticOptions>): number {
  const schema = new Schema([new Field('user', new Utf8()), new Field('item', new Utf8()), new Field('rating', new Float64()), new Field('timestamp', new Int64())]);
  const batches: RecordBatch[] = [];
  let u: string[] = [], i: string[] = [], t: number[] = [], rows = 0;
  const flush = (): void => {
    if (u.length === 0) return;
    const n = u.length;
    const children = [utf8(u), utf8(i), makeData({ type: new Float64(), length: n, nullCount: 0, data: new Float64Array(n).fill(5) }),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: BigInt64Array.from(t, (x) => BigInt(x)) })];
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: children as never })));
    u = []; i = []; t = [];
  };
  generateSynthetic(options, (user, items, times) => {
    for (let k = 0; k < items.length; k++) { u.push(`u${user + 1}`); i.push(`i${items[k]}`); t.push(times[k]); }
    rows += items.length;
    if (u.length >= 1 << 20) flush();
  });
  flush();
  const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setMaxRowGroupSize(1 << 20).build();
  writeFileSync(out, writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(schema, batches), 'stream')), props));
  return rows;
}

function read(file: string): void {
  const t0 = performance.now();
  const log = readLog(file, { kind: 'parquet', columns: { user: 'user', item: 'item', rating: 'rating', time: 'timestamp' } });
  const tRead = performance.now() - t0;
  const prepared = buildPrepared(log, {
    minRating: 3, kCore: { users: 5, items: 5 }, duplicates: 'keep-all', bySession: false,
    split: { kind: 'leave-one-out' }, negatives: { count: 100, strategy: 'uniform' }, seed: 42,
  });
  const total = performance.now() - t0;
  console.log(JSON.stringify({ rows: log.user.length, kept: prepared.dataset.items.length, read_s: tRead / 1000, total_s: total / 1000, maxrss_mb: process.resourceUsage().maxRSS / 1024 }));
}

const [mode, path, options] = process.argv.slice(2);
if (mode === 'write') console.log(JSON.stringify({ rows: write(path, JSON.parse(options) as Partial<SyntheticOptions>) }));
else if (mode === 'read') read(path);
else throw new Error('usage: data-parquet write <out.parquet> <options JSON> | read <file.parquet>');
