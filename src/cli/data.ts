// `adarec data fetch|prepare|stats`: download, prepare (cached) and describe interaction data.
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { DATASETS, fetchDataset, type DatasetName } from '../data/fetch.js';
import { FORMAT_NAMES, formatByName, sniffColumnar, type ColumnMapping, type LogFormat } from '../data/formats.js';
import { prepareDataset, type PrepareOptions, type PreparedData } from '../data/prepare.js';
import { defaultCacheDir, openSource } from '../data/source.js';
import { datasetStats, formatStats } from '../data/stats.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`);
  return n;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number in (0, 1), got '${value}'`);
  return n;
}

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`expected a number, got '${value}'`);
  return n;
}

/** 'user=0,item=1,time=3,rating=2' or 'user=userId,item=movieId,time=ts'; without time= the file's row order is the order. */
function columnMapping(value: string): ColumnMapping {
  const m: Record<string, string | number> = {};
  for (const part of value.split(',')) {
    const [k, v] = part.split('=');
    if (!['user', 'item', 'time', 'rating', 'session'].includes(k) || !v)
      throw new InvalidArgumentError(`bad column mapping '${part}': use user=,item= and optionally time=,rating=,session= (names or 0-based indexes)`);
    m[k] = /^\d+$/.test(v) ? Number(v) : v;
  }
  for (const need of ['user', 'item']) if (!(need in m)) throw new InvalidArgumentError(`the column mapping needs '${need}='`);
  return m as unknown as ColumnMapping;
}

/**
 * The field's evaluation protocols (--preset). Each sets how the fixed negatives are drawn and
 * which protocol validation and `adarec eval` use unless told otherwise; the split is
 * leave-one-out in all three.
 */
export const PROTOCOL_PRESETS = {
  /** Rank the target among all items (adarec's default; RecBole's full ranking). */
  full: { strategy: 'uniform', protocol: 'full', source: 'full ranking, leave-one-out' },
  /** Kang & McAuley, SASRec (ICDM 2018), section IV-B: 100 negatives uniform over items the user never interacted with. */
  sasrec: { strategy: 'uniform', protocol: 'sampled', source: 'SASRec (Kang & McAuley, ICDM 2018): 100 uniform negatives the user never interacted with' },
  /** Sun et al., BERT4Rec (CIKM 2019), section 4.1: 100 negatives sampled by popularity. */
  bert4rec: { strategy: 'popularity', protocol: 'sampled', source: 'BERT4Rec (Sun et al., CIKM 2019): 100 negatives drawn by popularity' },
} as const;
export type ProtocolPreset = keyof typeof PROTOCOL_PRESETS;

/** The protocol a command uses when --protocol is not given: the preset's, else full ranking. */
export function presetProtocol(o: Record<string, unknown>): 'full' | 'sampled' {
  return o.preset ? PROTOCOL_PRESETS[o.preset as ProtocolPreset].protocol : 'full';
}

/** The --format names, for help texts. */
export function formatNamesHelp(): string {
  return Object.entries(FORMAT_NAMES).map(([name, reads]) => `  ${name.padEnd(17)} ${reads}`).join('\n');
}

/** The options every command that reads data shares (prepare, stats, and later train/search). */
export function addDataOptions(cmd: Command): Command {
  return cmd
    .option('--format <name>', `log format (default: detected): ${Object.keys(FORMAT_NAMES).join(', ')}`)
    .option('--columns <mapping>', 'generic CSV/TSV, Parquet, Arrow: user=,item=[,time=][,rating=][,session=] by column name or 0-based index; without time= the order is the file\'s', columnMapping)
    .option('--delimiter <text>', "the field delimiter: generic files (default ','), pairs and user-per-line (default: runs of blanks)")
    .option('--no-header', 'generic files: the first line is data, not a header')
    .addOption(new Option('--time-format <kind>', 'generic files: how times are written').choices(['number', 'iso']).default('number'))
    .option('--lenient', 'skip malformed rows (counted and reported) instead of stopping at the first')
    .option('--min-rating <r>', 'implicit feedback: keep interactions rated >= r', number)
    .option('--k-core <k>', 'keep users and items with >= k interactions', positiveInt)
    .addOption(new Option('--k-core-mode <mode>', "'fixpoint' iterates until both hold; 'single-pass' filters items then users once (the reference code)").choices(['fixpoint', 'single-pass']).default('fixpoint'))
    .addOption(new Option('--duplicates <mode>', 'repeated items in a sequence').choices(['keep-all', 'keep-first', 'collapse-consecutive']).default('keep-all'))
    .option('--by-session', 'sequences are sessions (the log needs a session column)')
    .option('--min-length <n>', 'drop sequences shorter than n', positiveInt)
    .addOption(new Option('--split <kind>', 'evaluation split').choices(['leave-one-out', 'reference-chunks', 'temporal']).default('leave-one-out'))
    .option('--chunk-length <L>', 'reference-chunks: window length', positiveInt, 50)
    .option('--valid-fraction <f>', 'temporal: share of the latest interactions for validation', fraction, 0.1)
    .option('--test-fraction <f>', 'temporal: share of the latest interactions for test', fraction, 0.1)
    .option('--negatives <n>', 'sampled evaluation: fixed random negatives per sequence (0 = none)', (v) => (v === '0' ? 0 : positiveInt(v)), 100)
    .addOption(new Option('--preset <name>', 'evaluation protocol of a paper: full (all items), sasrec (100 uniform negatives, sampled validation), bert4rec (100 negatives by popularity, sampled validation)').choices(Object.keys(PROTOCOL_PRESETS)))
    .addOption(new Option('--negative-strategy <s>', 'how negatives are drawn (default: uniform, or the preset\'s)').choices(['uniform', 'popularity']))
    .option('--negatives-seed <n>', 'seed for the fixed negatives', (v) => Number(v), 42)
    .option('--cache-dir <dir>', 'where downloads and prepared data are kept (env ADAREC_CACHE_DIR)', defaultCacheDir());
}

function logFormatFrom(o: Record<string, unknown>, source: string): LogFormat | undefined {
  const delimiter = o.delimiter === undefined ? undefined : o.delimiter === '\\t' || o.delimiter === 'tab' ? '\t' : String(o.delimiter);
  if (o.columns) {
    // a Parquet or Arrow file (named by --format, or told by its first bytes) maps columns by name in its schema
    const named = o.format ? formatByName(String(o.format)).kind : undefined;
    const columnar = named === 'parquet' || named === 'arrow' ? named : named === undefined ? sniffColumnar(resolve(source)) : null;
    if (columnar) return { kind: columnar, columns: o.columns as ColumnMapping };
    return { kind: 'delimited', delimiter: delimiter ?? ',', header: o.header !== false, columns: o.columns as ColumnMapping, timeFormat: o.timeFormat as 'number' | 'iso' };
  }
  if (!o.format) return undefined;
  const format = formatByName(String(o.format));
  if ((format.kind === 'pairs' || format.kind === 'user-per-line') && delimiter !== undefined) format.delimiter = delimiter;
  return format;
}

export function prepareOptionsFrom(o: Record<string, unknown>): PrepareOptions {
  const k = o.kCore as number | undefined;
  const split = o.split === 'reference-chunks' ? { kind: 'reference-chunks' as const, length: o.chunkLength as number }
    : o.split === 'temporal' ? { kind: 'temporal' as const, validFraction: o.validFraction as number, testFraction: o.testFraction as number }
      : { kind: 'leave-one-out' as const };
  return {
    minRating: o.minRating as number | undefined,
    kCore: k ? { users: k, items: k, mode: o.kCoreMode as 'fixpoint' | 'single-pass' } : undefined,
    duplicates: o.duplicates as PrepareOptions['duplicates'],
    bySession: o.bySession === true,
    minSequenceLength: o.minLength as number | undefined,
    split,
    negatives: o.negatives ? {
      count: o.negatives as number,
      strategy: (o.negativeStrategy ?? (o.preset ? PROTOCOL_PRESETS[o.preset as ProtocolPreset].strategy : 'uniform')) as 'uniform' | 'popularity',
    } : null,
    seed: o.negativesSeed as number,
  };
}

function progressPrinter(what: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    if (pct === last) return;
    last = pct;
    process.stderr.write(`\r${what} ${pct}%${pct >= 100 ? '\n' : ''}`);
  };
}

/** Reads (or loads from the cache) and prepares a data set for any command. */
export async function loadData(source: string, o: Record<string, unknown>, log: (line: string) => void = (l) => console.error(l),
  hooks: { cacheRequired?: boolean } = {}): Promise<{ data: PreparedData; fromCache: boolean; path: string }> {
  const cacheDir = resolve(String(o.cacheDir));
  const input = await openSource(source, { format: logFormatFrom(o, source), lenient: o.lenient === true, cacheDir, onProgress: progressPrinter('reading') });
  const t0 = performance.now();
  const result = prepareDataset(input, prepareOptionsFrom(o), cacheDir, hooks);
  const secs = ((performance.now() - t0) / 1000).toFixed(2);
  log(`${result.fromCache ? 'loaded prepared data' : 'prepared data'} in ${secs} s: ${result.path}`);
  const skipped = Object.entries(result.data.manifest.skipped);
  if (skipped.length) log(`skipped malformed rows (--lenient): ${skipped.map(([r, n]) => `${n} ${r}`).join(', ')}`);
  return result;
}

export function dataCommand(): Command {
  const data = new Command('data').description('download, prepare and describe interaction data')
    .addHelpText('after', `\nLog formats (--format; detected from the file when its name and first lines tell):\n${formatNamesHelp()}\n` +
      '  (any other CSV/TSV: --columns user=,item=[,time=]; JSON Lines: detected by its keys; Parquet and Arrow:\n' +
      '  detected by their magic bytes, columns by their usual names or --columns)');

  data.command('fetch')
    .description(`download a public data set into the cache (${Object.keys(DATASETS).join(', ')})`)
    .argument('<name>', 'data set name')
    .option('--cache-dir <dir>', 'where downloads are kept (env ADAREC_CACHE_DIR)', defaultCacheDir())
    .action(async (name: string, o) => {
      const path = await fetchDataset(name as DatasetName, { cacheDir: resolve(o.cacheDir, 'downloads'), onProgress: progressPrinter(`downloading ${name}`) });
      console.log(path);
    });

  addDataOptions(data.command('prepare')
    .description('read a log, preprocess, split and sample negatives once; later commands load the cached result in milliseconds')
    .argument('<source>', "a log file, a data set name (e.g. movielens-1m) or 'synthetic[:users=N,items=N,seed=N]'"))
    .action(async (source: string, o) => {
      const { data: d } = await loadData(source, o, undefined, { cacheRequired: true }); // the cache is what this command makes
      const c = d.manifest.counts;
      console.log(`sequences ${c.sequences}, items ${c.items}, interactions ${c.interactions}; ` +
        `train ${c.train.sequences} sequences / ${c.train.interactions} interactions, valid ${c.valid}, test ${c.test}, ` +
        `negatives per sequence ${c.negativesPerSequence}`);
    });

  addDataOptions(data.command('stats')
    .description('print users, items, interactions, density, sequence lengths and the top items of a prepared data set')
    .argument('<source>', "a log file, a data set name or 'synthetic[:...]'")
    .option('--top <k>', 'how many top items to list', positiveInt, 10))
    .addHelpText('after', '\nExample:\n  adarec data stats ../shared/data/ml-100k/u.data --min-rating 3 --k-core 5')
    .action(async (source: string, o) => {
      const { data: d } = await loadData(source, o);
      console.log(formatStats(datasetStats(d.dataset, o.top, d.manifest.order)));
    });

  return data;
}
