// Reads an interaction log into columnar typed arrays. Each format family is a module under
// formats/ behind formats/registry.ts; they share one byte-level tokenizer (formats/bytes.ts), one
// chunked file reader (formats/chunks.ts) and one log builder (formats/log-builder.ts). Built for
// 10-million-row files: the file is read in fixed chunks into one reused Buffer, records are
// tokenised byte by byte, ids are interned without a string per row, and the columns grow
// geometrically from an estimate taken on the first chunk. Bad input is a DataError naming file,
// line and field, or (lenient) a skip counted by reason in `log.skipped`.
import type { LogFormat } from './formats.js';
import type { ReadLogOptions } from './formats/chunks.js';
import { compileFormat, detectFormat as detect } from './formats/registry.js';
import type { InteractionLog } from './types.js';

export type { ReadLogOptions } from './formats/chunks.js';
export { parseNumberBytes } from './formats/bytes.js';

/**
 * Reads an interaction log. Rows keep file order; ids are interned in order of first appearance;
 * `time` is in seconds (millisecond formats are divided by 1000; ISO dates become epoch seconds),
 * or, for formats without time, the row's position in the file (`log.order` is then 'file').
 * Throws a DataError naming file, line and field for bad input, unless `lenient`, which skips bad
 * rows and counts them by reason in `log.skipped`.
 */
export function readLog(path: string, format: LogFormat, options: ReadLogOptions = {}): InteractionLog {
  return compileFormat(format, path)(path, options);
}

/**
 * Guesses a file's format from its name and first lines: the MovieLens layouts, RetailRocket,
 * 30Music, RecBole atomic files, JSON Lines, delimited files whose header names user and item (and
 * time) columns in a usual way, and headerless integer ids (pairs, or one user per line). Anything
 * else, or a file two formats could read, is a DataError listing the known formats.
 */
export function detectFormat(path: string): LogFormat {
  return detect(path);
}
