// Genotypes: the architecture a search derives (METHOD.md "Derivation"): per edge the operator of
// largest alpha ("none" may win; every edge is kept), one list shared by all cells unless the
// search was per-cell. Also the cost of a genotype and random genotypes of similar cost, the
// baseline that shows a search really searched.
import type { Rng } from '../engine/index.js';
import { cellEdges } from './cell.js';
import { argmaxRows } from './gumbel.js';
import { getOperator, operatorsByName } from './operators.js';
import type { OperatorSpec } from './ops/edge-op.js';

export interface Genotype {
  /** The candidate operators (alpha's columns), by name. */
  operators: string[];
  nodes: number;
  /** Per cell, the chosen operator of each edge (edge order of cellEdges). */
  cells: string[][];
  /** softmax(alpha) per alpha row when derived by a search (rows: edges, or cells x edges). */
  probabilities?: number[][];
}

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
  const probabilities = alphaProbabilities(alpha, O);
  const pick = Array.from(argmaxRows(alpha, O), (o) => operators[o].name);
  const perCell = rows !== E;
  return {
    operators: operators.map((o) => o.name), nodes,
    cells: Array.from({ length: cells }, (_, k) => (perCell ? pick.slice(k * E, (k + 1) * E) : pick.slice())),
    probabilities,
  };
}

/** Operator columns per cell and edge, for AdaRecNetConfig.genotype. */
export function genotypeColumns(g: Genotype): number[][] {
  return g.cells.map((edges) => edges.map((name) => {
    const o = g.operators.indexOf(name);
    if (o < 0) throw new Error(`genotype: operator '${name}' is not among its operators (${g.operators.join(', ')})`);
    return o;
  }));
}

/** Checks a genotype read from JSON; returns its operator specs. */
export function validateGenotype(g: Genotype, source = 'genotype'): OperatorSpec[] {
  if (!g || !Array.isArray(g.operators) || !Array.isArray(g.cells) || !Number.isInteger(g.nodes) || g.nodes < 1)
    throw new Error(`${source}: expected { operators: string[], nodes: integer >= 1, cells: string[][] }`);
  const specs = operatorsByName(g.operators);
  const E = cellEdges(g.nodes).length;
  g.cells.forEach((edges, k) => {
    if (!Array.isArray(edges) || edges.length !== E) throw new Error(`${source}: cell ${k} lists ${edges?.length} edges, ${g.nodes} nodes have ${E}`);
  });
  genotypeColumns(g);
  return specs;
}

/** Parameters and MACs of the cells of a genotype at hidden C and length L (operators only, as METHOD.md counts them). */
export function genotypeCost(g: Genotype, C: number, L: number): { params: number; macs: number } {
  let params = 0, macs = 0;
  for (const edges of g.cells) for (const name of edges) {
    const op = getOperator(name);
    params += op.params(C);
    macs += op.macs(L, C);
  }
  return { params, macs };
}

/** A genotype with a uniformly random operator per edge (shared by all cells). */
export function randomGenotype(operators: readonly OperatorSpec[], nodes: number, cells: number, rng: Rng): Genotype {
  const E = cellEdges(nodes).length;
  const edges = Array.from({ length: E }, () => operators[rng.int(operators.length)].name);
  return { operators: operators.map((o) => o.name), nodes, cells: Array.from({ length: cells }, () => edges.slice()) };
}

/**
 * `count` distinct random genotypes whose operator parameter count is within `tolerance` (relative)
 * of `target`'s, drawn by rejection; when too few qualify after many draws, the closest are taken.
 */
export function randomGenotypesLike(target: Genotype, count: number, rng: Rng, o: { C: number; L: number; tolerance?: number; tries?: number }): Genotype[] {
  const ops = operatorsByName(target.operators);
  const want = genotypeCost(target, o.C, o.L).params, tol = o.tolerance ?? 0.25;
  const seen = new Set<string>([JSON.stringify(target.cells)]);
  const pool: { g: Genotype; gap: number }[] = [];
  for (let t = 0; t < (o.tries ?? 20000) && pool.filter((p) => p.gap <= tol).length < count; t++) {
    const g = randomGenotype(ops, target.nodes, target.cells.length, rng);
    const key = JSON.stringify(g.cells);
    if (seen.has(key)) continue;
    seen.add(key);
    const have = genotypeCost(g, o.C, o.L).params;
    pool.push({ g, gap: Math.abs(have - want) / Math.max(want, 1) });
  }
  return pool.sort((a, b) => a.gap - b.gap).slice(0, count).map((p) => p.g);
}
