// The data-set downloader against a local HTTP server on 127.0.0.1 that serves a zip built at test
// time from ../shared/data/ml-100k/u.data (as ml-100k/u.data) and its .md5: a full download, resuming
// a partial .part file with a Range request, a server that ignores Range, an interrupted transfer,
// a stalled server, checksum and size mismatches, HTTP errors, an unreachable server, and the
// already-cached fast path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { DataError } from '../src/data/errors.js';
import { DATASETS, fetchDataset, parseMd5Sidecar } from '../src/data/fetch.js';
import { readLog } from '../src/data/read-log.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ML100K = resolve(repoRoot, '..', 'shared', 'data', 'ml-100k', 'u.data');
const skip = !existsSync(ML100K) && `${ML100K} is absent`;

const work = mkdtempSync(join(tmpdir(), 'adarec-fetch-'));
let zipBytes: Buffer = Buffer.alloc(0);
let md5 = '';
let server: Server;
let base = '';
const requests: { path: string; range: string | undefined }[] = [];

function buildZip(): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  zip.addEmptyDirectory('ml-100k/');
  zip.addFile(ML100K, 'ml-100k/u.data');
  zip.addBuffer(Buffer.from('a test archive\n'), 'ml-100k/README');
  zip.end();
  const parts: Buffer[] = [];
  return new Promise((done, fail) => {
    zip.outputStream.on('data', (c: Buffer) => parts.push(c));
    zip.outputStream.on('end', () => done(Buffer.concat(parts)));
    zip.outputStream.on('error', fail);
  });
}

/** Routes: /<mode>/ml-100k.zip and /<mode>/ml-100k.zip.md5, where mode picks the server's behaviour. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const [, mode, file] = (req.url ?? '').split('/');
  requests.push({ path: req.url ?? '', range: req.headers.range });
  const notFound = (): void => { res.writeHead(404, 'Not Found').end('no'); };
  if (mode === 'missing') return notFound();
  if (file === 'ml-100k.zip.md5') {
    const sum = mode === 'badmd5' ? 'd41d8cd98f00b204e9800998ecf8427e' : md5;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`MD5 (ml-100k.zip) = ${sum}\n`);
    return;
  }
  if (file !== 'ml-100k.zip' || mode === 'nozip') return notFound();
  const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (mode === 'stall') {
    res.writeHead(200, { 'content-length': zipBytes.length });
    res.write(zipBytes.subarray(0, 100)); // then nothing more
    return;
  }
  if (mode === 'cut') {
    res.writeHead(200, { 'content-length': zipBytes.length });
    res.write(zipBytes.subarray(0, zipBytes.length >> 1), () => setTimeout(() => res.destroy(), 20));
    return;
  }
  if (range && mode === 'ok') {
    const start = Number(range[1]);
    if (start >= zipBytes.length) {
      res.writeHead(416, { 'content-range': `bytes */${zipBytes.length}` }).end();
      return;
    }
    res.writeHead(206, { 'content-length': zipBytes.length - start, 'content-range': `bytes ${start}-${zipBytes.length - 1}/${zipBytes.length}` });
    res.end(zipBytes.subarray(start));
    return;
  }
  // 'ok' without Range, 'norange' always, 'badmd5': the whole file
  res.writeHead(200, { 'content-length': zipBytes.length, 'accept-ranges': mode === 'ok' ? 'bytes' : 'none' });
  res.end(zipBytes);
}

before(async () => {
  if (skip) return;
  zipBytes = await buildZip();
  md5 = createHash('md5').update(zipBytes).digest('hex');
  server = createServer(handle);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  rmSync(work, { recursive: true, force: true });
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((done) => server.close(() => done()));
});

let n = 0;
const freshDir = (): string => join(work, `cache-${n++}`);
const opts = { timeout: 15_000, skip };

/** The promise rejects with a DataError whose message matches. */
async function rejectsData(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.match(err.message, pattern);
    return true;
  });
}

test('full download: verified against the .md5, unpacked, readable; then the cached fast path touches no network', opts, async () => {
  const cacheDir = freshDir();
  let last = [0, 0];
  const path = await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/ok/`, onProgress: (b, t) => { last = [b, t]; }, idleTimeoutMs: 5000 });
  assert.equal(path, join(cacheDir, 'ml-100k', 'u.data'));
  assert.ok(readFileSync(path).equals(readFileSync(ML100K)), 'unpacked u.data is byte-identical');
  assert.equal(readFileSync(join(cacheDir, 'ml-100k', 'README'), 'utf8'), 'a test archive\n');
  assert.deepEqual(last, [zipBytes.length, zipBytes.length]);
  assert.ok(readFileSync(join(cacheDir, 'ml-100k.zip')).equals(zipBytes));
  assert.ok(!existsSync(join(cacheDir, 'ml-100k.zip.part')));
  const log = readLog(path, DATASETS['movielens-100k'].format);
  assert.equal(log.user.length, 100_000);
  assert.equal(log.userKeys.length, 943);
  assert.equal(log.itemKeys.length, 1682);

  const before = requests.length;
  const again = await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/missing` });
  assert.equal(again, path);
  assert.equal(requests.length, before, 'no request when already present and verified');

  // the ratings file gone: the archive in the cache is re-verified and unpacked again, not downloaded
  rmSync(path);
  const start = requests.length;
  assert.equal(await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/ok` }), path);
  assert.deepEqual(requests.slice(start).map((r) => r.path), ['/ok/ml-100k.zip.md5']);
  assert.ok(readFileSync(path).equals(readFileSync(ML100K)));
});

test('resume: a partial .part file is continued with a Range request', opts, async () => {
  const cacheDir = freshDir();
  const half = zipBytes.length >> 1;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(join(cacheDir, 'ml-100k.zip.part'), zipBytes.subarray(0, half));
  const start = requests.length;
  const progress: number[] = [];
  const path = await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/ok`, onProgress: (b) => progress.push(b) });
  const zipRequests = requests.slice(start).filter((r) => r.path === '/ok/ml-100k.zip');
  assert.deepEqual(zipRequests.map((r) => r.range), [`bytes=${half}-`]);
  assert.ok(progress[0] > half && progress.at(-1) === zipBytes.length);
  assert.ok(readFileSync(path).equals(readFileSync(ML100K)));
});

test('a server that ignores Range: the file is restarted cleanly from its first byte', opts, async () => {
  const cacheDir = freshDir();
  mkdirSync(cacheDir, { recursive: true });
  // garbage in the part file: appending to it would fail the checksum
  writeFileSync(join(cacheDir, 'ml-100k.zip.part'), Buffer.alloc(1000, 7));
  const start = requests.length;
  const path = await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/norange` });
  assert.deepEqual(requests.slice(start).filter((r) => r.path.endsWith('.zip')).map((r) => r.range), ['bytes=1000-']);
  assert.ok(readFileSync(join(cacheDir, 'ml-100k.zip')).equals(zipBytes));
  assert.ok(readFileSync(path).equals(readFileSync(ML100K)));
});

test('an interrupted transfer keeps the .part file, and the next call resumes it', opts, async () => {
  const cacheDir = freshDir();
  await rejectsData(fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/cut` }), `${base}/cut/ml-100k.zip`,
    /(interrupted at \d+ of \d+ bytes|ended at \d+ of \d+ bytes).*run again to resume/);
  const part = join(cacheDir, 'ml-100k.zip.part');
  assert.ok(existsSync(part));
  const kept = statSync(part).size;
  assert.ok(kept > 0 && kept < zipBytes.length, `kept ${kept}`);
  const start = requests.length;
  const path = await fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/ok` });
  assert.deepEqual(requests.slice(start).filter((r) => r.path.endsWith('.zip')).map((r) => r.range), [`bytes=${kept}-`]);
  assert.ok(readFileSync(path).equals(readFileSync(ML100K)));
});

test('checksum mismatch: an error naming the URL, and the bad download deleted', opts, async () => {
  const cacheDir = freshDir();
  const url = `${base}/badmd5/ml-100k.zip`;
  await rejectsData(fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/badmd5` }), url,
    new RegExp(`checksum mismatch: MD5 ${md5}, the publisher's ${url}\\.md5 says d41d8cd98f00b204e9800998ecf8427e; the download was deleted`));
  assert.ok(!existsSync(join(cacheDir, 'ml-100k.zip.part')));
  assert.ok(!existsSync(join(cacheDir, 'ml-100k.zip')));
  assert.ok(!existsSync(join(cacheDir, 'ml-100k', 'u.data')));
});

test('a size other than the expected one is refused before downloading', opts, async () => {
  const cacheDir = freshDir();
  await rejectsData(fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/ok`, expectedBytes: 4_924_029 }), `${base}/ok/ml-100k.zip`,
    new RegExp(`announces ${zipBytes.length} bytes but the published archive has 4924029`));
  assert.ok(!existsSync(join(cacheDir, 'ml-100k.zip')));
});

test('HTTP errors name the URL and status', opts, async () => {
  await rejectsData(fetchDataset('movielens-100k', { cacheDir: freshDir(), baseUrl: `${base}/missing` }), `${base}/missing/ml-100k.zip.md5`,
    /: HTTP 404 Not Found$/);
  await rejectsData(fetchDataset('movielens-100k', { cacheDir: freshDir(), baseUrl: `${base}/nozip` }), `${base}/nozip/ml-100k.zip`,
    /: HTTP 404 Not Found$/);
});

test('an unreachable server or a stalled one: a clear error saying to download by hand', opts, async () => {
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((done) => closed.close(() => done()));
  const url = `http://127.0.0.1:${port}/x/ml-100k.zip.md5`;
  await rejectsData(fetchDataset('movielens-100k', { cacheDir: freshDir(), baseUrl: `http://127.0.0.1:${port}/x` }), url,
    new RegExp(`could not reach ${url} \\(ECONNREFUSED\\); download it by hand, unzip it, and pass the path of ml-100k/u.data`));
  const cacheDir = freshDir();
  await rejectsData(fetchDataset('movielens-100k', { cacheDir, baseUrl: `${base}/stall`, idleTimeoutMs: 300 }), `${base}/stall/ml-100k.zip`,
    /interrupted at 100 of \d+ bytes \(no data for 0\.3 s\); run again to resume/);
});

test('unknown data set names and checksum sidecar layouts', async () => {
  await assert.rejects(fetchDataset('movielens-5m' as 'movielens-1m', { cacheDir: join(work, 'x') }), /movielens-5m: unknown data set; known: movielens-100k, movielens-1m, movielens-latest-small, movielens-25m/);
  const h = '0e33842e24a9c977be4e0107933c0723';
  assert.equal(parseMd5Sidecar(`MD5 (ml-100k.zip) = ${h}\n`, 'u'), h);
  assert.equal(parseMd5Sidecar(`${h.toUpperCase()}  ml-100k.zip\n`, 'u'), h);
  assert.equal(parseMd5Sidecar(h, 'u'), h);
  assert.throws(() => parseMd5Sidecar('<html>not found</html>', 'u'), /u: no MD5 checksum in the file/);
});
