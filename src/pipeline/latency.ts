// What a latency-priced search (search config cost 'latency') needs around it: its latency table
// (the file it names, or this machine profiled for it) and the check after derivation, a student
// of the derived genotype timed in the serving path against the budget.
import { loadavg } from 'node:os';
import { Rng } from '../engine/index.js';
import { predictLatency, readLatencyTable, type LatencyTable } from '../eval/latency-table.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { genotypeColumns, validateGenotype, type Genotype } from '../models/adarec/genotype.js';
import { searchConvNorm, type SearchConfig } from '../search/config.js';
import { searchOperators } from '../search/search.js';
import { measureServingLatencies, profileOperators, type ProfileOptions } from '../serve/profile-ops.js';

/** The profile a search needs: its operators, student width, window, nodes, norm and positions. */
export function profileOptionsFor(cfg: SearchConfig, hidden: number, items: number): Omit<ProfileOptions, 'log'> {
  return {
    hidden, length: cfg.maxLength, items, operators: searchOperators(cfg), nodes: cfg.nodes, convNorm: searchConvNorm(cfg),
    positions: cfg.positions ?? 'learned', stream: cfg.latencyPath === 'stream' || (cfg.positions === 'none'),
  };
}

/** The table of a latency-priced search: its latencyTable file, else this machine profiled now. */
export function searchLatencyTable(cfg: SearchConfig, hidden: number, items: number, log: (line: string) => void): LatencyTable {
  if (cfg.latencyTable) return readLatencyTable(cfg.latencyTable);
  log('profiling the operators on this machine for the latency-priced search (adarec profile-ops writes a table to reuse)');
  return profileOperators({ ...profileOptionsFor(cfg, hidden, items), log });
}

/** A derived genotype's serving latency, predicted and measured, against the budget. */
export interface LatencyCheck {
  budgetMs: number;
  quantile: 'p50' | 'p99';
  path: 'window' | 'stream';
  predictedP50Ms: number;
  predictedP99Ms: number;
  measuredP50Ms: number;
  measuredP99Ms: number;
  /** The measured quantile the budget bounds <= the budget. */
  withinBudget: boolean;
  /** Measured / predicted - 1 at the budget's quantile. */
  predictionError: number;
  /** The machine's load average when measured. */
  load: number[];
  /**
   * A probe student of the table timed beside it: its median now / its median when profiled (1 =
   * the machine runs as fast as when profiled; null when the table has no probe of the path).
   */
  slowdown: number | null;
}

/**
 * Times a student of `genotype` (random weights: the time does not depend on them) as it is served
 * (batch 1; window: the receptive-field crop, stream: one event) and compares with the budget.
 */
export function checkGenotypeLatency(genotype: Genotype, cfg: SearchConfig, table: LatencyTable, o: { hidden: number; vocabSize: number; rounds?: number }): LatencyCheck {
  const path = cfg.latencyPath ?? 'window', quantile = cfg.latencyQuantile ?? 'p99';
  const build = (g: Genotype): AdaRecNet => new AdaRecNet({
    vocabSize: o.vocabSize, maxLength: cfg.maxLength, hidden: o.hidden, cells: g.cells.length, nodes: g.nodes,
    operators: validateGenotype(g), genotype: genotypeColumns(g), dropout: 0, positions: path === 'stream' ? 'none' : cfg.positions, convNorm: cfg.convNorm,
  }, new Rng(cfg.seed)).eval();
  const model = build(genotype);
  // a probe of the table, timed in the same session, says how much slower the machine is now than when profiled
  const probe = table.probes.find((p) => p.path === path && p.measuredP50 > 0);
  const reference = probe ? build({ operators: [...new Set([...genotype.operators, ...probe.edges])], nodes: genotype.nodes, cells: Array.from({ length: probe.cells }, () => probe.edges) }) : null;
  try {
    const load = loadavg().map((x) => Math.round(x * 100) / 100);
    const [m, ref] = measureServingLatencies(reference ? [model, reference] : [model], path, cfg.maxLength, { rounds: o.rounds ?? 60, perRound: 10 });
    const p = predictLatency(table, genotype, path, cfg.maxLength);
    const measured = quantile === 'p99' ? m.p99 : m.p50, predicted = quantile === 'p99' ? p.p99 : p.p50;
    return {
      budgetMs: cfg.latencyBudgetMs!, quantile, path, predictedP50Ms: p.p50, predictedP99Ms: p.p99, measuredP50Ms: m.p50, measuredP99Ms: m.p99,
      withinBudget: measured <= cfg.latencyBudgetMs!, predictionError: measured / predicted - 1, load,
      slowdown: probe && ref ? ref.p50 / probe.measuredP50 : null,
    };
  } finally {
    model.dispose();
    reference?.dispose();
  }
}

/** One line for the log and the report. */
export function describeLatencyCheck(c: LatencyCheck): string {
  const ms = (x: number): string => `${x.toFixed(3)} ms`;
  return `latency budget ${ms(c.budgetMs)} (${c.quantile}, ${c.path} path): the derived student measured p50 ${ms(c.measuredP50Ms)}, p99 ${ms(c.measuredP99Ms)} ` +
    `(predicted ${ms(c.predictedP50Ms)} / ${ms(c.predictedP99Ms)}; ${c.quantile} prediction error ${(100 * c.predictionError).toFixed(0)}%), load ${c.load.join(' ')}` +
    `${c.slowdown === null ? '' : `, a probe of the table at ${c.slowdown.toFixed(2)}x its median when profiled`}: ` +
    (c.withinBudget ? 'within the budget' : `OVER THE BUDGET by ${ms((c.quantile === 'p99' ? c.measuredP99Ms : c.measuredP50Ms) - c.budgetMs)}` +
      (c.quantile === 'p99' ? ' (on a shared machine the p99 is set by other processes: see docs/RESULTS.md)' : ''));
}
