// The HTTP service over tiny trained runs: answers equal the Recommender's, validation and limits
// (400/413/415/404/422 as JSON), the batch route, readiness, metrics that count, the OpenAPI
// description, hot reload (admin route: token checks, version swap, a broken checkpoint keeps the
// old model) and, in a child process, SIGHUP reload and a SIGTERM that finishes a request in flight.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { Recommender } from '../src/serve/recommender.js';
import { StreamPlan } from '../src/serve/stream.js';
import { createService, type Service, type ServiceOptions } from '../src/serve/http/app.js';
import { tinyData } from './train-fixture.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
let root = '', runA = '', runB = '';
const services: Service[] = [];

/** tinyData with numeric original ids ('1'..'60'), so that numbers in a history can be tested. */
function numericData(): ReturnType<typeof tinyData> {
  const d = tinyData();
  return { ...d, dataset: { ...d.dataset, itemKeys: d.dataset.itemKeys.map((k) => k.slice(1)) } };
}

async function trainRun(dir: string, seed: number): Promise<void> {
  const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 64, epochs: 1, seed }, 'test');
  await train({ config, data: numericData(), outDir: dir, log: () => {} });
}

/** A copy of a run folder's servable files (checkpoints are replaced atomically, as the trainer does). */
function copyRun(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  copyFileSync(join(from, 'items.json'), join(to, 'items.json'));
  copyFileSync(join(from, 'best.ckpt'), join(to, 'best.ckpt.tmp'));
  renameSync(join(to, 'best.ckpt.tmp'), join(to, 'best.ckpt'));
}

async function service(o: Partial<ServiceOptions> = {}, load = true): Promise<Service> {
  const s = await createService({ model: runA, unknownItems: 'skip', bodyLimit: 16 * 1024, maxHistory: 50, maxK: 20, maxBatch: 8, logger: false, ...o });
  services.push(s);
  if (load) assert.equal((await s.holder.reload()).ok, true);
  return s;
}

async function post(s: Service, url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await s.app.inject({ method: 'POST', url, payload: payload as object, headers });
  return { status: r.statusCode, body: r.json() };
}

/** The value of one sample line of the Prometheus text (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'adarec-http-'));
  runA = join(root, 'a');
  runB = join(root, 'b');
  await trainRun(runA, 1);
  await trainRun(runB, 2);
});
after(async () => {
  for (const s of services) await s.app.close();
  rmSync(root, { recursive: true, force: true });
});

describe('incremental sessions', () => {
  it('answer from the per-event state: the same as streaming the whole session at once', async () => {
    const s = await service({ sessionBytes: 1 << 20 });
    const model = s.holder.current!;
    const r1 = await post(s, '/v1/sessions/user-1/events', { items: ['3', 7], k: 5 });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.equal(r1.body.events, 2);
    const r2 = await post(s, '/v1/sessions/user-1/events', { items: ['8', 'nope'], k: 5, excludeSeen: true });
    assert.equal(r2.body.events, 3);
    assert.deepEqual(r2.body.unknown, ['nope']);
    const plan = new StreamPlan(model.model, model.maxLength);
    const want = model.top(plan.session([3, 7, 8]).logits(), 0, 5, new Set([3, 7, 8]));
    assert.deepEqual(r2.body.items.map((x: { item: string }) => x.item), want.map((x) => x.item));
    r2.body.items.forEach((x: { score: number }, i: number) => assert.ok(Math.abs(x.score - want[i].score) < 1e-5));
    const other = await post(s, '/v1/sessions/user-2/events', { items: ['8'], k: 5 });
    assert.equal(other.body.events, 1); // sessions are separate
    const text = (await s.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.equal(sample(text, 'adarec_sessions'), 2);
    assert.ok(sample(text, 'adarec_session_bytes') > 0);
    assert.equal((await s.app.inject({ method: 'DELETE', url: '/v1/sessions/user-1' })).statusCode, 204);
    assert.equal((await s.app.inject({ method: 'DELETE', url: '/v1/sessions/user-1' })).statusCode, 404);
    assert.equal((await post(s, '/v1/sessions/bad%20id/events', { items: [] })).status, 400);
  });

  it('hold at most their byte budget, evicting the least recently used', async () => {
    const probe = await service({ sessionBytes: 1 << 20 });
    const one = probe.holder.current!.sessions!.sessionBytes;
    const s = await service({ sessionBytes: Math.floor(2.5 * (one + 64)) }); // two sessions fit, not three
    for (const id of ['a', 'b', 'c']) assert.equal((await post(s, `/v1/sessions/${id}/events`, { items: ['1'] })).status, 200);
    const store = s.holder.current!.sessions!;
    assert.equal(store.size, 2);
    assert.ok(store.bytes <= store.maxBytes);
    assert.equal((await s.app.inject({ method: 'DELETE', url: '/v1/sessions/a' })).statusCode, 404, 'the oldest session was evicted');
    assert.equal((await post(s, '/v1/sessions/a/events', { items: ['2'] })).body.events, 1, 'an evicted session starts again');
  });

  it('are off unless enabled, and refused for a model that cannot stream', async () => {
    const off = await service();
    const r = await post(off, '/v1/sessions/x/events', { items: ['1'] });
    assert.equal(r.status, 404);
    assert.equal(r.body.error, 'SessionsDisabled');
    const sas = join(root, 'sasrec');
    const config = parseTrainConfig({ model: { kind: 'sasrec', hidden: 16, blocks: 1, heads: 2 }, maxLength: 12, batchSize: 64, epochs: 1 }, 'test');
    await train({ config, data: numericData(), outDir: sas, log: () => {} });
    const s = await service({ model: sas, sessionBytes: 1 << 20 }, false);
    const outcome = await s.holder.reload();
    assert.equal(outcome.ok, false);
    assert.match((outcome as { error: string }).error, /stream/i);
  });
});

describe('recommend routes', () => {
  it('answer what the Recommender answers, with numbers read as ids and the model version', async () => {
    const s = await service();
    const rec = Recommender.load(runA);
    const r = await post(s, '/v1/recommend', { history: ['3', 7, '8'], k: 5 });
    assert.equal(r.status, 200);
    const want = rec.recommend({ history: ['3', '7', '8'], k: 5 });
    assert.deepEqual(r.body, { ...want, model: { version: rec.info.version } });
    assert.equal(r.body.items.length, 5);
    const byDefault = await post(s, '/v1/recommend', { history: ['3'] });
    assert.equal(byDefault.body.items.length, 10);
  });

  it('leave out the history with excludeSeen', async () => {
    const s = await service();
    const history = ['5', '6', '7', '8', '9'];
    const rec = Recommender.load(runA);
    const r = await post(s, '/v1/recommend', { history, k: 20, excludeSeen: true });
    assert.deepEqual(r.body.items, rec.recommend({ history, k: 20, excludeSeen: true }).items);
    assert.ok(r.body.items.every((x: { item: string }) => !history.includes(x.item)));
    const all = await post(s, '/v1/recommend', { history, k: 20 });
    assert.ok(all.body.items.some((x: { item: string }) => history.includes(x.item)), 'the tiny model ranks some history items high');
  });

  it('report unknown ids (skip) or reject them with 422 naming them (error)', async () => {
    const skip = await service();
    const r = await post(skip, '/v1/recommend', { history: ['3', 'nope', '7'], k: 3 });
    assert.deepEqual(r.body.unknown, ['nope']);
    assert.deepEqual(r.body.items, (await post(skip, '/v1/recommend', { history: ['3', '7'], k: 3 })).body.items);
    const strict = await service({ unknownItems: 'error' });
    const e = await post(strict, '/v1/recommend', { history: ['3', 'nope', 'gone'], k: 3 });
    assert.equal(e.status, 422);
    assert.equal(e.body.error, 'UnknownItems');
    assert.deepEqual(e.body.items, ['nope', 'gone']);
    assert.match(e.body.message, /nope, gone/);
    const b = await post(strict, '/v1/recommend/batch', { requests: [{ history: ['3'] }, { history: ['x1', '4'] }, { history: ['x2'] }] });
    assert.equal(b.status, 422);
    assert.deepEqual(b.body.requests, [{ index: 1, items: ['x1'] }, { index: 2, items: ['x2'] }]);
  });

  it('the batch route equals the single route request by request', async () => {
    const s = await service();
    const requests = [{ history: ['1'], k: 4 }, { history: ['2', 9], k: 5, excludeSeen: true }, { history: [], k: 3 },
      { history: ['5', '5', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15', '16', 'unknown'], k: 6, excludeSeen: true }];
    const b = await post(s, '/v1/recommend/batch', { requests });
    assert.equal(b.status, 200);
    assert.equal(b.body.results.length, requests.length);
    for (const [n, q] of requests.entries()) {
      const one = (await post(s, '/v1/recommend', q)).body;
      assert.equal(b.body.model.version, one.model.version);
      assert.deepEqual(b.body.results[n].unknown, one.unknown);
      assert.deepEqual(b.body.results[n].items.map((x: { item: string }) => x.item), one.items.map((x: { item: string }) => x.item));
      b.body.results[n].items.forEach((x: { score: number }, j: number) => assert.ok(Math.abs(x.score - one.items[j].score) < 1e-5));
    }
  });
});

describe('validation and limits', () => {
  it('answers 4xx JSON {error, message} for bad input, over limits and unknown routes', async () => {
    const s = await service();
    const expect400 = async (payload: unknown, pattern: RegExp): Promise<void> => {
      const r = await post(s, '/v1/recommend', payload);
      assert.equal(r.status, 400, JSON.stringify(payload));
      assert.equal(r.body.error, 'ValidationError');
      assert.match(r.body.message, pattern);
    };
    await expect400({ history: Array(51).fill('1'), k: 3 }, /^body\.history: must NOT have more than 50 items$/);
    await expect400({ history: ['1'], k: 21 }, /^body\.k: must be <= 20$/);
    await expect400({ history: ['1'], k: 0 }, /^body\.k: must be >= 1$/);
    await expect400({ history: ['1'], k: '5' }, /^body\.k: must be integer$/);
    await expect400({ history: [true] }, /^body\.history\[0\]: must be string or integer$/);
    await expect400({ history: ['x'.repeat(257)] }, /^body\.history\[0\]: must NOT have more than 256 characters or must be integer$/);
    // the unknown field is named (ajv's text, "body must NOT have additional properties", does not)
    await expect400({ history: ['1'], exclude_seen: true }, /^body: unknown property 'exclude_seen'$/);
    await expect400({ k: 3 }, /^body: missing required property 'history'$/);
    const batch = await post(s, '/v1/recommend/batch', { requests: Array(9).fill({ history: ['1'] }) });
    assert.equal(batch.status, 400);
    assert.match(batch.body.message, /^body\.requests: must NOT have more than 8 items$/);
    const nested = await post(s, '/v1/recommend/batch', { requests: [{ history: ['1'] }, { history: ['2'], foo: 1 }] });
    assert.equal(nested.body.message, "body.requests[1]: unknown property 'foo'");

    const big = await s.app.inject({ method: 'POST', url: '/v1/recommend', payload: JSON.stringify({ history: Array(5000).fill('12345') }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.statusCode, 413);
    assert.deepEqual(big.json(), { error: 'PayloadTooLarge', message: 'the request body is larger than the limit of 16384 bytes' });
    const malformed = await s.app.inject({ method: 'POST', url: '/v1/recommend', payload: '{"history": [', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error, 'BadRequest');
    const text = await s.app.inject({ method: 'POST', url: '/v1/recommend', payload: 'history=1', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().error, 'UnsupportedMediaType');
    const missing = await s.app.inject({ method: 'GET', url: '/v1/nothing?x=1' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { error: 'NotFound', message: 'no route GET /v1/nothing; see GET /docs' });
    const wrongMethod = await s.app.inject({ method: 'GET', url: '/v1/recommend' });
    assert.equal(wrongMethod.statusCode, 404);
  });
});

describe('health, readiness, metrics and docs', () => {
  it('readyz is 503 until a model is loaded, healthz always 200', async () => {
    const s = await service({}, false);
    assert.equal((await s.app.inject('/healthz')).statusCode, 200);
    const notReady = await s.app.inject('/readyz');
    assert.equal(notReady.statusCode, 503);
    assert.equal(notReady.json().error, 'NotReady');
    assert.equal((await post(s, '/v1/recommend', { history: ['1'] })).status, 503);
    await s.holder.reload();
    const ready = await s.app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().model.version, Recommender.load(runA).info.version);
    assert.equal(ready.json().model.items, 60);
  });

  it('metrics count requests by route and status, items recommended, and name the model version', async () => {
    const s = await service();
    const version = Recommender.load(runA).info.version;
    const ok = 'adarec_http_requests_total{method="POST",route="/v1/recommend",status="200"}';
    const bad = 'adarec_http_requests_total{method="POST",route="/v1/recommend",status="400"}';
    await post(s, '/v1/recommend', { history: ['1'], k: 4 });
    const before = (await s.app.inject('/metrics')).body;
    await post(s, '/v1/recommend', { history: ['1'], k: 4 });
    await post(s, '/v1/recommend', { history: ['1'], k: 99 });
    await s.app.inject('/nowhere');
    const m = await s.app.inject('/metrics');
    assert.match(String(m.headers['content-type']), /^text\/plain/);
    assert.equal(sample(m.body, ok), sample(before, ok) + 1);
    assert.equal(sample(m.body, bad), sample(before, bad) + 1);
    assert.equal(sample(m.body, 'adarec_recommended_items_total'), 8);
    assert.equal(sample(m.body, `adarec_model_info{version="${version}",kind="nextitnet"}`), 1);
    assert.ok(sample(m.body, 'adarec_http_requests_total{method="GET",route="unmatched",status="404"}') >= 1);
    assert.ok(sample(m.body, 'adarec_http_request_duration_seconds_count{method="POST",route="/v1/recommend"}') >= 3);
    assert.match(m.body, /process_resident_memory_bytes \d+/);
  });

  it('describes the API in OpenAPI at /docs', async () => {
    const s = await service();
    const doc = (await s.app.inject('/docs')).json();
    assert.equal(doc.openapi, '3.0.3');
    for (const p of ['/v1/recommend', '/v1/recommend/batch', '/healthz', '/readyz', '/metrics', '/admin/reload']) assert.ok(doc.paths[p], p);
    assert.ok(!doc.paths['/docs']);
    const body = doc.paths['/v1/recommend'].post.requestBody.content['application/json'].schema;
    assert.equal(body.properties.k.maximum, 20);
    assert.equal(body.properties.history.maxItems, 50);
  });
});

describe('hot reload', () => {
  it('checks the admin token, swaps the model atomically, and keeps the old one when a reload fails', async () => {
    const live = join(root, 'live-admin');
    copyRun(runA, live);
    const s = await service({ model: live, adminToken: 's3cret' });
    const [vA, recB] = [Recommender.load(runA).info.version, Recommender.load(runB)];
    const auth = { authorization: 'Bearer s3cret' };
    const anonymous = await s.app.inject({ method: 'POST', url: '/admin/reload' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
    assert.equal((await post(s, '/admin/reload', undefined, { authorization: 'Bearer nope' })).status, 403);
    const disabled = await post(await service(), '/admin/reload', undefined, auth);
    assert.equal(disabled.status, 403);
    assert.equal(disabled.body.error, 'AdminDisabled');

    copyRun(runB, live);
    const r = await post(s, '/admin/reload', undefined, auth);
    assert.equal(r.status, 200);
    assert.deepEqual({ ...r.body, seconds: 0 }, { model: { version: recB.info.version }, previous: { version: vA }, changed: true, seconds: 0 });
    const after = await post(s, '/v1/recommend', { history: ['3', '4'], k: 5 });
    assert.deepEqual(after.body, { ...recB.recommend({ history: ['3', '4'], k: 5 }), model: { version: recB.info.version } });

    writeFileSync(join(live, 'best.ckpt'), 'not a checkpoint');
    const broken = await post(s, '/admin/reload', undefined, auth);
    assert.equal(broken.status, 500);
    assert.equal(broken.body.error, 'ReloadFailed');
    assert.deepEqual(broken.body.model, { version: recB.info.version });
    const still = await post(s, '/v1/recommend', { history: ['3', '4'], k: 5 });
    assert.equal(still.status, 200);
    assert.equal(still.body.model.version, recB.info.version);
    const m = (await s.app.inject('/metrics')).body;
    assert.equal(sample(m, 'adarec_model_reloads_total{result="failure"}'), 1);
    assert.equal(sample(m, 'adarec_model_reloads_total{result="success"}'), 2);
    assert.equal(sample(m, `adarec_model_info{version="${recB.info.version}",kind="nextitnet"}`), 1);
  });

  it('concurrent reloads share one load', async () => {
    const s = await service();
    const [a, b] = await Promise.all([s.holder.reload(), s.holder.reload()]);
    assert.deepEqual(a, b);
  });
});

/** Lines of a child's stdout parsed as the server's JSON log records. */
function logRecords(child: ChildProcess): AsyncIterator<Record<string, unknown>> {
  const lines = createInterface({ input: child.stdout! });
  return (async function* () {
    for await (const line of lines) {
      try {
        yield JSON.parse(line) as Record<string, unknown>;
      } catch {
        // not a log record
      }
    }
  })();
}

async function waitFor(records: AsyncIterator<Record<string, unknown>>, msg: RegExp): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await records.next();
    if (next.done) throw new Error(`the server exited before logging ${msg}`);
    if (msg.test(String(next.value.msg))) return next.value;
  }
}

describe('adarec serve (child process)', () => {
  it('reloads on SIGHUP, and on SIGTERM finishes the request in flight and exits 0', async () => {
    const live = join(root, 'live-cli');
    copyRun(runA, live);
    const child = spawn(process.execPath, [MAIN, 'serve', '--model', live, '--port', '0', '--max-history', '20'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const records = logRecords(child);
    const ready = await waitFor(records, /^ready$/);
    const url = new URL(String(ready.address));
    const versionNow = async (): Promise<string> => ((await (await fetch(new URL('/readyz', url))).json()) as { model: { version: string } }).model.version;
    assert.equal(await versionNow(), Recommender.load(runA).info.version);

    copyRun(runB, live);
    child.kill('SIGHUP');
    await waitFor(records, /^model loaded$/);
    assert.equal(await versionNow(), Recommender.load(runB).info.version);

    // a request whose body is still arriving when SIGTERM comes is answered before the exit
    const body = JSON.stringify({ history: ['1', '2'], k: 3 });
    const response = new Promise<{ status: number; text: string }>((done, fail) => {
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => { text += c; });
          res.on('end', () => done({ status: res.statusCode ?? 0, text }));
        });
      req.on('error', fail);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        child.kill('SIGTERM');
        waitFor(records, /^SIGTERM: finishing/).then(() => setTimeout(() => req.end(body.slice(10)), 200), fail);
      }, 200);
    });
    const r = await response;
    assert.equal(r.status, 200, r.text);
    assert.equal((JSON.parse(r.text) as { items: unknown[] }).items.length, 3);
    assert.equal(await exited, 0);
  });
});
