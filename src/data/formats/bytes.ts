// The byte level every text reader shares: a record tokenizer that works on positions in the chunk
// buffer (no string per line, no split, no regex) and numbers parsed straight from the bytes.

export const NL = 10, CR = 13, QUOTE = 34, SP = 32, TAB = 9;

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

export function trimStart(b: Uint8Array, s: number, e: number): number {
  while (s < e && (b[s] === SP || b[s] === TAB)) s++;
  return s;
}
export function trimEnd(b: Uint8Array, s: number, e: number): number {
  while (e > s && (b[e - 1] === SP || b[e - 1] === TAB)) e--;
  return e;
}

/** Shortens a field's text for a message. */
export function shown(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  return JSON.stringify(t);
}

/** Finds where each record ends (chunks.ts' forEachRecord hands the records to a format's row function). */
export interface RecordSplitter {
  /** Index just past the record that starts at b[p] (b valid up to `limit`), or -1 when it may continue beyond `limit`. */
  next(b: Buffer, p: number, limit: number, eof: boolean): number;
  /** Line breaks inside the last record beyond its own (quoted multi-line fields), for line numbering. */
  readonly newlines: number;
}

/**
 * Splits one record into fields: positions in the chunk buffer, plus quoting flags. The delimiter
 * is a string of one or more bytes, or null for runs of blanks (spaces, tabs), as in the files of
 * the sequential-recommendation papers. Fields beyond `capacity` are counted, not stored, unless the
 * tokenizer is `growable` (one user per line: a line holds a whole history).
 */
export class Tokenizer implements RecordSplitter {
  start: Int32Array;
  end: Int32Array;
  /** 1: the field was quoted; 2: it also holds doubled quotes that must be undone. */
  flag: Uint8Array;
  /** Number of fields in the last record (those beyond the capacity are counted, not stored). */
  count = 0;
  /** Newlines inside quoted fields of the last record (for line numbering). */
  newlines = 0;
  /** Why the last record is malformed, or ''. */
  error = '';
  private readonly d0: number;
  private readonly dl: number;

  constructor(private readonly delim: Buffer | null, private readonly quote: boolean, public capacity = 64, private readonly growable = false) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.flag = new Uint8Array(capacity);
    this.d0 = delim ? delim[0] : -1;
    this.dl = delim ? delim.length : 0;
  }

  /** 1 if the delimiter is at b[p], 0 if not, -1 if b ends before that can be told. */
  private delimAt(b: Buffer, p: number, limit: number): number {
    const dl = this.dl;
    if (b[p] !== this.d0) return 0;
    if (dl === 1) return 1;
    if (p + dl > limit) return -1;
    for (let k = 1; k < dl; k++) if (b[p + k] !== this.delim![k]) return 0;
    return 1;
  }

  private push(nf: number, s: number, e: number, flag: number): void {
    if (nf >= this.capacity) {
      if (!this.growable) return;
      const cap = this.capacity * 2;
      const start = new Int32Array(cap), end = new Int32Array(cap), fl = new Uint8Array(cap);
      start.set(this.start); end.set(this.end); fl.set(this.flag);
      this.start = start; this.end = end; this.flag = fl; this.capacity = cap;
    }
    this.start[nf] = s;
    this.end[nf] = e;
    this.flag[nf] = flag;
  }

  /**
   * Tokenises the record starting at b[p] (b is valid up to `limit`). Returns the index just past
   * the record's newline, or -1 when the record may continue beyond `limit` and the file has more.
   */
  next(b: Buffer, p: number, limit: number, eof: boolean): number {
    if (this.delim === null) return this.nextBlanks(b, p, limit, eof);
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

  /** next() for runs of blanks (space, tab, CR) as the delimiter; no quoting; a blank line is one empty field. */
  private nextBlanks(b: Buffer, p: number, limit: number, eof: boolean): number {
    let nf = 0;
    this.newlines = 0;
    this.error = '';
    for (;;) {
      let c = 0;
      while (p < limit && ((c = b[p]) === SP || c === TAB || c === CR)) p++;
      if (p >= limit) {
        if (!eof) return -1;
        if (nf === 0) this.push(nf++, p, p, 0);
        this.count = nf;
        return limit;
      }
      if (c === NL) {
        if (nf === 0) this.push(nf++, p, p, 0);
        this.count = nf;
        return p + 1;
      }
      let q = p + 1;
      while (q < limit && (c = b[q]) !== SP && c !== TAB && c !== CR && c !== NL) q++;
      if (q >= limit && !eof) return -1;
      this.push(nf++, p, q, 0);
      p = q;
    }
  }
}
