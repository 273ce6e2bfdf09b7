// Building InteractionLogs by hand for the data-layer tests.
import assert from 'node:assert/strict';
import { DataError } from '../src/data/errors.js';
import type { InteractionLog } from '../src/data/types.js';

export type LogRow = { u: string; i: string; t: number; r?: number; s?: string };

/** A log with keys interned in order of first appearance, as readers do. */
export function makeLog(rows: LogRow[], source = 'test.csv'): InteractionLog {
  const intern = (keys: string[], map: Map<string, number>, k: string): number => {
    let v = map.get(k);
    if (v === undefined) { v = keys.length; keys.push(k); map.set(k, v); }
    return v;
  };
  const userKeys: string[] = [], itemKeys: string[] = [], sessionKeys: string[] = [];
  const um = new Map<string, number>(), im = new Map<string, number>(), sm = new Map<string, number>();
  const hasRating = rows.some((r) => r.r !== undefined), hasSession = rows.some((r) => r.s !== undefined);
  return {
    source,
    user: Int32Array.from(rows, (r) => intern(userKeys, um, r.u)),
    item: Int32Array.from(rows, (r) => intern(itemKeys, im, r.i)),
    time: Float64Array.from(rows, (r) => r.t),
    rating: hasRating ? Float32Array.from(rows, (r) => r.r ?? 0) : null,
    session: hasSession ? Int32Array.from(rows, (r) => intern(sessionKeys, sm, r.s!)) : null,
    line: Int32Array.from(rows, (_, k) => k + 1),
    userKeys, itemKeys, sessionKeys: hasSession ? sessionKeys : null, skipped: {},
  };
}

/** Asserts that fn throws a DataError with exactly this message (and line/field properties). */
export function throwsData(fn: () => unknown, file: string, detail: string | RegExp, line?: number, field?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.equal(err.line, line);
    assert.equal(err.field, field);
    const prefix = `${file}${line !== undefined ? `:${line}` : ''}${field ? ` (field '${field}')` : ''}: `;
    assert.ok(err.message.startsWith(prefix), `message ${JSON.stringify(err.message)} should start with ${JSON.stringify(prefix)}`);
    if (typeof detail === 'string') assert.equal(err.message, prefix + detail);
    else assert.match(err.message.slice(prefix.length), detail);
    return true;
  });
}
