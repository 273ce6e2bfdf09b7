// Log formats: what a user passes to readLog (plain, JSON-serialisable objects, so that a cache
// manifest can record them), and their compilation into one internal description that the byte
// reader in read-log.ts understands. Each published layout (MovieLens, RetailRocket, 30Music) is a
// preset; anything else is a generic delimited file or JSON Lines with a column mapping.
import { DataError } from './errors.js';

/** A column given by its header name, or by its 0-based index (the only choice without a header). */
export type ColumnRef = string | number;

export interface ColumnMapping {
  user: ColumnRef;
  item: ColumnRef;
  time: ColumnRef;
  rating?: ColumnRef;
  /** When given, a sequence is a session rather than a user's whole history. */
  session?: ColumnRef;
}

/** 'number': seconds or milliseconds as numbers (see TimeUnit); 'iso': ISO-8601 dates, e.g. 2015-06-02T05:02:12Z. */
export type TimeFormat = 'number' | 'iso';
/** Unit of numeric times; 'ms' values are divided by 1000 so that `InteractionLog.time` is always seconds. */
export type TimeUnit = 's' | 'ms';

/** MovieLens 100K `u.data`: tab-separated `user item rating timestamp`, no header. */
export interface MovieLens100kFormat { kind: 'movielens-100k' }
/** MovieLens 1M/10M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header. */
export interface MovieLensDatFormat { kind: 'movielens-dat' }
/** MovieLens latest/20M/25M/32M `ratings.csv`: header `userId,movieId,rating,timestamp`. */
export interface MovieLensCsvFormat { kind: 'movielens-csv' }
/** hetrec2011-movielens-2k `user_ratedmovies-timestamps.dat`: tab-separated, header `userID movieID rating timestamp`, ms. */
export interface MovieLensHetrecFormat { kind: 'movielens-hetrec' }
/**
 * RetailRocket `events.csv`: header `timestamp,visitorid,event,itemid,transactionid`, timestamps in ms.
 * Each kept event's weight becomes the row's rating.
 */
export interface RetailRocketFormat {
  kind: 'retailrocket';
  /** Weight per event type; default {view: 1, addtocart: 2, transaction: 3}. An event type without a weight is bad input. */
  eventWeights?: Record<string, number>;
  /** Keep only these event types (the others are left out on purpose, not counted as skipped); default all weighted types. */
  events?: string[];
}
/** The 30Music session export: tab-separated `UserId SessionId ItemId Time ArtistId` (header optional), seconds. */
export interface ThirtyMusicFormat { kind: '30music' }
/** Any delimited text file (CSV, TSV, `::`, ...) with a column mapping. */
export interface DelimitedFormat {
  kind: 'delimited';
  /** One or more characters, e.g. ',', '\t', ';', '::'. */
  delimiter: string;
  /** Whether the first line names the columns (required to map columns by name). */
  header: boolean;
  columns: ColumnMapping;
  /** Default 'number'. */
  timeFormat?: TimeFormat;
  /** Default 's'. */
  timeUnit?: TimeUnit;
  /** RFC-4180 quoting (a field that starts with `"` runs to the matching quote; `""` is a quote). Default true. */
  quote?: boolean;
}
/** JSON Lines: one object per line; `keys` names the object keys holding each column. */
export interface JsonLinesFormat {
  kind: 'jsonl';
  keys: { user: string; item: string; time: string; rating?: string; session?: string };
  timeFormat?: TimeFormat;
  timeUnit?: TimeUnit;
}

export type LogFormat =
  | MovieLens100kFormat
  | MovieLensDatFormat
  | MovieLensCsvFormat
  | MovieLensHetrecFormat
  | RetailRocketFormat
  | ThirtyMusicFormat
  | DelimitedFormat
  | JsonLinesFormat;

export const DEFAULT_EVENT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({ view: 1, addtocart: 2, transaction: 3 });

/** Names accepted by `formatByName` (for a command line), each with what it reads. */
export const FORMAT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  'movielens-100k': "MovieLens 100K u.data (tab-separated user item rating timestamp, no header)",
  'movielens-1m': "MovieLens 1M ratings.dat (UserID::MovieID::Rating::Timestamp)",
  'movielens-10m': "MovieLens 10M ratings.dat (UserID::MovieID::Rating::Timestamp)",
  'movielens-latest': "MovieLens latest / latest-small ratings.csv (userId,movieId,rating,timestamp)",
  'movielens-20m': "MovieLens 20M ratings.csv",
  'movielens-25m': "MovieLens 25M ratings.csv",
  'movielens-32m': "MovieLens 32M ratings.csv",
  'movielens-2k': "hetrec2011-movielens-2k user_ratedmovies-timestamps.dat (tab-separated, header, ms)",
  retailrocket: "RetailRocket events.csv (timestamp,visitorid,event,itemid,transactionid; ms)",
  '30music': "30Music session export (tab-separated UserId SessionId ItemId Time ArtistId)",
});

/** The preset format for a name in FORMAT_NAMES (generic delimited files and JSON Lines need a mapping instead). */
export function formatByName(name: string): LogFormat {
  switch (name.toLowerCase()) {
    case 'movielens-100k': case 'ml-100k': return { kind: 'movielens-100k' };
    case 'movielens-1m': case 'ml-1m': case 'movielens-10m': case 'ml-10m': case 'movielens-dat': return { kind: 'movielens-dat' };
    case 'movielens-latest': case 'movielens-latest-small': case 'ml-latest': case 'ml-latest-small':
    case 'movielens-20m': case 'ml-20m': case 'movielens-25m': case 'ml-25m': case 'movielens-32m': case 'ml-32m':
    case 'movielens-csv':
      return { kind: 'movielens-csv' };
    case 'movielens-2k': case 'ml-2k': case 'hetrec': case 'movielens-hetrec': return { kind: 'movielens-hetrec' };
    case 'retailrocket': return { kind: 'retailrocket' };
    case '30music': return { kind: '30music' };
    default:
      throw new DataError(name, `unknown format name; known: ${Object.keys(FORMAT_NAMES).join(', ')} ` +
        '(other files: a delimited file or JSON Lines with a column mapping)');
  }
}

/** One-line description of a format, for messages. */
export function describeFormat(format: LogFormat): string {
  switch (format.kind) {
    case 'movielens-100k': return FORMAT_NAMES['movielens-100k'];
    case 'movielens-dat': return 'MovieLens 1M/10M ratings.dat (UserID::MovieID::Rating::Timestamp)';
    case 'movielens-csv': return 'MovieLens ratings.csv (userId,movieId,rating,timestamp)';
    case 'movielens-hetrec': return FORMAT_NAMES['movielens-2k'];
    case 'retailrocket': return FORMAT_NAMES.retailrocket;
    case '30music': return FORMAT_NAMES['30music'];
    case 'delimited': return `delimited file (delimiter ${JSON.stringify(format.delimiter)}, ${format.header ? 'header' : 'no header'})`;
    case 'jsonl': return 'JSON Lines';
  }
}

/** The list of known formats and how to give a mapping, for "cannot tell the format" messages. */
export function knownFormatsHelp(): string {
  return `known formats: ${Object.keys(FORMAT_NAMES).join(', ')}; for any other delimited file (CSV, TSV, any delimiter) ` +
    'or JSON Lines give a column mapping: user, item, time, optional rating and session, by header name ' +
    '(or by 0-based index when the file has no header), and the time format (number in s or ms, or ISO-8601)';
}

// ---- compilation (internal to the data layer) ----

export type Role = 'user' | 'item' | 'time' | 'rating' | 'session' | 'event';

/** Everything the delimited reader needs, with columns still possibly by name (resolved against the header). */
export interface DelimitedSpec {
  delimiter: string;
  quote: boolean;
  /** 'required': the first line must be a header; 'optional': taken as one when it holds the expected names. */
  header: 'none' | 'required' | 'optional';
  /** Column names a header must hold (required/optional headers of presets), compared case-insensitively. */
  expectedHeader: string[] | null;
  columns: Partial<Record<Role, ColumnRef>>;
  /** Field names used in messages, per role, when the file has no header naming them. */
  fieldNames: Partial<Record<Role, string>>;
  /** Exact column count, or null: taken from the header, or else from the first row. */
  columnCount: number | null;
  timeFormat: TimeFormat;
  /** Multiplier from the file's numeric time to seconds (1 or 1/1000, applied as a division by 1000). */
  timeUnit: TimeUnit;
  /** RetailRocket: event names, their weights, and which are kept. */
  events: { names: string[]; weights: number[]; keep: boolean[] } | null;
}

export interface JsonSpec {
  keys: { user: string; item: string; time: string; rating?: string; session?: string };
  timeFormat: TimeFormat;
  timeUnit: TimeUnit;
}

export type CompiledFormat = { type: 'delimited'; spec: DelimitedSpec } | { type: 'jsonl'; spec: JsonSpec };

function preset(
  delimiter: string, header: DelimitedSpec['header'], names: string[], roles: (Role | null)[], timeUnit: TimeUnit, quote = false,
): DelimitedSpec {
  const columns: Partial<Record<Role, ColumnRef>> = {};
  const fieldNames: Partial<Record<Role, string>> = {};
  roles.forEach((role, i) => {
    if (role) { columns[role] = i; fieldNames[role] = names[i]; }
  });
  return {
    delimiter, quote, header, expectedHeader: header === 'none' ? null : names, columns, fieldNames,
    columnCount: names.length, timeFormat: 'number', timeUnit, events: null,
  };
}

/** Checks a format given by a user and turns it into the reader's description; a bad format is a DataError on `file`. */
export function compileFormat(format: LogFormat, file: string): CompiledFormat {
  const bad = (detail: string): never => { throw new DataError(file, `bad format: ${detail}`); };
  if (!format || typeof format !== 'object' || typeof (format as { kind?: unknown }).kind !== 'string') {
    return bad(`expected an object with a 'kind'; ${knownFormatsHelp()}`);
  }
  switch (format.kind) {
    case 'movielens-100k':
      return { type: 'delimited', spec: preset('\t', 'none', ['user id', 'item id', 'rating', 'timestamp'], ['user', 'item', 'rating', 'time'], 's') };
    case 'movielens-dat':
      return { type: 'delimited', spec: preset('::', 'none', ['UserID', 'MovieID', 'Rating', 'Timestamp'], ['user', 'item', 'rating', 'time'], 's') };
    case 'movielens-csv':
      return { type: 'delimited', spec: preset(',', 'required', ['userId', 'movieId', 'rating', 'timestamp'], ['user', 'item', 'rating', 'time'], 's', true) };
    case 'movielens-hetrec':
      return { type: 'delimited', spec: preset('\t', 'required', ['userID', 'movieID', 'rating', 'timestamp'], ['user', 'item', 'rating', 'time'], 'ms') };
    case '30music':
      return { type: 'delimited', spec: preset('\t', 'optional', ['UserId', 'SessionId', 'ItemId', 'Time', 'ArtistId'], ['user', 'session', 'item', 'time', null], 's') };
    case 'retailrocket': {
      const spec = preset(',', 'required', ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid'], ['time', 'user', 'event', 'item', null], 'ms', true);
      const weights = format.eventWeights ?? DEFAULT_EVENT_WEIGHTS;
      const names = Object.keys(weights);
      if (names.length === 0) bad('eventWeights is empty');
      for (const n of names) if (!Number.isFinite(weights[n])) bad(`event weight for '${n}' is not a finite number`);
      const keepSet = new Set(format.events ?? names);
      for (const e of keepSet) if (!(e in weights)) bad(`event '${e}' is kept but has no weight (weights: ${names.join(', ')})`);
      spec.events = { names, weights: names.map((n) => weights[n]), keep: names.map((n) => keepSet.has(n)) };
      spec.fieldNames.rating = 'event';
      return { type: 'delimited', spec };
    }
    case 'delimited': {
      if (typeof format.delimiter !== 'string' || format.delimiter.length === 0) bad('delimiter must be a non-empty string');
      if (/[\r\n"]/.test(format.delimiter)) bad('delimiter must not contain a quote or a line break');
      const cols = format.columns;
      if (!cols || typeof cols !== 'object') bad('columns (a mapping of user, item, time, optional rating and session) is missing');
      const columns: Partial<Record<Role, ColumnRef>> = {};
      const fieldNames: Partial<Record<Role, string>> = {};
      for (const role of ['user', 'item', 'time', 'rating', 'session'] as const) {
        const ref = cols[role];
        if (ref === undefined) {
          if (role === 'user' || role === 'item' || role === 'time') bad(`columns.${role} is missing`);
          continue;
        }
        if (typeof ref === 'number') {
          if (!Number.isInteger(ref) || ref < 0) bad(`columns.${role} must be a header name or a 0-based index, got ${ref}`);
          fieldNames[role] = `${role} (index ${ref})`;
        } else if (typeof ref === 'string') {
          if (!format.header) bad(`columns.${role} is given by name ('${ref}') but the file has no header; give a 0-based index`);
        } else {
          bad(`columns.${role} must be a header name or a 0-based index`);
        }
        columns[role] = ref;
      }
      const timeFormat = format.timeFormat ?? 'number';
      const timeUnit = format.timeUnit ?? 's';
      if (timeFormat !== 'number' && timeFormat !== 'iso') bad(`timeFormat must be 'number' or 'iso'`);
      if (timeUnit !== 's' && timeUnit !== 'ms') bad(`timeUnit must be 's' or 'ms'`);
      return {
        type: 'delimited',
        spec: {
          delimiter: format.delimiter, quote: format.quote ?? true, header: format.header ? 'required' : 'none',
          expectedHeader: null, columns, fieldNames, columnCount: null, timeFormat, timeUnit, events: null,
        },
      };
    }
    case 'jsonl': {
      const k = format.keys;
      if (!k || typeof k !== 'object') bad('keys (a mapping of user, item, time, optional rating and session) is missing');
      for (const role of ['user', 'item', 'time'] as const) if (typeof k[role] !== 'string') bad(`keys.${role} must be a string`);
      for (const role of ['rating', 'session'] as const) if (k[role] !== undefined && typeof k[role] !== 'string') bad(`keys.${role} must be a string`);
      const timeFormat = format.timeFormat ?? 'number';
      const timeUnit = format.timeUnit ?? 's';
      if (timeFormat !== 'number' && timeFormat !== 'iso') bad(`timeFormat must be 'number' or 'iso'`);
      if (timeUnit !== 's' && timeUnit !== 'ms') bad(`timeUnit must be 's' or 'ms'`);
      return { type: 'jsonl', spec: { keys: { ...k }, timeFormat, timeUnit } };
    }
    default:
      return bad(`unknown kind '${(format as { kind: string }).kind}'; ${knownFormatsHelp()}`);
  }
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Seconds since the epoch for an ISO-8601 date or date-time; NaN when the text is not one. A time
 * without a zone is taken as UTC (not the machine's local time), so results do not depend on where
 * the reader runs.
 */
export function parseIsoSeconds(text: string): number {
  const m = ISO_RE.exec(text.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  let z = zone.toUpperCase();
  if (z !== 'Z') {
    const sign = z[0], digits = z.slice(1).replace(':', '');
    z = `${sign}${digits.slice(0, 2)}:${digits.length > 2 ? digits.slice(2) : '00'}`;
  }
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac.slice(0, 4)}${z}`);
  if (Number.isNaN(ms)) return NaN;
  // sub-millisecond digits beyond what Date keeps
  const extra = frac.length > 4 ? Number(`0.000${frac.slice(4)}`) : 0;
  return ms / 1000 + extra;
}
