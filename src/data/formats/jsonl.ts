// JSON Lines: one object per line, keys mapped to roles. Without a time key the order of a user's
// lines is their order.
import type { InteractionLog } from '../types.js';
import { CR, NL, parseNumberBytes, shown, type RecordSplitter } from './bytes.js';
import { forEachRecord, type ReadLogOptions } from './chunks.js';
import { allKnown, formatFail, pickRole, type FormatFamily } from './family.js';
import { LogBuilder, SKIP_REASONS, type Interner } from './log-builder.js';
import { parseIsoSeconds, timeGuess, type TimeFormat, type TimeUnit } from './time.js';

/** JSON Lines: one object per line; `keys` names the object keys holding each column. */
export interface JsonLinesFormat {
  kind: 'jsonl';
  /** No `time`: the order of a user's lines is their order. */
  keys: { user: string; item: string; time?: string; rating?: string; session?: string };
  timeFormat?: TimeFormat;
  timeUnit?: TimeUnit;
}

/** Lines, as byte ranges of the chunk buffer (CR removed). */
class LineSplitter implements RecordSplitter {
  start = 0;
  end = 0;
  readonly newlines = 0;
  next(b: Buffer, p: number, limit: number, eof: boolean): number {
    let eol = b.indexOf(NL, p);
    if (eol >= limit) eol = -1;
    if (eol < 0 && !eof) return -1;
    const end = eol < 0 ? limit : eol;
    this.start = p;
    this.end = end > p && b[end - 1] === CR ? end - 1 : end;
    return eol < 0 ? limit : eol + 1;
  }
}

function readJsonLines(path: string, format: Required<Pick<JsonLinesFormat, 'keys' | 'timeFormat' | 'timeUnit'>>, options: ReadLogOptions): InteractionLog {
  const k = format.keys;
  const log = new LogBuilder(path, options.lenient ?? false, k.rating !== undefined, k.session !== undefined, k.time === undefined ? 'file' : 'time');
  const { users, items, sessions } = log;
  const iso = format.timeFormat === 'iso';
  const bad = (reason: string, detail: string, at: number, field?: string): never => log.bad(reason, detail, at, field);
  const idOf = (o: Record<string, unknown>, key: string, interner: Interner, role: string, at: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return bad(`${SKIP_REASONS.missing} (${key})`, `no '${key}' (the ${role} id)`, at, key);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return bad(`${SKIP_REASONS.empty} (${key})`, `${role} id ${String(v)} is not an id`, at, key);
      return interner.fromText(String(v));
    }
    if (typeof v !== 'string') return bad(`${SKIP_REASONS.empty} (${key})`, `${role} id must be a string or a number, got ${JSON.stringify(v)}`, at, key);
    const t = v.trim();
    if (t.length === 0) return bad(`${SKIP_REASONS.empty} (${key})`, `empty ${role} id`, at, key);
    return interner.fromText(t);
  };
  const numberOf = (o: Record<string, unknown>, key: string, role: 'time' | 'rating', at: number): number => {
    const v = o[key];
    if (v === undefined || v === null) return bad(`${SKIP_REASONS.missing} (${key})`, `no '${key}' (the ${role})`, at, key);
    let n = NaN;
    if (role === 'time' && iso) {
      if (typeof v === 'string') n = parseIsoSeconds(v);
    } else if (typeof v === 'number') {
      n = v;
    } else if (typeof v === 'string') {
      const buf = Buffer.from(v, 'utf8');
      n = parseNumberBytes(buf, 0, buf.length);
    }
    if (!Number.isFinite(n)) {
      const what = role === 'time' && iso ? 'an ISO-8601 date' : 'a number';
      return bad(role === 'time' ? `${SKIP_REASONS.time} (${key})` : `${SKIP_REASONS.rating} (${key})`,
        `${shown(typeof v === 'string' ? v : JSON.stringify(v))} is not ${what}`, at, key);
    }
    return role === 'time' && !iso && format.timeUnit === 'ms' ? n / 1000 : n;
  };

  const lines = new LineSplitter();
  forEachRecord(log, options, lines, (b, at) => {
    const text = b.toString('utf8', lines.start, lines.end);
    if (text.trim().length === 0) return;
    log.seenContent = true;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (err) {
      return bad(SKIP_REASONS.json, `malformed JSON (${(err as Error).message})`, at);
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return bad(SKIP_REASONS.json, 'expected a JSON object on the line', at);
    log.dataRows++;
    const obj = o as Record<string, unknown>;
    const u = idOf(obj, k.user, users, 'user', at);
    const i = idOf(obj, k.item, items, 'item', at);
    const t = k.time !== undefined ? numberOf(obj, k.time, 'time', at) : log.rows;
    const r = k.rating !== undefined ? numberOf(obj, k.rating, 'rating', at) : 0;
    const s = sessions ? idOf(obj, k.session!, sessions, 'session', at) : 0;
    log.push(u, i, t, r, s, at);
  });
  return log.finish();
}

export const jsonLines: FormatFamily<JsonLinesFormat> = {
  kinds: ['jsonl'],
  names: [],
  describe: (f) => `JSON Lines${f.keys?.time === undefined ? ' (file order)' : ''}`,

  compile(format, file) {
    const fail = formatFail(file);
    const k = format.keys;
    if (!k || typeof k !== 'object') fail('keys (a mapping of user, item, optional time, rating and session) is missing');
    for (const role of ['user', 'item'] as const) if (typeof k[role] !== 'string') fail(`keys.${role} must be a string`);
    for (const role of ['time', 'rating', 'session'] as const) if (k[role] !== undefined && typeof k[role] !== 'string') fail(`keys.${role} must be a string`);
    const timeFormat = format.timeFormat ?? 'number';
    const timeUnit = format.timeUnit ?? 's';
    if (timeFormat !== 'number' && timeFormat !== 'iso') fail(`timeFormat must be 'number' or 'iso'`);
    if (timeUnit !== 's' && timeUnit !== 'ms') fail(`timeUnit must be 's' or 'ms'`);
    const spec = { keys: { ...k }, timeFormat, timeUnit };
    return (path, options) => readJsonLines(path, spec, options);
  },

  /** A first line that is a JSON object with user and item keys, and a time key unless every key is a known one. */
  detect({ base, lines }) {
    const first = lines[0];
    if (!first.trimStart().startsWith('{') && !base.endsWith('.jsonl') && !base.endsWith('.ndjson')) return null;
    let o: unknown;
    try { o = JSON.parse(first); } catch { o = null; }
    if (o && typeof o === 'object' && !Array.isArray(o)) {
      const keys = Object.keys(o);
      const user = pickRole(keys, 'user'), item = pickRole(keys, 'item'), time = pickRole(keys, 'time');
      const rating = pickRole(keys, 'rating'), session = pickRole(keys, 'session');
      const optional = { ...(rating ? { rating } : {}), ...(session ? { session } : {}) };
      if (user && item && time) {
        const tg = timeGuess((o as Record<string, string | number>)[time]);
        if (tg) return { kind: 'jsonl', keys: { user, item, time, ...optional }, ...tg };
      } else if (user && item && allKnown(keys)) {
        return { kind: 'jsonl', keys: { user, item, ...optional } };
      }
    }
    return { maybe: 'JSON Lines, but the first line does not name user, item and time keys in a usual way ' +
      '(user and item alone do when every key is a known one: the file order is then the order)' };
  },
};
