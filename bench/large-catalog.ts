// bench/large-catalog (the end of bench:infer; alone: node dist/bench/large-catalog.js): batch-1
// top-10 of a hidden-64 student (the ml-100k student's architecture, random weights: the worst
// case for pruning, no item stands out) over 1M items through Recommender.recommend, brute force
// (every score by sgemm, then the top-k heap) against the item index (src/serve/item-index.ts),
// interleaved. Prints the index's build time and size, how many items each query scored exactly,
// and last the line `student 1M items p50 batch1: X ms` (the index).
import { Rng } from '../src/engine/index.js';
import { AdaRecNet } from '../src/models/adarec/network.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { Recommender, type ModelInfo } from '../src/serve/recommender.js';
import type { TrainConfig } from '../src/train/config.js';
import { ML100K_STUDENT } from './model-config.js';
import { percentile } from './torch-process.js';

const ITEMS = 1_000_000, K = 10, ROUNDS = 6, CALLS = 20, HISTORIES = 64;

export async function benchLargeCatalog(): Promise<void> {
  const T = ML100K_STUDENT.maxLength, vocab = ITEMS + 1;
  const columns = ML100K_STUDENT.edges.map((name) => DEFAULT_OPS.findIndex((o) => o.name === name));
  const model = new AdaRecNet({
    vocabSize: vocab, maxLength: T, hidden: ML100K_STUDENT.hidden, cells: ML100K_STUDENT.cells, nodes: ML100K_STUDENT.nodes,
    operators: DEFAULT_OPS, genotype: Array.from({ length: ML100K_STUDENT.cells }, () => columns), dropout: 0.1,
  }, new Rng(0)).eval();
  const keys = Array.from({ length: ITEMS }, (_, i) => String(i + 1));
  const info: ModelInfo = { kind: 'adarec', checkpoint: '(random)', version: '', items: ITEMS, parameters: model.parameterCount(), maxLength: T, loadedAt: '' };
  const config = { maxLength: T } as TrainConfig;
  const today = new Recommender(model, config, keys, info, { itemIndexFrom: Infinity });
  const indexed = new Recommender(model, config, keys, info);
  const index = indexed.itemIndex!;
  const rng = new Rng(1);
  const histories = Array.from({ length: HISTORIES }, () => Array.from({ length: 5 + rng.int(T) }, () => String(1 + rng.int(ITEMS))));
  const paths = [{ label: 'brute force: every score (sgemm) + top-k heap', r: today }, { label: 'item index: int8 bounds + exact rescoring', r: indexed }];
  console.log(`\nlarge catalog: hidden-${ML100K_STUDENT.hidden} student over ${ITEMS.toLocaleString('en')} items, batch-1 top-${K}, ` +
    `Recommender.recommend, ${ROUNDS} interleaved rounds of ${CALLS} calls (CPU time: what this process ran, less sensitive than wall time to other jobs)`);
  console.log(`  item index: built in ${(index.buildMs / 1000).toFixed(2)} s, ${(index.bytes / 2 ** 20).toFixed(1)} MiB ` +
    `(the output layer: ${(model.output.weight.size * 4 / 2 ** 20).toFixed(1)} MiB float32)`);
  const candidates: number[] = [];
  const times = new Map(paths.map((p) => [p, [] as number[]])), cpu = new Map(paths.map((p) => [p, [] as number[]]));
  let n = 0;
  for (let round = -1; round < ROUNDS; round++) // round -1 warms up
    for (const p of paths)
      for (let i = 0; i < CALLS; i++) {
        const history = histories[n++ % HISTORIES];
        const t = performance.now(), c = process.cpuUsage();
        p.r.recommend({ history, k: K });
        if (round < 0) continue;
        times.get(p)!.push(performance.now() - t);
        const used = process.cpuUsage(c);
        cpu.get(p)!.push((used.user + used.system) / 1000);
        if (p.r === indexed) candidates.push(index.lastCandidates);
      }
  for (const p of paths) {
    const ms = times.get(p)!;
    console.log(`  ${p.label.padEnd(48)} p50 ${percentile(ms, 50).toFixed(3).padStart(8)} ms  p99 ${percentile(ms, 99).toFixed(3).padStart(8)} ms  ` +
      `min ${Math.min(...ms).toFixed(3).padStart(8)} ms  CPU time p50 ${percentile(cpu.get(p)!, 50).toFixed(3).padStart(8)} ms`);
  }
  console.log(`  candidates scored exactly per query: median ${percentile(candidates, 50)}, max ${Math.max(...candidates)}; ` +
    `brute force / index p50: ${(percentile(times.get(paths[0])!, 50) / percentile(times.get(paths[1])!, 50)).toFixed(1)}x`);
  console.log(`student 1M items p50 batch1: ${percentile(times.get(paths[paths.length - 1])!, 50).toFixed(3)} ms`);
}

if (process.argv[1]?.endsWith('large-catalog.js')) await benchLargeCatalog();
