// RetailRocket e-commerce events: each kept event's weight becomes the row's rating.
import { preset, readDelimited } from './delimited.js';
import { formatFail, sameHeader, splitSimple, type FormatFamily } from './family.js';

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

export const DEFAULT_EVENT_WEIGHTS: Readonly<Record<string, number>> = Object.freeze({ view: 1, addtocart: 2, transaction: 3 });

const HEADER = ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid'];
const READS = 'RetailRocket events.csv (timestamp,visitorid,event,itemid,transactionid; ms)';

export const retailrocket: FormatFamily<RetailRocketFormat> = {
  kinds: ['retailrocket'],
  names: [{ name: 'retailrocket', reads: READS, format: { kind: 'retailrocket' } }],
  describe: () => READS,

  compile(format, file) {
    const fail = formatFail(file);
    const spec = preset(',', 'required', HEADER, ['time', 'user', 'event', 'item', null], 'ms', true);
    const weights = format.eventWeights ?? DEFAULT_EVENT_WEIGHTS;
    const names = Object.keys(weights);
    if (names.length === 0) fail('eventWeights is empty');
    for (const n of names) if (!Number.isFinite(weights[n])) fail(`event weight for '${n}' is not a finite number`);
    const keepSet = new Set(format.events ?? names);
    for (const e of keepSet) if (!(e in weights)) fail(`event '${e}' is kept but has no weight (weights: ${names.join(', ')})`);
    spec.events = { names, weights: names.map((n) => weights[n]), keep: names.map((n) => keepSet.has(n)) };
    spec.fieldNames.rating = 'event';
    return (path, options) => readDelimited(path, spec, options);
  },

  detect: ({ lines }) => (sameHeader(splitSimple(lines[0], ','), HEADER) ? { kind: 'retailrocket' } : null),
};
