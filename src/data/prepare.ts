// A log -> a prepared data set (sequences, split, negatives) with a manifest, built once and then
// served from a binary cache. The cache key hashes the format version, the source hash and the
// canonical (defaults filled in, keys sorted) options, so changing either gives a new file. A file
// that is truncated, corrupt or does not match its key is rebuilt with a warning.
import { existsSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { WriteError } from '../util/atomic-write.js';
import { CACHE_FORMAT_VERSION, CacheError, canonicalJson, readCacheFile, writeCacheFile, type Section } from './cache.js';
import { DataError } from './errors.js';
import { sampleNegatives, type NegativeStrategy } from './negatives.js';
import { preprocess, type DuplicateMode, type PreprocessOptions } from './preprocess.js';
import { leaveOneOut, referenceChunks, temporalSplit } from './split.js';
import type { DataSplit, EvalExamples, InteractionLog, Negatives, SequenceDataset } from './types.js';

export type SplitChoice =
  | { kind: 'leave-one-out' }
  | { kind: 'reference-chunks'; length: number }
  | { kind: 'temporal'; validFraction: number; testFraction: number; maxInputLength?: number };

export interface PrepareOptions extends PreprocessOptions {
  split: SplitChoice;
  /** Sampled evaluation candidates; null for full ranking only. count defaults to 100, strategy to 'uniform'. */
  negatives: { count?: number; strategy?: NegativeStrategy } | null;
  seed: number;
}

/** PrepareOptions with every default filled in; this is what the cache key and the manifest hold. */
export interface CanonicalPrepareOptions {
  minRating: number | null;
  kCore: { users: number; items: number; mode: 'fixpoint' | 'single-pass' } | null;
  duplicates: DuplicateMode;
  bySession: boolean;
  minSequenceLength: number | null;
  split: SplitChoice;
  negatives: { count: number; strategy: NegativeStrategy } | null;
  seed: number;
}

export interface PreparedManifest {
  formatVersion: number;
  key: string;
  sourceHash: string;
  sourceDescription: string;
  /**
   * Where the order of each sequence comes from: 'time' (the log's times) or 'file' (the log has
   * no times: positions in the file, so no ties). Caches written before this field are 'time'.
   */
  order: 'time' | 'file';
  options: CanonicalPrepareOptions;
  counts: {
    sequences: number;
    items: number;
    interactions: number;
    train: { sequences: number; interactions: number };
    valid: number;
    test: number;
    negativesPerSequence: number;
  };
  /** Rows the reader skipped under leniency, by reason. */
  skipped: Record<string, number>;
  createdAt: string;
}

export interface PreparedData {
  manifest: PreparedManifest;
  dataset: SequenceDataset;
  split: DataSplit;
  negatives: Negatives | null;
}

export interface PrepareInput {
  /** Reads the log; called only when the cache misses. */
  log: () => InteractionLog;
  sourceHash: string;
  sourceDescription: string;
}

export interface PrepareHooks {
  /** Where cache warnings go (default: stderr). */
  warn?: (message: string) => void;
  /** The clock for manifest.createdAt (tests pin it). */
  now?: () => Date;
  /**
   * When the cache cannot be written (a full disk, a read-only folder): throw the WriteError
   * naming the file (`adarec data prepare`, whose job it is) instead of warning and going on with
   * the data in memory (every other command).
   */
  cacheRequired?: boolean;
}

export function canonicalOptions(o: PrepareOptions): CanonicalPrepareOptions {
  const s = o.split;
  const split: SplitChoice = s.kind === 'leave-one-out' ? { kind: s.kind }
    : s.kind === 'reference-chunks' ? { kind: s.kind, length: s.length }
      : s.kind === 'temporal' ? { kind: s.kind, validFraction: s.validFraction, testFraction: s.testFraction, maxInputLength: s.maxInputLength }
        : badSplit(s);
  return {
    minRating: o.minRating ?? null,
    kCore: o.kCore ? { users: o.kCore.users, items: o.kCore.items, mode: o.kCore.mode ?? 'fixpoint' } : null,
    duplicates: o.duplicates,
    bySession: o.bySession,
    minSequenceLength: o.minSequenceLength ?? null,
    split,
    negatives: o.negatives ? { count: o.negatives.count ?? 100, strategy: o.negatives.strategy ?? 'uniform' } : null,
    seed: o.seed,
  };
}

function badSplit(s: never): never {
  throw new RangeError(`unknown split kind '${(s as { kind: string }).kind}'`);
}

export function cacheKey(sourceHash: string, options: PrepareOptions): string {
  return createHash('sha256').update(canonicalJson([CACHE_FORMAT_VERSION, sourceHash, canonicalOptions(options)])).digest('hex');
}

export function cachePath(cacheDir: string, key: string): string {
  return join(cacheDir, `prepared-${key.slice(0, 32)}.adarec`);
}

/** The data, from the cache when a valid file for these options and source exists, else built and cached. */
export function prepareDataset(input: PrepareInput, options: PrepareOptions, cacheDir: string, hooks: PrepareHooks = {}):
  { data: PreparedData; fromCache: boolean; path: string } {
  const warn = hooks.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
  const key = cacheKey(input.sourceHash, options);
  const path = cachePath(cacheDir, key);
  if (existsSync(path)) {
    try {
      return { data: loadPrepared(path, key), fromCache: true, path };
    } catch (e) {
      if (!(e instanceof CacheError)) throw e;
      warn(`ignoring the prepared-data cache: ${e.message}; rebuilding it`);
    }
  }
  const log = input.log();
  if (log.order === 'file' && options.split.kind === 'temporal')
    warn(`${log.source} has no times (its order is the file's): the temporal split cuts it by position in the file`);
  const built = buildPrepared(log, options);
  const manifest = makeManifest(key, input, options, built, log, (hooks.now ?? (() => new Date()))());
  const data: PreparedData = { manifest, ...built };
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeCacheFile(path, manifest, toSections(data));
  } catch (e) {
    if (hooks.cacheRequired) throw e;
    const why = e instanceof WriteError ? e.message : `cannot write ${path}: ${(e as Error).message}`;
    warn(`prepared-data cache: ${why}; the data will be prepared again next time`);
  }
  return { data, fromCache: false, path };
}

/** Preprocess, split and sample negatives, in memory (no cache). */
export function buildPrepared(log: InteractionLog, options: PrepareOptions): { dataset: SequenceDataset; split: DataSplit; negatives: Negatives | null } {
  const o = canonicalOptions(options);
  const dataset = preprocess(log, options);
  const split = o.split.kind === 'leave-one-out' ? leaveOneOut(dataset)
    : o.split.kind === 'reference-chunks' ? referenceChunks(dataset, o.split.length)
      : temporalSplit(dataset, o.split);
  if (split.test.targets.length === 0) {
    const why = o.split.kind === 'leave-one-out' ? 'every sequence is shorter than 3 items'
      : o.split.kind === 'reference-chunks' ? 'every sequence is shorter than 4 items'
        : 'no interaction after the test cut-off has an earlier item in its sequence';
    throw new DataError(log.source, `no test examples after the ${o.split.kind} split (${why}): relax the filters or choose another split`);
  }
  const negatives = o.negatives
    ? sampleNegatives(dataset, { count: o.negatives.count, strategy: o.negatives.strategy, seed: o.seed, popularityFrom: split.train.items, source: log.source })
    : null;
  return { dataset, split, negatives };
}

function makeManifest(key: string, input: PrepareInput, options: PrepareOptions, b: ReturnType<typeof buildPrepared>,
  log: InteractionLog, now: Date): PreparedManifest {
  return {
    formatVersion: CACHE_FORMAT_VERSION,
    key,
    sourceHash: input.sourceHash,
    sourceDescription: input.sourceDescription,
    order: log.order ?? 'time',
    options: canonicalOptions(options),
    counts: {
      sequences: b.dataset.offsets.length - 1,
      items: b.dataset.numItems,
      interactions: b.dataset.items.length,
      train: { sequences: b.split.train.offsets.length - 1, interactions: b.split.train.items.length },
      valid: b.split.valid.targets.length,
      test: b.split.test.targets.length,
      negativesPerSequence: b.negatives?.count ?? 0,
    },
    skipped: { ...log.skipped },
    createdAt: now.toISOString(),
  };
}

const EXAMPLE_FIELDS = ['sequence', 'inputs', 'offsets', 'targets'] as const;

function toSections(d: PreparedData): Record<string, Section> {
  const s: Record<string, Section> = {
    'dataset.items': d.dataset.items,
    'dataset.times': d.dataset.times,
    'dataset.offsets': d.dataset.offsets,
    'dataset.keys': { json: { itemKeys: d.dataset.itemKeys, sequenceKeys: d.dataset.sequenceKeys } },
    'train.items': d.split.train.items,
    'train.times': d.split.train.times,
    'train.offsets': d.split.train.offsets,
  };
  for (const part of ['valid', 'test'] as const)
    for (const f of EXAMPLE_FIELDS) s[`${part}.${f}`] = d.split[part][f];
  if (d.negatives) s['negatives.items'] = d.negatives.items;
  return s;
}

/** Reads a prepared data set; CacheError when the file is damaged or is not the one for `key`. */
export function loadPrepared(path: string, key?: string): PreparedData {
  const { manifest, sections } = readCacheFile(path);
  const m = manifest as PreparedManifest;
  if (!m || m.formatVersion !== CACHE_FORMAT_VERSION || (key !== undefined && m.key !== key))
    throw new CacheError(path, 'does not match the requested source and options');
  const typed = <A extends Int32Array | Float64Array>(name: string, kind: new (n: number) => A): A => {
    const v = sections[name];
    if (!(v instanceof kind)) throw new CacheError(path, `lacks section '${name}'`);
    return v;
  };
  const int = (name: string): Int32Array => typed(name, Int32Array);
  const f64 = (name: string): Float64Array => typed(name, Float64Array);
  const keys = sections['dataset.keys'];
  if (!keys || !('json' in keys)) throw new CacheError(path, 'lacks the data set sections');
  const { itemKeys, sequenceKeys } = keys.json as { itemKeys: string[]; sequenceKeys: string[] };
  const examples = (part: string): EvalExamples =>
    ({ sequence: int(`${part}.sequence`), inputs: int(`${part}.inputs`), offsets: int(`${part}.offsets`), targets: int(`${part}.targets`) });
  const negativesCount = m.counts?.negativesPerSequence ?? 0;
  m.order ??= 'time'; // written before logs without times existed
  const data: PreparedData = {
    manifest: m,
    dataset: { numItems: itemKeys.length, items: int('dataset.items'), times: f64('dataset.times'), offsets: int('dataset.offsets'), itemKeys, sequenceKeys },
    split: { train: { items: int('train.items'), times: f64('train.times'), offsets: int('train.offsets') }, valid: examples('valid'), test: examples('test') },
    negatives: negativesCount > 0 ? { count: negativesCount, items: int('negatives.items') } : null,
  };
  if (data.dataset.items.length !== m.counts.interactions || data.dataset.offsets.length !== m.counts.sequences + 1)
    throw new CacheError(path, 'has counts that disagree with its manifest');
  return data;
}
