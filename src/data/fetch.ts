// Downloads a MovieLens data set from GroupLens into a cache folder: resumable (`<zip>.part` and an
// HTTP Range request; a server that ignores Range restarts the file cleanly), verified against the
// publisher's `<zip>.md5` sidecar, Content-Length and, where known, the published size, renamed into
// place only when complete and verified, then unpacked. A second call with everything present and
// verified touches no network.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { DataError } from './errors.js';
import type { LogFormat } from './formats.js';

export type DatasetName = 'movielens-100k' | 'movielens-1m' | 'movielens-latest-small' | 'movielens-25m';

export interface DatasetInfo {
  /** The archive's file name under the base URL. */
  zip: string;
  /** The ratings file's path inside the archive (and, once unpacked, under the cache folder). */
  ratings: string;
  /** How to read the ratings file. */
  format: LogFormat;
  /** The archive's size in bytes as published, when it is fixed (the "latest" archives change). */
  bytes?: number;
  description: string;
}

export const GROUPLENS_BASE_URL = 'https://files.grouplens.org/datasets/movielens';

/**
 * The data sets `fetchDataset` knows. Sizes are the Content-Length GroupLens serves for these
 * archives (fixed releases only); checksums are never pinned here: each download is checked against
 * the `.md5` file GroupLens publishes next to the archive.
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = Object.freeze({
  'movielens-100k': {
    zip: 'ml-100k.zip', ratings: 'ml-100k/u.data', format: { kind: 'movielens-100k' }, bytes: 4_924_029,
    description: 'MovieLens 100K: 100,000 ratings, 943 users, 1,682 movies (1998)',
  },
  'movielens-1m': {
    zip: 'ml-1m.zip', ratings: 'ml-1m/ratings.dat', format: { kind: 'movielens-dat' }, bytes: 5_917_549,
    description: 'MovieLens 1M: 1,000,209 ratings, 6,040 users, 3,706 movies (2003)',
  },
  'movielens-latest-small': {
    zip: 'ml-latest-small.zip', ratings: 'ml-latest-small/ratings.csv', format: { kind: 'movielens-csv' },
    description: 'MovieLens latest-small: about 100,000 ratings, 600 users, 9,000 movies (updated over time)',
  },
  'movielens-25m': {
    zip: 'ml-25m.zip', ratings: 'ml-25m/ratings.csv', format: { kind: 'movielens-csv' }, bytes: 261_978_986,
    description: 'MovieLens 25M: 25,000,095 ratings, 162,541 users, 59,047 movies (2019)',
  },
});

export interface FetchOptions {
  /** Folder that receives the archive, its checksum and the unpacked files. */
  cacheDir: string;
  /** Default GROUPLENS_BASE_URL; the archive is `<baseUrl>/<zip>`, its checksum `<baseUrl>/<zip>.md5`. */
  baseUrl?: string;
  /** Download progress: bytes of the archive on disk so far, and its total size (0 while unknown). */
  onProgress?: (bytes: number, total: number) => void;
  /** Give up when no data arrives for this long (default 30 s). */
  idleTimeoutMs?: number;
  /**
   * The archive's expected size in bytes. Default: the published size in DATASETS when downloading
   * from GroupLens itself; another base URL (a mirror, a test server) is checked against its own
   * Content-Length and `.md5` only.
   */
  expectedBytes?: number;
}

/** What a verified, unpacked data set left in the cache folder. */
interface Marker {
  zip: string;
  md5: string;
  bytes: number;
  ratings: string;
  ratingsBytes: number;
}

const MARKER_VERSION = 1;

function markerPath(cacheDir: string, info: DatasetInfo): string {
  return join(cacheDir, `${info.zip}.verified.json`);
}

function readMarker(path: string): Marker | null {
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as Marker & { version?: number };
    return m.version === MARKER_VERSION ? m : null;
  } catch {
    return null;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}

function describeCause(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return e.message ?? 'timed out';
  const code = e?.cause?.code;
  // undici's own codes (UND_ERR_SOCKET, ...) say less than its messages ("other side closed")
  if (code && !code.startsWith('UND_ERR')) return code;
  return e?.cause?.message ?? code ?? e?.message ?? String(err);
}

function unreachable(url: string, err: unknown, ratings: string): DataError {
  return new DataError(url, `could not reach ${url} (${describeCause(err)}); download it by hand, unzip it, ` +
    `and pass the path of ${ratings} instead of the data set's name`);
}

/** fetch() with an idle timeout: the returned abort() must be armed by the caller's reads via touch(). */
function idleController(ms: number): { signal: AbortSignal; touch: () => void; done: () => void } {
  const ctrl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(new DOMException(`no data for ${ms / 1000} s`, 'TimeoutError')), ms);
  };
  touch();
  return { signal: ctrl.signal, touch, done: () => timer && clearTimeout(timer) };
}

async function getText(url: string, idleMs: number, ratings: string): Promise<string> {
  const idle = idleController(idleMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: idle.signal });
    } catch (err) {
      throw unreachable(url, err, ratings);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new DataError(url, `HTTP ${res.status} ${res.statusText}`.trim());
    }
    try {
      return await res.text();
    } catch (err) {
      throw unreachable(url, err, ratings);
    }
  } finally {
    idle.done();
  }
}

/** The 32-hex-digit MD5 in a sidecar, in any of its usual layouts ("MD5 (f) = h", "h  f", "h"). */
export function parseMd5Sidecar(text: string, url: string): string {
  const m = /\b([0-9a-fA-F]{32})\b/.exec(text);
  if (!m) throw new DataError(url, `no MD5 checksum in the file (it starts ${JSON.stringify(text.slice(0, 60))})`);
  return m[1].toLowerCase();
}

async function md5File(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/**
 * Downloads `url` into `part`, resuming from what `part` already holds when the server honours
 * Range, starting over when it does not. Returns the total size the server announced (or the
 * bytes written when it announced none). An interrupted transfer keeps `part` for the next call.
 */
async function download(
  url: string, part: string, options: FetchOptions, ratings: string, expectedBytes: number | undefined,
): Promise<number> {
  const idleMs = options.idleTimeoutMs ?? 30_000;
  for (let attempt = 0; attempt < 2; attempt++) {
    let have = Math.max(0, sizeOf(part));
    if (expectedBytes !== undefined && have > expectedBytes) { rmSync(part, { force: true }); have = 0; }
    const idle = idleController(idleMs);
    try {
      let res: Response;
      try {
        res = await fetch(url, { signal: idle.signal, headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
      } catch (err) {
        throw unreachable(url, err, ratings);
      }
      let total = 0, append = false;
      if (res.status === 416 && have > 0) {
        // the part file is already as long as (or longer than) the resource: start over
        await res.body?.cancel().catch(() => undefined);
        rmSync(part, { force: true });
        continue;
      } else if (res.status === 206 && have > 0) {
        const range = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers.get('content-range') ?? '');
        if (!range || Number(range[1]) !== have) {
          // a range we did not ask for: do not splice it in, start over
          await res.body?.cancel().catch(() => undefined);
          rmSync(part, { force: true });
          continue;
        }
        append = true;
        total = range[3] === '*' ? 0 : Number(range[3]);
      } else if (res.status === 200) {
        // full body (first request, or a server that ignores Range): write the file from the start
        total = Number(res.headers.get('content-length') ?? 0) || 0;
        have = 0;
      } else {
        await res.body?.cancel().catch(() => undefined);
        throw new DataError(url, `HTTP ${res.status} ${res.statusText}`.trim());
      }
      if (expectedBytes !== undefined && total !== 0 && total !== expectedBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new DataError(url, `the server announces ${total} bytes but the published archive has ${expectedBytes}; ` +
          'not downloading it (a changed or wrong file?)');
      }
      const file = await open(part, append ? 'a' : 'w');
      let written = have;
      try {
        if (res.body) {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            idle.touch();
            await file.write(chunk);
            written += chunk.length;
            options.onProgress?.(written, total);
          }
        }
      } catch (err) {
        if (err instanceof DataError) throw err;
        throw new DataError(url, `the download was interrupted at ${written} of ${total || '?'} bytes (${describeCause(err)}); ` +
          `run again to resume it, or download it by hand, unzip it, and pass the path of ${ratings}`);
      } finally {
        await file.close();
      }
      if (total !== 0 && written !== total) {
        throw new DataError(url, `the download ended at ${written} of ${total} bytes; run again to resume it`);
      }
      return total || written;
    } finally {
      idle.done();
    }
  }
  throw new DataError(url, 'the server refused to resume the download and to send it whole');
}

/** Unpacks every entry of a zip under `dir` (each file written to `.part` and renamed). */
async function unzip(zipPath: string, dir: string): Promise<void> {
  const root = resolve(dir);
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: true });
  await new Promise<void>((done, fail) => {
    zip.on('error', fail);
    zip.on('end', () => done());
    zip.on('entry', (entry: yauzl.Entry) => {
      const dest = resolve(root, entry.fileName);
      if (dest !== root && !dest.startsWith(root + sep)) {
        zip.close();
        fail(new DataError(zipPath, `refusing to unpack '${entry.fileName}' outside ${dir}`));
        return;
      }
      if (entry.fileName.endsWith('/')) {
        mkdirSync(dest, { recursive: true });
        zip.readEntry();
        return;
      }
      mkdirSync(dirname(dest), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err) { fail(err); return; }
        const tmp = `${dest}.part`;
        pipeline(stream, createWriteStream(tmp))
          .then(() => { renameSync(tmp, dest); zip.readEntry(); })
          .catch((e: unknown) => { rmSync(tmp, { force: true }); fail(e); });
      });
    });
    zip.readEntry();
  }).catch((err: unknown) => {
    if (err instanceof DataError) throw err;
    throw new DataError(zipPath, `cannot unpack the archive (${(err as Error).message ?? String(err)}); delete it and run again`);
  });
}

/**
 * Makes sure data set `name` is downloaded, verified and unpacked under `options.cacheDir`, and
 * returns the path of its ratings file (read it with `readLog(path, DATASETS[name].format)`).
 */
export async function fetchDataset(name: DatasetName, options: FetchOptions): Promise<string> {
  const info = (DATASETS as Record<string, DatasetInfo | undefined>)[name];
  if (!info) throw new DataError(String(name), `unknown data set; known: ${Object.keys(DATASETS).join(', ')}`);
  const dir = options.cacheDir;
  const ratingsPath = join(dir, info.ratings);
  const marker = markerPath(dir, info);

  // fast path: unpacked earlier and verified then
  const m = readMarker(marker);
  if (m && m.zip === info.zip && m.ratings === info.ratings && sizeOf(ratingsPath) === m.ratingsBytes) return ratingsPath;

  mkdirSync(dir, { recursive: true });
  const base = (options.baseUrl ?? GROUPLENS_BASE_URL).replace(/\/+$/, '');
  const url = `${base}/${info.zip}`;
  const md5Url = `${url}.md5`;
  const zipPath = join(dir, info.zip);
  const part = `${zipPath}.part`;
  const idleMs = options.idleTimeoutMs ?? 30_000;

  const expected = parseMd5Sidecar(await getText(md5Url, idleMs, info.ratings), md5Url);
  writeFileSync(join(dir, `${info.zip}.md5`), `MD5 (${info.zip}) = ${expected}\n`);

  // an archive already in place (e.g. unpacking failed last time) is reused when it still verifies
  if (existsSync(zipPath) && (await md5File(zipPath)) !== expected) rmSync(zipPath, { force: true });
  if (!existsSync(zipPath)) {
    const pinned = options.expectedBytes ?? (base === GROUPLENS_BASE_URL ? info.bytes : undefined);
    const total = await download(url, part, options, info.ratings, pinned);
    const size = sizeOf(part);
    if (size !== total || (pinned !== undefined && size !== pinned)) {
      rmSync(part, { force: true });
      throw new DataError(url, `size mismatch: got ${size} bytes, expected ${pinned ?? total}; the file was deleted, run again`);
    }
    const actual = await md5File(part);
    if (actual !== expected) {
      rmSync(part, { force: true });
      throw new DataError(url, `checksum mismatch: MD5 ${actual}, the publisher's ${md5Url} says ${expected}; ` +
        'the download was deleted, run again');
    }
    renameSync(part, zipPath);
  }

  await unzip(zipPath, dir);
  const ratingsBytes = sizeOf(ratingsPath);
  if (ratingsBytes < 0) throw new DataError(zipPath, `the archive has no ${info.ratings}`);
  const record: Marker & { version: number } = {
    version: MARKER_VERSION, zip: info.zip, md5: expected, bytes: sizeOf(zipPath), ratings: info.ratings, ratingsBytes,
  };
  writeFileSync(`${marker}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${marker}.tmp`, marker);
  return ratingsPath;
}
