// Delimited text (CSV, TSV, '::', runs of blanks, ...) with a column mapping: the reader behind
// every column-per-field layout (the MovieLens, RetailRocket, 30Music and RecBole presets, pairs in
// file order) and the generic family for any other such file. Without a time column the order of a
// user's rows is their order in the file.
import { DataError } from '../errors.js';
import type { InteractionLog } from '../types.js';
import { Tokenizer, parseNumberBytes, shown, trimEnd, trimStart } from './bytes.js';
import { forEachRecord, type ReadLogOptions } from './chunks.js';
import { allKnown, checkDelimiter, formatFail, pickRole, splitSimple, type FormatFamily } from './family.js';
import { LogBuilder, SKIP_REASONS, type Interner } from './log-builder.js';
import { parseIsoSeconds, timeGuess, type TimeFormat, type TimeUnit } from './time.js';

/** A column given by its header name, or by its 0-based index (the only choice without a header). */
export type ColumnRef = string | number;

export interface ColumnMapping {
  user: ColumnRef;
  item: ColumnRef;
  /** Absent: the file has no time column, and the order of a user's rows in the file is their order. */
  time?: ColumnRef;
  rating?: ColumnRef;
  /** When given, a sequence is a session rather than a user's whole history. */
  session?: ColumnRef;
}

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

export type Role = 'user' | 'item' | 'time' | 'rating' | 'session' | 'event';

/** Everything the delimited reader needs, with columns still possibly by name (resolved against the header). */
export interface DelimitedSpec {
  /** null: runs of blanks (spaces, tabs). */
  delimiter: string | null;
  quote: boolean;
  /** 'required': the first line must be a header; 'optional': taken as one when it holds the expected names. */
  header: 'none' | 'required' | 'optional';
  /** Column names a header must hold (required/optional headers of presets), compared case-insensitively. */
  expectedHeader: string[] | null;
  /** Roles to columns; without `time` the rows' order in the file is their order. */
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

/** The spec of a published layout: its column names, the role of each (null: not read), its time unit. */
export function preset(
  delimiter: string | null, header: DelimitedSpec['header'], names: string[], roles: (Role | null)[], timeUnit: TimeUnit, quote = false,
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

// ---- the reader ----

export function readDelimited(path: string, spec: DelimitedSpec, options: ReadLogOptions): InteractionLog {
  const tok = new Tokenizer(spec.delimiter === null ? null : Buffer.from(spec.delimiter, 'utf8'), spec.quote);
  const hasRating = spec.columns.rating !== undefined || spec.events !== null;
  const log = new LogBuilder(path, options.lenient ?? false, hasRating, spec.columns.session !== undefined,
    spec.columns.time === undefined ? 'file' : 'time');
  const { users, items, sessions } = log;

  // resolved column indices (-1: absent) and field names for messages
  let cUser = -1, cItem = -1, cTime = -1, cRating = -1, cSession = -1, cEvent = -1;
  const names: Partial<Record<Role, string>> = { ...spec.fieldNames };
  let expectedCount = spec.columnCount ?? -1;
  let columnNames: string[] | null = spec.header === 'none' ? null : spec.expectedHeader;
  let headerPending = spec.header !== 'none';
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
  const bad = (reason: string, detail: string, at: number, field?: string): never => log.bad(reason, detail, at, field);

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
    log.seenContent = true;
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
    log.dataRows++;
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
    let t: number;
    if (cTime >= 0) {
      t = numberOf(b, cTime, 'time', at, hint);
      if (msToS && !iso) t /= 1000;
    } else {
      t = log.rows;
    }
    const r = cRating >= 0 ? numberOf(b, cRating, 'rating', at, hint) : weight;
    const sess = sessions ? idOf(b, cSession, sessions, 'session', at) : 0;
    log.push(u, i, t, r, sess, at);
  };

  forEachRecord(log, options, tok, record);
  return log.finish();
}

// ---- the generic family ----

const ROLES = ['user', 'item', 'time', 'rating', 'session'] as const;

export const delimited: FormatFamily<DelimitedFormat> = {
  kinds: ['delimited'],
  names: [],
  describe: (f) => `delimited file (delimiter ${JSON.stringify(f.delimiter)}, ${f.header ? 'header' : 'no header'}${f.columns?.time === undefined ? ', file order' : ''})`,

  compile(format, file) {
    const fail = formatFail(file);
    checkDelimiter(format.delimiter, fail);
    const cols = format.columns;
    if (!cols || typeof cols !== 'object') fail('columns (a mapping of user, item, optional time, rating and session) is missing');
    const columns: Partial<Record<Role, ColumnRef>> = {};
    const fieldNames: Partial<Record<Role, string>> = {};
    for (const role of ROLES) {
      const ref = cols[role];
      if (ref === undefined) {
        if (role === 'user' || role === 'item') fail(`columns.${role} is missing`);
        continue;
      }
      if (typeof ref === 'number') {
        if (!Number.isInteger(ref) || ref < 0) fail(`columns.${role} must be a header name or a 0-based index, got ${ref}`);
        fieldNames[role] = `${role} (index ${ref})`;
      } else if (typeof ref === 'string') {
        if (!format.header) fail(`columns.${role} is given by name ('${ref}') but the file has no header; give a 0-based index`);
      } else {
        fail(`columns.${role} must be a header name or a 0-based index`);
      }
      columns[role] = ref;
    }
    const timeFormat = format.timeFormat ?? 'number';
    const timeUnit = format.timeUnit ?? 's';
    if (timeFormat !== 'number' && timeFormat !== 'iso') fail(`timeFormat must be 'number' or 'iso'`);
    if (timeUnit !== 's' && timeUnit !== 'ms') fail(`timeUnit must be 's' or 'ms'`);
    const spec: DelimitedSpec = {
      delimiter: format.delimiter, quote: format.quote ?? true, header: format.header ? 'required' : 'none',
      expectedHeader: null, columns, fieldNames, columnCount: null, timeFormat, timeUnit, events: null,
    };
    return (path, options) => readDelimited(path, spec, options);
  },

  /** A header naming user and item columns in a usual way, and a time column unless every column is a known one. */
  detect({ lines }) {
    const row = lines[1];
    for (const delimiter of [',', '\t', ';', '|', '::']) {
      const header = splitSimple(lines[0], delimiter);
      if (header.length < 2) continue;
      const pick = (role: (typeof ROLES)[number]): string | undefined => pickRole(header, role)?.trim();
      const user = pick('user'), item = pick('item'), time = pick('time');
      if (!user || !item) continue;
      const rating = pick('rating'), session = pick('session');
      if (time) {
        const h = header.map((x) => x.trim().toLowerCase());
        const tg = timeGuess(row !== undefined ? splitSimple(row, delimiter)[h.indexOf(time.toLowerCase())] : undefined);
        if (!tg) continue;
        return {
          kind: 'delimited', delimiter, header: true,
          columns: { user, item, time, ...(rating ? { rating } : {}), ...(session ? { session } : {}) }, ...tg,
        };
      }
      const mapping = `user=${user},item=${item}${rating ? `,rating=${rating}` : ''}${session ? `,session=${session}` : ''}`;
      if (allKnown(header)) return { kind: 'delimited', delimiter, header: true, columns: { user, item, ...(rating ? { rating } : {}), ...(session ? { session } : {}) } };
      return {
        maybe: `the header names user and item columns but no time column among others (${header.map((x) => `'${x.trim()}'`).join(', ')}): ` +
          `give --columns ${mapping},time=<column> --delimiter ${JSON.stringify(delimiter)}, or without time=, if the rows are in time order`,
      };
    }
    return null;
  },
};
