// Deriving the student from the search's architecture weights (METHOD.md "Derivation"): per edge
// the operator of largest alpha ("none" may win; every edge is kept), and the summaries of alpha
// the search logs (probabilities, entropy).
import { cellEdges, type Genotype, type OperatorSpec } from '../models/adarec/index.js';
import { argmaxRows } from './gumbel.js';

function softmaxRow(v: ArrayLike<number>, start: number, n: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, v[start + i]);
  const e = Array.from({ length: n }, (_, i) => Math.exp(v[start + i] - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** softmax(alpha) per row: alpha [rows, ops] row-major. */
export function alphaProbabilities(alpha: ArrayLike<number>, ops: number): number[][] {
  return Array.from({ length: alpha.length / ops }, (_, r) => softmaxRow(alpha, r * ops, ops));
}

/** Mean entropy (nats) of softmax(alpha) over the rows: ln(ops) when uniform, 0 when decided. */
export function alphaEntropy(alpha: ArrayLike<number>, ops: number): number {
  const rows = alphaProbabilities(alpha, ops);
  return rows.reduce((s, p) => s - p.reduce((h, x) => h + (x > 0 ? x * Math.log(x) : 0), 0), 0) / rows.length;
}

/** Argmax per row of alpha: one shared row block (E rows) or one per cell (cells x E rows). */
export function deriveGenotype(alpha: ArrayLike<number>, operators: readonly OperatorSpec[], nodes: number, cells: number): Genotype {
  const O = operators.length, E = cellEdges(nodes).length;
  const rows = alpha.length / O;
  if (rows !== E && rows !== cells * E) throw new Error(`alpha has ${rows} rows; expected ${E} (shared) or ${cells * E} (per cell)`);
  return genotypeOf(argmaxRows(alpha, O), alpha, operators, nodes, cells);
}

/** The genotype of chosen columns per alpha row (shared: E rows; per cell: cells x E), with softmax(alpha). */
export function genotypeOf(index: ArrayLike<number>, alpha: ArrayLike<number>, operators: readonly OperatorSpec[], nodes: number, cells: number): Genotype {
  const O = operators.length, E = cellEdges(nodes).length;
  const rows = alpha.length / O;
  if (index.length !== rows) throw new Error(`${index.length} chosen operators for ${rows} alpha rows`);
  const probabilities = alphaProbabilities(alpha, O);
  const pick = Array.from(index, (o) => operators[o].name);
  const perCell = rows !== E;
  return {
    operators: operators.map((o) => o.name), nodes,
    cells: Array.from({ length: cells }, (_, k) => (perCell ? pick.slice(k * E, (k + 1) * E) : pick.slice())),
    probabilities,
  };
}

