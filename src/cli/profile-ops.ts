// `adarec profile-ops`: this machine's latency of every operator of the search space (and the
// embedding/output and cell glue) in the serving path, written as a table a latency-priced search
// reads (search config "cost": "latency", "latencyTable": <file>).
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { writeLatencyTable, type LatencyTable } from '../eval/latency-table.js';
import { modeOperators, operatorsByName } from '../models/adarec/operators.js';
import { DEFAULT_CONV_NORM } from '../search/config.js';
import { profileOperators } from '../serve/profile-ops.js';
import { positiveInt } from './data.js';

function operatorList(value: string): string {
  if (!value.trim()) throw new InvalidArgumentError('expected default, paper or a comma-separated list of operator names');
  return value;
}

/** The table's figures as a text table (microseconds: medians, p99 in brackets). */
export function formatLatencyTable(t: LatencyTable): string {
  const us = (ms: number): string => (ms * 1000).toFixed(1);
  const L = t.window.lengths, show = [...new Set([0, Math.floor((L.length - 1) / 2), L.length - 1])];
  const head = `part (us)${' '.repeat(12)}${show.map((i) => `crop ${L[i]}`.padStart(18)).join('')}${t.stream ? 'stream'.padStart(18) : ''}`;
  const row = (name: string, s: { p50: number[]; p99: number[] }, st?: { p50: number; p99: number }): string =>
    `${name.padEnd(21)}${show.map((i) => `${us(s.p50[i])} (${us(s.p99[i])})`.padStart(18)).join('')}${st ? `${us(st.p50)} (${us(st.p99)})`.padStart(18) : ''}`;
  const lines = [head, row('base', t.window.base, t.stream?.base), row('cell glue', t.window.cell, t.stream?.cell)];
  for (const [name, s] of Object.entries(t.window.operators)) lines.push(row(name, s, t.stream?.operators[name]));
  const probes = t.probes.map((p) => `  ${p.path.padEnd(6)} ${p.cells} x ${p.edges.join(',')}: sum of parts ${us(p.predictedP50)} us, measured p50 ${us(p.measuredP50)} us, p99 ${us(p.measuredP99)} us`);
  const fit = (name: string, f: LatencyTable['fit']['window'] | null): string =>
    (f ? `${name}: scale ${f.scale.toFixed(3)}, p99 = ${f.tail.toFixed(2)} x p50 + ${us(f.tailMs)} us` : '');
  return [...lines, 'probes (cells x one shared cell):', ...probes,
    `fit ${[fit('window', t.fit.window), fit('stream', t.fit.stream)].filter(Boolean).join('; ')}`].join('\n');
}

export function profileOpsCommand(): Command {
  return new Command('profile-ops')
    .description('measure every operator of the search space (and embedding/output, cell glue) on this machine in the serving path at batch 1; write the latency table a latency-priced search reads')
    .option('--hidden <n>', 'student hidden size (search.hidden: 64 for a NextItNet teacher, 32 for attention teachers)', positiveInt, 64)
    .option('--length <n>', 'window (search.maxLength): crops are profiled up to it', positiveInt, 50)
    .option('--items <n>', 'items in the catalog (the output layer scores items + 1 ids): that of the data you will search on', positiveInt, 500)
    .option('--nodes <n>', 'nodes per cell (search.nodes)', positiveInt, 3)
    .option('--operators <list>', "'default', 'paper', or operator names separated by commas", operatorList, 'default')
    .addOption(new Option('--conv-norm <norm>', 'the norm after each conv (search.convNorm)').choices(['batch', 'layer', 'none']).default(DEFAULT_CONV_NORM))
    .addOption(new Option('--positions <kind>', 'position embedding of the window path (search.positions)').choices(['learned', 'none']).default('learned'))
    .option('--no-stream', 'skip the per-event (stream) path')
    .option('--rounds <n>', 'interleaved rounds', positiveInt, 30)
    .option('--per-round <n>', 'calls of each part per round', positiveInt, 10)
    .option('--probes <n>', 'whole students (random genotypes of 1, 2 and 4 cells) timed to fit the scale and the p99 line', positiveInt, 12)
    .option('--out <file.json>', 'the table', 'ops-latency.json')
    .addHelpText('after', '\nRun it on the serving machine, as quiet as it gets: the table holds its load average.\n' +
      'Then search with {"cost": "latency", "latencyBudgetMs": 0.3, "latencyTable": "ops-latency.json"} (adarec search --config, or search in adarec run).\n\n' +
      'Examples:\n  adarec profile-ops --hidden 64 --length 50 --items 500\n  adarec profile-ops --items 3416 --length 200 --out ml1m-ops.json')
    .action((o) => {
      const operators = o.operators === 'default' || o.operators === 'paper' ? modeOperators(o.operators) : operatorsByName(String(o.operators).split(',').map((s) => s.trim()));
      const table = profileOperators({
        hidden: o.hidden, length: o.length, items: o.items, nodes: o.nodes, operators, convNorm: o.convNorm, positions: o.positions,
        stream: o.stream, rounds: o.rounds, perRound: o.perRound, probes: o.probes, log: (l) => console.error(l),
      });
      const out = resolve(String(o.out));
      writeLatencyTable(out, table);
      console.log(formatLatencyTable(table));
      console.log(`\nwrote ${out}`);
    });
}
