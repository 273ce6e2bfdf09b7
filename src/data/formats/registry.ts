// The format registry: every family module in one list, in the order detection tries them, with
// the --format names, the check of a format object into its reader, and detection from a file's
// name and first lines. A new format is a module under formats/ plus one entry in FAMILIES.
import { DataError } from '../errors.js';
import type { ArrowFormat, ParquetFormat } from './columnar.js';
import type { DelimitedFormat } from './delimited.js';
import type { JsonLinesFormat } from './jsonl.js';
import type { MovieLens100kFormat, MovieLensCsvFormat, MovieLensDatFormat, MovieLensHetrecFormat } from './movielens.js';
import type { PairsFormat } from './pairs.js';
import type { RecBoleFormat } from './recbole.js';
import type { RetailRocketFormat } from './retailrocket.js';
import type { ThirtyMusicFormat } from './thirty-music.js';
import type { UserPerLineFormat } from './user-per-line.js';
import { shown } from './bytes.js';
import { readSample } from './chunks.js';
import { arrowFamily, columnarKindOf, parquetFamily } from './columnar.js';
import { delimited } from './delimited.js';
import type { FormatFamily, LogReader } from './family.js';
import { jsonLines } from './jsonl.js';
import { movielens } from './movielens.js';
import { pairs } from './pairs.js';
import { recbole } from './recbole.js';
import { retailrocket } from './retailrocket.js';
import { thirtyMusic } from './thirty-music.js';
import { userPerLine } from './user-per-line.js';

/** Every format object readLog takes (plain, JSON-serialisable: cache manifests record them). */
export type LogFormat =
  | MovieLens100kFormat
  | MovieLensDatFormat
  | MovieLensCsvFormat
  | MovieLensHetrecFormat
  | RetailRocketFormat
  | ThirtyMusicFormat
  | DelimitedFormat
  | JsonLinesFormat
  | PairsFormat
  | UserPerLineFormat
  | RecBoleFormat
  | ParquetFormat
  | ArrowFormat;

/**
 * Detection order: the binary columnar files by their magic bytes (Parquet's 'PAR1', Arrow's
 * 'ARROW1'), the published layouts by their names and headers, typed RecBole headers, JSON Lines,
 * generic headers, and last the headerless id lists (whose only clue is that every field is an
 * integer).
 */
const FAMILIES = [parquetFamily, arrowFamily, movielens, thirtyMusic, retailrocket, recbole, jsonLines, delimited, pairs, userPerLine] as unknown as FormatFamily[];

function familyOf(kind: string): FormatFamily | undefined {
  return FAMILIES.find((f) => (f.kinds as readonly string[]).includes(kind));
}

const NAMES = FAMILIES.flatMap((f) => f.names);
/** Published layouts first, as before the file-order formats existed. */
const ORDER = ['movielens-100k', 'movielens-1m', 'movielens-10m', 'movielens-latest', 'movielens-20m', 'movielens-25m', 'movielens-32m',
  'movielens-2k', 'retailrocket', '30music', 'pairs', 'user-per-line', 'recbole', 'parquet', 'arrow'];

/** Names accepted by `formatByName` (for a command line), each with what it reads. */
export const FORMAT_NAMES: Readonly<Record<string, string>> = Object.freeze(Object.fromEntries(
  [...NAMES].sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name)).map((n) => [n.name, n.reads])));

/** The format for a name in FORMAT_NAMES or one of its aliases (generic delimited files and JSON Lines need a mapping instead). */
export function formatByName(name: string): LogFormat {
  const lower = name.toLowerCase();
  const found = NAMES.find((n) => n.name === lower || n.aliases?.includes(lower));
  if (!found) {
    throw new DataError(name, `unknown format name; known: ${Object.keys(FORMAT_NAMES).join(', ')} ` +
      '(other files: a delimited file or JSON Lines with a column mapping)');
  }
  return structuredClone(found.format) as LogFormat; // the families' names hold their own formats
}

/** One-line description of a format, for messages. */
export function describeFormat(format: LogFormat): string {
  return familyOf(format.kind)!.describe(format);
}

/** The list of known formats and how to give a mapping, for "cannot tell the format" messages. */
export function knownFormatsHelp(): string {
  return `known formats: ${Object.keys(FORMAT_NAMES).join(', ')}; for any other delimited file (CSV, TSV, any delimiter) ` +
    'or JSON Lines give a column mapping: user, item, time, optional rating and session, by header name ' +
    '(or by 0-based index when the file has no header), and the time format (number in s or ms, or ISO-8601); ' +
    'a mapping without time reads the rows in file order';
}

/** Checks a format given by a user and returns its reader; a bad format is a DataError on `file`. */
export function compileFormat(format: LogFormat, file: string): LogReader {
  if (!format || typeof format !== 'object' || typeof (format as { kind?: unknown }).kind !== 'string') {
    throw new DataError(file, `bad format: expected an object with a 'kind'; ${knownFormatsHelp()}`);
  }
  const family = familyOf(format.kind);
  if (!family) throw new DataError(file, `bad format: unknown kind '${format.kind}'; ${knownFormatsHelp()}`);
  return family.compile(format, file);
}

/**
 * Guesses a file's format from its name and first lines (each family's rule is on its detect). The
 * first family that recognises the file wins; when none does, the error names the families that
 * could not tell (and why), and the --format names and mappings to choose from.
 */
export function detectFormat(path: string): LogFormat {
  const sample = readSample(path);
  if (sample.lines.length === 0 && columnarKindOf(sample.head, sample.base) === null) {
    throw new DataError(path, 'empty file');
  }
  const maybes: string[] = [];
  for (const family of FAMILIES) {
    const found = family.detect?.(sample) ?? null;
    if (found === null) continue;
    if ('maybe' in found) maybes.push(found.maybe);
    else return found as LogFormat; // a family detects only its own formats
  }
  const why = maybes.length ? `: ${maybes.join('; or ')}` : '';
  throw new DataError(path, `cannot tell the format (first line: ${shown(sample.lines[0])})${why}; ${knownFormatsHelp()}`, 1);
}
