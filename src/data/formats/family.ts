// What a format family module provides to the registry, and the helpers their detectors share.
import { DataError } from '../errors.js';
import type { InteractionLog } from '../types.js';
import type { FileSample, ReadLogOptions } from './chunks.js';

/** Any format object: the registry's LogFormat union is made of these (kept apart to avoid an import circle). */
export interface KindedFormat {
  readonly kind: string;
}

/** Reads a file in one (already checked) format. */
export type LogReader = (path: string, options: ReadLogOptions) => InteractionLog;

/** A `--format` name: what it reads and the format object it stands for. */
export interface FormatName {
  name: string;
  aliases?: string[];
  reads: string;
  format: KindedFormat;
}

/**
 * What a detector says about a file: its format; `maybe` (it could be this family's, but the
 * first lines cannot tell it from another format: the reason, which the error shows); or null.
 */
export type Detection = KindedFormat | { maybe: string } | null;

export interface FormatFamily<F extends KindedFormat = KindedFormat> {
  /** The `kind`s of LogFormat this family reads. */
  kinds: readonly F['kind'][];
  names: readonly FormatName[];
  /** One line for messages. */
  describe(format: F): string;
  /** Checks a format object and returns its reader; a bad one is a DataError 'bad format: ...' on `file`. */
  compile(format: F, file: string): LogReader;
  /** Recognises a file from its name and first lines (or says that it only might be this family's: `maybe`). */
  detect?(sample: FileSample): Detection;
}

/** Throws the DataError of a bad format object given for `file`. */
export function formatFail(file: string): (detail: string) => never {
  return (detail) => { throw new DataError(file, `bad format: ${detail}`); };
}

/** Usual column (or key) names per role, lower case, for headers and JSON keys. */
export const ALIASES: Record<'user' | 'item' | 'time' | 'rating' | 'session', readonly string[]> = {
  user: ['user', 'userid', 'user_id', 'user id', 'uid', 'visitorid', 'visitor_id', 'customerid', 'customer_id', 'client_id'],
  item: ['item', 'itemid', 'item_id', 'item id', 'iid', 'movieid', 'movie_id', 'productid', 'product_id', 'trackid', 'track_id', 'song_id'],
  time: ['timestamp', 'time', 'ts', 'datetime', 'date', 'event_time', 'unix_timestamp', 'created_at'],
  rating: ['rating', 'score', 'weight', 'value'],
  session: ['session', 'sessionid', 'session_id'],
};

/** The first of `names` that is a usual name for `role` (compared trimmed and case-insensitively). */
export function pickRole(names: readonly string[], role: keyof typeof ALIASES, strip: (name: string) => string = (n) => n): string | undefined {
  return names.find((n) => ALIASES[role].includes(strip(n).trim().toLowerCase()));
}

/** Whether every name is a usual name of some role: a header with nothing unknown, so no time column hides in it. */
export function allKnown(names: readonly string[], strip: (name: string) => string = (n) => n): boolean {
  return names.every((n) => Object.values(ALIASES).some((a) => a.includes(strip(n).trim().toLowerCase())));
}

/** Splits a header-like line by a delimiter, honouring simple quotes. */
export function splitSimple(line: string, delim: string): string[] {
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

/** Case-insensitive equality of a header with a published layout's column names. */
export function sameHeader(header: string[], names: string[]): boolean {
  return header.length === names.length && header.every((x, i) => x.trim().toLowerCase() === names[i].toLowerCase());
}

/** Checks a delimiter given in a format object. */
export function checkDelimiter(delimiter: unknown, fail: (detail: string) => never): string {
  if (typeof delimiter !== 'string' || delimiter.length === 0) fail('delimiter must be a non-empty string');
  if (/[\r\n"]/.test(delimiter as string)) fail('delimiter must not contain a quote or a line break');
  return delimiter as string;
}

/** Fields per line when every field of every line is a non-negative integer (split by `delimiter`, null: blanks), else null. */
export function integerFieldCounts(lines: readonly string[], delimiter: string | null): number[] | null {
  const counts: number[] = [];
  for (const line of lines) {
    const fields = delimiter === null ? line.trim().split(/[ \t\r]+/) : line.split(delimiter).map((f) => f.trim());
    if (!fields.every((f) => /^\d+$/.test(f))) return null;
    counts.push(fields.length);
  }
  return counts;
}
