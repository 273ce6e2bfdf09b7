// The HTTP service under fuzzed requests, hot reloads under load, and its admin guards
// (docs/RELIABILITY.md; bench/http-chaos.ts holds the generator and the drivers, and runs them
// against `adarec serve` for the documented figures). Over a real socket to an in-process service:
// 10,000 requests generated from the service's own OpenAPI description, valid and mutated, never
// answered >= 500, errors always JSON {error, message}, the server up and its heap flat; 100
// reloads alternating between two run folders while clients send requests without pause, none
// failing; the admin token checked first and in constant time; reload paths outside the model
// root refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createService, type Service } from '../src/serve/http/app.js';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { fuzzService, recommendBodies, reloadUnderLoad, type FuzzContext } from '../bench/http-chaos.js';
import { tinyData } from './train-fixture.js';

const TOKEN = 'fuzz-token-5f0c2a';
let root = '', service: Service, url = '';
let items: string[] = [];

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = async (): Promise<number> => {
  await new Promise((r) => setImmediate(r));
  gc();
  return process.memoryUsage().heapUsed;
};

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'adarec-fuzz-'));
  const d = tinyData();
  const data = { ...d, dataset: { ...d.dataset, itemKeys: d.dataset.itemKeys.map((k) => k.slice(1)) } }; // numeric ids, as many logs have
  items = data.dataset.itemKeys;
  for (const [name, seed] of [['a', 1], ['b', 2]] as const) {
    const config = parseTrainConfig({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 64, epochs: 1, seed }, 'test');
    await train({ config, data, outDir: join(root, name), log: () => {} });
  }
  mkdirSync(join(root, 'not-a-run'));
  writeFileSync(join(root, 'not-a-run', 'best.ckpt'), 'garbage');
  copyFileSync(join(root, 'a', 'items.json'), join(root, 'not-a-run', 'items.json'));
  symlinkSync(tmpdir(), join(root, 'escape'));
  service = await createService({
    model: join(root, 'a'), modelRoot: root, adminToken: TOKEN, unknownItems: 'skip', bodyLimit: 16 * 1024,
    maxHistory: 50, maxK: 20, maxBatch: 8, sessionBytes: 256 * 1024, logger: false,
  });
  assert.equal((await service.holder.reload()).ok, true);
  url = await service.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await service?.app.close();
  rmSync(root, { recursive: true, force: true });
});

describe('fuzzing from the OpenAPI description', () => {
  it('10,000 valid and mutated requests: none answered >= 500, every error JSON {error, message}, the server up, the heap flat', async (t) => {
    const ctx: FuzzContext = { items, token: TOKEN, folders: ['a', 'b', '../x', '/etc', 'a/../../x', 'nope', '.', 'not-a-run', 'escape', join(root, 'b')] };
    const r = await fuzzService(url, 10_000, { seed: 17, ctx, connections: 4, heap });
    assert.deepEqual(r.problems.slice(0, 10), [], `${r.problems.length} problems`);
    assert.equal(r.requests, 10_000);
    for (const status of ['200', '400', '401', '403', '404', '413', '415']) assert.ok(r.byStatus[status] > 0, `no ${status} among ${JSON.stringify(r.byStatus)}`);
    // flat: after a warm-up tenth, the heap ends within 8 MB of where it was (each sample after a full GC)
    t.diagnostic(`by status ${JSON.stringify(r.byStatus)}; heap after GC at each tenth (MB): ${r.heap.map((h) => (h / 2 ** 20).toFixed(1)).join(' ')}`);
    const [, second, ...rest] = r.heap;
    const last = rest[rest.length - 1];
    assert.ok(last - second < 8 * 2 ** 20, `heap grew from ${(second / 2 ** 20).toFixed(1)} to ${(last / 2 ** 20).toFixed(1)} MB: ${r.heap.map((h) => (h / 2 ** 20).toFixed(1)).join(' ')}`);
  });
});

describe('hot reloads under load', () => {
  it('100 reloads alternating between two run folders while 4 clients send requests: no request fails, no model is kept', async (t) => {
    const before = await heap();
    const r = await reloadUnderLoad(url, { token: TOKEN, bodies: recommendBodies(items), folders: ['b', 'a'], reloads: 100, connections: 4 });
    const after = await heap();
    t.diagnostic(`${r.requests} requests, answered by ${JSON.stringify(r.versions)}; heap after GC ${(before / 2 ** 20).toFixed(1)} -> ${(after / 2 ** 20).toFixed(1)} MB`);
    assert.ok(after - before < 4 * 2 ** 20, `the heap grew by ${((after - before) / 2 ** 20).toFixed(1)} MB over 100 reloads`);
    assert.deepEqual(r.reloadFailures, []);
    assert.equal(r.reloads, 100);
    assert.equal(r.failed, 0, r.failures.join('\n'));
    assert.ok(r.requests > 100, `${r.requests} requests`);
    assert.equal(Object.keys(r.versions).length, 2, `answered by ${JSON.stringify(r.versions)}`);
  });
});

describe('admin guards', () => {
  const reload = async (headers: Record<string, string>, body?: unknown) => {
    const r = await service.app.inject({ method: 'POST', url: '/admin/reload', headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.statusCode, body: r.json() };
  };
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuse a missing or wrong token before reading the body, comparing tokens in constant time', async () => {
    assert.deepEqual((await reload({}, { model: '/etc' })).body.error, 'Unauthorized');
    assert.equal((await reload({ authorization: 'Bearer nope' }, { model: '/etc' })).status, 403);
    assert.equal((await reload({ authorization: 'Bearer nope' }, { bogus: 1 })).status, 403, 'the token comes before the body schema');
    const calls: [number, number][] = [];
    const original = crypto.timingSafeEqual;
    crypto.timingSafeEqual = (a, b) => { calls.push([a.byteLength, b.byteLength]); return original(a, b); };
    syncBuiltinESMExports();
    try {
      for (const wrong of ['x', `${TOKEN}x`, TOKEN.slice(0, -1), 'y'.repeat(4096)]) assert.equal((await reload({ authorization: `Bearer ${wrong}` })).status, 403);
      assert.equal((await reload(auth)).status, 200);
    } finally {
      crypto.timingSafeEqual = original;
      syncBuiltinESMExports();
    }
    // every comparison, right or wrong, whatever the length: timingSafeEqual over two 32-byte digests
    assert.deepEqual(calls, Array(5).fill([32, 32]));
  });

  it('refuse reload paths outside the model folder (.., absolute, a symbolic link out), and keep the model on a bad folder inside', async () => {
    const before = service.holder.current!.info.version;
    for (const model of ['../x', '/etc', `${root}/../x`, 'a/../../x', 'escape', 'escape/adarec', tmpdir()]) {
      const r = await reload(auth, { model });
      assert.equal(r.status, 403, `${model}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error, 'OutsideModelRoot');
    }
    assert.equal((await reload(auth, { model: 'missing' })).body.error, 'NoSuchModel');
    const bad = await reload(auth, { model: 'not-a-run' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.error, 'ReloadFailed');
    assert.match(bad.body.message, /not-a-run\/best\.ckpt is not an adarec checkpoint \(bad magic\) \(still serving [0-9a-f]{12}\)/);
    assert.equal(service.holder.current!.info.version, before);
    assert.equal((await reload(auth, { model: 'a', extra: 1 })).body.message, "body: unknown property 'extra'");
    // inside: switches, and a body-less reload then re-reads the new folder
    const b = await reload(auth, { model: join(root, 'b') });
    assert.equal(b.status, 200, JSON.stringify(b.body));
    assert.equal(service.holder.folder, join(root, 'b'));
    assert.equal((await reload(auth)).body.model.version, b.body.model.version);
    assert.equal((await reload(auth, { model: 'a' })).status, 200);
  });

  it('a server without --model-root refuses any reload path', async () => {
    const s = await createService({ model: join(root, 'a'), adminToken: TOKEN, unknownItems: 'skip', bodyLimit: 4096, maxHistory: 5, maxK: 5, maxBatch: 2, logger: false });
    try {
      const r = await s.app.inject({ method: 'POST', url: '/admin/reload', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"model":"a"}' });
      assert.equal(r.statusCode, 403);
      assert.equal(r.json().error, 'ReloadPathsDisabled');
    } finally {
      await s.app.close();
    }
  });
});
