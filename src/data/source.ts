// Where a data set comes from, as the CLI names it: a file path (format detected or given), a
// downloadable data set name (fetched once into the cache), or 'synthetic' with generator options.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { hashFile } from './cache.js';
import { DataError } from './errors.js';
import { DATASETS, fetchDataset, type DatasetName } from './fetch.js';
import type { LogFormat } from './formats.js';
import type { PrepareInput } from './prepare.js';
import { detectFormat, readLog } from './read-log.js';
import { SYNTHETIC_DEFAULTS, syntheticLog, type SyntheticOptions } from './synthetic.js';

export function defaultCacheDir(): string {
  return process.env.ADAREC_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'adarec');
}

export interface SourceOptions {
  /** The log format; detected from the file when omitted. */
  format?: LogFormat;
  lenient?: boolean;
  cacheDir: string;
  onProgress?: (bytes: number, total: number) => void;
}

/**
 * Parses 'synthetic' or 'synthetic:users=2000,items=800,seed=3' into generator options;
 * returns null when the spec is not a synthetic one.
 */
export function parseSyntheticSpec(spec: string): Partial<SyntheticOptions> | null {
  if (spec !== 'synthetic' && !spec.startsWith('synthetic:')) return null;
  const out: Record<string, number> = {};
  for (const part of spec.slice('synthetic:'.length).split(',').filter(Boolean)) {
    const [key, value] = part.split('=');
    if (!(key in SYNTHETIC_DEFAULTS)) throw new DataError(spec, `unknown generator option '${key}'; known: ${Object.keys(SYNTHETIC_DEFAULTS).join(', ')}`);
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n)) throw new DataError(spec, `generator option '${key}' needs a number, got '${value ?? ''}'`);
    out[key] = n;
  }
  return out;
}

/** Resolves a source spec to what prepareDataset needs (downloading a named data set if needed). */
export async function openSource(spec: string, o: SourceOptions): Promise<PrepareInput> {
  const synthetic = parseSyntheticSpec(spec);
  if (synthetic) {
    const options = { ...SYNTHETIC_DEFAULTS, ...synthetic };
    return {
      log: () => syntheticLog(options),
      sourceHash: createHash('sha256').update(JSON.stringify(options)).digest('hex'),
      sourceDescription: `synthetic ${JSON.stringify(options)}`,
    };
  }
  let path = resolve(spec);
  let format = o.format;
  if (!existsSync(path)) {
    if (!(spec in DATASETS))
      throw new DataError(spec, `no such file, and not a known data set (${Object.keys(DATASETS).join(', ')}) or 'synthetic[:options]'`);
    path = await fetchDataset(spec as DatasetName, { cacheDir: join(o.cacheDir, 'downloads'), onProgress: o.onProgress });
    format ??= DATASETS[spec as DatasetName].format;
  }
  const fmt = format ?? detectFormat(path);
  return {
    log: () => readLog(path, fmt, { lenient: o.lenient, onProgress: o.onProgress }),
    // the reading options change the parsed log, so they are part of the source's identity
    sourceHash: createHash('sha256').update(`${hashFile(path)} ${JSON.stringify(fmt)} ${o.lenient === true}`).digest('hex'),
    sourceDescription: path,
  };
}
