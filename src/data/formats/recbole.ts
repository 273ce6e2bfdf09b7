// RecBole atomic files (.inter): tab-separated, a typed header (`user_id:token item_id:token
// rating:float timestamp:float`), fields in any order. The fields are found by name when the file is
// read; without a timestamp the order of a user's rows in the file is their order, and a rating
// field is the log's rating (so --min-rating applies).
import { DataError } from '../errors.js';
import { shown } from './bytes.js';
import { readSample } from './chunks.js';
import { readDelimited, type DelimitedSpec } from './delimited.js';
import { pickRole, type FormatFamily } from './family.js';

export interface RecBoleFormat { kind: 'recbole' }

/** A RecBole field: name and type. */
const TYPED = /^([^:\s]+):(token|token_seq|float|float_seq)$/i;
const READS = 'RecBole atomic .inter file (tab-separated, typed header user_id:token item_id:token [rating:float] [timestamp:float])';

/** The delimited spec for this file's header (user, item, and timestamp, rating, session when present). */
function specOf(path: string): DelimitedSpec {
  const { lines } = readSample(path, 1);
  if (lines.length === 0) throw new DataError(path, 'empty file');
  const header = lines[0].split('\t').map((h) => h.trim());
  const untyped = header.filter((h) => !TYPED.test(h));
  if (untyped.length > 0) {
    throw new DataError(path, `a RecBole header names each field as name:type (token, token_seq, float, float_seq); found ${untyped.map(shown).join(', ')}`, 1, untyped[0]);
  }
  const bare = (h: string): string => TYPED.exec(h)![1];
  const find = (role: 'user' | 'item' | 'time' | 'rating' | 'session'): string | undefined => pickRole(header, role, bare);
  const session = find('session');
  const user = find('user') ?? session; // session data sets name their sequences session_id
  const item = find('item');
  if (!user || !item) {
    const lacking = !user ? 'user (user_id:token)' : 'item (item_id:token)';
    throw new DataError(path, `the RecBole header names no ${lacking} field (found: ${header.map((h) => `'${h}'`).join(', ')})`, 1, !user ? 'user_id' : 'item_id');
  }
  const time = find('time'), rating = find('rating');
  return {
    delimiter: '\t', quote: false, header: 'required', expectedHeader: null,
    columns: { user, item, ...(time ? { time } : {}), ...(rating ? { rating } : {}), ...(session && session !== user ? { session } : {}) },
    fieldNames: {}, columnCount: null, timeFormat: 'number', timeUnit: 's', events: null,
  };
}

export const recbole: FormatFamily<RecBoleFormat> = {
  kinds: ['recbole'],
  names: [{ name: 'recbole', aliases: ['recbole-inter', 'inter', 'atomic'], reads: READS, format: { kind: 'recbole' } }],
  describe: () => 'RecBole atomic .inter file',
  compile: () => (path, options) => readDelimited(path, specOf(path), options),

  /** A tab-separated first line whose every field is name:type. */
  detect({ base, lines }) {
    const header = lines[0].split('\t').map((h) => h.trim());
    if (header.length >= 2 && header.every((h) => TYPED.test(h))) return { kind: 'recbole' };
    return base.endsWith('.inter') ? { maybe: 'a .inter name, but the first line is not a RecBole header (tab-separated name:type fields)' } : null;
  },
};
