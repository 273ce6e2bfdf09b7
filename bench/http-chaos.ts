// bench/http-chaos: the HTTP service under fuzzed requests and under hot reloads (docs/RELIABILITY.md).
//
//   npm run chaos:http -- [--requests 10000] [--seconds 60] [--reloads 100] [--seed 1]
//
// Fuzzing: requests generated from the service's own OpenAPI description (GET /docs): for every
// route, bodies valid under its schema (item ids drawn from the served vocabulary and at random)
// and mutated ones (unknown and missing properties, wrong types, out-of-range numbers, overlong
// strings and arrays, prototype keys, deep nesting, broken or non-UTF-8 JSON, other content types,
// other methods, odd paths and session ids, missing, wrong and right admin tokens, reload paths
// inside and outside the model root). Every answer must be < 500 and JSON {error, message} when
// it is an error; the server must stay up; its heap is sampled along the way.
//
// Reloads under load: `connections` clients send valid recommendations without pause while
// POST /admin/reload runs `reloads` times, alternating between two run folders of the model root;
// every request must be answered 200 by one of the two models.
//
// The test (test/serve-fuzz.test.ts) runs both on an in-process service; this script runs them
// against `adarec serve` in a child process, with a 60 s load, for the documented figures.
import fc from 'fast-check';
import { Agent, request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface FuzzContext {
  /** The served vocabulary (original ids). */
  items: string[];
  /** The admin token. */
  token: string;
  /** Run folders inside the model root (names relative to it) that a reload may name. */
  folders: string[];
}

export interface FuzzRequest {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface Answer { status: number; body: Buffer; contentType: string }

type Schema = Record<string, any>;

interface Route { method: string; path: string; params: Schema[]; body: Schema | null }

/** The routes of an OpenAPI 3 description, with their path parameters and JSON body schema. */
export function openApiRoutes(doc: any): Route[] {
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths))
    for (const [method, op] of Object.entries<any>(ops))
      routes.push({ method: method.toUpperCase(), path, params: (op.parameters ?? []).filter((p: any) => p.in === 'path'), body: op.requestBody?.content?.['application/json']?.schema ?? null });
  return routes;
}

const isItemId = (s: Schema): boolean => /item id/.test(String(s.description ?? ''));

/** Values valid under `schema` (item ids mostly from the vocabulary, reload paths from the context). */
function valid(schema: Schema, ctx: FuzzContext, key = ''): fc.Arbitrary<unknown> {
  if (schema.anyOf) {
    if (isItemId(schema)) {
      const numeric = ctx.items.filter((k) => /^(0|[1-9]\d{0,14})$/.test(k)).map(Number);
      return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ctx.items) }, ...(numeric.length ? [{ weight: 2, arbitrary: fc.constantFrom(...numeric) }] : []),
        { weight: 1, arbitrary: fc.oneof(...schema.anyOf.map((s: Schema) => valid(s, ctx))) });
    }
    return fc.oneof(...schema.anyOf.map((s: Schema) => valid(s, ctx)));
  }
  switch (schema.type) {
    case 'object': {
      const props = Object.entries<Schema>(schema.properties ?? {});
      const model = Object.fromEntries(props.map(([k, s]) => [k, valid(s, ctx, k)]));
      return fc.record(model, { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(valid(schema.items ?? {}, ctx), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 8, 24) });
    case 'string':
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      if (key === 'model') return fc.constantFrom(...ctx.folders);
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 32, 32) });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -(2 ** 31), max: schema.maximum ?? 2 ** 31 - 1 });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue();
  }
}

/** Every node of a JSON value with its path. */
function nodes(v: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  const out = [{ path, value: v }];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...nodes(x, [...path, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...nodes(x, [...path, k]));
  return out;
}

function replaceAt(v: unknown, path: (string | number)[], f: (x: unknown) => unknown): unknown {
  if (path.length === 0) return f(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? replaceAt(x, rest, f) : x));
  const o = { ...(v as Record<string, unknown>) };
  o[head as string] = replaceAt(o[head as string], rest, f);
  return o;
}

const weird = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(null, true, -1, 0, -0.5, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', ' ', '0', '-1', 'NaN', '1e400', '\u0000', '\ud800', '💥'.repeat(100), 'x'.repeat(300), [], {}, [[[]]]),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A valid body changed in one way that the schema (or JSON itself) forbids, or that probes the parser. */
function mutate(v: unknown): fc.Arbitrary<{ label: string; text: string }> {
  const all = nodes(v);
  const objects = all.filter((n) => n.value && typeof n.value === 'object' && !Array.isArray(n.value));
  const json = (label: string, x: unknown) => ({ label, text: JSON.stringify(x) });
  return fc.oneof(
    fc.tuple(fc.nat(objects.length - 1), fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty')), weird)
      .map(([i, k, x]) => json('unknown property', replaceAt(v, objects[i].path, (o) => ({ ...(o as object), [k]: x })))),
    fc.nat(all.length - 1).chain((i) => weird.map((x) => json('wrong value', replaceAt(v, all[i].path, () => x)))),
    fc.nat(objects.length - 1).map((i) => {
      const keys = Object.keys(objects[i].value as object);
      return json('missing property', replaceAt(v, objects[i].path, (o) => Object.fromEntries(Object.entries(o as object).filter(([k]) => k !== keys[0]))));
    }),
    fc.constantFrom(5, 1000, 5000).map((d) => ({ label: 'deep nesting', text: '['.repeat(d) + ']'.repeat(d) })),
    fc.nat(Math.max(0, JSON.stringify(v).length - 1)).map((n) => ({ label: 'truncated JSON', text: JSON.stringify(v).slice(0, n) })),
    fc.constantFrom(17_000, 100_000).map((n) => ({ label: 'oversized body', text: JSON.stringify({ history: ['1'.repeat(n)] }) })),
    fc.constantFrom('', 'null', '[]', '"x"', '1', '{', '}', '{"a":1,"a":2}', '{"__proto__":{"polluted":1}}', '\ufeff{}', 'NaN', '{"history":[1e999]}')
      .map((t) => ({ label: 'odd JSON', text: t })),
    fc.array(fc.constantFrom(...ITEM_LIKE), { minLength: 1, maxLength: 1200 }).map((h) => json('over the limits', replaceAt(v, [], (o) => ({ ...(o as object), history: h, items: h, k: 10 ** 6 })))),
  );
}
const ITEM_LIKE = ['1', '2', 'x', '00001', '-3', 'i1'];

const BAD_PATHS = ['/', '/v1', '/v1/recommend/', '/v1/recommend/../admin/reload', '/v1/recommend%00', '/v1/sessions/%2e%2e/events', '/v1/sessions//events',
  '/v1/sessions/' + 'a'.repeat(300) + '/events', '/v1/sessions/a%20b/events', '/v1/sessions/%F0%9F%92%A5/events', '/docs/../metrics', '/admin/reload?x=1&x=2',
  '/v1/recommend?k=5', '/%ff', '/' + 'x/'.repeat(500), '/readyz?__proto__[x]=1'];

/** Requests for every route: valid and mutated bodies, odd headers, methods and paths. */
export function requestArbitrary(doc: unknown, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const routes = openApiRoutes(doc);
  const auth = fc.oneof(
    { weight: 4, arbitrary: fc.constant(`Bearer ${ctx.token}`) },
    { weight: 1, arbitrary: fc.constantFrom('', 'Bearer', `Bearer ${ctx.token}x`, `bearer ${ctx.token}`, `Basic ${ctx.token}`, `Bearer ${'t'.repeat(5000)}`, `Bearer  ${ctx.token}  `) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((t) => `Bearer ${t}`) },
  );
  const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '', 'application/jsonx', 'APPLICATION/JSON') });
  const perRoute = routes.map((r) => {
    const pathArb = r.params.length
      ? fc.oneof({ weight: 4, arbitrary: valid(r.params[0].schema, ctx) }, { weight: 1, arbitrary: fc.string({ maxLength: 150 }).map((s) => encodeURIComponent(s)) })
        .map((id) => r.path.replace(/\{[^}]+\}/, String(id)))
      : fc.constant(r.path);
    const bodyArb: fc.Arbitrary<{ label: string; text?: string; bytes?: Buffer }> = r.body
      ? valid(r.body, ctx).chain((v) => fc.oneof(
        { weight: 3, arbitrary: fc.constant({ label: 'valid', text: JSON.stringify(v) }) },
        { weight: 4, arbitrary: mutate(v) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ label: 'random bytes', bytes: Buffer.from(b) })) },
      ))
      : fc.oneof({ weight: 4, arbitrary: fc.constant({ label: 'valid' }) }, { weight: 1, arbitrary: fc.constant({ label: 'unexpected body', text: '{"a":1}' }) });
    return fc.record({ path: pathArb, body: bodyArb, auth, contentType, method: fc.oneof({ weight: 9, arbitrary: fc.constant(r.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'POST') }) })
      .map(({ path, body, auth: a, contentType: ct, method }): FuzzRequest => {
        const headers: Record<string, string> = {};
        const payload = body.bytes ?? (body.text === undefined ? undefined : Buffer.from(body.text, 'utf8'));
        if (payload !== undefined && ct) headers['content-type'] = ct;
        if (r.path.startsWith('/admin')) headers.authorization = a;
        return { label: `${r.method} ${r.path}: ${method !== r.method ? `method ${method}` : body.label}${ct !== 'application/json' && payload ? `, content-type '${ct}'` : ''}`, method, path, headers, body: payload };
      });
  });
  const odd = fc.record({ path: fc.constantFrom(...BAD_PATHS), method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT') })
    .map(({ path, method }): FuzzRequest => ({ label: `odd path: ${method} ${path.slice(0, 60)}`, method, path, headers: method === 'POST' ? { 'content-type': 'application/json' } : {}, body: method === 'POST' ? Buffer.from('{}') : undefined }));
  return fc.oneof(...perRoute.map((arbitrary) => ({ weight: 3, arbitrary })), { weight: 1, arbitrary: odd });
}

/** One request over a keep-alive agent; rejects on a connection error. */
export function send(base: URL, agent: Agent, r: FuzzRequest): Promise<Answer> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method: r.method, path: r.path, agent,
      headers: { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: String(res.headers['content-type'] ?? '') }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(r.body);
  });
}

/** What is wrong with an answer (null: fine): a 5xx, or an error that is not JSON {error, message}. */
export function answerProblem(r: FuzzRequest, a: Answer): string | null {
  if (a.status >= 500) return `${a.status}: ${a.body.toString('utf8').slice(0, 300)}`;
  if (a.status >= 400 && r.method !== 'HEAD') {
    try {
      const b = JSON.parse(a.body.toString('utf8'));
      if (typeof b.error !== 'string' || typeof b.message !== 'string' || !b.message) return `${a.status} without {error, message}: ${a.body.toString('utf8').slice(0, 200)}`;
    } catch {
      return `${a.status} answered with a body that is not JSON: ${a.body.toString('utf8').slice(0, 200)}`;
    }
  }
  return null;
}

export interface FuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  byLabel: Record<string, number>;
  /** 5xx answers, error bodies that are not {error, message}, connection errors: the request and what happened. */
  problems: string[];
  /** Heap samples (bytes), `heapSamples` of them evenly over the requests. */
  heap: number[];
  seconds: number;
}

/** Sends `n` fuzzed requests (seeded), `connections` at a time; `heap()` is sampled every n/10. */
export async function fuzzService(url: string, n: number, o: { seed: number; ctx: FuzzContext; connections?: number; heap?: () => Promise<number>; heapSamples?: number }): Promise<FuzzReport> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections ?? 4 });
  const doc = await send(base, agent, { label: 'docs', method: 'GET', path: '/docs', headers: {} });
  if (doc.status !== 200) throw new Error(`GET /docs answered ${doc.status}`);
  const requests = fc.sample(requestArbitrary(JSON.parse(doc.body.toString('utf8')), o.ctx), { numRuns: n, seed: o.seed });
  const report: FuzzReport = { requests: 0, byStatus: {}, byLabel: {}, problems: [], heap: [], seconds: 0 };
  const t0 = performance.now();
  let next = 0;
  const tenth = Math.max(1, Math.floor(n / (o.heapSamples ?? 10)));
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const r = requests[next++];
      report.byLabel[r.label.replace(/: .*$/, '')] = (report.byLabel[r.label.replace(/: .*$/, '')] ?? 0) + 1;
      try {
        const a = await send(base, agent, r);
        report.byStatus[a.status] = (report.byStatus[a.status] ?? 0) + 1;
        const p = answerProblem(r, a);
        if (p) report.problems.push(`${r.label} (${r.method} ${r.path.slice(0, 80)} ${r.body?.toString('utf8').slice(0, 120) ?? ''}): ${p}`);
      } catch (e) {
        report.problems.push(`${r.label}: connection error ${(e as Error).message}`);
      }
      report.requests++;
      if (report.requests % tenth === 0 && o.heap) report.heap.push(await o.heap());
    }
  };
  await Promise.all(Array.from({ length: o.connections ?? 4 }, worker));
  const alive = await send(base, agent, { label: 'healthz', method: 'GET', path: '/healthz', headers: {} }).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message), contentType: '' }));
  if (alive.status !== 200) report.problems.push(`the server is down after the fuzzing: GET /healthz ${alive.status} ${alive.body.toString()}`);
  report.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return report;
}

export interface ReloadReport {
  requests: number;
  failed: number;
  failures: string[];
  reloads: number;
  reloadFailures: string[];
  /** Requests answered per model version. */
  versions: Record<string, number>;
  seconds: number;
}

/**
 * `connections` clients send `bodies` to POST /v1/recommend without pause while `reloads`
 * reloads run, alternating between `folders` (names inside the model root), spread over `seconds`
 * when given (else back to back).
 */
export async function reloadUnderLoad(url: string, o: { token: string; bodies: string[]; folders: string[]; reloads: number; connections?: number; seconds?: number }): Promise<ReloadReport> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: (o.connections ?? 4) + 1 });
  const report: ReloadReport = { requests: 0, failed: 0, failures: [], reloads: 0, reloadFailures: [], versions: {}, seconds: 0 };
  let stop = false, i = 0;
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (!stop) {
      const body = o.bodies[i++ % o.bodies.length];
      try {
        const a = await send(base, agent, { label: 'load', method: 'POST', path: '/v1/recommend', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });
        const json = a.status === 200 ? JSON.parse(a.body.toString('utf8')) : null;
        if (a.status !== 200 || !Array.isArray(json?.items) || json.items.length === 0) {
          report.failed++;
          if (report.failures.length < 20) report.failures.push(`${a.status}: ${a.body.toString('utf8').slice(0, 200)}`);
        } else report.versions[json.model.version] = (report.versions[json.model.version] ?? 0) + 1;
      } catch (e) {
        report.failed++;
        if (report.failures.length < 20) report.failures.push(`connection error: ${(e as Error).message}`);
      }
      report.requests++;
    }
  };
  const clients = Array.from({ length: o.connections ?? 4 }, client);
  for (let r = 0; r < o.reloads; r++) {
    if (o.seconds) {
      const due = t0 + ((r + 1) * o.seconds * 1000) / (o.reloads + 1);
      await new Promise((w) => setTimeout(w, Math.max(0, due - performance.now())));
    }
    const a = await send(base, agent, { label: 'reload', method: 'POST', path: '/admin/reload', headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ model: o.folders[r % o.folders.length] })) });
    report.reloads++;
    if (a.status !== 200) report.reloadFailures.push(`${a.status}: ${a.body.toString('utf8').slice(0, 200)}`);
    else if (!o.seconds) await new Promise((w) => setTimeout(w, 2)); // let a few requests through between reloads
  }
  if (o.seconds) await new Promise((w) => setTimeout(w, Math.max(0, t0 + o.seconds! * 1000 - performance.now())));
  stop = true;
  await Promise.all(clients);
  report.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return report;
}

/**
 * The lowest heap sample of the first and the last quarter after a warm-up fifth, and the peak, in
 * MB (as bench/serve reads them; without a forced GC they follow the collector's rhythm too).
 */
export function heapTrend(values: number[]): { start: number; end: number; peak: number } {
  const steady = values.slice(Math.floor(values.length / 5));
  const q = Math.max(1, Math.floor(steady.length / 4));
  const mb = (x: number): number => Math.round((x / 2 ** 20) * 10) / 10;
  const start = Math.min(...steady.slice(0, q)), end = Math.min(...steady.slice(-q));
  return { start: mb(start), end: mb(end), peak: mb(Math.max(...steady)) };
}

/** Request bodies with random histories over a run folder's item ids. */
export function recommendBodies(items: string[], n = 64, seed = 7): string[] {
  return fc.sample(fc.record({ history: fc.array(fc.constantFrom(...items), { minLength: 1, maxLength: 30 }), k: fc.integer({ min: 1, max: 20 }) }), { numRuns: n, seed })
    .map((b) => JSON.stringify(b));
}

if (process.argv[1] && resolve(process.argv[1]).endsWith(join('bench', 'http-chaos.js'))) {
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '60' }, reloads: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' } } });
  const { ServerProcess } = await import('./serve-child.js');
  const { trainTinyRuns } = await import('./serve-runs.js');
  const dir = mkdtempSync(join(tmpdir(), 'adarec-http-chaos-'));
  let failed = false;
  try {
    const runs = await trainTinyRuns(dir, (l) => console.error(l));
    const items = (JSON.parse(readFileSync(join(runs.teacher, 'items.json'), 'utf8')) as { itemKeys: string[] }).itemKeys;
    const token = 'chaos-token-0123456789';
    // (no --sessions: the student has position embeddings and cannot stream; test/serve-fuzz fuzzes sessions)
    const server = await ServerProcess.start(runs.teacher, ['--model-root', dir, '--admin-token-env', 'ADAREC_CHAOS_TOKEN'], { ADAREC_CHAOS_TOKEN: token }, { echoErrors: false });
    const t0 = performance.now();
    const heap = async (): Promise<number> => (await server.memory(t0)).heapUsed;
    const ctx: FuzzContext = { items, token, folders: ['teacher', 'student', '../x', '/etc', 'student/../../x', 'nope', '.'] };
    const fuzz = await fuzzService(server.info.url, Number(values.requests), { seed: Number(values.seed), ctx, connections: 8, heap, heapSamples: 100 });
    const rss = await server.memory(t0);
    console.log(`fuzzing: ${fuzz.requests} requests in ${fuzz.seconds.toFixed(1)} s; by status ${JSON.stringify(fuzz.byStatus)}; ${fuzz.problems.length} problems`);
    console.log(`  by kind: ${JSON.stringify(fuzz.byLabel)}`);
    const t = heapTrend(fuzz.heap);
    console.log(`  server heap in use (MB, ${fuzz.heap.length} samples, no forced GC): lowest ${t.start} after the first fifth, ${t.end} in the last quarter, peak ${t.peak}; RSS at the end ${(rss.rss / 2 ** 20).toFixed(0)} MB`);
    for (const p of fuzz.problems.slice(0, 20)) console.log(`  PROBLEM ${p}`);
    const bodies = recommendBodies(items);
    const samples: number[] = [];
    const sampler = setInterval(() => { heap().then((h) => samples.push(h), () => {}); }, 1000);
    const load = await reloadUnderLoad(server.info.url, { token, bodies, folders: ['student', 'teacher'], reloads: Number(values.reloads), connections: 8, seconds: Number(values.seconds) });
    clearInterval(sampler);
    const lt = heapTrend(samples);
    console.log(`reloads under load: ${load.reloads} reloads (${load.reloadFailures.length} failed) in ${load.seconds.toFixed(1)} s; ${load.requests} requests, ${load.failed} failed; answered by ${JSON.stringify(load.versions)}`);
    console.log(`  server heap in use (MB, one sample a second, no forced GC): lowest ${lt.start} after the first fifth, ${lt.end} in the last quarter, peak ${lt.peak}`);
    console.log('  (the server cannot be made to collect from here: test/serve-fuzz.test.ts measures its heap after full GCs)');
    for (const p of [...load.reloadFailures, ...load.failures].slice(0, 20)) console.log(`  PROBLEM ${p}`);
    const code = await server.stop();
    console.log(`server exit code after SIGTERM: ${code}`);
    failed = fuzz.problems.length > 0 || load.failed > 0 || load.reloadFailures.length > 0 || code !== 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}
