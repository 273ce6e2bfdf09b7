// A student's Cell (src/models/adarec/cell.ts): node i = sum of its edges (operator of ReLU(source)),
// the nodes weighted by softmax(nodeWeights) (folded into constants at export), LayerNorm + ReLU,
// plus the cell input. Edge operators: conv + its norm (eval-mode batch norm, LayerNorm over
// channels, or none: the student's convNorm), pools, the running mean (over the items of the
// window: `keep`, the item mask), skip; `none` adds nothing.
import type { Cell } from '../../models/adarec/cell.js';
import { ConvNormOp } from '../../models/adarec/ops/conv.js';
import { Pool } from '../../models/adarec/ops/pool.js';
import { RunningMean } from '../../models/adarec/ops/mean.js';
import type { GraphBuilder } from '../graph.js';
import { emitConv1d } from './conv.js';
import { emitLayerNorm } from './norm.js';
import { emitPool1d } from './pool.js';
import { emitRunningMean } from './mean.js';

function softmax(v: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - max));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** Edge e's output for its (ReLU'd) input, or null when the edge computes nothing. keep: the item mask [B, T, 1], made on first use. */
function emitEdge(g: GraphBuilder, cell: Cell, e: number, input: string, scope: string, keep: () => string): string | null {
  const chosen = cell.chosen(e);
  if (!chosen) return null;
  const { spec, op } = chosen;
  const at = `${scope}.edges.${e}.${spec.name}`;
  if (op instanceof ConvNormOp) {
    return emitConv1d(g, op.conv, input, `${at}.conv`, {
      lookahead: op.lookahead,
      ...(op.bn ? { batchNorm: { module: op.bn, scope: `${at}.bn` } } : {}),
      ...(op.ln ? { layerNorm: { module: op.ln, scope: `${at}.ln` } } : {}),
    });
  }
  if (op instanceof Pool) return emitPool1d(g, input, op.mode, op.before, op.after, at);
  if (op instanceof RunningMean) return emitRunningMean(g, input, keep(), at);
  if (spec.kind === 'skip') return input;
  throw new Error(`ONNX export: ${at}: operator '${spec.name}' (${spec.kind}) has no ONNX emitter`);
}

export function emitCell(g: GraphBuilder, cell: Cell, x: string, scope: string, keep: () => string): string {
  let zeros: string | null = null;
  const zerosLike = (): string => (zeros ??= g.op(scope, 'Mul', [x, g.weight(`${scope}.zero`, [0], [])]));
  const states: string[] = [x];
  const relus = new Map<number, string>();
  const reluOf = (j: number): string => {
    let r = relus.get(j);
    if (r === undefined) relus.set(j, (r = g.op(scope, 'Relu', [states[j]])));
    return r;
  };
  let e = 0;
  for (let to = 1; to <= cell.nodes; to++) {
    let node: string | null = null;
    for (let from = 0; from < to; from++, e++) {
      const y = emitEdge(g, cell, e, reluOf(from), scope, keep);
      if (y !== null) node = node === null ? y : g.op(scope, 'Add', [node, y]);
    }
    // a node without edges is zeros (and its edges still run: a conv of zeros is its bias)
    states.push(node ?? zerosLike());
  }
  const w = softmax(cell.nodeWeights.values);
  let sum = '';
  for (let i = 1; i <= cell.nodes; i++) {
    const term = g.op(scope, 'Mul', [states[i], g.weight(`${scope}.nodeWeight.${i}`, [w[i - 1]], [])]);
    sum = i === 1 ? term : g.op(scope, 'Add', [sum, term]);
  }
  return g.op(scope, 'Add', [emitLayerNorm(g, cell.norm, sum, `${scope}.norm`, true), x]);
}
