// bench/infer: last-position inference of the ml-100k teacher (reference NextItNet) and student
// (AdaRecNet of ML100K_STUDENT), ours against PyTorch in interleaved rounds: p50/p99 latency at
// batch 1 and throughput at batch 128, on windows of 50 items from the ml-100k training histories
// (random weights: speed does not depend on them). Ours: scoreLast over the whole window, the
// receptive-field crop (src/serve/fast-score.ts) and one new event through a session's stream
// (src/serve/stream.ts); PyTorch (bench/torch_infer.py, 1 thread like us): logits at every
// position then the last (the reference code) and the last position only. Ends with the batch-1
// p50 of our fastest exact windowed path for each model, then times a batch-1 top-10 of a hidden-64
// student over 1M items, brute force against the item index (bench/large-catalog.ts).
import { fileURLToPath } from 'node:url';
import { Rng, backendName, keep, noGrad, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { padBatch } from '../src/eval/scorer.js';
import { NEXTITNET_REFERENCE, NextItNet } from '../src/models/nextitnet.js';
import type { SequentialRecommender } from '../src/models/types.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { fastScorer } from '../src/serve/fast-score.js';
import { receptiveField } from '../src/serve/receptive-field.js';
import { StreamPlan, type StreamSession } from '../src/serve/stream.js';
import { benchLargeCatalog } from './large-catalog.js';
import { ML100K_STUDENT } from './model-config.js';
import { ml100kTrainingSequences } from './ml100k.js';
import { TorchProcess, percentile } from './torch-process.js';

const T = ML100K_STUDENT.maxLength, BIG = 128, ROUNDS = 6, WINDOWS = 64;
/** Calls per round: at batch 1, and at batch 128 for each model (the teacher's take about a second). */
const CALLS = { 1: 40, [BIG]: { teacher: 1, student: 8 } } as const;

const { vocab, sequences, order } = ml100kTrainingSequences();
const histories = order.slice(0, Math.max(WINDOWS, BIG)).map((s) => sequences[s]);
const events = Int32Array.from(order.flatMap((s) => Array.from(sequences[s]))); // the items a stream is fed, in turn

const teacher = new NextItNet({ vocabSize: vocab, ...NEXTITNET_REFERENCE }, new Rng(0)).eval();
const columns = ML100K_STUDENT.edges.map((name) => DEFAULT_OPS.findIndex((o) => o.name === name));
const studentOf = (positions: 'learned' | 'none'): AdaRecNet => new AdaRecNet({
  vocabSize: vocab, maxLength: T, hidden: ML100K_STUDENT.hidden, cells: ML100K_STUDENT.cells, nodes: ML100K_STUDENT.nodes,
  operators: DEFAULT_OPS, genotype: Array.from({ length: ML100K_STUDENT.cells }, () => columns), dropout: 0.1, positions,
}, new Rng(0)).eval();
const student = studentOf('learned');
const models = { teacher, student } as const;
type ModelName = keyof typeof models;

const windowsOf = (B: number, from: number): Tensor =>
  keep(tensor(padBatch(histories.slice(from, from + B), T), [B, T], 'int32'));
const inputs = { 1: Array.from({ length: WINDOWS }, (_, i) => windowsOf(1, i)), [BIG]: [windowsOf(BIG, 0)] };

const torch = new TorchProcess(fileURLToPath(new URL('../../bench/torch_infer.py', import.meta.url)));
const spec = (name: string): Record<string, unknown> => {
  const o = DEFAULT_OPS.find((op) => op.name === name)!;
  return o.kind === 'conv' ? { kind: 'conv', k: o.kernelSize, d: o.dilation } : o.kind === 'pool' ? { kind: 'pool', pool: o.pool, k: o.kernelSize } : { kind: o.kind };
};
const info = await torch.call<{ torch: string; threads: number }>({ cmd: 'model', name: 'teacher', kind: 'nextitnet', vocab,
  hidden: NEXTITNET_REFERENCE.hidden, dilations: NEXTITNET_REFERENCE.dilations, kernel: NEXTITNET_REFERENCE.kernelSize, residual: NEXTITNET_REFERENCE.residual, threads: 1 });
await torch.call({ cmd: 'model', name: 'student', kind: 'adarec', vocab, length: T, hidden: ML100K_STUDENT.hidden, nodes: ML100K_STUDENT.nodes,
  cells: Array.from({ length: ML100K_STUDENT.cells }, () => ML100K_STUDENT.edges.map(spec)), threads: 1 });
for (const B of [1, BIG] as const)
  await torch.call({ cmd: 'inputs', key: `b${B}`, length: T, rows: inputs[B].flatMap((t) => Array.from(t.values as Int32Array)) });

/** One way of scoring: `run(B, n)` times n calls at batch B (ms each). */
interface Path {
  model: ModelName;
  label: string;
  /** Gives the window's logits exactly (eligible for the final lines). */
  windowed: boolean;
  run(B: 1 | typeof BIG, n: number): Promise<number[]>;
}

function oursWindowed(model: ModelName, label: string, score: (ids: Tensor) => Tensor): Path {
  return {
    model, label, windowed: true,
    async run(B, n) {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const ids = inputs[B][i % inputs[B].length];
        const t = performance.now();
        noGrad(() => tidy(() => { score(ids); }));
        ms.push(performance.now() - t);
      }
      return ms;
    },
  };
}

let next = 0;
function oursStream(model: ModelName, label: string, m: SequentialRecommender): Path {
  const plan = new StreamPlan(m, T);
  const sessions: Record<number, StreamSession[]> = { 1: [plan.session()], [BIG]: Array.from({ length: BIG }, () => plan.session()) };
  return {
    model, label, windowed: false,
    async run(B, n) {
      const ms: number[] = [], ss = sessions[B], ids = new Int32Array(B);
      for (let i = 0; i < n; i++) {
        for (let b = 0; b < B; b++) ids[b] = events[next++ % events.length];
        const t = performance.now();
        plan.push(ss, ids);
        plan.logits(ss);
        ms.push(performance.now() - t);
      }
      return ms;
    },
  };
}

function theirs(model: ModelName, mode: 'all' | 'last', label: string): Path {
  return {
    model, label, windowed: true,
    async run(B, n) {
      return (await torch.call<{ ms: number[] }>({ cmd: 'score', model, key: `b${B}`, batch: B, mode, n })).ms;
    },
  };
}

const fields: Record<ModelName, number> = { teacher: receptiveField(teacher)!, student: receptiveField(student)! };
const paths: Path[] = [];
const skipped: { model: ModelName; label: string; why: string }[] = [];
for (const name of ['teacher', 'student'] as const) {
  const m = models[name];
  paths.push(oursWindowed(name, 'ours scoreLast (whole window)', (ids) => m.scoreLast(ids)));
  if (fields[name] < T) paths.push(oursWindowed(name, `ours crop (last ${fields[name]} positions)`, fastScorer(m)));
  else skipped.push({ model: name, label: 'ours crop', why: `= scoreLast: receptive field ${fields[name]} >= window ${T}` });
  paths.push(name === 'teacher'
    ? oursStream(name, 'ours stream, per event (whole session)', teacher)
    : oursStream(name, 'ours stream, per event (position-free student)', studentOf('none')));
  paths.push(theirs(name, 'all', 'torch all positions, then last'));
  paths.push(theirs(name, 'last', 'torch last position only'));
}

console.log(`inference on ml-100k windows of ${T} (vocabulary ${vocab}); adarec backend ${backendName()} vs torch ${info.torch} (${info.threads} thread); ` +
  `${ROUNDS} interleaved rounds, per round ${CALLS[1]} calls at batch 1 and ${CALLS[BIG].teacher}/${CALLS[BIG].student} (teacher/student) at batch ${BIG}`);
const calls = (p: Path, B: 1 | typeof BIG): number => (B === 1 ? CALLS[1] : CALLS[BIG][p.model]);
for (const p of paths) for (const B of [1, BIG] as const) await p.run(B, Math.min(3, calls(p, B))); // warm-up
const times = new Map<Path, { 1: number[]; [BIG]: number[] }>(paths.map((p) => [p, { 1: [], [BIG]: [] }]));
for (let r = 0; r < ROUNDS; r++)
  for (const p of paths) for (const B of [1, BIG] as const) times.get(p)![B].push(...await p.run(B, calls(p, B)));
torch.close();

const p50 = (p: Path, B: 1 | typeof BIG): number => percentile(times.get(p)![B], 50);
const perSecond = (p: Path): number => BIG / (p50(p, BIG) / 1000);
const pad = (s: string, n: number): string => s.padEnd(n);
const num = (x: number, digits = 3): string => x.toFixed(digits).padStart(11);
console.log(`\n${pad('model', 9)}${pad('path', 50)}${'b1 p50 ms'.padStart(11)}${'b1 p99 ms'.padStart(11)}${`b${BIG} p50 ms`.padStart(13)}${`b${BIG} seq/s`.padStart(12)}`);
for (const name of ['teacher', 'student'] as const) {
  for (const p of paths.filter((q) => q.model === name))
    console.log(`${pad(name, 9)}${pad(p.label, 50)}${num(p50(p, 1))}${num(percentile(times.get(p)![1], 99))}${num(p50(p, BIG), 2).padStart(13)}${perSecond(p).toFixed(0).padStart(12)}`);
  for (const s of skipped.filter((q) => q.model === name)) console.log(`${pad(name, 9)}${pad(s.label, 50)}${s.why}`);
}

console.log('\nratios (torch / ours: above 1 = ours faster; batch 1 by p50 latency, batch 128 by throughput):');
const best: Record<ModelName, Path> = {} as Record<ModelName, Path>;
for (const name of ['teacher', 'student'] as const) {
  const mine = paths.filter((p) => p.model === name && p.windowed && p.label.startsWith('ours'));
  best[name] = mine.reduce((a, b) => (p50(b, 1) < p50(a, 1) ? b : a));
  const stream = paths.find((p) => p.model === name && !p.windowed)!;
  for (const them of paths.filter((p) => p.model === name && p.label.startsWith('torch'))) {
    for (const ours of [best[name], stream])
      console.log(`  ${pad(name, 8)}${pad(ours.label, 48)} vs ${pad(them.label, 32)} batch 1 ${(p50(them, 1) / p50(ours, 1)).toFixed(2)}x, batch ${BIG} ${(perSecond(ours) / perSecond(them)).toFixed(2)}x`);
  }
}
console.log(`\nteacher p50 batch1: ${p50(best.teacher, 1).toFixed(3)} ms`);
console.log(`student p50 batch1: ${p50(best.student, 1).toFixed(3)} ms`);

await benchLargeCatalog();
