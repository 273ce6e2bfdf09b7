// bench/run-latency: the models of an `adarec run` folder side by side in the serving path at
// batch 1 — the fast scorer a `Recommender` uses (transformers: the top block for the last query
// only; convolutional models: the receptive-field crop of the window) — with their non-embedding
// parameters, for the acceptance lines "<= 1/10 of the teacher's non-embedding parameters and >= 5x
// its batch-1 p50 speed". One model per architecture (a stage's other seeds share it); every model
// is timed in turn in interleaved rounds, each turn after two untimed calls (as a server answers
// one model call after call), on windows of the run's length cut from item ids 1..V.
//
//   npm run bench:run-latency -- <run folder> [--rounds 30] [--calls 20]
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backendName, noGrad, tensor, tidy, type Tensor } from '../src/engine/index.js';
import { modelCost } from '../src/eval/cost.js';
import { fastScorer } from '../src/serve/fast-score.js';
import { loadTrainedModel } from '../src/train/load.js';
import { percentile } from './torch-process.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : fallback; };
const runDir = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
if (!runDir || !existsSync(join(runDir, 'teacher', 'best.ckpt'))) {
  console.error('usage: npm run bench:run-latency -- <adarec run folder> [--rounds 30] [--calls 20]  (the folder needs teacher/best.ckpt)');
  process.exit(1);
}
const rounds = Number(arg('rounds', '30')), calls = Number(arg('calls', '20'));

// the teacher first, then every trained model once per architecture (not the -seedN repeats; not
// the searches' supernets)
const trained = (d: string): boolean => {
  const path = join(runDir, d, 'config.json');
  return existsSync(join(runDir, d, 'best.ckpt')) && existsSync(path) && typeof JSON.parse(readFileSync(path, 'utf8')).model === 'object';
};
const stages = ['teacher', ...readdirSync(runDir).filter((d) => d !== 'teacher' && !/-seed\d+$/.test(d) && trained(d)).sort()];
const models = stages.map((name) => {
  const t = loadTrainedModel(join(runDir, name, 'best.ckpt'));
  const T = t.config.maxLength, V = t.vocabSize;
  const ids = tensor(Int32Array.from({ length: T }, (_, i) => 1 + ((i * 7919) % (V - 1))), [1, T], 'int32');
  const score = fastScorer(t.model);
  const call = (): void => { noGrad(() => tidy(() => { (score(ids) as Tensor).values; })); };
  return { name, kind: t.config.model.kind, cost: modelCost(t.model, T), call, times: [] as number[] };
});
console.log(`run-latency: ${runDir}, ${models.length} models, batch 1 in the serving path, ${rounds} rounds x ${calls} calls each; ${backendName()}, ` +
  `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
for (let r = 0; r < rounds; r++) {
  for (const m of models) {
    m.call(); m.call();
    for (let c = 0; c < calls; c++) { const t0 = performance.now(); m.call(); m.times.push(performance.now() - t0); }
  }
}
const teacher = models[0];
const p50 = (m: (typeof models)[number]) => percentile(m.times, 50);
console.log('| model | kind | non-embedding params | / teacher | p50 ms | p99 ms | teacher p50 / p50 |');
console.log('|---|---|---|---|---|---|---|');
for (const m of models) {
  console.log(`| ${m.name} | ${m.kind} | ${m.cost.nonEmbeddingParams.toLocaleString('en-US')} | ${(m.cost.nonEmbeddingParams / teacher.cost.nonEmbeddingParams).toFixed(3)} | ` +
    `${p50(m).toFixed(3)} | ${percentile(m.times, 99).toFixed(3)} | ${(p50(teacher) / p50(m)).toFixed(2)} |`);
}
