// The operator registry of the student search space (METHOD.md "Student search space"): the
// operator sets of paper and default mode and lookup by name. An operator is one file under ops/
// (its forward, its counts, its causal flag); registering it here makes it searchable, and its
// efficiency cost follows from its counts (search/efficiency.ts).
import { convOp } from './ops/conv.js';
import { NONE, SKIP } from './ops/identity.js';
import { CAUSAL_MEAN } from './ops/mean.js';
import { poolOp } from './ops/pool.js';
import type { OperatorSpec } from './ops/edge-op.js';

export type { BuildOptions, ConvNorm, EdgeContext, OperatorKind, OperatorSpec } from './ops/edge-op.js';
export { CONV_NORMS, EdgeOp } from './ops/edge-op.js';
export { ConvNormOp, convOp, convMacs, convParams } from './ops/conv.js';
export { poolOp, poolMacs } from './ops/pool.js';
export { SKIP, NONE } from './ops/identity.js';
export { CAUSAL_MEAN, RunningMean } from './ops/mean.js';
export type SearchMode = 'paper' | 'default';

/**
 * Paper mode: the reference's 10 operators, in the reference's order. "std" and "dilated" convs and
 * the pools are centred (same length, padding on both sides), so they see future positions.
 */
export const PAPER_OPS: readonly OperatorSpec[] = Object.freeze([
  convOp({ name: 'std_conv_3', kernelSize: 3, dilation: 1, causal: false, label: 'std conv k3' }),
  convOp({ name: 'dil_conv_3', kernelSize: 3, dilation: 2, causal: false, label: 'dilated conv k3 d2' }),
  convOp({ name: 'causal_dil_conv_3', kernelSize: 3, dilation: 2, causal: true, label: 'causal dilated conv k3 d2' }),
  convOp({ name: 'std_conv_5', kernelSize: 5, dilation: 1, causal: false, label: 'std conv k5' }),
  convOp({ name: 'dil_conv_5', kernelSize: 5, dilation: 2, causal: false, label: 'dilated conv k5 d2' }),
  convOp({ name: 'causal_dil_conv_5', kernelSize: 5, dilation: 2, causal: true, label: 'causal dilated conv k5 d2' }),
  poolOp({ name: 'max_pool_3', pool: 'max', kernelSize: 3, causal: false, label: 'max pool 3 (centred)' }),
  poolOp({ name: 'avg_pool_3', pool: 'avg', kernelSize: 3, causal: false, label: 'avg pool 3 (centred)' }),
  SKIP,
  NONE,
]);

/**
 * Default mode: causal counterparts only. METHOD.md lists causal conv k3/k5 at dilation 1 and 2,
 * causal max/avg pool over the current and two previous positions, skip and none: 8 distinct
 * operators. (Mapping each of the paper's 10 to its causal counterpart would list the causal
 * dilated convs twice, since paper mode's dilated and causal dilated convs share one counterpart;
 * two identical candidates only split the architecture weight, so each is listed once. See
 * CAUSAL_COUNTERPART.)
 */
export const DEFAULT_OPS: readonly OperatorSpec[] = Object.freeze([
  convOp({ name: 'causal_conv_3', kernelSize: 3, dilation: 1, causal: true }),
  convOp({ name: 'causal_conv_3_d2', kernelSize: 3, dilation: 2, causal: true }),
  convOp({ name: 'causal_conv_5', kernelSize: 5, dilation: 1, causal: true }),
  convOp({ name: 'causal_conv_5_d2', kernelSize: 5, dilation: 2, causal: true }),
  poolOp({ name: 'causal_max_pool_3', pool: 'max', kernelSize: 3, causal: true }),
  poolOp({ name: 'causal_avg_pool_3', pool: 'avg', kernelSize: 3, causal: true }),
  SKIP,
  NONE,
]);

/** The default-mode operator that replaces each paper-mode operator. */
export const CAUSAL_COUNTERPART: Readonly<Record<string, string>> = Object.freeze({
  std_conv_3: 'causal_conv_3',
  dil_conv_3: 'causal_conv_3_d2',
  causal_dil_conv_3: 'causal_conv_3_d2',
  std_conv_5: 'causal_conv_5',
  dil_conv_5: 'causal_conv_5_d2',
  causal_dil_conv_5: 'causal_conv_5_d2',
  max_pool_3: 'causal_max_pool_3',
  avg_pool_3: 'causal_avg_pool_3',
  skip: 'skip',
  none: 'none',
});

const registry = new Map<string, OperatorSpec>();

/** Adds an operator to the registry by name (a name may be registered once). */
export function registerOperator(op: OperatorSpec): OperatorSpec {
  const have = registry.get(op.name);
  if (have !== undefined && have !== op) throw new Error(`operator '${op.name}' is already registered`);
  registry.set(op.name, op);
  return op;
}

export function getOperator(name: string): OperatorSpec {
  const op = registry.get(name);
  if (op === undefined) throw new Error(`unknown operator '${name}' (known: ${[...registry.keys()].join(', ')})`);
  return op;
}

export function registeredOperators(): OperatorSpec[] { return [...registry.values()]; }

/**
 * Registered beyond the two modes' sets, for searches that list them (search.operators): the
 * running mean of the whole history (ops/mean.ts).
 */
export const EXTRA_OPS: readonly OperatorSpec[] = Object.freeze([CAUSAL_MEAN]);

for (const op of [...PAPER_OPS, ...DEFAULT_OPS, ...EXTRA_OPS]) registerOperator(op);

/** The operator set of a mode, in order (the order of alpha's columns). */
export function modeOperators(mode: SearchMode): readonly OperatorSpec[] {
  return mode === 'paper' ? PAPER_OPS : DEFAULT_OPS;
}

/** Resolves a list of names (a user's custom operator set) against the registry. */
export function operatorsByName(names: readonly string[]): OperatorSpec[] {
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw new Error(`operator '${n}' listed twice`);
    seen.add(n);
    return getOperator(n);
  });
}
