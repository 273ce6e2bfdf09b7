// bench/serve: load test of `adarec serve` over loopback with autocannon. For a teacher and a
// student run folder (arguments; tiny ones trained on synthetic data when none are given), each
// served by its own child process: requests/s and latency at 1, 8 and 64 connections, then a soak
// (8 connections) sampling the server's RSS and heap each second, judged flat or growing. Any
// error, timeout or non-2xx answer fails the run (exit 1).
//   npm run bench:serve -- [teacherRun studentRun] [--duration 5] [--soak 60]
import autocannon, { type Result } from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/random.js';
import { ITEM_KEYS_FILE } from '../src/data/item-keys.js';
import { ServerProcess, type MemorySample } from './serve-child.js';
import { trainTinyRuns } from './serve-runs.js';

const CONNECTIONS = [1, 8, 64];
const SOAK_CONNECTIONS = 8;
const HISTORY = 30, K = 10, BODIES = 64;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { duration: { type: 'string', default: '5' }, soak: { type: 'string', default: '60' } },
});
const duration = Number(flags.duration), soak = Number(flags.soak);
if (!(duration > 0 && soak >= 5) || (positionals.length !== 0 && positionals.length !== 2)) {
  console.error('usage: node dist/bench/serve.js [teacherRun studentRun] [--duration seconds per level (5)] [--soak seconds, at least 5 (60)]');
  process.exit(2);
}

/** Request bodies with random histories over the run's own item ids. */
function bodies(run: string): string[] {
  const keys = (JSON.parse(readFileSync(join(run, ITEM_KEYS_FILE), 'utf8')) as { itemKeys: string[] }).itemKeys;
  const rng = new Rng(7);
  return Array.from({ length: BODIES }, () => JSON.stringify({ history: Array.from({ length: HISTORY }, () => keys[rng.int(keys.length)]), k: K, excludeSeen: true }));
}

function load(url: string, run: string, connections: number, seconds: number): Promise<Result> {
  const headers = { 'content-type': 'application/json' };
  return autocannon({ url, connections, duration: seconds, requests: bodies(run).map((body) => ({ method: 'POST', path: '/v1/recommend', headers, body })) });
}

const failures = (r: Result): number => r.errors + r.timeouts + r.non2xx;

interface LevelRow { name: string; connections: number; rps: number; p50: number; p99: number; failed: number }
interface MemoryVerdict { name: string; requests: number; failed: number; rss: Trend; heap: Trend }
interface Trend { start: number; end: number; peak: number; growing: boolean }

/**
 * Floors (minimum, i.e. after garbage collection) of the first and last quarter of the samples
 * after a warm-up fifth: growing when the last floor is over 10% and 4 MB above the first.
 */
function trend(values: number[]): Trend {
  const steady = values.slice(Math.floor(values.length / 5));
  const q = Math.max(1, Math.floor(steady.length / 4));
  const start = Math.min(...steady.slice(0, q)), end = Math.min(...steady.slice(-q));
  return { start, end, peak: Math.max(...steady), growing: end - start > Math.max(0.1 * start, 4 * 2 ** 20) };
}

async function soakRun(name: string, server: ServerProcess, run: string): Promise<MemoryVerdict> {
  const t0 = performance.now();
  const samples: MemorySample[] = [];
  const sampler = setInterval(() => { server.memory(t0).then((s) => samples.push(s), () => {}); }, 1000);
  const r = await load(server.info.url, run, SOAK_CONNECTIONS, soak);
  clearInterval(sampler);
  return { name, requests: r.requests.total, failed: failures(r), rss: trend(samples.map((s) => s.rss)), heap: trend(samples.map((s) => s.heapUsed)) };
}

async function benchRun(name: string, run: string, levels: LevelRow[], memory: MemoryVerdict[]): Promise<void> {
  const server = await ServerProcess.start(run);
  console.error(`${name}: serving ${run} (version ${server.info.version}) at ${server.info.url}`);
  await load(server.info.url, run, 8, 1); // warm-up
  for (const connections of CONNECTIONS) {
    const r = await load(server.info.url, run, connections, duration);
    levels.push({ name, connections, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: failures(r) });
  }
  memory.push(await soakRun(name, server, run));
  const code = await server.stop();
  if (code !== 0) throw new Error(`${name}: the server exited with ${code} after SIGTERM`);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

let scratch: string | null = null;
let runs: { teacher: string; student: string };
if (positionals.length === 2) {
  runs = { teacher: resolve(positionals[0]), student: resolve(positionals[1]) };
} else {
  scratch = mkdtempSync(join(tmpdir(), 'adarec-bench-serve-'));
  runs = await trainTinyRuns(scratch, (line) => console.error(line));
}
const levels: LevelRow[] = [], memory: MemoryVerdict[] = [];
try {
  for (const [name, run] of Object.entries(runs)) await benchRun(name, run, levels, memory);
} finally {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

console.log(`\nPOST /v1/recommend, history ${HISTORY}, k ${K}, excludeSeen; ${duration} s per level over loopback (server in a child process)\n`);
console.log(table(['model', 'connections', 'req/s', 'p50 ms', 'p99 ms', 'failed'],
  levels.map((l) => [l.name, String(l.connections), l.rps.toFixed(0), String(l.p50), String(l.p99), String(l.failed)])));
console.log('(autocannon measures latency in whole milliseconds: 0 means under 1 ms)');
console.log(`\nmemory over a ${soak} s soak at ${SOAK_CONNECTIONS} connections (MB; start/end are post-GC floors after a warm-up fifth)\n`);
console.log(table(['model', 'requests', 'failed', 'rss start', 'rss end', 'rss peak', 'heap start', 'heap end', 'heap peak', 'verdict'],
  memory.map((m) => [m.name, String(m.requests), String(m.failed), mb(m.rss.start), mb(m.rss.end), mb(m.rss.peak), mb(m.heap.start), mb(m.heap.end), mb(m.heap.peak),
    m.rss.growing || m.heap.growing ? `growing (${[m.rss.growing && 'rss', m.heap.growing && 'heap'].filter(Boolean).join(', ')})` : 'flat'])));
const failed = levels.reduce((n, l) => n + l.failed, 0) + memory.reduce((n, m) => n + m.failed, 0);
if (failed > 0) {
  console.error(`\nFAILED: ${failed} requests failed (errors, timeouts or non-2xx)`);
  process.exitCode = 1;
} else {
  console.log('\nno failed requests');
}
