// bench/chaos: `adarec run` killed with SIGKILL N times at seeded random moments, restarted after
// each kill, and compared with an uninterrupted run of the same seed (docs/RELIABILITY.md).
//
//   npm run chaos -- --kills N [--seed S] [--config fast|default] [--dir D] [--keep] [--json report.json]
//
// The reference run is done first; its stderr lines are milestones (data prepared, stage started,
// epoch e of stage s done, ...) with their times. The N kill moments are drawn uniformly over the
// reference's timeline and sorted; restart i is killed when it reaches moment i, found from its own
// milestones (a resumed child skips what is done, so its clock is mapped onto the reference's at
// each milestone). A third of the kills ('write') wait from that moment for the next temporary file
// of an atomic write to appear (inotify on every folder of the run and the cache) and kill right
// then, so that kills land while checkpoints, caches, stage records and reports are being written.
// One kill in eight also deletes the prepared-data cache first and kills the restart during data
// preparation (a random moment before its data line, or as the cache's temporary file appears).
//
// After every kill: every checkpoint, cache and JSON file that is not a temporary file must load
// (none is torn). After the last restart has finished: the two run folders and caches hold the
// same files (so no orphan temporary file, no stale lock, no stage moved aside), every checkpoint's
// tensors are bit-identical, and every JSON/JSONL file (results.json, stage.json, logs, configs,
// candidates, alpha, genotype) is equal once wall-clock fields (seconds, latencies, dates) are
// dropped and the two roots are written as <root>. report.html, drawn from those files with the
// latencies, durations and the run's path in it, must be a whole page.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCacheFile } from '../src/data/cache.js';
import { readCheckpoint } from '../src/train/checkpoint.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');

/** A run configuration and its data: 'fast' for the test in npm test, 'default' for the documented figures. */
export const CHAOS_CONFIGS = {
  fast: {
    data: 'synthetic:users=240,items=50,minLength=5,maxLength=20', negatives: 20,
    run: {
      teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 3 },
      search: { hidden: 8, cells: 2, nodes: 2, epochs: 2, maxLength: 12 },
      student: { epochs: 2 }, latencyRuns: 3,
      baselines: { random: 1, randomAny: 1, randomSearch: { candidates: 2, epochsEach: 1 } },
    },
  },
  default: {
    data: 'synthetic:users=1200,items=200,minLength=5,maxLength=30', negatives: 50,
    run: {
      teacher: { model: { kind: 'nextitnet', hidden: 32, dilations: [1, 2, 1, 2] }, maxLength: 20, epochs: 6 },
      search: { hidden: 16, cells: 2, nodes: 2, epochs: 4, maxLength: 20 },
      student: { epochs: 4 }, latencyRuns: 5,
      baselines: { random: 1, randomAny: 1, randomSearch: { candidates: 2, epochsEach: 2 } },
    },
  },
} as const;
export type ChaosConfigName = keyof typeof CHAOS_CONFIGS;

export interface ChaosOptions {
  kills: number;
  seed?: number;
  config?: ChaosConfigName;
  /** Working folder (default: a fresh temporary one, removed at the end unless `keep`). */
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export type KillMode = 'timed' | 'write' | 'data';

export interface KillRecord {
  index: number;
  mode: KillMode;
  /** The reference time (ms) the kill aimed at. */
  targetMs: number;
  /** Where the child was: data (before its data line), a stage's phase, or report. */
  phase: string;
  stage: string | null;
  /** Temporary files of atomic writes present right after the kill (the writes it interrupted). */
  writing: string[];
  /** ms from the child's start to the kill. */
  afterMs: number;
}

export interface ChaosReport {
  config: ChaosConfigName;
  seed: number;
  killsAsked: number;
  kills: KillRecord[];
  /** Children started in the chaos folder (kills + the last, finished one + any that finished before their kill). */
  starts: number;
  /** Kill moments never reached because the run had finished. */
  missed: number;
  referenceMs: number;
  chaosMs: number;
  byPhase: Record<string, number>;
  byMode: Record<KillMode, number>;
  /** Kills that interrupted at least one atomic write, and which files were being written. */
  duringWrites: number;
  writtenFiles: Record<string, number>;
  /** Files compared between the two runs, by kind. */
  compared: Record<string, number>;
  /** Everything that went wrong (empty: the chaos run passed). */
  problems: string[];
}

/** mulberry32: a small seeded generator for the kill schedule (independent of the engine's). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BASELINE_STAGES = /^(scratch|kd|random-|random-any-|random-search)/;

function phaseOf(stage: string | null): string {
  if (stage === null) return 'startup + data preparation';
  if (stage === 'teacher') return 'teacher training';
  if (stage.startsWith('search')) return 'search';
  if (stage === 'student' || stage.startsWith('student-')) return 'finetune';
  if (stage === 'random-search-student') return 'baselines';
  if (BASELINE_STAGES.test(stage)) return 'baselines';
  if (stage === '(report)') return 'report';
  return stage;
}

/**
 * Follows a child's stderr lines: the current stage and the milestone key of each line that is one
 * (stage start, epoch, candidate, test, search done, data, report).
 */
class MilestoneParser {
  stage: string | null = null;
  private candidate = 0;

  key(line: string): string | null {
    let m: RegExpExecArray | null;
    if (/^(loaded )?prepared data in /.test(line)) return 'data';
    if ((m = /^\[([\w.-]+)\] (running|resuming|up to date)/.exec(line))) {
      this.stage = m[1];
      this.candidate = 0;
      return m[2] === 'up to date' ? `${m[1]}:done` : `${m[1]}:start`;
    }
    if ((m = /^\[random-search\] candidate (\d+)\//.exec(line))) {
      this.candidate = Number(m[1]);
      return `random-search/c${this.candidate}:start`;
    }
    const where = this.candidate ? `${this.stage}/c${this.candidate}` : `${this.stage}`;
    if ((m = /^(search )?epoch (\d+)\/\d+/.exec(line))) return `${where}:epoch${m[2]}`;
    if (/^test \(/.test(line)) return `${where}:test`;
    if (/^search done/.test(line)) return `${where}:done-search`;
    if (/^report: /.test(line)) { this.stage = '(report)'; return 'report'; }
    if (/^\| model \|/.test(line)) { this.stage = '(report)'; return 'table'; }
    return null;
  }
}

interface Milestones {
  /** Reference time (ms since spawn) of each milestone key, in order. */
  times: Map<string, number>;
  /** The last reference time inside each stage (what a child's 'up to date' line stands for). */
  stageEnd: Map<string, number>;
  order: { key: string; t: number }[];
  total: number;
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
  stage: string | null;
  killedAt: number | null;
}

function childArgs(config: ChaosConfigName, configFile: string, out: string, cache: string): string[] {
  const c = CHAOS_CONFIGS[config];
  return [MAIN, 'run', '--data', c.data, '--negatives', String(c.negatives), '--config', configFile, '--out', out, '--cache-dir', cache];
}

/** Watches a folder tree for new temporary files (inotify per folder; folders created later are added). */
class TempWatcher {
  private watchers = new Map<string, FSWatcher>();
  private listener: ((path: string) => void) | null = null;

  constructor(roots: string[]) {
    for (const r of roots) this.add(r);
  }

  private add(dir: string): void {
    if (this.watchers.has(dir)) return;
    let w: FSWatcher;
    try {
      w = watch(dir, (_event, name) => {
        if (!name) return;
        const path = join(dir, name.toString());
        if (name.toString().endsWith('.tmp')) this.listener?.(path);
        else {
          try { if (statSync(path).isDirectory()) this.add(path); } catch { /* gone */ }
        }
      });
    } catch {
      return;
    }
    w.on('error', () => { w.close(); this.watchers.delete(dir); });
    this.watchers.set(dir, w);
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) this.add(join(dir, e.name));
    } catch { /* gone */ }
  }

  /** Calls `fn` at the next temporary file (once). */
  next(fn: (path: string) => void): void {
    this.listener = (p) => { this.listener = null; fn(p); };
  }

  cancel(): void {
    this.listener = null;
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}

/** Runs one child; `plan` may kill it (returns the moment it did). */
function runChild(args: string[], plan?: (child: { kill: () => void; onMilestone: (fn: (key: string, stage: string | null, t: number) => void) => void; t: () => number }) => void): Promise<ChildRun> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ADAREC_THREADS: '1' } });
    const parser = new MilestoneParser();
    let stderr = '', pending = '', killedAt: number | null = null, stageAtKill: string | null = null;
    let onMilestone: ((key: string, stage: string | null, t: number) => void) | null = null;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      pending += d;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (killedAt !== null) continue;
        const key = parser.key(line);
        if (key) onMilestone?.(key, parser.stage, performance.now() - t0);
      }
    });
    plan?.({
      kill: () => {
        if (killedAt !== null || child.exitCode !== null) return;
        killedAt = performance.now() - t0;
        stageAtKill = parser.stage;
        child.kill('SIGKILL');
      },
      onMilestone: (fn) => { onMilestone = fn; },
      t: () => performance.now() - t0,
    });
    child.on('exit', (code, signal) => done({ code, signal, stderr, ms: performance.now() - t0, stage: killedAt !== null ? stageAtKill : parser.stage, killedAt }));
  });
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const rec = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) rec(p);
      else out.push(p);
    }
  };
  rec(dir);
  return out.sort();
}

const isTemp = (path: string): boolean => path.endsWith('.tmp');

/** The file a temporary file stands for: '.last.ckpt.123.abcd.tmp' -> 'last.ckpt'. */
function tempTarget(path: string): string {
  const name = path.split('/').pop()!;
  const m = /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/.exec(name);
  const target = m ? m[1] : name;
  return target.startsWith('prepared-') ? 'prepared-data cache' : target;
}

/** Every file a reader may load must load: checkpoints, caches and JSON (temporary files aside). */
function checkLoadable(roots: string[]): string[] {
  const problems: string[] = [];
  for (const root of roots) {
    for (const f of walk(root)) {
      if (isTemp(f)) continue;
      try {
        if (f.endsWith('.ckpt')) readCheckpoint(f);
        else if (f.endsWith('.adarec')) readCacheFile(f);
        else if (f.endsWith('.json')) JSON.parse(readFileSync(f, 'utf8'));
      } catch (e) {
        problems.push(`${f} does not load after a kill: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

// (stage.json's sha256 covers its seconds: the rest of the record is compared)
const TIMING_KEYS = new Set(['seconds', 'evalSeconds', 'sequencesPerSecond', 'latencyP50Ms', 'searchSeconds', 'createdAt', 'loadedAt', 'sha256']);

/** JSON without wall-clock fields, with both roots written as <root>. */
function normalize(v: unknown, roots: string[]): unknown {
  if (typeof v === 'string') return roots.reduce((s, r) => s.split(r).join('<root>'), v);
  if (Array.isArray(v)) return v.map((x) => normalize(x, roots));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!TIMING_KEYS.has(k)) out[k] = normalize(x, roots);
    return out;
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function firstDifference(a: unknown, b: unknown, path = ''): string {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const x = (a as Record<string, unknown>)[k], y = (b as Record<string, unknown>)[k];
      if (!same(x, y)) return firstDifference(x, y, path ? `${path}.${k}` : k);
    }
  }
  return `${path || '(top)'}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}

/** report.md without the latency columns and wall-clock durations. */
function timelessReport(text: string): string {
  return text.split('\n').map((l) => (l.startsWith('|') ? l.split('|').slice(0, -3).join('|') : l))
    .join('\n').replace(/\d+(\.\d+)?\s?(ms|s|min|h)\b/g, 'T');
}

/** Compares the chaos run's folders with the reference's; returns the problems and the counts per kind. */
export function compareRuns(ref: { out: string; cache: string }, got: { out: string; cache: string }, roots: string[]): { problems: string[]; compared: Record<string, number> } {
  const problems: string[] = [];
  const compared: Record<string, number> = {};
  const count = (kind: string): void => { compared[kind] = (compared[kind] ?? 0) + 1; };
  for (const [a, b] of [[ref.out, got.out], [ref.cache, got.cache]]) {
    const fa = walk(a).map((f) => relative(a, f)), fb = walk(b).map((f) => relative(b, f));
    const extra = fb.filter((f) => !fa.includes(f)), missing = fa.filter((f) => !fb.includes(f));
    for (const f of extra) problems.push(`${join(b, f)}: not in the uninterrupted run (${isTemp(f) ? 'orphan temporary file' : f.endsWith('.lock') ? 'stale lock' : /\.stale-/.test(f) ? 'a stage moved aside' : 'extra file'})`);
    for (const f of missing) problems.push(`${join(b, f)}: missing (the uninterrupted run has it)`);
    for (const f of fa.filter((x) => fb.includes(x))) {
      const pa = join(a, f), pb = join(b, f);
      try {
        if (f.endsWith('.ckpt')) {
          const ca = readCheckpoint(pa), cb = readCheckpoint(pb);
          if (!same(normalize(ca.meta, roots), normalize(cb.meta, roots))) problems.push(`${pb}: checkpoint meta differs: ${firstDifference(normalize(ca.meta, roots), normalize(cb.meta, roots))}`);
          const ta = new Map(ca.tensors.map((t) => [t.name, t]));
          if (ca.tensors.length !== cb.tensors.length) problems.push(`${pb}: ${cb.tensors.length} tensors, the uninterrupted run's has ${ca.tensors.length}`);
          for (const t of cb.tensors) {
            const r = ta.get(t.name);
            const bytes = (v: typeof t.values): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
            if (!r || r.shape.join() !== t.shape.join() || !bytes(r.values).equals(bytes(t.values))) { problems.push(`${pb}: tensor ${t.name} differs`); break; }
          }
          count(f.endsWith('best.ckpt') ? 'best.ckpt' : 'other .ckpt');
        } else if (f.endsWith('.adarec')) {
          const ca = readCacheFile(pa), cb = readCacheFile(pb);
          if (!same(normalize(ca.manifest, roots), normalize(cb.manifest, roots))) problems.push(`${pb}: cache manifest differs`);
          for (const [name, s] of Object.entries(ca.sections)) {
            const t = cb.sections[name];
            const enc = (x: unknown): string => (x && typeof x === 'object' && 'json' in x ? JSON.stringify(x.json) : Buffer.from((x as Int32Array).buffer, (x as Int32Array).byteOffset, (x as Int32Array).byteLength).toString('base64'));
            if (!t || enc(s) !== enc(t)) problems.push(`${pb}: cache section ${name} differs`);
          }
          count('prepared-data cache');
        } else if (f.endsWith('.jsonl')) {
          const lines = (p: string): unknown[] => readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => normalize(JSON.parse(l), roots));
          const la = lines(pa), lb = lines(pb);
          if (!same(la, lb)) problems.push(`${pb}: ${lb.length} lines, differs from the uninterrupted run's ${la.length}: ${firstDifference(la, lb)}`);
          count('.jsonl');
        } else if (f.endsWith('.json')) {
          const ja = normalize(JSON.parse(readFileSync(pa, 'utf8')), roots), jb = normalize(JSON.parse(readFileSync(pb, 'utf8')), roots);
          if (!same(ja, jb)) problems.push(`${pb}: differs: ${firstDifference(ja, jb)}`);
          count(f === 'results.json' ? 'results.json' : '.json');
        } else if (f.endsWith('report.md')) {
          if (timelessReport(readFileSync(pa, 'utf8')) !== timelessReport(readFileSync(pb, 'utf8'))) problems.push(`${pb}: differs (latencies and durations aside)`);
          count('report.md');
        } else if (f.endsWith('tradeoff.svg')) {
          count('tradeoff.svg (latency axis: not compared)');
        } else if (f.endsWith('report.html')) {
          if (!readFileSync(pb, 'utf8').endsWith('</html>\n')) problems.push(`${pb}: not a whole page`);
          count('report.html (drawn from the files compared: checked whole)');
        } else {
          if (!readFileSync(pa).equals(readFileSync(pb))) problems.push(`${pb}: bytes differ`);
          count('other');
        }
      } catch (e) {
        problems.push(`${pb}: cannot be compared: ${(e as Error).message}`);
      }
    }
  }
  return { problems, compared };
}

/** Milestones of the reference run. */
function milestonesOf(events: { key: string; stage: string | null; t: number }[], total: number): Milestones {
  const times = new Map<string, number>(), stageEnd = new Map<string, number>();
  for (const e of events) {
    if (!times.has(e.key)) times.set(e.key, e.t);
    if (e.stage) stageEnd.set(e.stage, e.t);
  }
  return { times, stageEnd, order: [...times].map(([key, t]) => ({ key, t })), total };
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const configName = o.config ?? 'fast', seed = o.seed ?? 1;
  const log = o.log ?? ((l: string) => console.error(l));
  const dir = o.dir ? resolve(o.dir) : mkdtempSync(join(tmpdir(), 'adarec-chaos-'));
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'run.json');
  writeFileSync(configFile, JSON.stringify({ ...CHAOS_CONFIGS[configName].run, seed }, null, 2) + '\n');
  const ref = { out: join(dir, 'reference', 'run'), cache: join(dir, 'reference', 'cache') };
  const got = { out: join(dir, 'chaos', 'run'), cache: join(dir, 'chaos', 'cache') };
  for (const p of [ref, got]) rmSync(dirname(p.out), { recursive: true, force: true });
  const problems: string[] = [];
  const rng = random(seed * 7919 + o.kills);

  // 1. the uninterrupted run, its milestones timed
  log(`chaos: reference run (${configName} config, seed ${seed}) in ${dirname(ref.out)}`);
  const events: { key: string; stage: string | null; t: number }[] = [];
  const reference = await runChild(childArgs(configName, configFile, ref.out, ref.cache), (c) => c.onMilestone((key, stage, t) => events.push({ key, stage, t })));
  if (reference.code !== 0) throw new Error(`the reference run failed (exit ${reference.code}):\n${reference.stderr.slice(-3000)}`);
  const ms = milestonesOf(events, reference.ms);
  log(`chaos: reference run ${(reference.ms / 1000).toFixed(1)} s, ${ms.order.length} milestones; now ${o.kills} kills`);

  // 2. the kill schedule: moments over the reference timeline (sorted), a third of them at writes,
  // one in eight in a fresh data preparation
  const dataEnd = ms.times.get('data') ?? 0;
  const plan = Array.from({ length: o.kills }, () => ({ t: rng() * reference.ms * 0.97, u: rng(), v: rng() }))
    .sort((a, b) => a.t - b.t)
    .map((p): { mode: KillMode; t: number } => ({ mode: p.u < 0.125 ? 'data' : p.v < 1 / 3 ? 'write' : 'timed', t: p.t }));

  const kills: KillRecord[] = [];
  let starts = 0;
  const t0 = performance.now();
  let finished = false;
  for (let i = 0; !finished; i++) {
      const k = i < plan.length ? plan[i] : null;
      if (k?.mode === 'data') for (const f of walk(got.cache)) if (f.endsWith('.adarec')) rmSync(f); // evicted: prepared again
      mkdirSync(got.out, { recursive: true });
      mkdirSync(got.cache, { recursive: true });
      const before = new Set(walk(got.out).concat(walk(got.cache)).filter(isTemp));
      const w = new TempWatcher([got.out, got.cache]);
      starts++;
      const run = await runChild(childArgs(configName, configFile, got.out, got.cache), k ? (c) => {
        let timer: NodeJS.Timeout | null = null, armed = false;
        const fire = (): void => {
          if (armed) return;
          armed = true;
          if (k.mode === 'timed') c.kill();
          else w.next(() => c.kill());
        };
        const at = (delay: number): void => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(fire, Math.max(0, delay));
        };
        if (k.mode === 'data') {
          // a random moment before the reference's data line (startup, reading, preparing), or the cache's temp file
          if (rng() < 0.5) at(rng() * dataEnd);
          else { armed = true; w.next(() => c.kill()); }
        } else if (k.t < (ms.order[0]?.t ?? 0)) {
          at(k.t);
        }
        c.onMilestone((key, stage) => {
          if (armed || k.mode === 'data') return;
          const here = key.endsWith(':done') ? ms.stageEnd.get(stage ?? '') ?? ms.times.get(key) : ms.times.get(key);
          if (here === undefined) return;
          const next = ms.order.find((m) => m.t > here)?.t ?? ms.total;
          if (k.t < next) at(k.t >= here ? k.t - here : rng() * (next - here));
        });
      } : undefined);
      w.close();
      if (run.killedAt !== null) {
        const writing = walk(got.out).concat(walk(got.cache)).filter((f) => isTemp(f) && !before.has(f)).map(tempTarget);
        const stage = run.stage;
        kills.push({ index: kills.length + 1, mode: k!.mode, targetMs: k!.t, stage, phase: phaseOf(stage), writing: [...new Set(writing)], afterMs: run.killedAt });
        for (const p of checkLoadable([got.out, got.cache])) problems.push(`kill ${kills.length}: ${p}`);
        if (kills.length % 10 === 0 || kills.length === plan.length)
          log(`chaos: ${kills.length} kills (last: ${phaseOf(stage)}${stage && phaseOf(stage) !== stage ? ` [${stage}]` : ''}${writing.length ? `, writing ${[...new Set(writing)].join(', ')}` : ''})`);
        continue;
      }
      if (run.code !== 0) {
        problems.push(`restart ${starts} failed (exit ${run.code}${run.signal ? `, ${run.signal}` : ''}): ${run.stderr.trim().split('\n').slice(-5).join(' / ')}`);
        break;
      }
      finished = true; // exit 0: the run is complete (kill moments not reached yet are missed)
  }
  const missed = plan.length - kills.length;
  const chaosMs = performance.now() - t0;

  // 3. the comparison
  const roots = [dirname(ref.out), dirname(got.out)];
  const cmp = compareRuns(ref, got, roots);
  problems.push(...cmp.problems);
  const tally = <K extends string>(xs: K[]): Record<K, number> => xs.reduce((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {} as Record<K, number>);
  const report: ChaosReport = {
    config: configName, seed, killsAsked: o.kills, kills, starts, missed, referenceMs: reference.ms, chaosMs,
    byPhase: tally(kills.map((k) => k.phase)), byMode: Object.assign({ timed: 0, write: 0, data: 0 }, tally(kills.map((k) => k.mode))),
    duringWrites: kills.filter((k) => k.writing.length).length, writtenFiles: tally(kills.flatMap((k) => k.writing)),
    compared: cmp.compared, problems,
  };
  if (!o.keep && !o.dir) rmSync(dir, { recursive: true, force: true });
  return report;
}

export function formatChaosReport(r: ChaosReport): string {
  const lines = [
    `chaos run: ${r.kills.length} kills of ${r.killsAsked} asked (${r.missed} moments after the run had finished), ${r.starts} starts; ` +
    `config ${r.config}, seed ${r.seed}; reference run ${(r.referenceMs / 1000).toFixed(1)} s, chaos run ${(r.chaosMs / 1000).toFixed(1)} s`,
    `kills by phase: ${Object.entries(r.byPhase).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `kills by mode: ${Object.entries(r.byMode).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `kills during an atomic write: ${r.duringWrites} (${Object.entries(r.writtenFiles).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`,
    `compared: ${Object.entries(r.compared).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    r.problems.length ? `PROBLEMS (${r.problems.length}):\n${r.problems.map((p) => `  - ${p}`).join('\n')}` : 'identical to the uninterrupted run: no problem',
  ];
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]).endsWith(join('bench', 'chaos.js'))) {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '10' }, seed: { type: 'string', default: '1' }, config: { type: 'string', default: 'fast' },
      dir: { type: 'string' }, keep: { type: 'boolean', default: false }, json: { type: 'string' },
    },
  });
  const kills = Number(values.kills), seed = Number(values.seed);
  if (!Number.isInteger(kills) || kills < 0 || !Number.isInteger(seed) || !(values.config! in CHAOS_CONFIGS)) {
    console.error('usage: npm run chaos -- --kills N [--seed S] [--config fast|default] [--dir D] [--keep] [--json report.json]');
    process.exit(2);
  }
  const r = await runChaos({ kills, seed, config: values.config as ChaosConfigName, dir: values.dir, keep: values.keep });
  if (values.json) writeFileSync(values.json, JSON.stringify(r, null, 2) + '\n');
  console.log(formatChaosReport(r));
  process.exitCode = r.problems.length ? 1 : 0;
}
