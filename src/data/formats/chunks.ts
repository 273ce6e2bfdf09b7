// Reading a file in fixed chunks into one reused Buffer and handing each record to a format's row
// function, and reading a file's first lines for format detection.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { DataError } from '../errors.js';
import { NL, type RecordSplitter } from './bytes.js';
import { Bad, type LogBuilder } from './log-builder.js';

export interface ReadLogOptions {
  /** Skip bad rows (counted by reason in `log.skipped`) instead of stopping at the first. */
  lenient?: boolean;
  /** Called after each chunk with the bytes read so far and the file size. */
  onProgress?: (bytes: number, total: number) => void;
  /** Read chunk size in bytes (default 4 MiB); small values exercise records split across chunks in tests. */
  chunkSize?: number;
}

const DEFAULT_CHUNK = 4 << 20;
/** A record (line, or quoted multi-line record) longer than this is refused rather than buffered without end. */
const MAX_RECORD = 64 << 20;

function open(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot open (${code ?? String(err)})`);
  }
}

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
  const fd = open(path);
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
function estimateRows(buf: Buffer, from: number, len: number, total: number, rowsPerLine: number): number {
  let lines = 0;
  for (let i = buf.indexOf(NL, from); i >= 0 && i < len; i = buf.indexOf(NL, i + 1)) lines++;
  if (lines === 0 || len - from <= 0) return 1024;
  const est = Math.ceil((total / (len - from)) * lines * rowsPerLine * 1.03) + 16;
  return Math.min(Math.max(est, 16), 2 ** 31 - 1);
}

/**
 * Reads the file record by record (`splitter` finds where each ends) and calls `record(b, at)` with
 * the chunk buffer and the record's 1-based line; rows abandoned under leniency are passed over.
 * The log's columns are sized from the first chunk (`rowsPerLine`: rows a line holds, on average).
 */
export function forEachRecord(
  log: LogBuilder, options: ReadLogOptions, splitter: RecordSplitter, record: (b: Buffer, at: number) => void,
  rowsPerLine: (b: Buffer, from: number, len: number) => number = () => 1,
): void {
  let line = 0;
  readChunks(log.path, options.chunkSize ?? DEFAULT_CHUNK, options.onProgress, (r, first) => {
    const b = r.buf;
    if (first) log.reserve(estimateRows(b, r.pos, r.len, r.total, rowsPerLine(b, r.pos, r.len)));
    while (r.pos < r.len) {
      const next = splitter.next(b, r.pos, r.len, r.eof);
      if (next < 0) break;
      const at = line + 1;
      line += 1 + splitter.newlines;
      r.pos = next;
      try {
        record(b, at);
      } catch (err) {
        if (!(err instanceof Bad)) throw err;
      }
    }
  });
}

/** What detection looks at: the file's name and its first non-blank lines (BOM and CR removed). */
export interface FileSample {
  path: string;
  /** The file name, lower case. */
  base: string;
  /** Up to 200 non-blank lines from the first 64 KiB (a line cut by that limit is left out). */
  lines: string[];
  /** The file's first bytes as they are (up to 64 KiB): binary formats are told by their magic bytes. */
  head: Buffer;
}

export function readSample(path: string, max = 200): FileSample {
  const fd = open(path);
  try {
    const buf = Buffer.alloc(64 << 10);
    const n = readSync(fd, buf, 0, buf.length, 0);
    let text = buf.toString('utf8', 0, n);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = text.split('\n');
    if (n === buf.length && lines.length > 1) lines.pop(); // possibly cut
    return {
      path,
      base: basename(path).toLowerCase(),
      head: buf.subarray(0, n),
      lines: lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim().length > 0).slice(0, max),
    };
  } finally {
    closeSync(fd);
  }
}
