// bench/parquet-libraries.mjs: the comparison behind the Parquet library choice (docs/DESIGN.md,
// docs/BENCHMARKS.md). Writes user/item/time Parquet files (snappy, row groups of 1M rows; ids as
// int64, and as text u123/i45) and reads each in a fresh process per candidate into the same
// columns adarec builds (ids interned by adarec's Interner, times as float64), timing it and
// taking the process's peak RSS. Candidates: parquet-wasm + apache-arrow (adarec's reader, and the
// bare library), hyparquet (+ hyparquet-compressors), @duckdb/node-api; adarec's CSV reader on the
// same rows for scale. The other libraries are not dependencies: install them for the run only,
//   npm install --no-save hyparquet hyparquet-compressors @duckdb/node-api
//   npm run build && node bench/parquet-libraries.mjs [rows ...]      (default 1000000 10000000)
// or copy this file into a scratch folder that has all five packages and set ADAREC_DIST.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
// adarec's compiled data layer (ADAREC_DIST: another checkout's dist/src/data/, to run this copy from a scratch folder)
const dist = process.env.ADAREC_DIST ? new URL(`file://${process.env.ADAREC_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/src/data/', import.meta.url);
const COLUMNS = ['user_id', 'item_id', 'ts'];

/** Deterministic rows: n/100 users, 50,000 items, increasing seconds (a multiplicative hash spreads the ids). */
function rowsOf(n) {
  const users = Math.max(1, Math.floor(n / 100));
  const user = new BigInt64Array(n), item = new BigInt64Array(n), ts = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    user[i] = BigInt(Math.imul(i + 1, 2654435761) >>> 0) % BigInt(users);
    item[i] = BigInt(Math.imul(i + 7, 2246822519) >>> 0) % 50000n;
    ts[i] = BigInt(1_500_000_000 + i);
  }
  return { user, item, ts };
}

async function write(dir, n) {
  const { makeData, RecordBatch, Schema, Field, Int64, Utf8, Struct, Table, tableToIPC } = await import('apache-arrow');
  const { Compression, Table: WasmTable, WriterPropertiesBuilder, writeParquet } = await import('parquet-wasm');
  const { user, item, ts } = rowsOf(n);
  const utf8 = (prefix, values) => {
    const texts = Array.from(values, (v) => `${prefix}${v}`);
    const offsets = new Int32Array(texts.length + 1);
    let o = 0;
    texts.forEach((t, k) => { o += t.length; offsets[k + 1] = o; });
    return makeData({ type: new Utf8(), length: texts.length, nullCount: 0, valueOffsets: offsets, data: Buffer.from(texts.join(''), 'latin1') });
  };
  const int64 = (values) => makeData({ type: new Int64(), length: values.length, nullCount: 0, data: values });
  const files = {};
  for (const kind of ['int', 'str']) {
    const fields = [new Field('user_id', kind === 'int' ? new Int64() : new Utf8()), new Field('item_id', kind === 'int' ? new Int64() : new Utf8()), new Field('ts', new Int64())];
    const schema = new Schema(fields);
    const batches = [];
    for (let s = 0; s < n; s += 1 << 20) {
      const e = Math.min(n, s + (1 << 20));
      const children = kind === 'int' ? [int64(user.subarray(s, e)), int64(item.subarray(s, e)), int64(ts.subarray(s, e))]
        : [utf8('u', user.subarray(s, e)), utf8('i', item.subarray(s, e)), int64(ts.subarray(s, e))];
      batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: e - s, nullCount: 0, children })));
    }
    const props = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setMaxRowGroupSize(1 << 20).build();
    const path = join(dir, `log-${n}-${kind}.parquet`);
    writeFileSync(path, writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(schema, batches), 'stream')), props));
    const csv = join(dir, `log-${n}-${kind}.csv`);
    const p = kind === 'int' ? ['', ''] : ['u', 'i'];
    let text = 'user_id,item_id,ts\n';
    for (let i = 0; i < n; i++) {
      text += `${p[0]}${user[i]},${p[1]}${item[i]},${ts[i]}\n`;
      if (text.length > 1 << 24) { writeFileSync(csv, text, { flag: 'a' }); text = ''; }
    }
    writeFileSync(csv, text, { flag: 'a' });
    files[kind] = { parquet: path, csv };
  }
  return files;
}

// ---- one reader per child process ----

async function interners() {
  const { Interner } = await import(new URL('formats/log-builder.js', dist).href);
  const make = () => {
    const x = new Interner();
    return { x, id: (v) => (typeof v === 'bigint' ? x.fromInteger(Number(v)) : typeof v === 'number' ? x.fromInteger(v) : x.fromText(v)) };
  };
  return [make(), make()];
}

async function read(lib, file) {
  const t0 = performance.now();
  let rows = 0, users = 0, items = 0;
  if (lib === 'adarec-parquet' || lib === 'adarec-csv') {
    const { readLog } = await import(new URL('read-log.js', dist).href);
    const format = lib === 'adarec-csv' ? { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user_id', item: 'item_id', time: 'ts' } }
      : { kind: 'parquet', columns: { user: 'user_id', item: 'item_id', time: 'ts' } };
    const log = readLog(file, format);
    rows = log.user.length; users = log.userKeys.length; items = log.itemKeys.length;
  } else {
    const [u, it] = await interners();
    const cols = { user: [], item: [], time: [] };
    const push = (uu, ii, tt) => { cols.user.push(uu); cols.item.push(ii); cols.time.push(tt); };
    if (lib === 'parquet-wasm') {
      // the bare library: the whole file in one call, each batch to arrow-js through IPC
      const { readParquet } = await import('parquet-wasm');
      const { tableFromIPC } = await import('apache-arrow');
      const table = readParquet(readFileSync(file), { columns: COLUMNS, batchSize: 1 << 20 });
      for (const b of table.recordBatches()) {
        const t = tableFromIPC(b.intoIPCStream());
        const n = t.numRows;
        const uu = new Int32Array(n), ii = new Int32Array(n), tt = new Float64Array(n);
        const fill = (name, out, f) => { let r = 0; for (const d of t.getChild(name).data) for (let k = 0; k < d.length; k++) out[r++] = f(d, k); };
        const idOf = (x) => (d, k) => (d.values instanceof BigInt64Array ? x.id(d.values[k]) : x.x.fromBytes(Buffer.from(d.values.buffer, d.values.byteOffset), d.valueOffsets[k], d.valueOffsets[k + 1]));
        fill('user_id', uu, idOf(u)); fill('item_id', ii, idOf(it)); fill('ts', tt, (d, k) => Number(d.values[k]));
        push(uu, ii, tt); rows += n;
      }
      table.free();
    } else if (lib === 'hyparquet') {
      const { parquetRead, parquetMetadata } = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      const b = readFileSync(file);
      const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      const metadata = parquetMetadata(ab);
      rows = Number(metadata.num_rows);
      const uu = new Int32Array(rows), ii = new Int32Array(rows), tt = new Float64Array(rows);
      await parquetRead({ file: ab, metadata, compressors, columns: COLUMNS, onChunk({ columnName, columnData, rowStart }) {
        const out = columnName === 'user_id' ? uu : columnName === 'item_id' ? ii : tt;
        const x = columnName === 'user_id' ? u : columnName === 'item_id' ? it : null;
        for (let k = 0; k < columnData.length; k++) out[rowStart + k] = x ? x.id(columnData[k]) : Number(columnData[k]);
      } });
      push(uu, ii, tt);
    } else if (lib === 'duckdb') {
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const db = await DuckDBInstance.create(':memory:', { threads: '1' });
      const c = await db.connect();
      const res = await c.stream(`SELECT user_id, item_id, ts FROM read_parquet('${file.replace(/'/g, "''")}')`);
      for (;;) {
        const chunk = await res.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        const [cu, ci, ct] = chunk.getColumns();
        const uu = new Int32Array(n), ii = new Int32Array(n), tt = new Float64Array(n);
        for (let k = 0; k < n; k++) { uu[k] = u.id(cu[k]); ii[k] = it.id(ci[k]); tt[k] = Number(ct[k]); }
        push(uu, ii, tt); rows += n;
      }
    } else {
      throw new Error(`unknown library ${lib}`);
    }
    users = u.x.keys.length; items = it.x.keys.length;
  }
  console.log(JSON.stringify({ lib, rows, users, items, s: (performance.now() - t0) / 1000, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

// ---- driver ----

async function has(pkg) {
  try { await import(pkg); return true; } catch { return false; }
}

if (process.argv[2] === 'read') {
  await read(process.argv[3], process.argv[4]);
} else {
  const sizes = process.argv.slice(2).map(Number);
  const libs = ['adarec-csv', 'adarec-parquet', 'parquet-wasm'];
  for (const [lib, pkgs] of [['hyparquet', ['hyparquet', 'hyparquet-compressors']], ['duckdb', ['@duckdb/node-api']]]) {
    if ((await Promise.all(pkgs.map(has))).every(Boolean)) libs.push(lib);
    else console.log(`${lib}: not installed (npm install --no-save ${pkgs.join(' ')}) — skipped`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'adarec-parquet-libs-'));
  try {
    console.log('| rows | ids | library | s | peak RSS MB |\n|---|---|---|---|---|');
    for (const n of sizes.length ? sizes : [1_000_000, 10_000_000]) {
      const files = await write(dir, n);
      for (const kind of ['int', 'str']) {
        for (const lib of libs) {
          const file = lib === 'adarec-csv' ? files[kind].csv : files[kind].parquet;
          const r = spawnSync(process.execPath, ['--max-old-space-size=8192', here, 'read', lib, file], { encoding: 'utf8' });
          if (r.status !== 0) { console.log(`| ${n} | ${kind} | ${lib} | failed: ${r.stderr.trim().split('\n').pop()} | |`); continue; }
          const o = JSON.parse(r.stdout.trim().split('\n').pop());
          if (o.rows !== n) throw new Error(`${lib} read ${o.rows} rows of ${n}`);
          console.log(`| ${n.toLocaleString('en-US')} | ${kind} (${(statSync(file).size / 2 ** 20).toFixed(0)} MB ${lib === 'adarec-csv' ? 'CSV' : 'Parquet'}) | ${lib} | ${o.s.toFixed(2)} | ${o.peakRssMb.toFixed(0)} |`);
        }
      }
      for (const kind of ['int', 'str']) for (const f of Object.values(files[kind])) rmSync(f, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
