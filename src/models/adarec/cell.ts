// One cell of the AdaRec search space (METHOD.md "Student search space"): input x, N nodes, node i
// the sum of one edge from x and from every earlier node; edge = ReLU(input) -> operator. The cell
// output is the softmax(w)-weighted sum of the nodes -> LayerNorm(eps 1e-8) -> ReLU -> + x.
//
// The same class is the supernet's cell (every candidate operator built on every edge, mixed by
// the sampled weights) and the derived student's (one operator per edge, no mixing). Parameters
// are named edges.<e>.<operator>.*, so a student's names are a subset of the supernet's and the
// finetune starts from the search weights of the chosen operators by name.
import { F, Rng, Tensor, nn, noGrad, zeros } from '../../engine/index.js';
import { mixEdge } from './mix-edge.js';
import type { ConvNorm, EdgeContext, EdgeOp, OperatorSpec } from './ops/edge-op.js';

/** Edges of a cell with N nodes, in order: node 1 <- x; node 2 <- x, 1; node 3 <- x, 1, 2; ... */
export function cellEdges(nodes: number): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (let to = 1; to <= nodes; to++) for (let from = 0; from < to; from++) out.push({ from, to });
  return out;
}

/** How the supernet mixes this cell's edges in one forward. */
export interface EdgeMix {
  /** [rows, ops] edge weights (one-hot values, gradient to alpha when sampled). */
  weights: Tensor;
  /** The row of `weights` that holds this cell's edge 0. */
  rowOffset: number;
  /** Per edge, the operator columns to compute (never `none`, whose output is zeros). */
  active: number[][];
}

export class Cell extends nn.Module {
  readonly edges: { from: number; to: number }[];
  /** Per edge: the built operators, by column of the operator list (null where not built). */
  private readonly ops: (EdgeOp | null)[][];
  readonly nodeWeights: Tensor;
  readonly norm: nn.LayerNorm;

  /**
   * `candidates[e]` lists the operators built on edge e (indices into `operators`): all of them in
   * the supernet, the chosen one in a student (an empty list or [none] drops the edge). `convNorm`:
   * the norm after every convolution (ops/conv.ts).
   */
  constructor(readonly hidden: number, readonly nodes: number, readonly operators: readonly OperatorSpec[],
    readonly candidates: readonly (readonly number[])[], rng: Rng, readonly convNorm: ConvNorm = 'batch') {
    super();
    this.edges = cellEdges(nodes);
    if (candidates.length !== this.edges.length) throw new Error(`a cell of ${nodes} nodes has ${this.edges.length} edges, got candidates for ${candidates.length}`);
    this.ops = candidates.map((cols, e) => {
      const row: (EdgeOp | null)[] = operators.map(() => null);
      for (const o of cols) {
        const spec = operators[o];
        if (!spec) throw new Error(`edge ${e}: operator column ${o} is outside the ${operators.length} operators`);
        if (spec.kind !== 'none') row[o] = this.child(`edges.${e}.${spec.name}`, spec.build(hidden, rng, { convNorm }));
      }
      return row;
    });
    const w = zeros([nodes]);
    const wv = w.values;
    for (let i = 0; i < nodes; i++) wv[i] = 0.01 * rng.normal();
    this.nodeWeights = this.param('nodeWeights', w);
    this.norm = this.child('norm', new nn.LayerNorm(hidden, 1e-8));
  }

  /**
   * A student's edge e: its operator and module, or null when the edge computes nothing (none, or
   * no operator). Throws for a supernet edge (several candidates).
   */
  chosen(e: number): { spec: OperatorSpec; op: EdgeOp } | null {
    const cols = this.candidates[e];
    if (cols.length > 1) throw new Error(`edge ${e} holds ${cols.length} candidate operators: a supernet cell, not a student's`);
    const op = cols.length ? this.ops[e][cols[0]] : null;
    return op ? { spec: this.operators[cols[0]], op } : null;
  }

  /** context: which positions are padding (for the operators that read it). */
  forward(x: Tensor, mix: EdgeMix | null, context?: EdgeContext): Tensor {
    const states: Tensor[] = [x];
    const relus: Tensor[] = [];
    const reluOf = (j: number): Tensor => (relus[j] ??= F.relu(states[j]));
    let e = 0;
    for (let to = 1; to <= this.nodes; to++) {
      let node: Tensor | null = null;
      for (let from = 0; from < to; from++, e++) {
        const built = this.ops[e];
        let y: Tensor | null = null;
        if (mix) {
          const cols = mix.active[e].filter((o) => built[o] !== null);
          if (cols.length) {
            const input = reluOf(from);
            // an operator of weight 0 adds nothing and needs no backward: it is run forward only
            // (no tape), for the weights' gradient <dL/dedge, its output> (the exact estimator)
            const O = this.operators.length, row = mix.rowOffset + e, wv = mix.weights.values;
            const ys = cols.map((o) => {
              const run = (): Tensor => built[o]!.forward(input, context) ?? zeros(x.shape, x.dtype);
              return wv[row * O + o] === 0 ? noGrad(run) : run();
            });
            y = mixEdge(ys, cols, mix.weights, mix.rowOffset + e, x.shape);
          }
        } else {
          const op = built.find((b) => b !== null); // a student builds one operator per edge (none: nothing)
          if (op) y = op.forward(reluOf(from), context);
        }
        if (y) node = node ? F.add(node, y) : y;
      }
      states.push(node ?? zeros(x.shape, x.dtype));
    }
    const attn = F.softmax(F.reshape(this.nodeWeights, [1, this.nodes]));
    let sum: Tensor | null = null;
    for (let i = 1; i <= this.nodes; i++) {
      const term = F.mul(states[i], F.reshape(F.narrow(attn, 1, i - 1, 1), [1]));
      sum = sum ? F.add(sum, term) : term;
    }
    return F.add(this.norm.forward(sum!, true), x);
  }
}
