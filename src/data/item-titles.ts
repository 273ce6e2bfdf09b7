// Display titles of a catalog's items (the web page of `adarec export --web` shows them instead of
// bare ids): a text file whose first column is the item id and whose second is its title, as
// MovieLens ships them beside the ratings (ml-100k `u.item`, ml-1m `movies.dat`, the newer
// `movies.csv`), or any CSV/TSV of `id,title`. Rows whose id is not in the catalog (a header, items
// the preprocessing dropped) are ignored.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError } from './errors.js';

/** Titles files of the MovieLens releases, looked for beside a ratings file. */
export const KNOWN_TITLE_FILES = ['u.item', 'movies.dat', 'movies.csv'] as const;

/** The MovieLens titles file in the folder of `logFile`, or null. */
export function titlesFileBeside(logFile: string): string | null {
  for (const name of KNOWN_TITLE_FILES) {
    const path = join(dirname(logFile), name);
    if (existsSync(path)) return path;
  }
  return null;
}

/** The delimiter of a titles file, from its first line: `::`, tab, `|` or `,`, the first present. */
function delimiterOf(line: string): string | null {
  for (const d of ['::', '\t', '|', ',']) if (line.includes(d)) return d;
  return null;
}

/** The first two fields of a line; with ',' quoted fields (RFC 4180: "" is a quote) are understood. */
function firstTwo(line: string, delimiter: string): [string, string] | null {
  if (delimiter !== ',') {
    const parts = line.split(delimiter);
    return parts.length >= 2 ? [parts[0], parts[1]] : null;
  }
  const fields: string[] = [];
  let i = 0;
  while (fields.length < 2 && i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      for (i++; i < line.length; i++) {
        if (line[i] === '"' && line[i + 1] === '"') { value += '"'; i++; } else if (line[i] === '"') break;
        else value += line[i];
      }
      fields.push(value);
      i = line.indexOf(',', i) + 1 || line.length + 1;
    } else {
      const end = line.indexOf(',', i);
      fields.push(line.slice(i, end < 0 ? line.length : end));
      i = end < 0 ? line.length + 1 : end + 1;
    }
  }
  return fields.length === 2 ? [fields[0], fields[1]] : null;
}

/** Text as UTF-8, or as Latin-1 when it is not valid UTF-8 (the older MovieLens files). */
function decode(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * The title of each item of `itemKeys` (itemKeys[i] is the original id of model item i + 1), null
 * where the file has none. Errors name the file (and line): no delimiter, a line without a second
 * field, an id given two different titles.
 */
export function readItemTitles(file: string, itemKeys: readonly string[]): { titles: (string | null)[]; found: number } {
  if (!existsSync(file)) throw new DataError(file, 'no such titles file');
  const lines = decode(readFileSync(file)).split(/\r?\n/);
  const delimiter = delimiterOf(lines[0] ?? '');
  if (delimiter === null) throw new DataError(file, "expected 'id<delimiter>title' rows (delimiter '::', tab, '|' or ','); the first line has none", 1);
  const index = new Map(itemKeys.map((key, i) => [key, i]));
  const titles: (string | null)[] = new Array(itemKeys.length).fill(null);
  let found = 0;
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const fields = firstTwo(line, delimiter);
    if (!fields) throw new DataError(file, `expected at least two '${delimiter}'-separated fields (id, title)`, n + 1);
    const i = index.get(fields[0].trim());
    if (i === undefined) return;
    const title = fields[1].trim();
    if (titles[i] !== null && titles[i] !== title) throw new DataError(file, `item '${fields[0].trim()}' has two titles ('${titles[i]}' and '${title}')`, n + 1);
    if (titles[i] === null && title !== '') { titles[i] = title; found++; }
  });
  return { titles, found };
}
