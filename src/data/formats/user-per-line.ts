// One user per line, as S3Rec, CL4SRec, ICLRec and DuoRec publish their data: `user item item ...`
// with the items in the order of the user's interactions; no header, no time.
import type { InteractionLog } from '../types.js';
import { NL, SP, TAB, Tokenizer, trimEnd, trimStart } from './bytes.js';
import { forEachRecord, type ReadLogOptions } from './chunks.js';
import { checkDelimiter, formatFail, integerFieldCounts, type FormatFamily } from './family.js';
import { LogBuilder, SKIP_REASONS } from './log-builder.js';

export interface UserPerLineFormat {
  kind: 'user-per-line';
  /** Default: runs of blanks (spaces, tabs). */
  delimiter?: string;
}

function readUserPerLine(path: string, delimiter: string | null, options: ReadLogOptions): InteractionLog {
  const tok = new Tokenizer(delimiter === null ? null : Buffer.from(delimiter, 'utf8'), false, 256, true);
  const log = new LogBuilder(path, options.lenient ?? false, false, false, 'file');
  const { users, items } = log;
  forEachRecord(log, options, tok, (b, at) => {
    const nf = tok.count;
    if (nf === 1 && trimStart(b, tok.start[0], tok.end[0]) === tok.end[0]) return; // blank line
    log.seenContent = true;
    if (nf < 2) log.bad(SKIP_REASONS.noItems, 'a user without items (expected: user item item ...)', at, 'item 1');
    // the whole line is checked before any of its rows is kept, so that a skipped line leaves nothing behind
    for (let f = 0; f < nf; f++) {
      if (trimStart(b, tok.start[f], tok.end[f]) === tok.end[f]) {
        const field = f === 0 ? 'user' : `item ${f}`;
        log.bad(`${SKIP_REASONS.empty} (${f === 0 ? 'user' : 'item'})`, `empty ${f === 0 ? 'user' : 'item'} id`, at, field);
      }
    }
    log.dataRows++;
    const us = trimStart(b, tok.start[0], tok.end[0]);
    const u = users.fromBytes(b, us, trimEnd(b, us, tok.end[0]));
    for (let f = 1; f < nf; f++) {
      const s = trimStart(b, tok.start[f], tok.end[f]);
      log.push(u, items.fromBytes(b, s, trimEnd(b, s, tok.end[f])), log.rows, 0, 0, at);
    }
  }, (b, from, len) => {
    // items per line in the first chunk, to size the columns
    const d0 = delimiter === null ? -1 : delimiter.charCodeAt(0);
    let fields = 0, lines = 0, inField = false;
    for (let p = from; p < len; p++) {
      const c = b[p];
      if (c === NL) { lines++; inField = false; } else if (c === SP || c === TAB || c === d0) inField = false;
      else if (!inField) { inField = true; fields++; }
    }
    return lines > 0 ? Math.max(1, (fields - lines) / lines) : 1;
  });
  return log.finish();
}

const READS = '`user item item ...` in time order, blank-separated, no header (S3Rec, CL4SRec, ICLRec, DuoRec)';

export const userPerLine: FormatFamily<UserPerLineFormat> = {
  kinds: ['user-per-line'],
  names: [{ name: 'user-per-line', aliases: ['s3rec', 'cl4srec', 'iclrec', 'duorec'], reads: READS, format: { kind: 'user-per-line' } }],
  describe: (f) => `one user per line${f.delimiter === undefined ? '' : ` (delimiter ${JSON.stringify(f.delimiter)})`}`,

  compile(format, file) {
    const delimiter = format.delimiter === undefined ? null : checkDelimiter(format.delimiter, formatFail(file));
    return (path, options) => readUserPerLine(path, delimiter, options);
  },

  /**
   * Lines of blank-separated non-negative integers whose counts differ (a log's rows all have the
   * same number of columns). When every line has the same count (3 or more) the file could as well
   * be `user item time` rows: the registry then asks for --format or --columns.
   */
  detect({ lines }) {
    const counts = integerFieldCounts(lines, null);
    if (!counts || counts.some((c) => c < 2)) return null;
    if (counts.some((c) => c !== counts[0])) return { kind: 'user-per-line' };
    return {
      maybe: `every line holds ${counts[0]} numbers and there is no header: one user per line (--format user-per-line), ` +
        `or columns such as user item ... time (e.g. --columns user=0,item=1,time=${counts[0] - 1} --no-header --delimiter ' ')`,
    };
  },
};
