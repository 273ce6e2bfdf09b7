// Columnar logs: Parquet (through parquet-wasm, the Rust parquet crate compiled to WebAssembly) and
// Arrow IPC files and streams (Feather v2; apache-arrow). Both become Arrow record batches, read a
// bounded number of rows at a time; the columns are found by name in the file's schema (a mapping,
// or the usual names), and each value is interned as the CSV reader would intern its text, so a
// Parquet log and its CSV twin give the same InteractionLog. Without a time column the order of a
// user's rows is their order in the file. In messages the number after the file is the 1-based row.
// Both libraries load on first use: the other commands do not pay for them.
import { closeSync, openSync, readSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as ArrowLib from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import { DataError } from '../errors.js';
import type { InteractionLog } from '../types.js';
import { parseNumberBytes, shown } from './bytes.js';
import type { ReadLogOptions } from './chunks.js';
import type { ColumnMapping, ColumnRef } from './delimited.js';
import { allKnown, formatFail, pickRole, type FormatFamily } from './family.js';
import { LogBuilder, SKIP_REASONS, type Interner } from './log-builder.js';
import { parseIsoSeconds, type TimeUnit } from './time.js';

/** A Parquet file. Without `columns`, the user, item, time, rating and session columns are found by their usual names. */
export interface ParquetFormat {
  kind: 'parquet';
  /** Columns by name (or 0-based index in the schema); without `time` the file order is the order. */
  columns?: ColumnMapping;
  /**
   * Unit of a plain numeric time column (timestamp and date columns carry their own). Default 's'
   * with a mapping; without one, guessed from the first value as for a detected CSV file.
   */
  timeUnit?: TimeUnit;
}

/** An Arrow IPC file (Feather v2, `ARROW1`) or stream; the same options as Parquet. */
export interface ArrowFormat {
  kind: 'arrow';
  columns?: ColumnMapping;
  timeUnit?: TimeUnit;
}

export type ColumnarFormat = ParquetFormat | ArrowFormat;

/**
 * Rows decoded per step: an eighth of the file's rows, within [minRows, rows]. Each step costs a
 * copy of the whole file into parquet-wasm's memory, and that memory holds one step's decoded
 * columns (about 50 MB per 256K rows of text ids); tests set `rows` small.
 */
export const COLUMNAR_READ = { rows: 1 << 20, minRows: 1 << 18 };

const requireCjs = createRequire(import.meta.url);
let arrowLib: typeof ArrowLib | null = null;
let parquetLib: typeof ParquetWasm | null = null;
const arrow = (): typeof ArrowLib => (arrowLib ??= requireCjs('apache-arrow') as typeof ArrowLib);
const parquet = (): typeof ParquetWasm => (parquetLib ??= requireCjs('parquet-wasm') as typeof ParquetWasm);

const PAR1 = Buffer.from('PAR1');
const ARROW1 = Buffer.from('ARROW1');
/** An Arrow IPC stream starts with a message: the continuation marker 0xFFFFFFFF and the metadata length. */
const isArrowStream = (head: Uint8Array): boolean => head.length >= 8 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff;
const startsWith = (head: Uint8Array, magic: Buffer): boolean => head.length >= magic.length && magic.every((c, i) => head[i] === c);

/** Which columnar format a file's first bytes (and name, for streams) say it is; null: none. */
export function columnarKindOf(head: Uint8Array, base: string): 'parquet' | 'arrow' | null {
  if (startsWith(head, PAR1)) return 'parquet';
  if (startsWith(head, ARROW1)) return 'arrow';
  if (isArrowStream(head) && /\.(arrows|arrow|ipc|feather)$/.test(base)) return 'arrow';
  return null;
}

/** The columnar kind of a file on disk (its first bytes), or null: for a --columns mapping given without --format. */
export function sniffColumnar(path: string): 'parquet' | 'arrow' | null {
  let fd: number;
  try { fd = openSync(path, 'r'); } catch { return null; }
  try {
    const head = Buffer.alloc(8);
    const n = readSync(fd, head, 0, 8, 0);
    return columnarKindOf(head.subarray(0, n), path.toLowerCase());
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

// ---- the file ----

/** What both formats give the reader: the schema, the row count when known, and the record batches of the named columns. */
interface BatchSource {
  schema: ArrowLib.Schema;
  rows: number | null;
  batches(columns: string[]): Iterable<ArrowLib.RecordBatch>;
}

/** readFileSync's limit; Parquet is also decoded in 32-bit WebAssembly memory. */
const MAX_BYTES = 2 ** 31 - 1;

function readWhole(path: string): Buffer {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new DataError(path, 'is a folder, not a file');
    size = st.size;
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such file' : `cannot open (${code ?? String(err)})`);
  }
  if (size === 0) throw new DataError(path, 'empty file');
  if (size > MAX_BYTES) {
    throw new DataError(path, `${(size / 2 ** 30).toFixed(1)} GiB: Parquet and Arrow files are read whole, up to 2 GiB; ` +
      'write the log as several row groups into smaller files, or as CSV');
  }
  return readFileSync(path);
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').trim();

/**
 * The row count in a Parquet footer (FileMetaData.num_rows, field 3, read with a minimal Thrift
 * compact-protocol walker), so that the log's columns are sized once; null if the footer does not
 * read as expected (the columns then grow as rows come).
 */
export function parquetRowCount(bytes: Uint8Array): number | null {
  const len = bytes.length;
  if (len < 12) return null;
  const metaLen = bytes[len - 8] | (bytes[len - 7] << 8) | (bytes[len - 6] << 16) | (bytes[len - 5] << 24);
  let p = len - 8 - metaLen;
  if (metaLen <= 0 || p < 4) return null;
  const end = len - 8;
  const byte = (): number => { if (p >= end) throw new RangeError('footer'); return bytes[p++]; };
  const varint = (): number => {
    let x = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = byte();
      x += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return x;
      mul *= 128;
    }
    throw new RangeError('varint');
  };
  const zigzag = (): number => { const v = varint(); return v % 2 === 0 ? v / 2 : -(v + 1) / 2; };
  const skip = (type: number, depth: number): void => {
    if (depth > 32) throw new RangeError('depth');
    switch (type) {
      case 1: case 2: return; // booleans in a field header
      case 3: p += 1; return;
      case 4: case 5: case 6: varint(); return;
      case 7: p += 8; return;
      case 8: { const n = varint(); p += n; return; } // (not p += varint(): that adds to p as it was before the varint)
      case 9: case 10: {
        const h = byte();
        const size = (h >> 4) === 15 ? varint() : h >> 4;
        const elem = h & 15;
        for (let i = 0; i < size; i++) if (elem === 1 || elem === 2) p += 1; else skip(elem, depth + 1);
        return;
      }
      case 11: {
        const size = varint();
        if (size === 0) return;
        const kv = byte();
        for (let i = 0; i < size; i++) { skip(kv >> 4, depth + 1); skip(kv & 15, depth + 1); }
        return;
      }
      case 12: {
        for (;;) {
          const h = byte();
          if (h === 0) return;
          if ((h >> 4) === 0) zigzag();
          skip(h & 15, depth + 1);
        }
      }
      default: throw new RangeError('type');
    }
  };
  try {
    let id = 0;
    for (;;) {
      const h = byte();
      if (h === 0) return null;
      id = (h >> 4) === 0 ? zigzag() : id + (h >> 4);
      if (id === 3 && (h & 15) === 6) {
        const rows = zigzag();
        return Number.isSafeInteger(rows) && rows >= 0 ? rows : null;
      }
      skip(h & 15, 0);
      if (p > end) return null;
    }
  } catch {
    return null;
  }
}

function parquetSource(path: string, bytes: Buffer): BatchSource {
  if (!startsWith(bytes, PAR1)) throw new DataError(path, `not a Parquet file (it does not start with 'PAR1')`);
  if (bytes.length < 12 || !startsWith(bytes.subarray(bytes.length - 4), PAR1)) {
    throw new DataError(path, `truncated Parquet file (it does not end with 'PAR1': was it copied or written completely?)`);
  }
  const pq = parquet(), { tableFromIPC } = arrow();
  let schema: ArrowLib.Schema;
  try {
    schema = tableFromIPC(pq.readSchema(bytes).intoIPCStream()).schema;
  } catch (e) {
    throw new DataError(path, `cannot read the Parquet file: ${message(e)}`);
  }
  const rows = parquetRowCount(bytes);
  return {
    schema,
    rows,
    *batches(columns) {
      const step = Math.min(COLUMNAR_READ.rows, Math.max(COLUMNAR_READ.minRows, Math.ceil((rows ?? Infinity) / 8)));
      for (let offset = 0; ; offset += step) {
        let table: ParquetWasm.Table;
        try {
          table = pq.readParquet(bytes, { columns, offset, limit: step, batchSize: step });
        } catch (e) {
          throw new DataError(path, `cannot read the Parquet file (rows from ${offset + 1}): ${message(e)}`);
        }
        let got = 0;
        try {
          for (const wasmBatch of table.recordBatches()) {
            for (const batch of tableFromIPC(wasmBatch.intoIPCStream()).batches) {
              got += batch.numRows;
              yield batch;
            }
          }
        } finally {
          table.free();
        }
        if (got < step) return;
      }
    },
  };
}

function arrowSource(path: string, bytes: Buffer): BatchSource {
  if (!startsWith(bytes, ARROW1) && !isArrowStream(bytes)) {
    throw new DataError(path, `not an Arrow IPC file (it starts neither with 'ARROW1' nor with an IPC stream message)`);
  }
  // the batches are views over the file's bytes: collecting them first costs their metadata only, and gives the row count
  let schema: ArrowLib.Schema, batches: ArrowLib.RecordBatch[];
  try {
    const reader = arrow().RecordBatchReader.from(bytes).open() as ArrowLib.RecordBatchReader;
    schema = reader.schema;
    batches = [...reader];
  } catch (e) {
    throw new DataError(path, `cannot read the Arrow IPC file: ${message(e)}`);
  }
  return { schema, rows: batches.reduce((a, b) => a + b.numRows, 0), batches: () => batches };
}

// ---- columns ----

type Role = 'user' | 'item' | 'time' | 'rating' | 'session';
const ROLES: readonly Role[] = ['user', 'item', 'time', 'rating', 'session'];

interface Resolved {
  role: Role;
  /** The column's name in the schema. */
  name: string;
}

const typeName = (f: ArrowLib.Field): string => String(f.type).toLowerCase();
const listColumns = (fields: readonly ArrowLib.Field[]): string =>
  fields.map((f) => `'${f.name}' (${typeName(f)})`).join(', ');

/** The mapping's columns in the schema, or those with the usual names; DataErrors name what is there. */
function resolveColumns(path: string, fields: readonly ArrowLib.Field[], mapping: ColumnMapping | undefined, fail: (d: string) => never): Resolved[] {
  const names = fields.map((f) => f.name);
  if (!mapping) {
    const pick = (role: Role): string | undefined => pickRole(names, role);
    const user = pick('user'), item = pick('item'), time = pick('time'), rating = pick('rating'), session = pick('session');
    if (!user || !item) {
      throw new DataError(path, `cannot tell the user and item columns from their names (${listColumns(fields)}): ` +
        'give --columns user=<column>,item=<column>[,time=<column>][,rating=<column>]');
    }
    if (!time && !allKnown(names)) {
      throw new DataError(path, `the columns name a user and an item but no time among others (${listColumns(fields)}): ` +
        `give --columns user=${user},item=${item},time=<column>, or without time= if the rows are in time order`);
    }
    mapping = { user, item, ...(time ? { time } : {}), ...(rating ? { rating } : {}), ...(session ? { session } : {}) };
  }
  const out: Resolved[] = [];
  const missing: string[] = [];
  for (const role of ROLES) {
    const ref: ColumnRef | undefined = mapping[role];
    if (ref === undefined) continue;
    let index: number;
    if (typeof ref === 'number') {
      if (ref >= fields.length) fail(`columns.${role} is index ${ref} but the file has ${fields.length} columns (${listColumns(fields)})`);
      index = ref;
    } else {
      index = names.indexOf(ref);
      if (index < 0) {
        const lower = ref.trim().toLowerCase();
        const same = names.filter((n) => n.trim().toLowerCase() === lower);
        index = same.length === 1 ? names.indexOf(same[0]) : -1;
      }
      if (index < 0) { missing.push(ref); continue; }
    }
    out.push({ role, name: names[index] });
  }
  if (missing.length > 0) {
    throw new DataError(path, `no column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
      `(the file has: ${listColumns(fields)})`, undefined, missing.join(', '));
  }
  for (const c of out) {
    const field = fields[names.indexOf(c.name)];
    const why = unsupported(field.type, c.role);
    if (why) throw new DataError(path, `column '${c.name}' is ${typeName(field)}: ${why}`, undefined, c.name);
  }
  return out;
}

/** Why a column type cannot hold a role's values (null: it can). */
function unsupported(type: ArrowLib.DataType, role: Role): string | null {
  const T = arrow().Type;
  const id = type.typeId;
  const strings = id === T.Utf8 || id === T.LargeUtf8 || id === T.Utf8View;
  const numbers = id === T.Int || id === T.Float;
  if (id === T.Dictionary) return unsupported((type as ArrowLib.Dictionary).dictionary, role);
  if (role === 'time') {
    return numbers || strings || id === T.Timestamp || id === T.Date ? null
      : 'a time column holds numbers, timestamps, dates or ISO-8601 text';
  }
  if (role === 'rating') return numbers || strings ? null : 'a rating column holds numbers';
  return numbers || strings ? null : `${role} ids must be integers or text`;
}

// ---- values ----

/** A failure at a row of the batch: recorded (the first per row wins), thrown or counted after the batch. */
type Fail = (k: number, reason: string, detail: string) => void;

const TWO32 = 4294967296;

/** The 64-bit integers of a BigInt64Array/BigUint64Array as two 32-bit words each (no BigInt per row). */
function words(values: BigInt64Array | BigUint64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

function isValid(d: ArrowLib.Data, k: number): boolean {
  return d.nullCount === 0 || d.getValid(k);
}

/** Interns one value as it would be read from text (integral floats as integers). */
function internValue(v: unknown, interner: Interner): number {
  if (typeof v === 'number') return Number.isInteger(v) ? interner.fromInteger(v) : interner.fromText(String(v));
  if (typeof v === 'bigint') return v >= 0n && v < 1_000_000_000_000_000n ? interner.fromInteger(Number(v)) : interner.fromText(v.toString());
  return interner.fromText(String(v));
}

/** Interns the ids of one chunk into out[at ..]. */
function internIds(d: ArrowLib.Data, interner: Interner, out: Int32Array, at: number, role: Role, name: string, fail: Fail,
  dictionaries: WeakMap<object, Int32Array>): void {
  const T = arrow().Type;
  const type = d.type;
  const n = d.length;
  const empty = `${SKIP_REASONS.empty} (${name})`;
  const nullId = (k: number): void => fail(at + k, empty, `null ${role} id`);
  if (type.typeId === T.Int && (type as ArrowLib.Int).bitWidth === 64) {
    const v = d.values as BigInt64Array | BigUint64Array, w = words(v);
    const signed = (type as ArrowLib.Int).isSigned;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullId(k); continue; }
      const lo = w[2 * k], hi = w[2 * k + 1];
      // below 2^49 (< 1e15): the number itself; otherwise its exact decimal text
      out[at + k] = hi < 0x20000 ? interner.fromInteger(hi * TWO32 + lo) : interner.fromText((signed ? (v as BigInt64Array)[k] : (v as BigUint64Array)[k]).toString());
    }
  } else if (type.typeId === T.Int) {
    const v = d.values as Int32Array;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullId(k); continue; }
      out[at + k] = interner.fromInteger(v[k]);
    }
  } else if (type.typeId === T.Float && (type as ArrowLib.Float).precision !== arrow().Precision.HALF) {
    const v = d.values as Float64Array;
    for (let k = 0; k < n; k++) {
      const x = v[k];
      if (!isValid(d, k) || !Number.isFinite(x)) { nullId(k); continue; }
      out[at + k] = Number.isInteger(x) ? interner.fromInteger(x) : interner.fromText(String(x));
    }
  } else if (type.typeId === T.Utf8 || type.typeId === T.LargeUtf8) {
    const off = d.valueOffsets as Int32Array | BigInt64Array;
    const bytes = Buffer.from(d.values.buffer, d.values.byteOffset, d.values.byteLength);
    const big = off instanceof BigInt64Array;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullId(k); continue; }
      const s = big ? Number(off[k]) : (off as Int32Array)[k], e = big ? Number(off[k + 1]) : (off as Int32Array)[k + 1];
      if (s >= e) { fail(at + k, empty, `empty ${role} id`); continue; }
      out[at + k] = interner.fromBytes(bytes, s, e);
    }
  } else if (type.typeId === T.Dictionary) {
    // each dictionary entry is interned when a row first uses it: the order of first appearance stays the rows'
    const dict = d.dictionary!;
    let cache = dictionaries.get(dict);
    if (!cache) { cache = new Int32Array(dict.length).fill(-1); dictionaries.set(dict, cache); }
    const idx = d.values as Int32Array;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullId(k); continue; }
      const j = Number(idx[k]);
      let id = cache[j];
      if (id < 0) {
        const value: unknown = dict.get(j);
        if (value === null || value === '' || (typeof value === 'number' && !Number.isFinite(value))) { fail(at + k, empty, `${value === null ? 'null' : 'empty'} ${role} id`); continue; }
        id = cache[j] = internValue(value, interner);
      }
      out[at + k] = id;
    }
  } else {
    // rarer encodings (half floats, Utf8View): value by value
    const vec = arrow().makeVector(d);
    for (let k = 0; k < n; k++) {
      const value: unknown = vec.get(k);
      if (value === null || value === '' || (typeof value === 'number' && !Number.isFinite(value))) { fail(at + k, empty, `${value === null ? 'null' : 'empty'} ${role} id`); continue; }
      out[at + k] = internValue(value, interner);
    }
  }
}

/** Divisors of Arrow's time units (second, milli, micro, nano) to seconds. */
const PER_SECOND = [1, 1e3, 1e6, 1e9];

/** Numbers of one chunk into out[at ..]: times in seconds (`divide`: plain numbers' unit), or ratings. */
function readNumbers(d: ArrowLib.Data, out: Float64Array, at: number, role: 'time' | 'rating', name: string, divide: number, fail: Fail): void {
  const T = arrow().Type;
  const type = d.type;
  const n = d.length;
  const reason = role === 'time' ? `${SKIP_REASONS.time} (${name})` : `${SKIP_REASONS.rating} (${name})`;
  const nullValue = (k: number): void => fail(at + k, reason, `null ${role}`);
  const put = (k: number, x: number, shownValue: () => string): void => {
    if (Number.isFinite(x)) out[at + k] = x;
    else fail(at + k, reason, `${shownValue()} is not ${role === 'time' ? 'a number, timestamp or ISO-8601 date' : 'a number'}`);
  };
  if (type.typeId === T.Dictionary) {
    // the dictionary's values once, then each row's by its index
    const dict = d.dictionary!;
    const values = new Float64Array(dict.length);
    const why: string[] = [];
    let j0 = 0;
    for (const dd of dict.data) {
      readNumbers(dd, values, j0, role, name, divide, (j, _reason, text) => { values[j] = NaN; why[j] = text; });
      j0 += dd.length;
    }
    const idx = d.values as Int32Array;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullValue(k); continue; }
      const j = Number(idx[k]);
      if (Number.isNaN(values[j])) fail(at + k, reason, why[j] ?? `null ${role}`);
      else out[at + k] = values[j];
    }
    return;
  }
  // seconds = value * mul / scale
  let scale = divide, mul = 1;
  if (type.typeId === T.Timestamp) scale = PER_SECOND[(type as ArrowLib.Timestamp).unit];
  else if (type.typeId === T.Date) {
    if ((type as ArrowLib.Date_).unit === arrow().DateUnit.DAY) { scale = 1; mul = 86400; } else scale = 1e3;
  }
  const is64 = (type.typeId === T.Int && (type as ArrowLib.Int).bitWidth === 64) || type.typeId === T.Timestamp ||
    (type.typeId === T.Date && (type as ArrowLib.Date_).unit !== arrow().DateUnit.DAY);
  if (is64) {
    const v = d.values as BigInt64Array | BigUint64Array, w = words(v);
    const signed = !(type.typeId === T.Int && !(type as ArrowLib.Int).isSigned);
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullValue(k); continue; }
      const lo = w[2 * k], hi = w[2 * k + 1];
      const x = (signed ? hi | 0 : hi) * TWO32 + lo; // exact below 2^53 in magnitude
      out[at + k] = scale === 1 ? x : x / scale;
    }
  } else if (type.typeId === T.Int || type.typeId === T.Date || (type.typeId === T.Float && (type as ArrowLib.Float).precision !== arrow().Precision.HALF)) {
    const v = d.values as Float64Array;
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullValue(k); continue; }
      const x = scale === 1 ? v[k] * mul : v[k] / scale;
      put(k, x, () => String(v[k]));
    }
  } else if (type.typeId === T.Utf8 || type.typeId === T.LargeUtf8) {
    const off = d.valueOffsets as Int32Array | BigInt64Array;
    const bytes = Buffer.from(d.values.buffer, d.values.byteOffset, d.values.byteLength);
    for (let k = 0; k < n; k++) {
      if (!isValid(d, k)) { nullValue(k); continue; }
      const s = Number(off[k]), e = Number(off[k + 1]);
      put(k, textNumber(bytes, s, e, role, divide), () => shown(bytes.toString('utf8', s, e)));
    }
  } else {
    const vec = arrow().makeVector(d);
    for (let k = 0; k < n; k++) {
      const value: unknown = vec.get(k);
      if (value === null) { nullValue(k); continue; }
      const text = String(value);
      const x = typeof value === 'number' ? value / divide : typeof value === 'bigint' ? Number(value) / divide
        : textNumber(Buffer.from(text), 0, Buffer.byteLength(text), role, divide);
      put(k, x, () => shown(text));
    }
  }
}

/** A number written as text (times: ISO-8601 dates too). */
function textNumber(b: Buffer, s: number, e: number, role: 'time' | 'rating', divide: number): number {
  const x = parseNumberBytes(b, s, e);
  if (Number.isFinite(x)) return x / divide;
  return role === 'time' ? parseIsoSeconds(b.toString('utf8', s, e)) : NaN;
}

// ---- the reader ----

/** The first plain numeric time value's unit, as a detected CSV's (epoch ms pass 1e11 in 1973, epoch s in 5138). */
function guessUnit(d: ArrowLib.Data): TimeUnit {
  const T = arrow().Type;
  if (d.type.typeId !== T.Int && d.type.typeId !== T.Float) return 's';
  const vec = arrow().makeVector(d);
  for (let k = 0; k < d.length; k++) {
    const v: unknown = vec.get(k);
    if (v !== null) return Math.abs(Number(v)) >= 1e11 ? 'ms' : 's';
  }
  return 's';
}

function readColumnar(path: string, format: ColumnarFormat, options: ReadLogOptions): InteractionLog {
  const fail = formatFail(path);
  const bytes = readWhole(path);
  const source = format.kind === 'parquet' ? parquetSource(path, bytes) : arrowSource(path, bytes);
  const fields = source.schema.fields;
  const columns = resolveColumns(path, fields, format.columns, fail);
  const nameOf = (role: Role): string | undefined => columns.find((c) => c.role === role)?.name;
  const userCol = nameOf('user')!, itemCol = nameOf('item')!, timeCol = nameOf('time'), ratingCol = nameOf('rating'), sessionCol = nameOf('session');
  const log = new LogBuilder(path, options.lenient ?? false, ratingCol !== undefined, sessionCol !== undefined, timeCol === undefined ? 'file' : 'time');
  log.seenContent = true;
  const { users, items, sessions } = log;
  const dictionaries = new WeakMap<object, Int32Array>();
  let timeUnit: TimeUnit | undefined = format.timeUnit ?? (format.columns ? 's' : undefined);

  let u = new Int32Array(0), i = new Int32Array(0), s = new Int32Array(0), t = new Float64Array(0), r = new Float64Array(0);
  let firstReason = new Array<string | undefined>(0);
  let rowBase = 0;
  const wanted = [...new Set(columns.map((c) => c.name))];
  for (const batch of source.batches(wanted)) {
    const n = batch.numRows;
    if (n === 0) continue;
    if (u.length < n) {
      u = new Int32Array(n); i = new Int32Array(n); s = new Int32Array(n); t = new Float64Array(n); r = new Float64Array(n);
      firstReason = new Array<string | undefined>(n);
    }
    const detail: (string | undefined)[] = [];
    const field: (string | undefined)[] = [];
    let badRows = 0, firstBad = n;
    const failAt = (column: string): Fail => (k, reason, text) => {
      if (firstReason[k] !== undefined) return; // an earlier column already failed this row
      firstReason[k] = reason; detail[k] = text; field[k] = column; badRows++;
      if (k < firstBad) firstBad = k;
    };
    firstReason.fill(undefined, 0, n);
    const column = (name: string): ArrowLib.Vector => {
      const index = batch.schema.fields.findIndex((f) => f.name === name);
      return batch.getChildAt(index)!;
    };
    const each = (name: string, fn: (d: ArrowLib.Data, at: number) => void): void => {
      let at = 0;
      for (const d of column(name).data) { fn(d, at); at += d.length; }
    };
    each(userCol, (d, at) => internIds(d, users, u, at, 'user', userCol, failAt(userCol), dictionaries));
    each(itemCol, (d, at) => internIds(d, items, i, at, 'item', itemCol, failAt(itemCol), dictionaries));
    if (timeCol !== undefined) {
      each(timeCol, (d, at) => {
        timeUnit ??= guessUnit(d);
        readNumbers(d, t, at, 'time', timeCol, timeUnit === 'ms' ? 1000 : 1, failAt(timeCol));
      });
    }
    if (ratingCol !== undefined) each(ratingCol, (d, at) => readNumbers(d, r, at, 'rating', ratingCol, 1, failAt(ratingCol)));
    if (sessionCol !== undefined) each(sessionCol, (d, at) => internIds(d, sessions!, s, at, 'session', sessionCol, failAt(sessionCol), dictionaries));

    log.dataRows += n;
    if (badRows > 0 && !(options.lenient ?? false)) {
      throw new DataError(path, detail[firstBad]!, rowBase + firstBad + 1, field[firstBad]);
    }
    if (badRows > 0) for (let k = 0; k < n; k++) if (firstReason[k] !== undefined) log.skipped[firstReason[k]!] = (log.skipped[firstReason[k]!] ?? 0) + 1;
    if (rowBase === 0) log.reserve(Math.max(source.rows ?? n, 1024));
    if (badRows === 0) {
      log.pushMany(n, u, i, timeCol !== undefined ? t : null, r, s, rowBase + 1);
    } else {
      for (let k = 0; k < n; k++) {
        if (firstReason[k] !== undefined) continue;
        log.push(u[k], i[k], timeCol !== undefined ? t[k] : log.rows, r[k], s[k], rowBase + k + 1);
      }
    }
    rowBase += n;
  }
  options.onProgress?.(bytes.length, bytes.length);
  if (rowBase === 0) throw new DataError(path, 'no interactions (the table has no rows)');
  return log.finish();
}

// ---- the families ----

function compileColumnar(format: ColumnarFormat, file: string): (path: string, options: ReadLogOptions) => InteractionLog {
  const fail = formatFail(file);
  const cols = format.columns;
  if (cols !== undefined) {
    if (!cols || typeof cols !== 'object') fail('columns must be a mapping of user, item, optional time, rating and session');
    for (const role of ROLES) {
      const ref = cols[role];
      if (ref === undefined) {
        if (role === 'user' || role === 'item') fail(`columns.${role} is missing`);
        continue;
      }
      if (typeof ref === 'number' ? !Number.isInteger(ref) || ref < 0 : typeof ref !== 'string' || ref.length === 0) {
        fail(`columns.${role} must be a column name or a 0-based index`);
      }
    }
  }
  if (format.timeUnit !== undefined && format.timeUnit !== 's' && format.timeUnit !== 'ms') fail(`timeUnit must be 's' or 'ms'`);
  const spec = structuredClone(format);
  return (path, options) => readColumnar(path, spec, options);
}

const describeColumnar = (what: string) => (f: ColumnarFormat): string =>
  `${what}${f.columns ? '' : ' (columns by their usual names)'}${f.columns && f.columns.time === undefined ? ' (file order)' : ''}`;

export const parquetFamily: FormatFamily<ParquetFormat> = {
  kinds: ['parquet'],
  names: [{ name: 'parquet', reads: 'Parquet file (columns by name: --columns, or the usual user/item/time names)', format: { kind: 'parquet' } }],
  describe: describeColumnar('Parquet file'),
  compile: compileColumnar,
  detect: ({ head, base }) => (columnarKindOf(head, base) === 'parquet' || (base.endsWith('.parquet') && !columnarKindOf(head, base)) ? { kind: 'parquet' } : null),
};

export const arrowFamily: FormatFamily<ArrowFormat> = {
  kinds: ['arrow'],
  names: [{ name: 'arrow', aliases: ['feather', 'arrow-ipc'], reads: 'Arrow IPC file or stream, Feather v2 (columns as for parquet)', format: { kind: 'arrow' } }],
  describe: describeColumnar('Arrow IPC file'),
  compile: compileColumnar,
  detect: ({ head, base }) => (columnarKindOf(head, base) === 'arrow' || (/\.(arrow|arrows|feather|ipc)$/.test(base) && !columnarKindOf(head, base)) ? { kind: 'arrow' } : null),
};
