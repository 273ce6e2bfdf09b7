// bench/catalog: a training step as the catalog grows. Synthetic catalogs of 10k, 100k and 1M items
// with Zipf popularity (exponent 1), SASRec at hidden 64 (2 heads, 2 blocks, FFN x1), batches of
// 128 windows x 50 positions (every position a target: 6,400 per step), Adam, one thread:
//   sampled:    ours, the sampled softmax of the trainer's default above 50,000 items (the batch's
//               positives, at most 1,024 of them shared (--shared), each row scoring its own, +
//               1,024 negatives drawn by popularity, logQ-corrected) with slice
//               gradients for the item embeddings and the output layer and the lazy Adam update;
//   full:       ours, the softmax over every item (dense gradients, dense Adam);
//   torch full: PyTorch 1.13's step of the same architecture (bench/torch_reference.py), full softmax;
//   distill:    a distillation step over candidates (the default above 50,000 items): this SASRec
//               as the frozen teacher, a hidden-32 NextItNet student (4 blocks), CE + embedding +
//               EMD hidden + logit KL over the teacher's top 32 per position, the batch's positives
//               and 1,024 popularity draws (distill/candidates.ts); the same 128 windows every step,
//               so the teacher's top k is found once, in the warm-up (what later epochs see).
// Each path and size runs in its own process, so that each peak RSS is its own; a full-softmax path
// is skipped (and says so) where its logits would not fit in the memory available. The sampled
// processes run twice, before and after the others, and the lower of the two medians counts (the
// machine's load moves between processes). Prints step times, peak RSS and `ratio: X` lines:
// sampled at each size against sampled at the smallest (the target: <= 1.5 up to 1M items), and
// against the full softmax and PyTorch's where those ran.
//
//   npm run bench:catalog [-- --sizes 10000,100000,1000000] [--steps 5] [--paths sampled,full,torch,distill] [--shared 1024]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Rng, backendName, backward, optim, tensor, tidy } from '../src/engine/index.js';
import { NegativeSampler, sampledCandidates } from '../src/models/sampled-softmax.js';
import { SASRec } from '../src/models/sasrec.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { modelTeacher } from '../src/models/teacher.js';
import { CandidateDistillation, releaseCandidateBatch } from '../src/distill/candidates.js';
import { Distiller } from '../src/distill/distiller.js';
import { TorchProcess, median, torchMissing } from './torch-process.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const sizes = arg('sizes', '10000,100000,1000000').split(',').map(Number);
const steps = Number(arg('steps', '5')), WARMUP = 2;
const paths = arg('paths', 'sampled,full,torch,distill').split(',');
const B = 128, T = 50, HIDDEN = 64, NEGATIVES = 1024, SHARED = Number(arg('shared', '1024')), ZIPF = 1;
const SHAPE = { hidden: HIDDEN, heads: 2, blocks: 2, ffnMultiplier: 1, dropout: 0.2, residual: 'plain' as const };

/** Zipf(1) popularity over items 1..n (item 1 the most popular): the weights and a sampler by them. */
function zipf(n: number): NegativeSampler {
  const w = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) w[i] = 1 / i ** ZIPF;
  return new NegativeSampler(n, w);
}

/** Batch s of a catalog: 128 windows of 51 Zipf-distributed items (inputs, targets), the same in every process. */
function batch(pop: NegativeSampler, s: number): { inputs: Int32Array; targets: Int32Array } {
  const rng = new Rng(1000 + s);
  const seq = pop.sample(B * (T + 1), () => rng.uniform());
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    inputs[b * T + t] = seq[b * (T + 1) + t];
    targets[b * T + t] = seq[b * (T + 1) + t + 1];
  }
  return { inputs, targets };
}

interface StepFigures { ms: number; rssMb: number; candidates?: number }

/** Child process: a distillation step over candidates on one catalog (see the header); prints StepFigures as JSON. */
async function distillChild(items: number): Promise<void> {
  const pop = zipf(items);
  const teacher = modelTeacher(new SASRec({ vocabSize: items + 1, maxLength: T, ...SHAPE }, new Rng(0)), { kind: 'sasrec', hidden: HIDDEN, manifestHash: null });
  const student = new NextItNet({ vocabSize: items + 1, hidden: 32, dilations: [1, 2, 1, 2], kernelSize: 3, residual: 'learned' }, new Rng(1));
  student.sparseCatalogGradients(true);
  const distiller = new Distiller(32, HIDDEN, 2, 2, {
    gamma: 0.5, beta: 0, mapping: 'emd', maskPads: true, temperature: 1, terms: { ce: true, embedding: true, hidden: true, logits: true, efficiency: false },
  }, new Rng(2));
  const opt = new optim.Adam([...student.parameters(), ...distiller.parameters()], { lr: 1e-3 });
  const cd = new CandidateDistillation({ sequences: B, maxLength: T, k: 32, negatives: NEGATIVES, sampler: pop, correctCE: true });
  const { inputs, targets } = batch(pop, 0);
  const windows = Array.from({ length: B }, (_, b) => Int32Array.from([inputs[b * T], ...targets.subarray(b * T, (b + 1) * T)]));
  const indices = Int32Array.from({ length: B }, (_, i) => i);
  const rng = new Rng(7), times: number[] = [];
  let candidates = 0;
  for (let s = 0; s < WARMUP + steps; s++) {
    const t0 = performance.now();
    const over = await cd.batch(teacher, windows, indices, rng);
    tidy(() => {
      const l = distiller.loss(student.signals(over.inputs, over.rows, over.candidates), over.teacher, over.inputs, over.targets, null, over.candidates).loss;
      opt.zeroGrad(); backward(l); opt.step(); opt.zeroGrad();
    });
    distiller.afterStep();
    candidates += over.candidates.k + over.candidates.shared.items.length;
    releaseCandidateBatch(over);
    if (s >= WARMUP) times.push(performance.now() - t0);
  }
  console.log(JSON.stringify({ ms: median(times), rssMb: process.resourceUsage().maxRSS / 1024, candidates: candidates / (WARMUP + steps) }));
}

/** Child process: `steps` timed steps (after WARMUP) of one path on one catalog; prints StepFigures as JSON. */
function child(path: 'sampled' | 'full', items: number): void {
  const pop = zipf(items);
  const model = new SASRec({ vocabSize: items + 1, maxLength: T, ...SHAPE }, new Rng(0));
  if (path === 'sampled') model.sparseCatalogGradients(true);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const rng = new Rng(7);
  const times: number[] = [];
  let candidates = 0;
  for (let s = 0; s < WARMUP + steps; s++) {
    const { inputs, targets } = batch(pop, s);
    const t0 = performance.now();
    tidy(() => {
      const source = path === 'sampled' ? (positives: Int32Array) => {
        const c = sampledCandidates(positives, pop.sample(NEGATIVES, () => rng.uniform()), pop.logQ, { cap: SHARED, uniform: () => rng.uniform() });
        candidates += c.items.length;
        return c;
      } : undefined;
      const l = model.loss(tensor(inputs, [B, T], 'int32'), tensor(targets, [B, T], 'int32'), 0, source);
      opt.zeroGrad(); backward(l); opt.step(); opt.zeroGrad();
    });
    if (s >= WARMUP) times.push(performance.now() - t0);
  }
  const out: StepFigures = { ms: median(times), rssMb: process.resourceUsage().maxRSS / 1024 };
  if (path === 'sampled') out.candidates = candidates / (WARMUP + steps);
  console.log(JSON.stringify(out));
}

if (args[0] === '--child') {
  if (args[1] === 'distill') await distillChild(Number(args[2]));
  else child(args[1] as 'sampled' | 'full', Number(args[2]));
  process.exit(0);
}

/** Memory the kernel could give a process now (MemAvailable), in bytes. */
function availableBytes(): number {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Whether a full-softmax step over `items` is likely to fit: the [6,400, items] logits `copies`
 * times (ours: the logits, their gradient written over them; PyTorch: logits, log-softmax and their
 * gradients), plus the model and Adam state, within 70% of the memory available.
 */
function fits(items: number, copies: number): { ok: boolean; needGb: number; haveGb: number } {
  const need = B * T * (items + 1) * 4 * copies + (items + 1) * HIDDEN * 4 * 2 * 4;
  const have = availableBytes();
  return { ok: need < 0.7 * have, needGb: need / 2 ** 30, haveGb: have / 2 ** 30 };
}

function runChild(path: 'sampled' | 'full' | 'distill', items: number): StepFigures {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [script, '--child', path, String(items), '--steps', String(steps), '--shared', String(SHARED)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${path} ${items}: exited ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as StepFigures;
}

async function torchStep(items: number): Promise<StepFigures> {
  const torch = new TorchProcess();
  try {
    await torch.call({ cmd: 'init', model: 'sasrec', vocab: items + 1, ...SHAPE, batch: 1, length: T, threads: 1 });
    const pop = zipf(items), times: number[] = [];
    for (let s = 0; s < WARMUP + steps; s++) {
      const { inputs, targets } = batch(pop, s);
      const r = await torch.call<{ ms: number }>({ cmd: 'train_batch', batch: B, inputs: Array.from(inputs), targets: Array.from(targets) });
      if (s >= WARMUP) times.push(r.ms);
    }
    return { ms: median(times), rssMb: (await torch.call<{ maxrss_mb: number }>({ cmd: 'stats' })).maxrss_mb };
  } finally {
    torch.close();
  }
}

const missing = torchMissing();
console.log(`catalog: SASRec hidden ${HIDDEN} (2 heads, 2 blocks, FFN x1), batch ${B} x ${T} (6,400 targets), Zipf(${ZIPF}) items, Adam, ` +
  `median of ${steps} steps after ${WARMUP}; adarec ${backendName()}, one thread; sampled = the batch's positives (at most ${SHARED} shared) + ${NEGATIVES} popularity negatives, ` +
  `slice gradients + lazy Adam; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const fmt = (f: StepFigures): string => `${f.ms.toFixed(0)} ms/step, peak RSS ${f.rssMb.toFixed(0)} MB`;
const sampled = new Map<number, StepFigures>();
const sampledRound = (): void => {
  for (const items of sizes) {
    const f = runChild('sampled', items), e = sampled.get(items);
    console.log(`  (sampled ${items.toLocaleString('en-US')} items: ${fmt(f)})`);
    if (!e || f.ms < e.ms) sampled.set(items, { ...f, rssMb: Math.max(f.rssMb, e?.rssMb ?? 0) });
  }
};
sampledRound();
const off = 'not run (--paths)';
const full = new Map<number, StepFigures | string>(), torchFull = new Map<number, StepFigures | string>();
for (const items of sizes) {
  const ours = fits(items, 1.2), theirs = fits(items, 3.2);
  const skipped = (f: { needGb: number; haveGb: number }): string => `skipped: needs ~${f.needGb.toFixed(1)} GB, ${f.haveGb.toFixed(1)} GB available`;
  full.set(items, !paths.includes('full') ? off : ours.ok ? runChild('full', items) : skipped(ours));
  torchFull.set(items, !paths.includes('torch') ? off : missing ? 'skipped: no PyTorch' : theirs.ok ? await torchStep(items) : skipped(theirs));
  for (const [what, m] of [['full', full], ['torch full', torchFull]] as const) {
    const f = m.get(items)!;
    console.log(`  (${what} ${items.toLocaleString('en-US')} items: ${typeof f === 'string' ? f : fmt(f)})`);
  }
}
sampledRound();
const distilled = new Map<number, StepFigures>();
if (paths.includes('distill')) for (const items of sizes) {
  const f = runChild('distill', items);
  distilled.set(items, f);
  console.log(`  (distill ${items.toLocaleString('en-US')} items: ${fmt(f)})`);
}

const base = sampled.get(sizes[0])!;
for (const items of sizes) {
  const s = sampled.get(items)!, f = full.get(items)!, t = torchFull.get(items)!;
  console.log(`${items.toLocaleString('en-US')} items:`);
  console.log(`  sampled     ${fmt(s)}, ${s.candidates!.toFixed(0)} candidates per step on average`);
  console.log(`  full        ${typeof f === 'string' ? f : fmt(f)}`);
  console.log(`  torch full  ${typeof t === 'string' ? t : fmt(t)}`);
}
for (const items of sizes) {
  const s = sampled.get(items)!, f = full.get(items)!, t = torchFull.get(items)!, n = items.toLocaleString('en-US');
  if (items !== sizes[0]) console.log(`sampled ${n} / sampled ${sizes[0].toLocaleString('en-US')} items (target <= 1.5): ratio: ${(s.ms / base.ms).toFixed(3)}, rss ratio ${(s.rssMb / base.rssMb).toFixed(2)}`);
  if (typeof f !== 'string') console.log(`sampled / full softmax, ${n} items: ratio: ${(s.ms / f.ms).toFixed(3)}, rss ratio ${(s.rssMb / f.rssMb).toFixed(2)}`);
  if (typeof t !== 'string') console.log(`sampled / torch full softmax, ${n} items: ratio: ${(s.ms / t.ms).toFixed(3)}, rss ratio ${(s.rssMb / t.rssMb).toFixed(2)}`);
}
const distillBase = distilled.get(sizes[0]);
for (const items of sizes) {
  const d = distilled.get(items);
  if (!d || !distillBase) continue;
  console.log(`distill ${items.toLocaleString('en-US')} items: ${fmt(d)}, ${d.candidates!.toFixed(0)} candidate columns per row`);
  if (items !== sizes[0]) console.log(`distill ${items.toLocaleString('en-US')} / distill ${sizes[0].toLocaleString('en-US')} items: ratio: ${(d.ms / distillBase.ms).toFixed(3)}, rss ratio ${(d.rssMb / distillBase.rssMb).toFixed(2)}`);
}
