// `adarec profile-ops`: the latency of every part of an AdaRec student on this machine, in the
// serving path at batch 1 (eval/latency-table.ts says how the parts add up to a model):
// - window: the receptive-field crop (fast-score.ts scoreCropped) at a grid of crop lengths: the
//   base (crop, embeddings, output layer at the last position), one cell's glue (a cell whose
//   edges compute nothing) and each operator's edge (ReLU, operator, add into the node);
// - stream: one event (push + logits) of position-free plans (stream.ts): no cell, one cell of
//   none edges, one cell whose first edge holds the operator; the parts are their differences.
// All parts and a few whole students (the probes: prediction vs measurement, and the p99 line of
// eval/latency-table.ts fitTail, so of several sizes and timed ten times as often as a part) are
// timed in one interleaved session (eval/timing.ts), less the harness's own cost (an empty task).
// Weights are random: dense kernels take as long whatever the values.
import { cpus, loadavg, platform, release, arch } from 'node:os';
import { F, Rng, backendName, engineThreads, keep, noGrad, tensor, tidy, type Tensor } from '../engine/index.js';
import { quantile, timeInterleaved, type TimedTask } from '../eval/timing.js';
import {
  LATENCY_TABLE_FORMAT, fitTail, latencySum, latencyTableSchema, type LatencyPath, type LatencyTable,
} from '../eval/latency-table.js';
import { Cell } from '../models/adarec/cell.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { genotypeColumns, randomGenotypes, type Genotype } from '../models/adarec/genotype.js';
import type { ConvNorm, OperatorSpec } from '../models/adarec/ops/edge-op.js';
import { NONE } from '../models/adarec/ops/identity.js';
import { fastScorer, scoreCropped } from './fast-score.js';
import { StreamPlan } from './stream.js';

export interface ProfileOptions {
  hidden: number;
  /** The window: crops are profiled up to this length. */
  length: number;
  items: number;
  operators: readonly OperatorSpec[];
  nodes?: number;
  convNorm: ConvNorm;
  positions?: 'learned' | 'none';
  /** Crop lengths of the window grid (default: about x1.5 apart from 1 to length). */
  lengths?: number[];
  /** Profile the stream path too (default true; operators that look ahead are left out of it). */
  stream?: boolean;
  /** Whole students timed beside their predictions (default 12, random genotypes). */
  probes?: number;
  /** Their cells, in turn (default 1, 2, 4: a range of sizes for the p99 line). */
  probeCells?: number[];
  /** Calls of a probe per round (default 10 x perRound: each p99 from thousands of calls). */
  probePerRound?: number;
  warmup?: number;
  rounds?: number;
  perRound?: number;
  seed?: number;
  log?: (line: string) => void;
}

/** 1, 2, 3, 5, 8, 12, ... (about x1.5 apart) up to and including `length`. */
export function lengthGrid(length: number): number[] {
  const out: number[] = [];
  for (let l = 1; l < length; l = Math.max(l + 1, Math.round(l * 1.5))) out.push(l);
  out.push(length);
  return out;
}

/** This machine, for the table. */
export function describeMachine(): LatencyTable['machine'] {
  const c = cpus();
  const backend = backendName();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown', cores: Math.max(1, c.length),
    load: loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version, platform: `${platform()} ${release()} ${arch()}`, backend,
    threads: engineThreads(),
    gemm: backend === 'native' ? (process.env.ADAREC_GEMM || 'onednn') : 'js',
  };
}

const noneCandidates = (E: number): number[][] => Array.from({ length: E }, () => []);

/** Profiles every part of the serving path; returns the validated table. */
export function profileOperators(o: ProfileOptions): LatencyTable {
  const C = o.hidden, T = o.length, N = o.nodes ?? 3, V = o.items + 1, positions = o.positions ?? 'learned';
  const lengths = o.lengths ?? lengthGrid(T);
  const warmup = o.warmup ?? 20, rounds = o.rounds ?? 30, perRound = o.perRound ?? 10;
  const machine = describeMachine();
  const rng = new Rng(o.seed ?? 1);
  const ops = o.operators.filter((op) => op.kind !== 'none');
  const streamOps = ops.filter((op) => op.causal);
  const doStream = o.stream ?? true;
  const E = (N * (N + 1)) / 2;
  const owned: { dispose(): void }[] = [];
  const own = <X extends { dispose(): void }>(x: X): X => { owned.push(x); return x; };
  const randomTensor = (shape: number[]): Tensor => own(keep(tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape)));
  const ids = own(keep(tensor(Int32Array.from({ length: T }, () => 1 + rng.int(o.items)), [1, T], 'int32')));
  const net = (cells: number, genotype: number[][], pos: 'learned' | 'none', operators: readonly OperatorSpec[] = o.operators): AdaRecNet =>
    own(new AdaRecNet({ vocabSize: V, maxLength: T, hidden: C, cells, nodes: N, operators, genotype, dropout: 0, positions: pos, convNorm: o.convNorm }, rng)).eval();
  const timed = (run: () => void): (() => void) => () => noGrad(() => tidy(run));

  try {
    const tasks: TimedTask[] = [{ name: 'empty', run: timed(() => {}) }];
    // window parts at every crop length
    const base = net(0, [], positions);
    const glue = own(new Cell(C, N, o.operators, noneCandidates(E), rng, o.convNorm)).eval();
    const edges = ops.map((spec) => ({ spec, module: own(spec.build(C, rng, { convNorm: o.convNorm })).eval() }));
    for (const len of lengths) {
      const x = randomTensor([1, len, C]);
      tasks.push({ name: `window/base/${len}`, run: timed(() => { scoreCropped(base, ids, len).values; }) });
      tasks.push({ name: `window/cell/${len}`, run: timed(() => { glue.forward(x, null).values; }) });
      for (const { spec, module } of edges)
        tasks.push({ name: `window/op/${spec.name}/${len}`, run: timed(() => { F.add(x, module.forward(F.relu(x)) ?? x).values; }) });
    }
    // stream parts: plans of position-free networks, one event each call
    let item = 0;
    const nextItem = (): number => 1 + (item++ % o.items);
    const streamTask = (name: string, model: AdaRecNet): TimedTask => {
      const plan = new StreamPlan(model, T), session = plan.session();
      return { name, run: () => { session.push(nextItem()); session.logits(); } };
    };
    if (doStream) {
      tasks.push(streamTask('stream/base', net(0, [], 'none')));
      // networks of one cell, built over the operators plus none (the edges that compute nothing)
      const withNone = o.operators.some((op) => op.kind === 'none') ? o.operators : [...o.operators, NONE];
      const none = withNone.findIndex((op) => op.kind === 'none');
      tasks.push(streamTask('stream/cell', net(1, [Array.from({ length: E }, () => none)], 'none', withNone)));
      for (const spec of streamOps) {
        const first = [withNone.indexOf(spec), ...Array.from({ length: E - 1 }, () => none)];
        tasks.push(streamTask(`stream/op/${spec.name}`, net(1, [first], 'none', withNone)));
      }
    }
    // probes: whole students of random genotypes
    const probeCells = o.probeCells ?? [1, 2, 4], probePerRound = o.probePerRound ?? 10 * perRound;
    if (probeCells.length === 0 || !probeCells.every((c) => Number.isInteger(c) && c >= 1))
      throw new Error(`profile-ops: probe cells must be integers >= 1 (got ${probeCells.join(', ')})`);
    const probeRng = new Rng(o.seed ?? 1);
    const probeModels = Array.from({ length: o.probes ?? 12 }, (_, i) => {
      const cells = probeCells[i % probeCells.length];
      const g = randomGenotypes(o.operators, N, cells, 1, probeRng)[0];
      const cols = genotypeColumns(g);
      const score = fastScorer(net(cells, cols, positions));
      tasks.push({ name: `probe/window/${i}`, run: timed(() => { score(ids).values; }), perRound: probePerRound });
      const streams = doStream && g.cells.flat().every((n) => o.operators.find((op) => op.name === n)!.causal);
      if (streams) tasks.push({ ...streamTask(`probe/stream/${i}`, net(cells, cols, 'none')), perRound: probePerRound });
      return { g, cells, streams };
    });

    o.log?.(`profiling ${tasks.length} tasks (${lengths.length} crop lengths${doStream ? ', stream' : ''}, ${probeModels.length} probes of ${probeCells.join('/')} cells): ` +
      `${warmup} warm-up calls, ${rounds} rounds x ${perRound} calls each, on ${machine.cpu} (${machine.cores} cores, load ${machine.load.join(' ')}), backend ${machine.backend}`);
    const started = performance.now();
    const times = timeInterleaved(tasks, { warmup, rounds, perRound });
    o.log?.(`profiled in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const harness = quantile(times.get('empty')!, 0.5);
    const q = (name: string, p: number): number => quantile(times.get(name)!, p);
    const net0 = (x: number): number => Math.max(0, x - harness);
    const series = (prefix: string): { p50: number[]; p99: number[] } => ({
      p50: lengths.map((l) => net0(q(`${prefix}/${l}`, 0.5))), p99: lengths.map((l) => net0(q(`${prefix}/${l}`, 0.99))),
    });
    const windowOps: Record<string, { p50: number[]; p99: number[] }> = {};
    for (const { spec } of edges) windowOps[spec.name] = series(`window/op/${spec.name}`);
    if (o.operators.some((op) => op.kind === 'none')) windowOps.none = { p50: lengths.map(() => 0), p99: lengths.map(() => 0) };

    let stream: LatencyTable['stream'] = null;
    if (doStream) {
      // differences of whole plans: a part is what adding it to a plan costs
      const d = (a: string, b: string | null, p: number): number => Math.max(0, q(a, p) - (b ? q(b, p) : 0));
      const streamOpsTable: Record<string, { p50: number; p99: number }> = {};
      for (const spec of streamOps) streamOpsTable[spec.name] = { p50: d(`stream/op/${spec.name}`, 'stream/cell', 0.5), p99: d(`stream/op/${spec.name}`, 'stream/cell', 0.99) };
      if (o.operators.some((op) => op.kind === 'none')) streamOpsTable.none = { p50: 0, p99: 0 };
      stream = {
        base: { p50: d('stream/base', null, 0.5), p99: d('stream/base', null, 0.99) },
        cell: { p50: d('stream/cell', 'stream/base', 0.5), p99: d('stream/cell', 'stream/base', 0.99) },
        operators: streamOpsTable,
      };
    }

    const table: LatencyTable = {
      format: LATENCY_TABLE_FORMAT, version: 1, created: new Date().toISOString(), machine,
      settings: { hidden: C, length: T, items: o.items, nodes: N, convNorm: o.convNorm, positions, batch: 1, warmup, rounds, perRound },
      window: { lengths, base: series('window/base'), cell: series('window/cell'), operators: windowOps },
      stream, fit: { window: { scale: 1, tail: 1, tailMs: 0 }, stream: doStream ? { scale: 1, tail: 1, tailMs: 0 } : null }, probes: [],
    };
    const probe = (g: Genotype, path: LatencyPath, name: string): LatencyTable['probes'][number] => ({
      path, cells: g.cells.length, edges: g.cells[0], predictedP50: latencySum(table, g, path, T).sum,
      // window parts and probes run inside noGrad + tidy, whose own cost is taken off; stream calls have no wrapper
      measuredP50: path === 'window' ? net0(q(name, 0.5)) : q(name, 0.5), measuredP99: path === 'window' ? net0(q(name, 0.99)) : q(name, 0.99),
    });
    table.probes = probeModels.flatMap(({ g, streams }, i) => [
      probe(g, 'window', `probe/window/${i}`), ...(streams ? [probe(g, 'stream', `probe/stream/${i}`)] : []),
    ]);
    const fitOf = (path: LatencyPath): LatencyTable['fit']['window'] => {
      const ps = table.probes.filter((p) => p.path === path && p.measuredP50 > 0 && p.predictedP50 > 0);
      const median = (xs: number[]): number => quantile(xs.sort((a, b) => a - b), 0.5);
      return ps.length
        ? { scale: median(ps.map((p) => p.measuredP50 / p.predictedP50)), ...fitTail(ps.map((p) => ({ p50: p.measuredP50, p99: p.measuredP99 }))) }
        : { scale: 1, tail: 1, tailMs: 0 };
    };
    table.fit = { window: fitOf('window'), stream: doStream ? fitOf('stream') : null };
    return latencyTableSchema.parse(table);
  } finally {
    for (const x of owned) x.dispose();
  }
}

/** Measured serving latency of one model at batch 1 (window: fastScorer over `length` ids; stream: one event of a session). */
export function measureServingLatency(model: AdaRecNet, path: LatencyPath, length: number, o: { rounds?: number; perRound?: number; warmup?: number; seed?: number } = {}): { p50: number; p99: number } {
  return measureServingLatencies([model], path, length, o)[0];
}

/** measureServingLatency of several models, interleaved (comparisons between them are fair on a busy machine). */
export function measureServingLatencies(models: readonly AdaRecNet[], path: LatencyPath, length: number,
  o: { rounds?: number; perRound?: number; warmup?: number; seed?: number } = {}): { p50: number; p99: number }[] {
  const rng = new Rng(o.seed ?? 1);
  const items = models[0]?.vocabSize - 1;
  const ids = keep(tensor(Int32Array.from({ length }, () => 1 + rng.int(items)), [1, length], 'int32'));
  try {
    let item = 0;
    const tasks: TimedTask[] = [{ name: 'empty', run: () => noGrad(() => tidy(() => {})) }];
    models.forEach((m, i) => {
      m.eval();
      if (path === 'window') {
        const score = fastScorer(m);
        tasks.push({ name: `m${i}`, run: () => noGrad(() => tidy(() => { score(ids).values; })) });
      } else {
        const s = new StreamPlan(m, length).session();
        tasks.push({ name: `m${i}`, run: () => { s.push(1 + (item++ % items)); s.logits(); } });
      }
    });
    const times = timeInterleaved(tasks, { warmup: o.warmup ?? 20, rounds: o.rounds ?? 30, perRound: o.perRound ?? 10 });
    const harness = path === 'window' ? quantile(times.get('empty')!, 0.5) : 0;
    return models.map((_, i) => {
      const v = times.get(`m${i}`)!;
      return { p50: Math.max(0, quantile(v, 0.5) - harness), p99: Math.max(0, quantile(v, 0.99) - harness) };
    });
  } finally {
    ids.dispose();
  }
}
