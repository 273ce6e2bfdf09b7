// Interaction pairs in file order, as SASRec, BERT4Rec and gSASRec publish their data: `user item`
// per line, no header, no time; the order of a user's lines is the order of their interactions.
import { checkDelimiter, formatFail, integerFieldCounts, type FormatFamily } from './family.js';
import { preset, readDelimited } from './delimited.js';

export interface PairsFormat {
  kind: 'pairs';
  /** Default: runs of blanks (spaces, tabs). */
  delimiter?: string;
}

const READS = '`user item` per line in time order, blank-separated, no header (SASRec, BERT4Rec, gSASRec)';

export const pairs: FormatFamily<PairsFormat> = {
  kinds: ['pairs'],
  names: [{ name: 'pairs', aliases: ['interaction-pairs', 'sasrec', 'bert4rec', 'gsasrec'], reads: READS, format: { kind: 'pairs' } }],
  describe: (f) => `interaction pairs in file order${f.delimiter === undefined ? '' : ` (delimiter ${JSON.stringify(f.delimiter)})`}`,

  compile(format, file) {
    const delimiter = format.delimiter === undefined ? null : checkDelimiter(format.delimiter, formatFail(file));
    const spec = preset(delimiter, 'none', ['user', 'item'], ['user', 'item'], 's');
    return (path, options) => readDelimited(path, spec, options);
  },

  /** Every sampled line is two non-negative integers, separated by blanks, ',', ';' or '|' (two columns leave no room for a time). */
  detect({ lines }) {
    for (const delimiter of [null, ',', ';', '|']) {
      const counts = integerFieldCounts(lines, delimiter);
      if (counts && counts.every((c) => c === 2)) return delimiter === null ? { kind: 'pairs' } : { kind: 'pairs', delimiter };
    }
    return null;
  },
};
