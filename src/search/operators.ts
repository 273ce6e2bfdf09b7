// The operator registry of the student search space (METHOD.md "Student search space"): every
// candidate edge operator as metadata (name, causality, kind, kernel, dilation, MAC and parameter
// counts) and the efficiency-loss cost vector computed from those counts. Forwards come later
// (one file per operator under src/search/ops/); adding an operator is registering its metadata
// here, and its cost follows from the formula, never from a table.

export type OperatorKind = 'conv' | 'pool' | 'skip' | 'none';
export type SearchMode = 'paper' | 'default';

export interface OperatorSpec {
  /** Unique name, used in genotype JSON. */
  readonly name: string;
  /** True when the output at position t depends only on inputs at positions <= t. */
  readonly causal: boolean;
  readonly kind: OperatorKind;
  /** Conv kernel size or pooling window. */
  readonly kernelSize?: number;
  /** Conv dilation (1 = none). */
  readonly dilation?: number;
  /** For pools: which reduction. */
  readonly pool?: 'max' | 'avg';
  /** One-line description for reports and pictures. */
  readonly label: string;
  /** Multiply-accumulates of one application on a length-L sequence of C channels (C -> C). */
  macs(L: number, C: number): number;
  /** Learned parameters (C -> C). */
  params(C: number): number;
}

// Counting formulas of METHOD.md (the reference's): a conv is k taps of C x C, a bias and a batch
// norm (scale + shift: 2 per element); a pool touches each output element once; skip and none are free.
/** conv MACs = L*C*C*k + L*C + 2*L*C. */
export function convMacs(L: number, C: number, k: number): number { return L * C * C * k + L * C + 2 * L * C; }
/** conv params = C*C*k + 3C (weights, bias, batch-norm scale and shift). */
export function convParams(C: number, k: number): number { return C * C * k + 3 * C; }
/** pool MACs = L*C. */
export function poolMacs(L: number, C: number): number { return L * C; }

export function convOp(o: { name: string; kernelSize: number; dilation: number; causal: boolean; label?: string }): OperatorSpec {
  const { name, kernelSize: k, dilation, causal } = o;
  if (!Number.isInteger(k) || k < 1 || !Number.isInteger(dilation) || dilation < 1) throw new RangeError(`conv op ${name}: kernel ${k} / dilation ${dilation} must be integers >= 1`);
  const label = o.label ?? `${causal ? 'causal ' : ''}${dilation > 1 ? 'dilated ' : ''}conv k${k}${dilation > 1 ? ` d${dilation}` : ''}`;
  return Object.freeze({
    name, causal, kind: 'conv' as const, kernelSize: k, dilation, label,
    macs: (L: number, C: number) => convMacs(L, C, k),
    params: (C: number) => convParams(C, k),
  });
}

export function poolOp(o: { name: string; pool: 'max' | 'avg'; kernelSize: number; causal: boolean; label?: string }): OperatorSpec {
  const { name, pool, kernelSize: k, causal } = o;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`pool op ${name}: window ${k} must be an integer >= 1`);
  const label = o.label ?? `${causal ? 'causal' : 'centred'} ${pool} pool ${k}`;
  return Object.freeze({
    name, causal, kind: 'pool' as const, kernelSize: k, pool, label,
    macs: (L: number, C: number) => poolMacs(L, C),
    params: (_C: number) => 0,
  });
}

export const SKIP: OperatorSpec = Object.freeze({
  name: 'skip', causal: true, kind: 'skip' as const, label: 'skip (identity)',
  macs: () => 0, params: () => 0,
});

export const NONE: OperatorSpec = Object.freeze({
  name: 'none', causal: true, kind: 'none' as const, label: 'none (zeros)',
  macs: () => 0, params: () => 0,
});

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

for (const op of [...PAPER_OPS, ...DEFAULT_OPS]) registerOperator(op);

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

function softmax(x: readonly number[]): number[] {
  const max = Math.max(...x);
  const e = x.map((v) => Math.exp(v - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
}

/**
 * The efficiency-loss cost of each operator (METHOD.md):
 *   cost_o = 5 * (softmax_o(MACs_o / 1e6) + softmax_o(params_o / 1e6)),
 * the softmax taken over the given operator set, each count for one application at length L and
 * C channels, a zero count replaced by 1 before scaling. The reference settings (paper ops,
 * L = 100, C = 128) give conv k3 0.5653, conv k5 2.1270, pools and skip/none 0.48075.
 */
export function opCosts(ops: readonly OperatorSpec[], L = 100, C = 128): Float64Array {
  if (ops.length === 0) throw new RangeError('opCosts: empty operator set');
  const count = (x: number, what: string, op: OperatorSpec): number => {
    if (!Number.isFinite(x) || x < 0) throw new RangeError(`operator ${op.name}: ${what} = ${x}`);
    return (x === 0 ? 1 : x) / 1e6;
  };
  const m = softmax(ops.map((op) => count(op.macs(L, C), 'MACs', op)));
  const p = softmax(ops.map((op) => count(op.params(C), 'params', op)));
  return Float64Array.from(ops.map((_, o) => 5 * (m[o] + p[o])));
}
