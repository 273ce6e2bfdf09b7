// bench/latency-pareto (node dist/bench/latency-pareto.js --table ops-latency.json <run folder> ...):
// the searched students and random genotypes of `adarec run` folders, each with its test accuracy,
// its latency predicted from the table and measured now in the serving path (batch 1, the
// receptive-field crop of its window), all models timed in one interleaved session so that the
// machine's load falls on every one of them alike. Prints a Markdown table: prediction error at
// p50 and p99, and which searched students keep within their budget.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadavg } from 'node:os';
import { predictLatency, readLatencyTable } from '../src/eval/latency-table.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { genotypeColumns, validateGenotype, type Genotype } from '../src/models/adarec/genotype.js';
import { Rng } from '../src/engine/index.js';
import { loadTrainedModel } from '../src/train/load.js';
import { describeMachine, measureServingLatencies } from '../src/serve/profile-ops.js';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const tablePath = opt('--table', 'ops-latency.json'), rounds = Number(opt('--rounds', '100'));
const runs = args;
if (runs.length === 0) throw new Error('usage: latency-pareto --table ops-latency.json [--rounds 100] <run folder> ...');
const table = readLatencyTable(tablePath);
const SHORT: Record<string, string> = {
  causal_conv_3: 'c3', causal_conv_3_d2: 'c3d2', causal_conv_5: 'c5', causal_conv_5_d2: 'c5d2', causal_max_pool_3: 'max', causal_avg_pool_3: 'avg', skip: 'skip', none: 'none',
};
const json = (path: string): any => JSON.parse(readFileSync(path, 'utf8'));

interface Row { run: string; stage: string; kind: string; budget: number | null; quantile: string | null; genotype: Genotype; ndcg: number; hr: number; model: AdaRecNet; window: number }
const rows: Row[] = [];
for (const run of runs) {
  const search = json(join(run, 'search', 'config.json'));
  const budget = search.cost === 'latency' ? search.latencyBudgetMs as number : null;
  const stages = ['student', ...readdirSync(run).filter((d) => /^random-(any-)?\d+$/.test(d)).sort()];
  for (const stage of stages) {
    const dir = join(run, stage);
    if (!existsSync(join(dir, 'stage.json'))) continue;
    const figures = json(join(dir, 'stage.json')).result.figures;
    const { model, config } = loadTrainedModel(join(dir, 'best.ckpt'));
    if (!(model instanceof AdaRecNet)) throw new Error(`${dir}: not an AdaRec student`);
    const m = config.model as unknown as { genotype: Genotype };
    rows.push({
      run: basename(run), stage, kind: stage === 'student' ? (budget === null ? 'MACs-priced search' : 'latency-priced search') : stage.startsWith('random-any') ? 'random (any)' : budget === null ? 'random (params-matched)' : 'random (latency-matched)',
      budget, quantile: budget === null ? null : search.latencyQuantile, genotype: m.genotype, ndcg: figures.full['ndcg@10'], hr: figures.full['hr@10'], model, window: config.maxLength,
    });
  }
}

const machine = describeMachine();
console.log(`${rows.length} models of ${runs.length} runs; table ${tablePath} (profiled ${table.created}, load then ${table.machine.load.join(' ')}, ` +
  `fit: window scale ${table.fit.window.scale.toFixed(3)}, p99 = ${table.fit.window.tail.toFixed(2)} x p50 + ${(table.fit.window.tailMs * 1000).toFixed(1)} us); measuring on ${machine.cpu} (${machine.cores} cores, ${machine.backend}), ` +
  `load ${machine.load.join(' ')}, ${rounds} interleaved rounds x 10 calls`);
const window = rows[0].window;
// the table's probes timed beside the models: how much slower the machine is now than when profiled
const probes = table.probes.filter((p) => p.path === 'window');
const probeModels = probes.map((p) => {
  const g: Genotype = { operators: [...new Set(p.edges)], nodes: table.settings.nodes, cells: Array.from({ length: p.cells }, () => p.edges) };
  return new AdaRecNet({ vocabSize: table.settings.items + 1, maxLength: window, hidden: table.settings.hidden, cells: p.cells, nodes: g.nodes,
    operators: validateGenotype(g), genotype: genotypeColumns(g), dropout: 0, positions: table.settings.positions, convNorm: table.settings.convNorm }, new Rng(1)).eval();
});
const all = measureServingLatencies([...rows.map((r) => r.model), ...probeModels], 'window', window, { rounds, perRound: 10 });
const measured = all.slice(0, rows.length);
const slowdowns = probes.map((p, i) => all[rows.length + i].p50 / p.measuredP50).sort((a, b) => a - b);
probeModels.forEach((m) => m.dispose());
console.log(`load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}; the table's ${probes.length} probes now run at ` +
  `${slowdowns.length ? slowdowns[Math.floor(slowdowns.length / 2)].toFixed(2) : '?'}x (median; ${slowdowns.map((x) => x.toFixed(2)).join(', ')}) their medians when profiled\n`);

const ms = (x: number): string => x.toFixed(3);
const pct = (a: number, b: number): string => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(0)}%`;
console.log('| run | model | cell (x→1, x→2, 1→2, x→3, 1→3, 2→3) | crop | budget | predicted p50 | measured p50 | error | predicted p99 | measured p99 | NDCG@10 | HR@10 |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const errors: number[] = [], tails: number[] = [];
rows.forEach((r, i) => {
  const p = predictLatency(table, r.genotype, 'window', r.window), m = measured[i];
  errors.push(Math.abs(m.p50 / p.p50 - 1));
  tails.push(m.p99 / p.p99);
  const over = r.budget !== null && r.stage === 'student' && (r.quantile === 'p99' ? m.p99 : m.p50) > r.budget ? ' (over)' : '';
  console.log(`| ${r.run} | ${r.kind} | ${r.genotype.cells[0].map((n) => SHORT[n] ?? n).join(', ')} | ${p.cropLength} | ${r.budget === null ? '—' : `${ms(r.budget)} (${r.quantile})`} | ` +
    `${ms(p.p50)} | ${ms(m.p50)}${r.quantile === 'p50' ? over : ''} | ${pct(m.p50, p.p50)} | ${ms(p.p99)} | ${ms(m.p99)}${r.quantile === 'p99' ? over : ''} | ${r.ndcg.toFixed(4)} | ${r.hr.toFixed(4)} |`);
  r.model.dispose();
});
errors.sort((a, b) => a - b);
console.log(`\np50 prediction error: median ${(100 * errors[Math.floor(errors.length / 2)]).toFixed(1)}%, largest ${(100 * errors[errors.length - 1]).toFixed(1)}%`);
tails.sort((a, b) => a - b);
console.log(`p99: measured within the prediction for ${tails.filter((x) => x <= 1).length} of ${tails.length} models; measured / predicted ${tails[0].toFixed(2)}-${tails[tails.length - 1].toFixed(2)} (median ${tails[Math.floor(tails.length / 2)].toFixed(2)})`);
