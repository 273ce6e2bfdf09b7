// Property: for random small logs, every way of writing a log without times (pairs in file order,
// one user per line, RecBole .inter with and without a timestamp, CSV/TSV/JSON Lines without a
// time column) gives exactly the sequences of the equivalent timestamped CSV, read with the format
// named or detected, in chunks of any size.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataError } from '../src/data/errors.js';
import type { LogFormat } from '../src/data/formats.js';
import { preprocess } from '../src/data/preprocess.js';
import { detectFormat, readLog } from '../src/data/read-log.js';
import type { InteractionLog } from '../src/data/types.js';

const dir = mkdtempSync(join(tmpdir(), 'adarec-format-props-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function write(name: string, text: string): string {
  const path = join(dir, `${counter++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** User key -> item keys in sequence order, after the default preprocessing (no filters). */
function sequences(log: InteractionLog): Map<string, string[]> {
  const ds = preprocess(log, { duplicates: 'keep-all', bySession: false });
  const out = new Map<string, string[]>();
  ds.sequenceKeys.forEach((key, s) => out.set(key, Array.from(ds.items.subarray(ds.offsets[s], ds.offsets[s + 1]), (i) => ds.itemKeys[i - 1])));
  return out;
}

type Event = { user: string; item: string; rating: number };

/** A random log: events in time order, ids written as plain integers or with a prefix, and a shuffle of the rows. */
const logArb = fc.record({
  events: fc.array(fc.record({ u: fc.integer({ min: 0, max: 6 }), i: fc.integer({ min: 0, max: 15 }), r: fc.integer({ min: 1, max: 5 }) }), { minLength: 1, maxLength: 50 }),
  numeric: fc.boolean(),
  gaps: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 50, maxLength: 50 }),
  shuffle: fc.array(fc.integer(), { minLength: 50, maxLength: 50 }),
  fieldOrder: fc.shuffledSubarray(['user_id:token', 'item_id:token', 'rating:float', 'timestamp:float'], { minLength: 4, maxLength: 4 }),
  chunkSize: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
}).map((g) => {
  const events: Event[] = g.events.map((e) => ({ user: g.numeric ? String(e.u + 1) : `u${e.u}`, item: g.numeric ? String(e.i + 1) : `i-${e.i}`, rating: e.r }));
  let t = 1_600_000_000;
  const times = events.map((_, k) => (t += g.gaps[k]));
  const order = events.map((_, k) => k).sort((a, b) => g.shuffle[a] - g.shuffle[b] || a - b);
  return { ...g, events, times, order };
});

describe('formats without times (properties)', () => {
  it('every format gives the sequences of the timestamped CSV', () => {
    fc.assert(fc.property(logArb, (g) => {
      const { events, times, order, chunkSize } = g;
      const csv = write('log.csv', 'user,item,rating,timestamp\n' + order.map((k) => `${events[k].user},${events[k].item},${events[k].rating},${times[k]}\n`).join(''));
      const want = sequences(readLog(csv, { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item', rating: 'rating', time: 'timestamp' } }));

      const byUser = new Map<string, string[]>();
      for (const e of events) byUser.set(e.user, [...(byUser.get(e.user) ?? []), e.item]);
      const fields = (e: Event, k: number): Record<string, string | number> =>
        ({ 'user_id:token': e.user, 'item_id:token': e.item, 'rating:float': e.rating, 'timestamp:float': times[k] });
      const untimed = g.fieldOrder.filter((f) => f !== 'timestamp:float');

      const files: [string, LogFormat][] = [
        [write('pairs.txt', events.map((e, k) => `${e.user}${k % 2 ? '\t' : ' '}${e.item}\n`).join('')), { kind: 'pairs' }],
        [write('pairs.csv', events.map((e) => `${e.user},${e.item}\r\n`).join('')), { kind: 'pairs', delimiter: ',' }],
        [write('users.txt', [...byUser].map(([u, items]) => `${u} ${items.join(' ')}\n`).join('')), { kind: 'user-per-line' }],
        [write('timed.inter', `${g.fieldOrder.join('\t')}\n` + order.map((k) => g.fieldOrder.map((f) => fields(events[k], k)[f]).join('\t') + '\n').join('')), { kind: 'recbole' }],
        [write('untimed.inter', `${untimed.join('\t')}\n` + events.map((e, k) => untimed.map((f) => fields(e, k)[f]).join('\t') + '\n').join('')), { kind: 'recbole' }],
        [write('notime.csv', 'user,item\n' + events.map((e) => `"${e.user}",${e.item}\n`).join('')), { kind: 'delimited', delimiter: ',', header: true, columns: { user: 'user', item: 'item' } }],
        [write('notime.tsv', events.map((e) => `${e.rating}\t${e.item}\t${e.user}\n`).join('')), { kind: 'delimited', delimiter: '\t', header: false, columns: { user: 2, item: 1 } }],
        [write('notime.jsonl', events.map((e) => `${JSON.stringify({ user_id: e.user, item_id: e.item, rating: e.rating })}\n`).join('')), { kind: 'jsonl', keys: { user: 'user_id', item: 'item_id' } }],
      ];
      for (const [path, format] of files) {
        const log = readLog(path, format, { chunkSize });
        assert.deepEqual(sequences(log), want, `${path} as ${JSON.stringify(format)}`);
        assert.equal(log.order, path.endsWith('-timed.inter') ? undefined : 'file');
        // detection, where the first lines tell, reads the same sequences
        let detected: LogFormat;
        try {
          detected = detectFormat(path);
        } catch (e) {
          if (e instanceof DataError && /cannot tell the format/.test(e.message)) continue;
          throw e;
        }
        assert.deepEqual(sequences(readLog(path, detected, { chunkSize })), want, `${path} detected as ${JSON.stringify(detected)}`);
      }
    }), { numRuns: 60 });
  });
});
