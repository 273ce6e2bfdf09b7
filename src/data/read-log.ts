// Reads an interaction log into columnar typed arrays. Built for 10-million-row files: the file
// is read in fixed chunks into one reused Buffer, records are tokenised byte by byte (no string per
// line, no split, no regex), numbers are parsed from the bytes, integer-looking ids are interned
// through a Map<number, index> without creating a string, and the columns grow geometrically from
// an estimate taken on the first chunk. Bad input is a DataError naming file, line and field, or
// (lenient) a skip counted by reason in `log.skipped`.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { DataError } from './errors.js';
import {
  type ColumnRef, type DelimitedSpec, type JsonSpec, type LogFormat, type Role,
  compileFormat, knownFormatsHelp, parseIsoSeconds,
} from './formats.js';
import type { InteractionLog } from './types.js';

export interface ReadLogOptions {
  /** Skip bad rows (counted by reason in `log.skipped`) instead of stopping at the first. */
  lenient?: boolean;
  /** Called after each chunk with the bytes read so far and the file size. */
  onProgress?: (bytes: number, total: number) => void;
  /** Read chunk size in bytes (default 4 MiB); small values exercise records split across chunks in tests. */
  chunkSize?: number;
}

const NL = 10, CR = 13, QUOTE = 34, SP = 32, TAB = 9;
const DEFAULT_CHUNK = 4 << 20;
/** A record (line, or quoted multi-line record) longer than this is refused rather than buffered without end. */
const MAX_RECORD = 64 << 20;

// ---- interning ----

/** Interns ids to dense indices in order of first appearance; `keys[i]` is the id's original text. */
/** Integer ids below this are interned through a direct table (4 bytes per value up to the largest id seen). */
const TABLE_LIMIT = 1 << 23;

class Interner {
  /** index + 1 per integer id below TABLE_LIMIT (0: not seen); larger integers use byNumber. */
  private table = new Int32Array(1024);
  private readonly byNumber = new Map<number, number>();
  private readonly byString = new Map<string, number>();
  readonly keys: string[] = [];

  /** The id in b[s..e) (non-empty). Canonical integers (no sign, no leading zero, <= 15 digits) skip string creation. */
  fromBytes(b: Buffer, s: number, e: number): number {
    const len = e - s;
    if (len <= 15 && (b[s] !== 48 || len === 1)) {
      let n = 0, i = s;
      for (; i < e; i++) {
        const d = b[i] - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i === e) return this.fromNumber(n);
    }
    return this.fromText(b.toString('utf8', s, e));
  }

  private fromNumber(n: number): number {
    if (n < TABLE_LIMIT) {
      let table = this.table;
      if (n >= table.length) {
        let len = table.length;
        while (len <= n) len *= 2;
        table = new Int32Array(Math.min(len, TABLE_LIMIT));
        table.set(this.table);
        this.table = table;
      }
      const v = table[n];
      if (v !== 0) return v - 1;
      const id = this.keys.length;
      table[n] = id + 1;
      this.keys.push(String(n));
      return id;
    }
    let id = this.byNumber.get(n);
    if (id === undefined) {
      id = this.keys.length;
      this.byNumber.set(n, id);
      this.keys.push(String(n));
    }
    return id;
  }

  /** The id for a decoded text; canonical integers go through the same numeric map as fromBytes. */
  fromText(t: string): number {
    const len = t.length;
    if (len > 0 && len <= 15 && (t.charCodeAt(0) !== 48 || len === 1)) {
      let n = 0, i = 0;
      for (; i < len; i++) {
        const d = t.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      if (i === len) return this.fromNumber(n);
    }
    let id = this.byString.get(t);
    if (id === undefined) {
      id = this.keys.length;
      this.byString.set(t, id);
      this.keys.push(t);
    }
    return id;
  }
}

// ---- growing columns ----

type Column = Int32Array | Float32Array | Float64Array;
type ColumnCtor<T extends Column> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T; BYTES_PER_ELEMENT: number };

/** Resizable ArrayBuffers (Node 20) let the final trim shrink a column in place instead of copying it. */
const RESIZABLE = typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function';

function newColumn<T extends Column>(Ctor: ColumnCtor<T>, cap: number): T {
  if (!RESIZABLE) return new Ctor(cap);
  const bytes = cap * Ctor.BYTES_PER_ELEMENT;
  const buffer = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(bytes, { maxByteLength: bytes });
  return new Ctor(buffer, 0, cap);
}

function growColumn<T extends Column>(Ctor: ColumnCtor<T>, a: T, cap: number): T {
  const b = newColumn(Ctor, cap);
  b.set(a);
  return b;
}

/** Exactly the first n elements: the buffer shrunk in place when resizable (no copy, memory returned), else a copy. */
function trimColumn<T extends Column>(Ctor: ColumnCtor<T>, a: T, n: number): T {
  if (a.length === n) return a;
  const buffer = a.buffer as ArrayBuffer & { resizable?: boolean; resize?: (n: number) => void };
  if (buffer.resizable && buffer.resize) {
    buffer.resize(n * Ctor.BYTES_PER_ELEMENT);
    return new Ctor(buffer, 0, n);
  }
  return a.slice(0, n) as T;
}

class Columns {
  n = 0;
  user: Int32Array;
  item: Int32Array;
  time: Float64Array;
  rating: Float32Array | null;
  session: Int32Array | null;
  line: Int32Array;

  constructor(public cap: number, hasRating: boolean, hasSession: boolean) {
    this.user = newColumn(Int32Array, cap);
    this.item = newColumn(Int32Array, cap);
    this.time = newColumn(Float64Array, cap);
    this.rating = hasRating ? newColumn(Float32Array, cap) : null;
    this.session = hasSession ? newColumn(Int32Array, cap) : null;
    this.line = newColumn(Int32Array, cap);
  }

  grow(): void {
    const cap = Math.min(2 ** 31 - 1, Math.max(1024, Math.ceil(this.cap * 1.5)));
    if (cap === this.cap) throw new Error('more than 2^31 - 1 rows');
    this.user = growColumn(Int32Array, this.user, cap);
    this.item = growColumn(Int32Array, this.item, cap);
    this.time = growColumn(Float64Array, this.time, cap);
    if (this.rating) this.rating = growColumn(Float32Array, this.rating, cap);
    if (this.session) this.session = growColumn(Int32Array, this.session, cap);
    this.line = growColumn(Int32Array, this.line, cap);
    this.cap = cap;
  }

  /** Appends one row, growing the columns when full. */
  push(user: number, item: number, time: number, rating: number, session: number, line: number): void {
    if (this.n === this.cap) this.grow();
    const row = this.n++;
    this.user[row] = user;
    this.item[row] = item;
    this.time[row] = time;
    if (this.rating) this.rating[row] = rating;
    if (this.session) this.session[row] = session;
    this.line[row] = line;
  }

  /** Trims every column to exactly n rows. */
  finish(): void {
    const n = this.n;
    this.user = trimColumn(Int32Array, this.user, n);
    this.item = trimColumn(Int32Array, this.item, n);
    this.time = trimColumn(Float64Array, this.time, n);
    if (this.rating) this.rating = trimColumn(Float32Array, this.rating, n);
    if (this.session) this.session = trimColumn(Int32Array, this.session, n);
    this.line = trimColumn(Int32Array, this.line, n);
    this.cap = n;
  }
}

// ---- bytes ----

/** Parses a decimal number (optional sign, fraction, exponent) from b[s..e), surrounding blanks allowed; NaN if it is not one. */
export function parseNumberBytes(b: Uint8Array, s: number, e: number): number {
  while (s < e && (b[s] === SP || b[s] === TAB)) s++;
  while (e > s && (b[e - 1] === SP || b[e - 1] === TAB)) e--;
  if (s >= e) return NaN;
  const start = s;
  let neg = false;
  if (b[s] === 45) { neg = true; s++; } else if (b[s] === 43) s++;
  let n = 0, digits = 0, d = 0;
  while (s < e && (d = b[s] - 48) >= 0 && d <= 9) { n = n * 10 + d; s++; digits++; }
  if (s < e && b[s] === 46) {
    s++;
    let f = 0, scale = 1, fd = 0;
    while (s < e && (d = b[s] - 48) >= 0 && d <= 9) { f = f * 10 + d; scale *= 10; s++; fd++; }
    if (fd > 15) return slowNumber(b, start, e);
    digits += fd;
    n += f / scale;
  }
  if (digits === 0) return NaN;
  if (s < e) {
    if (b[s] === 101 || b[s] === 69) return slowNumber(b, start, e);
    return NaN;
  }
  if (digits > 15) return slowNumber(b, start, e);
  return neg ? -n : n;
}

function slowNumber(b: Uint8Array, s: number, e: number): number {
  const t = Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return NaN;
  return Number(t);
}

function trimStart(b: Uint8Array, s: number, e: number): number {
  while (s < e && (b[s] === SP || b[s] === TAB)) s++;
  return s;
}
function trimEnd(b: Uint8Array, s: number, e: number): number {
  while (e > s && (b[e - 1] === SP || b[e - 1] === TAB)) e--;
  return e;
}

/** Shortens a field's text for a message. */
function shown(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return JSON.stringify(t);
}

// ---- tokenizer ----

/** Splits one record into fields: positions in the chunk buffer, plus quoting flags. */
class Tokenizer {
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** 1: the field was quoted; 2: it also holds doubled quotes that must be undone. */
  readonly flag: Uint8Array;
  /** Number of fields in the last record (those beyond the capacity are counted, not stored). */
  count = 0;
  /** Newlines inside quoted fields of the last record (for line numbering). */
  newlines = 0;
  /** Why the last record is malformed, or ''. */
  error = '';
  private readonly d0: number;
  private readonly dl: number;

  constructor(private readonly delim: Buffer, private readonly quote: boolean, readonly capacity = 64) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.flag = new Uint8Array(capacity);
    this.d0 = delim[0];
    this.dl = delim.length;
  }

  /** 1 if the delimiter is at b[p], 0 if not, -1 if b ends before that can be told. */
  private delimAt(b: Buffer, p: number, limit: number): number {
    const dl = this.dl;
    if (b[p] !== this.d0) return 0;
    if (dl === 1) return 1;
    if (p + dl > limit) return -1;
    for (let k = 1; k < dl; k++) if (b[p + k] !== this.delim[k]) return 0;
    return 1;
  }

  private push(nf: number, s: number, e: number, flag: number): void {
    if (nf < this.capacity) {
      this.start[nf] = s;
      this.end[nf] = e;
      this.flag[nf] = flag;
    }
  }

  /**
   * Tokenises the record starting at b[p] (b is valid up to `limit`). Returns the index just past
   * the record's newline, or -1 when the record may continue beyond `limit` and the file has more.
   */
  next(b: Buffer, p: number, limit: number, eof: boolean): number {
    const d0 = this.d0, dl = this.dl, quote = this.quote;
    let nf = 0;
    this.newlines = 0;
    this.error = '';
    for (;;) {
      if (quote && p < limit && b[p] === QUOTE) {
        let q = p + 1, flag = 1, nl = 0;
        for (;;) {
          if (q >= limit) {
            if (!eof) return -1;
            this.error = 'a quoted field is not closed';
            this.newlines += nl;
            this.count = nf + 1;
            return limit;
          }
          const c = b[q];
          if (c === QUOTE) {
            if (q + 1 >= limit && !eof) return -1;
            if (q + 1 < limit && b[q + 1] === QUOTE) { flag = 3; q += 2; continue; }
            break;
          }
          if (c === NL) nl++;
          q++;
        }
        this.push(nf++, p + 1, q, flag);
        this.newlines += nl;
        p = q + 1;
        if (p >= limit) { this.count = nf; return limit; } // eof here (checked above)
        const c = b[p];
        if (c === NL) { this.count = nf; return p + 1; }
        if (c === CR) {
          if (p + 1 >= limit) { if (!eof) return -1; this.count = nf; return limit; }
          if (b[p + 1] === NL) { this.count = nf; return p + 2; }
        }
        const at = this.delimAt(b, p, limit);
        if (at < 0) { if (!eof) return -1; }
        else if (at > 0) { p += dl; continue; }
        // anything else after a closing quote: malformed; skip to the end of the line
        this.error = 'unexpected text after a closing quote';
        this.count = nf;
        const eol = b.indexOf(NL, p);
        if (eol < 0 || eol >= limit) { if (!eof) return -1; return limit; }
        return eol + 1;
      }
      let q = p;
      if (dl === 1) {
        while (q < limit) {
          const c = b[q];
          if (c === NL || c === d0) break;
          q++;
        }
      } else {
        while (q < limit) {
          const c = b[q];
          if (c === NL) break;
          if (c === d0) {
            const at = this.delimAt(b, q, limit);
            if (at > 0) break;
            if (at < 0) { if (!eof) return -1; }
          }
          q++;
        }
      }
      if (q >= limit) {
        if (!eof) return -1;
        this.push(nf++, p, q > p && b[q - 1] === CR ? q - 1 : q, 0);
        this.count = nf;
        return limit;
      }
      if (b[q] === NL) {
        this.push(nf++, p, q > p && b[q - 1] === CR ? q - 1 : q, 0);
        this.count = nf;
        return q + 1;
      }
      this.push(nf++, p, q, 0);
      p = q + dl;
    }
  }
}

// ---- chunked reading ----

/** Thrown (one shared instance, no stack trace per row) to abandon a row that lenient mode skips. */
class Bad extends Error {}
const SKIP = new Bad('skipped row');

interface ChunkReader {
  buf: Buffer;
  len: number;
  pos: number;
  eof: boolean;
  total: number;
}

/** Calls `each(reader)` with chunks of the file; `each` consumes records from r.pos and leaves the incomplete rest. */
function readChunks(
  path: string, chunkSize: number, onProgress: ReadLogOptions['onProgress'],
  each: (r: ChunkReader, first: boolean) => void,
): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot open (${code ?? String(err)})`);
  }
  try {
    const total = fstatSync(fd).size;
    const r: ChunkReader = { buf: Buffer.allocUnsafe(Math.max(16, chunkSize)), len: 0, pos: 0, eof: false, total };
    let filePos = 0, first = true;
    for (;;) {
      if (r.pos > 0) {
        r.buf.copy(r.buf, 0, r.pos, r.len);
        r.len -= r.pos;
        r.pos = 0;
      }
      if (r.len === r.buf.length) {
        if (r.buf.length >= MAX_RECORD) {
          throw new DataError(path, `a record is longer than ${MAX_RECORD >> 20} MiB (an unclosed quote, or not a text log?)`);
        }
        const bigger = Buffer.allocUnsafe(Math.min(MAX_RECORD, r.buf.length * 2));
        r.buf.copy(bigger, 0, 0, r.len);
        r.buf = bigger;
      }
      const n = readSync(fd, r.buf, r.len, r.buf.length - r.len, filePos);
      filePos += n;
      r.len += n;
      if (n === 0) r.eof = true;
      if (first && r.len >= 3 && r.buf[0] === 0xef && r.buf[1] === 0xbb && r.buf[2] === 0xbf) r.pos = 3;
      each(r, first);
      first = false;
      onProgress?.(filePos, total);
      if (r.eof) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** Rows per byte from the first chunk, to size the columns once instead of regrowing them. */
function estimateRows(buf: Buffer, from: number, len: number, total: number): number {
  let lines = 0;
  for (let i = buf.indexOf(NL, from); i >= 0 && i < len; i = buf.indexOf(NL, i + 1)) lines++;
  if (lines === 0 || len - from <= 0) return 1024;
  const est = Math.ceil((total / (len - from)) * lines * 1.03) + 16;
  return Math.min(Math.max(est, 16), 2 ** 31 - 1);
}

// ---- the delimited reader ----

const SKIP_REASONS = {
  columns: 'wrong column count',
  quoting: 'malformed quoting',
  empty: 'empty id',
  time: 'bad time',
  rating: 'bad rating',
  event: 'unknown event',
  json: 'malformed JSON line',
  missing: 'missing key',
} as const;

function readDelimited(path: string, spec: DelimitedSpec, options: ReadLogOptions): InteractionLog {
  const lenient = options.lenient ?? false;
  const skipped: Record<string, number> = {};
  const tok = new Tokenizer(Buffer.from(spec.delimiter, 'utf8'), spec.quote);
  const users = new Interner(), items = new Interner();
  const sessions = spec.columns.session !== undefined ? new Interner() : null;
  const hasRating = spec.columns.rating !== undefined || spec.events !== null;
  let cols: Columns | null = null;

  // resolved column indices (-1: absent) and field names for messages
  let cUser = -1, cItem = -1, cTime = -1, cRating = -1, cSession = -1, cEvent = -1;
  const names: Partial<Record<Role, string>> = { ...spec.fieldNames };
  let expectedCount = spec.columnCount ?? -1;
  let columnNames: string[] | null = spec.header === 'none' ? null : spec.expectedHeader;
  let headerPending = spec.header !== 'none';
  let line = 0, seenContent = false, dataRows = 0;
  const msToS = spec.timeUnit === 'ms';
  const iso = spec.timeFormat === 'iso';
  const events = spec.events ? spec.events.names.map((n) => Buffer.from(n, 'utf8')) : null;

  const resolve = (header: string[] | null): void => {
    const lower = header ? header.map((h) => h.trim().toLowerCase()) : null;
    const find = (role: Role): number => {
      const ref: ColumnRef | undefined = spec.columns[role];
      if (ref === undefined) return -1;
      if (typeof ref === 'number') {
        if (header) {
          if (ref >= header.length) {
            throw new DataError(path, `${role} is mapped to index ${ref} but the header has ${header.length} columns`, 1, names[role]);
          }
          names[role] = header[ref];
        }
        return ref;
      }
      const i = lower ? lower.indexOf(ref.trim().toLowerCase()) : -1;
      names[role] = ref;
      return i;
    };
    cUser = find('user'); cItem = find('item'); cTime = find('time');
    cRating = find('rating'); cSession = find('session'); cEvent = find('event');
    if (header) {
      const missing = (['user', 'item', 'time', 'rating', 'session', 'event'] as Role[])
        .filter((r) => spec.columns[r] !== undefined && typeof spec.columns[r] === 'string' && lower!.indexOf(String(spec.columns[r]).trim().toLowerCase()) < 0)
        .map((r) => String(spec.columns[r]));
      if (missing.length > 0) {
        throw new DataError(path, `the header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
          `(found: ${header.map((h) => `'${h}'`).join(', ')})`, 1, missing.join(', '));
      }
    }
    for (const [role, c] of [['user', cUser], ['item', cItem], ['time', cTime], ['rating', cRating], ['session', cSession], ['event', cEvent]] as const) {
      if (c >= tok.capacity) throw new DataError(path, `column index ${c} for ${role} is beyond the ${tok.capacity} columns this reader handles`);
    }
  };
  if (!headerPending) resolve(null);
  const maxIndex = (): number => Math.max(cUser, cItem, cTime, cRating, cSession, cEvent);

  /** Reports a bad row: throws when strict, counts it when lenient. */
  const bad = (reason: string, detail: string, at: number, field?: string): never => {
    if (!lenient) throw new DataError(path, detail, at, field);
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    throw SKIP;
  };

  const fieldText = (b: Buffer, f: number): string => {
    let s = tok.start[f], e = tok.end[f];
    if (tok.flag[f] === 0) { s = trimStart(b, s, e); e = trimEnd(b, s, e); }
    const t = b.toString('utf8', s, e);
    return tok.flag[f] === 3 ? t.replace(/""/g, '"') : t;
  };

  const idOf = (b: Buffer, f: number, interner: Interner, role: Role, at: number): number => {
    let s = tok.start[f], e = tok.end[f];
    const flag = tok.flag[f];
    if (flag === 0) { s = trimStart(b, s, e); e = trimEnd(b, s, e); }
    if (s >= e) bad(`${SKIP_REASONS.empty} (${names[role]})`, `empty ${role} id`, at, names[role]);
    if (flag === 3) return interner.fromText(b.toString('utf8', s, e).replace(/""/g, '"'));
    return interner.fromBytes(b, s, e);
  };

  const numberOf = (b: Buffer, f: number, role: 'time' | 'rating', at: number, hint: string): number => {
    let v: number;
    if (role === 'time' && iso) v = parseIsoSeconds(fieldText(b, f));
    else v = tok.flag[f] === 3 ? NaN : parseNumberBytes(b, tok.start[f], tok.end[f]);
    if (!Number.isFinite(v)) {
      const what = role === 'time' && iso ? 'an ISO-8601 date' : 'a number';
      bad(role === 'time' ? `${SKIP_REASONS.time} (${names.time})` : `${SKIP_REASONS.rating} (${names.rating})`,
        `${shown(fieldText(b, f))} is not ${what}${hint}`, at, names[role]);
    }
    return v;
  };

  const record = (b: Buffer, at: number): void => {
    const nf = tok.count;
    if (tok.error) {
      bad(SKIP_REASONS.quoting, tok.error, at, columnNames?.[nf - 1] ?? `column ${nf}`);
    }
    // blank line (possibly only spaces or a lone CR): nothing to read
    if (nf === 1 && tok.flag[0] === 0 && trimStart(b, tok.start[0], tok.end[0]) === tok.end[0]) return;
    seenContent = true;
    if (headerPending) {
      headerPending = false;
      const fields: string[] = [];
      for (let f = 0; f < Math.min(nf, tok.capacity); f++) fields.push(fieldText(b, f));
      const lower = fields.map((h) => h.trim().toLowerCase());
      if (spec.expectedHeader) {
        const missing = spec.expectedHeader.filter((n) => !lower.includes(n.toLowerCase()));
        if (spec.header === 'optional' && missing.length === spec.expectedHeader.length) {
          // not a header: the first row is data
          resolve(null);
        } else if (missing.length > 0) {
          throw new DataError(path, `the header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} ` +
            `(found: ${fields.map((h) => `'${h}'`).join(', ')})`, at, missing.join(', '));
        } else {
          // presets: map roles through the header's own order and spelling
          const cols: Partial<Record<Role, ColumnRef>> = {};
          for (const [role, idx] of Object.entries(spec.columns) as [Role, number][]) cols[role] = fields[lower.indexOf(spec.expectedHeader[idx].toLowerCase())];
          spec = { ...spec, columns: cols };
          columnNames = fields;
          resolve(fields);
          expectedCount = nf;
          return;
        }
      } else {
        columnNames = fields;
        resolve(fields);
        expectedCount = nf;
        return;
      }
    }
    if (expectedCount < 0) {
      if (nf <= maxIndex()) {
        bad(SKIP_REASONS.columns, `found ${nf} column${nf === 1 ? '' : 's'} but the mapping uses index ${maxIndex()}`, at, `column ${nf + 1}`);
      }
      expectedCount = nf;
    }
    if (nf !== expectedCount) {
      let field: string;
      if (nf < expectedCount) {
        field = columnNames?.[nf] ?? (Object.entries({ user: cUser, item: cItem, time: cTime, rating: cRating, session: cSession, event: cEvent })
          .filter(([, c]) => c >= nf).sort((a, c) => a[1] - c[1]).map(([r]) => names[r as Role])[0] ?? `column ${nf + 1}`);
      } else {
        field = `column ${expectedCount + 1}`;
      }
      bad(SKIP_REASONS.columns, `expected ${expectedCount} columns, found ${nf}`, at, field);
    }
    dataRows++;
    const hint = at === 1 && !columnNames ? ' (this format has no header line)' : '';
    // event filter first: rows of event types left out on purpose are not read further
    let weight = 0;
    if (events) {
      const s = trimStart(b, tok.start[cEvent], tok.end[cEvent]), e = trimEnd(b, s, tok.end[cEvent]);
      let k = 0;
      for (; k < events.length; k++) {
        const name = events[k];
        if (name.length === e - s && b.compare(name, 0, name.length, s, e) === 0) break;
      }
      if (k === events.length) {
        bad(`${SKIP_REASONS.event}`, `unknown event ${shown(fieldText(b, cEvent))} (weights are given for ${spec.events!.names.join(', ')})`, at, names.event);
      }
      if (!spec.events!.keep[k]) return;
      weight = spec.events!.weights[k];
    }
    const u = idOf(b, cUser, users, 'user', at);
    const i = idOf(b, cItem, items, 'item', at);
    let t = numberOf(b, cTime, 'time', at, hint);
    if (msToS && !iso) t /= 1000;
    const r = cRating >= 0 ? numberOf(b, cRating, 'rating', at, hint) : weight;
    const sess = sessions ? idOf(b, cSession, sessions, 'session', at) : 0;
    if (cols === null) cols = new Columns(1024, hasRating, sessions !== null);
    cols.push(u, i, t, r, sess, at);
  };

  readChunks(path, options.chunkSize ?? DEFAULT_CHUNK, options.onProgress, (r, first) => {
    const b = r.buf;
    if (first && cols === null) cols = new Columns(estimateRows(b, r.pos, r.len, r.total), hasRating, sessions !== null);
    while (r.pos < r.len) {
      const next = tok.next(b, r.pos, r.len, r.eof);
      if (next < 0) break;
      const at = line + 1;
      line += 1 + tok.newlines;
      r.pos = next;
      try {
        record(b, at);
      } catch (err) {
        if (!(err instanceof Bad)) throw err;
      }
    }
  });

  if (!seenContent) throw new DataError(path, 'empty file');
  return finish(path, cols, users, items, sessions, skipped, dataRows);
}

function finish(
  path: string, cols: Columns | null, users: Interner, items: Interner, sessions: Interner | null,
  skipped: Record<string, number>, dataRows: number,
): InteractionLog {
  if (cols === null || cols.n === 0) {
    const skips = Object.entries(skipped).map(([k, v]) => `${v} ${k}`).join(', ');
    throw new DataError(path, dataRows === 0 && !skips ? 'no interactions (the file has a header but no rows)' :
      `no interactions${skips ? ` (all rows skipped: ${skips})` : ' (every row was left out by the event filter)'}`);
  }
  cols.finish();
  return {
    source: path,
    user: cols.user,
    item: cols.item,
    time: cols.time,
    rating: cols.rating,
    session: cols.session,
    line: cols.line,
    userKeys: users.keys,
    itemKeys: items.keys,
    sessionKeys: sessions ? sessions.keys : null,
    skipped,
  };
}

// ---- JSON Lines ----

function readJsonLines(path: string, spec: JsonSpec, options: ReadLogOptions): InteractionLog {
  const lenient = options.lenient ?? false;
  const skipped: Record<string, number> = {};
  const users = new Interner(), items = new Interner();
  const sessions = spec.keys.session !== undefined ? new Interner() : null;
  const hasRating = spec.keys.rating !== undefined;
  let cols: Columns | null = null;
  let line = 0, seenContent = false, dataRows = 0;
  const bad = (reason: string, detail: string, at: number, field?: string): never => {
    if (!lenient) throw new DataError(path, detail, at, field);
    skipped[reason] = (skipped[reason] ?? 0) + 1;
    throw SKIP;
  };
  const idOf = (o: Record<string, unknown>, key: string, interner: Interner, role: string, at: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return bad(`${SKIP_REASONS.missing} (${key})`, `no '${key}' (the ${role} id)`, at, key);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return bad(`${SKIP_REASONS.empty} (${key})`, `${role} id ${String(v)} is not an id`, at, key);
      return interner.fromText(String(v));
    }
    if (typeof v !== 'string') return bad(`${SKIP_REASONS.empty} (${key})`, `${role} id must be a string or a number, got ${JSON.stringify(v)}`, at, key);
    const t = v.trim();
    if (t.length === 0) return bad(`${SKIP_REASONS.empty} (${key})`, `empty ${role} id`, at, key);
    return interner.fromText(t);
  };
  const numberOf = (o: Record<string, unknown>, key: string, role: 'time' | 'rating', at: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return bad(`${SKIP_REASONS.missing} (${key})`, `no '${key}' (the ${role})`, at, key);
    let n = NaN;
    if (role === 'time' && spec.timeFormat === 'iso') {
      if (typeof v === 'string') n = parseIsoSeconds(v);
    } else if (typeof v === 'number') {
      n = v;
    } else if (typeof v === 'string') {
      const buf = Buffer.from(v, 'utf8');
      n = parseNumberBytes(buf, 0, buf.length);
    }
    if (!Number.isFinite(n)) {
      const what = role === 'time' && spec.timeFormat === 'iso' ? 'an ISO-8601 date' : 'a number';
      return bad(role === 'time' ? `${SKIP_REASONS.time} (${key})` : `${SKIP_REASONS.rating} (${key})`,
        `${shown(typeof v === 'string' ? v : JSON.stringify(v))} is not ${what}`, at, key);
    }
    return role === 'time' && spec.timeFormat === 'number' && spec.timeUnit === 'ms' ? n / 1000 : n;
  };

  const record = (text: string, at: number): void => {
    if (text.trim().length === 0) return;
    seenContent = true;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (err) {
      return bad(SKIP_REASONS.json, `malformed JSON (${(err as Error).message})`, at);
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return bad(SKIP_REASONS.json, 'expected a JSON object on the line', at);
    dataRows++;
    const obj = o as Record<string, unknown>;
    const k = spec.keys;
    const u = idOf(obj, k.user, users, 'user', at);
    const i = idOf(obj, k.item, items, 'item', at);
    const t = numberOf(obj, k.time, 'time', at);
    const r = k.rating !== undefined ? numberOf(obj, k.rating, 'rating', at) : 0;
    const s = sessions ? idOf(obj, k.session!, sessions, 'session', at) : 0;
    if (cols === null) cols = new Columns(1024, hasRating, sessions !== null);
    cols.push(u, i, t, r, s, at);
  };

  readChunks(path, options.chunkSize ?? DEFAULT_CHUNK, options.onProgress, (r, first) => {
    const b = r.buf;
    if (first && cols === null) cols = new Columns(estimateRows(b, r.pos, r.len, r.total), hasRating, sessions !== null);
    while (r.pos < r.len) {
      let eol = b.indexOf(NL, r.pos);
      if (eol >= r.len) eol = -1;
      if (eol < 0 && !r.eof) break;
      const end = eol < 0 ? r.len : eol;
      const at = ++line;
      const text = b.toString('utf8', r.pos, end > r.pos && b[end - 1] === CR ? end - 1 : end);
      r.pos = eol < 0 ? r.len : eol + 1;
      try {
        record(text, at);
      } catch (err) {
        if (!(err instanceof Bad)) throw err;
      }
    }
  });
  if (!seenContent) throw new DataError(path, 'empty file');
  return finish(path, cols, users, items, sessions, skipped, dataRows);
}

// ---- public API ----

/**
 * Reads an interaction log. Rows keep file order; ids are interned in order of first appearance;
 * `time` is in seconds (millisecond formats are divided by 1000; ISO dates become epoch seconds).
 * Throws a DataError naming file, line and field for bad input, unless `lenient`, which skips bad
 * rows and counts them by reason in `log.skipped`.
 */
export function readLog(path: string, format: LogFormat, options: ReadLogOptions = {}): InteractionLog {
  const compiled = compileFormat(format, path);
  if (compiled.type === 'jsonl') return readJsonLines(path, compiled.spec, options);
  return readDelimited(path, compiled.spec, options);
}

// ---- detection ----

/** The first non-blank lines of a file (BOM and CR removed), read from its first 64 KiB. */
function peekLines(path: string, max = 5): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such file' : `cannot open (${code ?? String(err)})`);
  }
  try {
    const buf = Buffer.alloc(64 << 10);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let text = buf.toString('utf8', 0, n);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split('\n');
    if (n === buf.length && lines.length > 1) lines.pop(); // possibly cut
    return lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim().length > 0).slice(0, max);
  } finally {
    closeSync(fd);
  }
}

const isNum = (s: string): boolean => /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s);
const ALIASES: Record<'user' | 'item' | 'time' | 'rating' | 'session', string[]> = {
  user: ['user', 'userid', 'user_id', 'user id', 'uid', 'visitorid', 'visitor_id', 'customerid', 'customer_id', 'client_id'],
  item: ['item', 'itemid', 'item_id', 'item id', 'iid', 'movieid', 'movie_id', 'productid', 'product_id', 'trackid', 'track_id', 'song_id'],
  time: ['timestamp', 'time', 'ts', 'datetime', 'date', 'event_time', 'unix_timestamp', 'created_at'],
  rating: ['rating', 'score', 'weight', 'value'],
  session: ['session', 'sessionid', 'session_id'],
};

/** Splits a header-like line by a single-character delimiter, honouring simple quotes. */
function splitSimple(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '', inQ = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQ) {
      if (c === '"') { if (line[i + 1] === '"') { cur += '"'; i++; } else inQ = false; } else cur += c;
    } else if (c === '"' && cur === '') inQ = true;
    else if (line.startsWith(delim, i)) { out.push(cur); cur = ''; i += delim.length - 1; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

function timeGuess(value: string | number | undefined): { timeFormat: 'number' | 'iso'; timeUnit: 's' | 'ms' } | null {
  if (value === undefined) return { timeFormat: 'number', timeUnit: 's' };
  if (typeof value === 'number' || isNum(value)) {
    // epoch seconds pass 1e11 only in the year 5138; epoch milliseconds pass it in 1973
    return { timeFormat: 'number', timeUnit: Math.abs(Number(value)) >= 1e11 ? 'ms' : 's' };
  }
  if (!Number.isNaN(parseIsoSeconds(value))) return { timeFormat: 'iso', timeUnit: 's' };
  return null;
}

/**
 * Guesses a file's format from its name and first lines: the MovieLens layouts, RetailRocket,
 * 30Music, JSON Lines and delimited files whose header names user, item and time columns in a
 * usual way. Anything else is a DataError listing the known formats and how to give a mapping.
 */
export function detectFormat(path: string): LogFormat {
  const lines = peekLines(path);
  if (lines.length === 0) throw new DataError(path, 'empty file');
  const base = basename(path).toLowerCase();
  const first = lines[0];
  const lower = (a: string[]): string[] => a.map((s) => s.trim().toLowerCase());
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i].toLowerCase());

  // headerless numeric layouts
  const tabs = first.split('\t');
  const ml100kName = /^u[a-z0-9]*\.(data|base|test)$/.test(base); // u.data, u1.base, ua.test, ...
  if (tabs.length === 4 && ml100kName) return { kind: 'movielens-100k' };
  const colons = first.split('::');
  if (colons.length === 4 && colons.every(isNum)) return { kind: 'movielens-dat' };
  if (tabs.length === 5 && tabs.every(isNum) && base.includes('30music')) return { kind: '30music' };

  // JSON Lines
  if (first.trimStart().startsWith('{') || base.endsWith('.jsonl') || base.endsWith('.ndjson')) {
    let o: unknown;
    try { o = JSON.parse(first); } catch { o = null; }
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      const keys = Object.keys(o);
      const pick = (role: keyof typeof ALIASES): string | undefined => keys.find((k) => ALIASES[role].includes(k.toLowerCase()));
      const user = pick('user'), item = pick('item'), time = pick('time');
      if (user && item && time) {
        const tg = timeGuess((o as Record<string, string | number>)[time]);
        if (tg) {
          const rating = pick('rating'), session = pick('session');
          return { kind: 'jsonl', keys: { user, item, time, ...(rating ? { rating } : {}), ...(session ? { session } : {}) }, ...tg };
        }
      }
    }
    throw new DataError(path, `cannot tell the JSON Lines keys from the first line; ${knownFormatsHelp()}`, 1);
  }

  // headers of the published layouts, then generic headers
  for (const delim of [',', '\t', ';', '|', '::']) {
    const header = splitSimple(first, delim);
    if (header.length < 3) continue;
    const h = lower(header);
    const row = lines[1] !== undefined ? splitSimple(lines[1], delim) : null;
    if (same(h, ['userId', 'movieId', 'rating', 'timestamp'])) {
      const t = row?.[3];
      const ms = t !== undefined && isNum(t) && Number(t) >= 1e11;
      if (delim === ',' && !ms) return { kind: 'movielens-csv' };
      if (delim === '\t' && (ms || base.includes('ratedmovies'))) return { kind: 'movielens-hetrec' };
    }
    if (delim === ',' && same(h, ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid'])) return { kind: 'retailrocket' };
    if (delim === '\t' && same(h, ['UserId', 'SessionId', 'ItemId', 'Time', 'ArtistId'])) return { kind: '30music' };
    const pick = (role: keyof typeof ALIASES): string | undefined => header.find((c) => ALIASES[role].includes(c.trim().toLowerCase()))?.trim();
    const user = pick('user'), item = pick('item'), time = pick('time');
    if (user && item && time) {
      const tg = timeGuess(row ? row[h.indexOf(time.toLowerCase())] : undefined);
      if (tg) {
        const rating = pick('rating'), session = pick('session');
        return {
          kind: 'delimited', delimiter: delim, header: true,
          columns: { user, item, time, ...(rating ? { rating } : {}), ...(session ? { session } : {}) }, ...tg,
        };
      }
    }
  }
  throw new DataError(path, `cannot tell the format (first line: ${shown(first)}); ${knownFormatsHelp()}`, 1);
}
