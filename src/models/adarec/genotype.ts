// Genotypes: a student's architecture, one operator per edge (METHOD.md "Derivation"), one list
// shared by all cells unless the search was per-cell. Also the cost of a genotype and random
// genotypes (of similar cost, or from the whole space), the baselines that show a search really
// searched. How a search derives one from alpha is search/derive.ts.
import type { Rng } from '../../engine/index.js';
import { cellEdges } from './cell.js';
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

/** Positions before t that an operator's output at t reads (0 for skip and none, Infinity for the running mean: all of them), or null when it reads later ones. */
export function operatorSpan(spec: OperatorSpec): number | null {
  if (!spec.causal) return null;
  if (spec.kind === 'conv') return (spec.kernelSize! - 1) * spec.dilation!;
  if (spec.kind === 'pool') return spec.kernelSize! - 1;
  if (spec.kind === 'mean') return Infinity;
  return 0;
}

/**
 * Positions before t that a cell's output at t reads, along its longest path: `spans[e]` is edge
 * e's operatorSpan, undefined for an edge that computes nothing (none), null for one that looks
 * ahead (then the cell's span is null).
 */
export function cellSpanOf(nodes: number, spans: readonly (number | null | undefined)[]): number | null {
  const node: number[] = [0];
  let e = 0;
  for (let to = 1; to <= nodes; to++) {
    let span = 0;
    for (let from = 0; from < to; from++, e++) {
      const s = spans[e];
      if (s === undefined) continue;
      if (s === null) return null;
      span = Math.max(span, node[from] + s);
    }
    node.push(span);
  }
  return Math.max(...node);
}

/**
 * The receptive field of a genotype's network: the last output reads the window's last R
 * positions, R = 1 + the cells' spans (serve/receptive-field.ts gives the same for a built
 * student), or null when an operator looks ahead.
 */
export function genotypeReceptiveField(g: Genotype): number | null {
  let R = 1;
  for (const edges of g.cells) {
    const s = cellSpanOf(g.nodes, edges.map((name) => {
      const op = getOperator(name);
      return op.kind === 'none' ? undefined : operatorSpan(op);
    }));
    if (s === null) return null;
    R += s;
  }
  return R;
}

/** A genotype with a uniformly random operator per edge (shared by all cells). */
export function randomGenotype(operators: readonly OperatorSpec[], nodes: number, cells: number, rng: Rng): Genotype {
  const E = cellEdges(nodes).length;
  const edges = Array.from({ length: E }, () => operators[rng.int(operators.length)].name);
  return { operators: operators.map((o) => o.name), nodes, cells: Array.from({ length: cells }, () => edges.slice()) };
}

/**
 * `count` distinct genotypes drawn uniformly from the whole space (a uniformly random operator per
 * edge, shared by all cells), none equal to one of `exclude` (e.g. the searched genotype). Fewer
 * when the space holds fewer, or `tries` draws did not find more.
 */
export function randomGenotypes(operators: readonly OperatorSpec[], nodes: number, cells: number, count: number, rng: Rng,
  o: { exclude?: readonly Genotype[]; tries?: number } = {}): Genotype[] {
  const seen = new Set<string>((o.exclude ?? []).map((g) => JSON.stringify(g.cells)));
  const out: Genotype[] = [];
  for (let t = 0; t < (o.tries ?? 1000 + 100 * count) && out.length < count; t++) {
    const g = randomGenotype(operators, nodes, cells, rng);
    const key = JSON.stringify(g.cells);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(g);
  }
  return out;
}

/**
 * `count` distinct random genotypes whose operator parameter count (or `measure`, e.g. predicted
 * latency) is within `tolerance` (relative) of `target`'s, drawn by rejection; when too few qualify
 * after many draws, the closest are taken.
 */
export function randomGenotypesLike(target: Genotype, count: number, rng: Rng,
  o: { C: number; L: number; tolerance?: number; tries?: number; measure?: (g: Genotype) => number }): Genotype[] {
  const ops = operatorsByName(target.operators);
  const measure = o.measure ?? ((g: Genotype) => genotypeCost(g, o.C, o.L).params);
  const want = measure(target), tol = o.tolerance ?? 0.25;
  const seen = new Set<string>([JSON.stringify(target.cells)]);
  const pool: { g: Genotype; gap: number }[] = [];
  for (let t = 0; t < (o.tries ?? 20000) && pool.filter((p) => p.gap <= tol).length < count; t++) {
    const g = randomGenotype(ops, target.nodes, target.cells.length, rng);
    const key = JSON.stringify(g.cells);
    if (seen.has(key)) continue;
    seen.add(key);
    const have = measure(g);
    pool.push({ g, gap: Math.abs(have - want) / (want > 0 ? want : 1) });
  }
  return pool.sort((a, b) => a.gap - b.gap).slice(0, count).map((p) => p.g);
}
