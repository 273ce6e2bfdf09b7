// Times as logs write them: numbers in seconds or milliseconds, or ISO-8601 dates. Every reader
// turns them into seconds, so that `InteractionLog.time` has one unit whatever the file used.

/** 'number': seconds or milliseconds as numbers (see TimeUnit); 'iso': ISO-8601 dates, e.g. 2015-06-02T05:02:12Z. */
export type TimeFormat = 'number' | 'iso';
/** Unit of numeric times; 'ms' values are divided by 1000 so that `InteractionLog.time` is always seconds. */
export type TimeUnit = 's' | 'ms';

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

/** Whether a text is a decimal number (blanks around it allowed). */
export const isNum = (s: string): boolean => /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s);

/** How a sample time value is written, or null when it is neither a number nor an ISO date. */
export function timeGuess(value: string | number | undefined): { timeFormat: TimeFormat; timeUnit: TimeUnit } | null {
  if (value === undefined) return { timeFormat: 'number', timeUnit: 's' };
  if (typeof value === 'number' || isNum(value)) {
    // epoch seconds pass 1e11 only in the year 5138; epoch milliseconds pass it in 1973
    return { timeFormat: 'number', timeUnit: Math.abs(Number(value)) >= 1e11 ? 'ms' : 's' };
  }
  if (!Number.isNaN(parseIsoSeconds(value))) return { timeFormat: 'iso', timeUnit: 's' };
  return null;
}
