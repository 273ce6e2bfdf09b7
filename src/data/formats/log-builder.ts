// What every reader fills: ids interned to dense indices (original text kept), columns that grow
// geometrically from an estimate, skips counted by reason under leniency, and the final
// InteractionLog. Built for 10-million-row files: integer-looking ids are interned through a table
// or a Map<number, index> without creating a string, and the final trim shrinks columns in place.
import { DataError } from '../errors.js';
import type { InteractionLog } from '../types.js';

/** Integer ids below this are interned through a direct table (4 bytes per value up to the largest id seen). */
const TABLE_LIMIT = 1 << 23;

/** Interns ids to dense indices in order of first appearance; `keys[i]` is the id's original text. */
export class Interner {
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

  /**
   * The id for an integer value of a typed column (Parquet, Arrow): the same index, and the same
   * key text, as the decimal text of `n` read from a text file (so a log and its CSV twin intern
   * alike). `n` must be an integer; negative ones and those of more than 15 digits go by their text.
   */
  fromInteger(n: number): number {
    return n >= 0 && n < 1e15 ? this.fromNumber(n) : this.fromText(String(n));
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

export class Columns {
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

  /**
   * Appends n rows at once from batch columns (a columnar reader's batch without bad rows): times
   * null means each row's time is its position; lines run from firstLine.
   */
  pushMany(n: number, user: Int32Array, item: Int32Array, time: Float64Array | null, rating: Float64Array | null, session: Int32Array | null, firstLine: number): void {
    while (this.n + n > this.cap) this.grow();
    const at = this.n;
    this.user.set(user.subarray(0, n), at);
    this.item.set(item.subarray(0, n), at);
    if (time) this.time.set(time.subarray(0, n), at);
    else for (let k = 0; k < n; k++) this.time[at + k] = at + k;
    if (this.rating) this.rating.set(rating!.subarray(0, n), at);
    if (this.session) this.session.set(session!.subarray(0, n), at);
    for (let k = 0; k < n; k++) this.line[at + k] = firstLine + k;
    this.n += n;
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

// ---- the log under construction ----

/** Thrown (one shared instance, no stack trace per row) to abandon a row that lenient mode skips. */
export class Bad extends Error {}
const SKIP = new Bad('skipped row');

/** Why rows are skipped under leniency (the keys of `log.skipped`, with the field in parentheses where it helps). */
export const SKIP_REASONS = {
  columns: 'wrong column count',
  quoting: 'malformed quoting',
  empty: 'empty id',
  noItems: 'no items',
  time: 'bad time',
  rating: 'bad rating',
  event: 'unknown event',
  json: 'malformed JSON line',
  missing: 'missing key',
} as const;

/**
 * One log being read. `order` says where the order of a user's rows comes from: 'time' (a time
 * column) or 'file' (none: each row's time is its position, `rows`, so that no two rows tie).
 */
export class LogBuilder {
  readonly users = new Interner();
  readonly items = new Interner();
  readonly sessions: Interner | null;
  readonly skipped: Record<string, number> = {};
  cols: Columns | null = null;
  /** Non-blank records seen (header included) and data rows among them, for the "empty" messages. */
  seenContent = false;
  dataRows = 0;

  constructor(readonly path: string, private readonly lenient: boolean, private readonly hasRating: boolean, hasSession: boolean,
    readonly order: 'time' | 'file' = 'time') {
    this.sessions = hasSession ? new Interner() : null;
  }

  /** Sizes the columns once, from an estimate of the row count. */
  reserve(rows: number): void {
    this.cols ??= new Columns(rows, this.hasRating, this.sessions !== null);
  }

  /** Rows so far: the position of the next row. */
  get rows(): number {
    return this.cols ? this.cols.n : 0;
  }

  push(user: number, item: number, time: number, rating: number, session: number, line: number): void {
    (this.cols ??= new Columns(1024, this.hasRating, this.sessions !== null)).push(user, item, time, rating, session, line);
  }

  /** Appends a batch of good rows (see Columns.pushMany; time null: the log has no time column). */
  pushMany(n: number, user: Int32Array, item: Int32Array, time: Float64Array | null, rating: Float64Array | null, session: Int32Array | null, firstLine: number): void {
    (this.cols ??= new Columns(Math.max(n, 1024), this.hasRating, this.sessions !== null)).pushMany(n, user, item, time, rating, session, firstLine);
  }

  /** Reports a bad row: a DataError naming file, line and field when strict; counted and the row abandoned when lenient. */
  bad(reason: string, detail: string, at: number, field?: string): never {
    if (!this.lenient) throw new DataError(this.path, detail, at, field);
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    throw SKIP;
  }

  finish(): InteractionLog {
    const { path, cols, skipped } = this;
    if (!this.seenContent) throw new DataError(path, 'empty file');
    if (cols === null || cols.n === 0) {
      const skips = Object.entries(skipped).map(([k, v]) => `${v} ${k}`).join(', ');
      throw new DataError(path, this.dataRows === 0 && !skips ? 'no interactions (the file has a header but no rows)' :
        `no interactions${skips ? ` (all rows skipped: ${skips})` : ' (every row was left out by the event filter)'}`);
    }
    cols.finish();
    const log: InteractionLog = {
      source: path,
      user: cols.user,
      item: cols.item,
      time: cols.time,
      rating: cols.rating,
      session: cols.session,
      line: cols.line,
      userKeys: this.users.keys,
      itemKeys: this.items.keys,
      sessionKeys: this.sessions ? this.sessions.keys : null,
      skipped,
    };
    if (this.order === 'file') log.order = 'file';
    return log;
  }
}
