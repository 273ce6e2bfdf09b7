// EMD many-to-many hidden distillation (METHOD.md "Search", L_hid): an exact solver for the small
// balanced transport problem between student layers (K) and teacher layers (M), the BERT-EMD
// layer-weight update, and the stateful layer mapping the search keeps in its checkpoints.
//
// Pure numeric code on Float64Arrays; it never touches tensors or autograd. The supernet computes
// the cost matrices from its tensors, hands their values here, and multiplies the returned flow
// (held constant, no gradient) into its loss.
//
// Which cost goes with which direction. METHOD.md: "D_ij = KL(softmax(h_t,j) || softmax(h_s,i)),
// batch-mean; reverse KL for D_ji". The reference (the BERT-EMD code AdaRec builds on) puts both in
// one (K+M) x (K+M) matrix: D[i][K+j] = KL(t_j || s_i) and D[K+j][i] = KL(s_i || t_j), pads the
// student weights with M zeros and the teacher weights with K zeros, and solves one EMD on that.
// Mass only leaves the first K nodes and only enters the last M, so the flow lives in the block
// F[i][K+j] and the problem is exactly the K x M transport problem with cost Dst below:
//   - transport and loss (L_hid = sum_ij F_ij Dst_ij) use Dst[i][j] = KL(teacher_j || student_i);
//   - the student update uses c_i = sum_j F_ij Dst_ij (row sums of F .* D over the full matrix);
//   - the teacher update uses c_j = sum_i F_ij Dts_ji, Dts[j][i] = KL(student_i || teacher_j): the
//     reference's `sum(transpose(F) * D, -1)` on the full matrix reads the *lower-left* block of D
//     (the reverse KL) against the transposed flow.
// METHOD.md does not spell out this last point ("reverse KL for D_ji" alone could also mean a second
// transport problem solved on the reverse cost); we follow the reference's single transport problem.
// When the hidden loss is symmetric (BERT-EMD's MSE), Dts = Dst^T and both readings coincide.

/** Result of {@link solveTransport}. */
export interface TransportSolution {
  /** Optimal flow, K x M row-major: F >= 0, row sums = ws, column sums = wt. */
  flow: Float64Array;
  /** sum_ij F_ij D_ij. */
  cost: number;
  /**
   * Dual potentials (an optimality certificate): u_i + v_j <= D_ij for every cell (up to the
   * solver's tolerance), with equality on the basis, and sum ws_i u_i + sum wt_j v_j = cost.
   */
  u: Float64Array;
  v: Float64Array;
  /** Simplex pivots taken after the north-west-corner start. */
  pivots: number;
}

/** Largest K or M accepted: the solver is O(pivots * K * M); the search needs K = 4, M = 8. */
export const MAX_TRANSPORT_SIDE = 256;

function checkWeights(w: ArrayLike<number>, what: string): number {
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    const x = w[i];
    if (!Number.isFinite(x) || x < 0) throw new RangeError(`${what}[${i}] = ${x}: weights must be finite and >= 0`);
    sum += x;
  }
  return sum;
}

/**
 * Exact solution of the balanced transportation problem
 *   min sum_ij F_ij D_ij  s.t.  sum_j F_ij = ws_i, sum_i F_ij = wt_j, F >= 0
 * by the transportation simplex: a north-west-corner basis (always a spanning tree of the K + M
 * row/column nodes with K + M - 1 cells, zero-valued cells included, so degeneracy needs no epsilon
 * perturbation), u-v (MODI) potentials, and pivots around the cycle the entering cell closes in the
 * tree. Entering cell: the most negative reduced cost (Dantzig); after a run of degenerate pivots
 * (step 0) it switches to Bland's rule (lowest index enters, lowest index leaves among ties), which
 * cannot cycle. The flows of a basis are recomputed from the tree after every pivot (leaf
 * elimination), so rounding does not accumulate across pivots.
 *
 * ws and wt must be non-negative with equal sums (to 1e-9 relative); the search passes weights that
 * sum to 1. D is K x M row-major; any finite values (negative ones too).
 */
export function solveTransport(ws: ArrayLike<number>, wt: ArrayLike<number>, D: ArrayLike<number>): TransportSolution {
  const K = ws.length, M = wt.length;
  if (K < 1 || M < 1) throw new RangeError(`transport problem needs K, M >= 1 (got ${K} x ${M})`);
  if (K > MAX_TRANSPORT_SIDE || M > MAX_TRANSPORT_SIDE) throw new RangeError(`transport problem ${K} x ${M} is larger than ${MAX_TRANSPORT_SIDE} per side`);
  if (D.length !== K * M) throw new RangeError(`cost matrix has ${D.length} entries, expected ${K} x ${M} = ${K * M}`);
  const sumS = checkWeights(ws, 'ws'), sumT = checkWeights(wt, 'wt');
  if (!(Math.abs(sumS - sumT) <= 1e-9 * Math.max(1, sumS, sumT))) {
    throw new RangeError(`unbalanced transport problem: supplies sum to ${sumS}, demands to ${sumT}`);
  }
  let scale = 0;
  for (let k = 0; k < K * M; k++) {
    const d = D[k];
    if (!Number.isFinite(d)) throw new RangeError(`cost D[${Math.floor(k / M)}][${k % M}] = ${d} is not finite`);
    scale = Math.max(scale, Math.abs(d));
  }
  const tol = 1e-12 * Math.max(1, scale);

  const N = K + M; // nodes: rows 0..K-1, columns K..K+M-1
  const nb = N - 1; // basis size
  // Basis cells as flat indices i*M + j.
  const basis = new Int32Array(nb);
  const inBasis = new Uint8Array(K * M);
  // North-west corner: a staircase path from (0,0) to (K-1,M-1), advancing exactly one of i, j per
  // cell, so it is a spanning tree even when a supply and a demand run out together.
  {
    let i = 0, j = 0, n = 0;
    let rs = ws[0], rd = wt[0];
    for (;;) {
      basis[n++] = i * M + j;
      inBasis[i * M + j] = 1;
      if (i === K - 1 && j === M - 1) break;
      const x = Math.min(rs, rd);
      rs -= x; rd -= x;
      if (j === M - 1 || (i < K - 1 && rs <= rd)) { i++; rs = ws[i]; }
      else { j++; rd = wt[j]; }
    }
  }

  const flowB = new Float64Array(nb); // flow of each basis cell
  const u = new Float64Array(K), v = new Float64Array(M);
  // Tree adjacency rebuilt from the basis: for node a, adjStart[a]..adjStart[a+1] in adjCell.
  const deg = new Int32Array(N), adjStart = new Int32Array(N + 1), adjCell = new Int32Array(2 * nb), fill = new Int32Array(N);
  const rem = new Float64Array(N), queue = new Int32Array(N), done = new Uint8Array(nb);
  const parentCell = new Int32Array(N), parentNode = new Int32Array(N), seen = new Uint8Array(N);

  const buildAdjacency = (): void => {
    deg.fill(0);
    for (let b = 0; b < nb; b++) { const c = basis[b]; deg[(c / M) | 0]++; deg[K + (c % M)]++; }
    adjStart[0] = 0;
    for (let a = 0; a < N; a++) adjStart[a + 1] = adjStart[a] + deg[a];
    fill.set(adjStart.subarray(0, N));
    for (let b = 0; b < nb; b++) {
      const c = basis[b];
      adjCell[fill[(c / M) | 0]++] = b;
      adjCell[fill[K + (c % M)]++] = b;
    }
  };
  const other = (b: number, a: number): number => {
    const c = basis[b], r = (c / M) | 0, col = K + (c % M);
    return a === r ? col : r;
  };

  // Flows of the basis by leaf elimination: a leaf's only cell carries the leaf's remaining mass.
  const computeFlows = (): void => {
    for (let i = 0; i < K; i++) rem[i] = ws[i];
    for (let j = 0; j < M; j++) rem[K + j] = wt[j];
    const d = Int32Array.from(deg);
    done.fill(0);
    let qh = 0, qt = 0;
    for (let a = 0; a < N; a++) if (d[a] === 1) queue[qt++] = a;
    while (qh < qt) {
      const a = queue[qh++];
      if (d[a] !== 1) continue; // the last node (degree 0 once its last cell is used)
      let b = -1;
      for (let k = adjStart[a]; k < adjStart[a + 1]; k++) if (!done[adjCell[k]]) { b = adjCell[k]; break; }
      const x = rem[a];
      // Mathematically >= 0 for a feasible basis; rounding can leave -1e-17 on degenerate cells.
      flowB[b] = x > 0 ? x : 0;
      done[b] = 1;
      const o = other(b, a);
      rem[o] -= x;
      d[a] = 0;
      if (--d[o] === 1) queue[qt++] = o;
    }
  };

  // Potentials: u_0 = 0, u_i + v_j = D_ij on every basis cell (walk the tree from row 0).
  const computePotentials = (): void => {
    seen.fill(0);
    let qh = 0, qt = 0;
    queue[qt++] = 0; seen[0] = 1; u[0] = 0;
    while (qh < qt) {
      const a = queue[qh++];
      for (let k = adjStart[a]; k < adjStart[a + 1]; k++) {
        const b = adjCell[k], o = other(b, a);
        if (seen[o]) continue;
        seen[o] = 1;
        const c = basis[b], dij = D[c];
        if (o >= K) v[o - K] = dij - u[a];
        else u[o] = dij - v[a - K];
        queue[qt++] = o;
      }
    }
  };

  buildAdjacency();
  computeFlows();
  computePotentials();

  const cycle = new Int32Array(N); // basis indices on the tree path from the entering row to its column
  let pivots = 0, degenerateRun = 0, bland = false;
  const maxPivots = 50 * K * M + 1000;
  for (;;) {
    // Entering cell.
    let enter = -1, best = -tol;
    for (let i = 0; i < K && !(bland && enter >= 0); i++) {
      for (let j = 0; j < M; j++) {
        const c = i * M + j;
        if (inBasis[c]) continue;
        const r = D[c] - u[i] - v[j];
        if (r < best) { best = r; enter = c; if (bland) break; }
      }
    }
    if (enter < 0) break;
    if (++pivots > maxPivots) throw new Error(`transport simplex did not converge in ${maxPivots} pivots (K=${K}, M=${M})`);
    const p = (enter / M) | 0, q = K + (enter % M);
    // Tree path from row node p to column node q (BFS with parent pointers).
    seen.fill(0);
    let qh = 0, qt = 0;
    queue[qt++] = p; seen[p] = 1; parentCell[p] = -1;
    while (qh < qt && !seen[q]) {
      const a = queue[qh++];
      for (let k = adjStart[a]; k < adjStart[a + 1]; k++) {
        const b = adjCell[k], o = other(b, a);
        if (seen[o]) continue;
        seen[o] = 1; parentCell[o] = b; parentNode[o] = a;
        queue[qt++] = o;
      }
    }
    // Walk back from q: cells alternate -, +, -, ... starting from q's side (the cell at q loses
    // what the entering cell adds to column q); the cell at p is also a minus cell.
    let len = 0;
    for (let a = q; a !== p; a = parentNode[a]) cycle[len++] = parentCell[a];
    // Ratio test over the minus cells (even positions from q).
    let leaveAt = -1, theta = Infinity;
    for (let k = 0; k < len; k += 2) {
      const b = cycle[k], f = flowB[b];
      if (f < theta || (bland && f === theta && basis[b] < basis[cycle[leaveAt]])) { theta = f; leaveAt = k; }
    }
    const leave = cycle[leaveAt];
    inBasis[basis[leave]] = 0;
    basis[leave] = enter;
    inBasis[enter] = 1;
    if (theta <= 0) { if (++degenerateRun > 2 * N) bland = true; }
    else degenerateRun = 0;
    buildAdjacency();
    computeFlows();
    computePotentials();
  }

  const flow = new Float64Array(K * M);
  let cost = 0;
  for (let b = 0; b < nb; b++) { flow[basis[b]] = flowB[b]; cost += flowB[b] * D[basis[b]]; }
  return { flow, cost, u, v, pivots };
}

/**
 * One side of the BERT-EMD layer-weight update (METHOD.md "Search", L_hid), on a copy:
 *   c_i = sum_j F_ij D_ij          (student side: flow K x M, cost = Dst K x M, row sums)
 *   c_j = sum_i F_ij Dts_ji        (teacher side: flow K x M, cost = Dts M x K, the reverse KL)
 *   w_i <- c_i / w_i;   w_i <- (sum_k w_k) / w_i;   w <- softmax(w / temperature).
 * `weights` is the side's current weight vector (length K or M); returns the new weights.
 *
 * Zero guards, following the reference (BERT-EMD's get_new_layer_weight):
 *   - the second division is skipped where the value is 0 (c_i = 0): that entry stays 0 before the
 *     softmax, as the reference's `if w[i] != 0` does. Note this gives a layer with zero transport
 *     cost the *lowest* pre-softmax value rather than the highest the rule tends to as c_i -> 0+;
 *     it is the reference's behaviour and only reachable with exactly zero costs.
 *   - a zero weight w_i (the reference would compute 0/0 = NaN and poison every weight) carries
 *     no flow, so c_i = 0; we take c_i / w_i = 0 there, i.e. it is treated like the zero-cost case.
 *   - if every entry is 0 (no cost anywhere), the softmax of zeros makes the weights uniform.
 * The softmax subtracts the maximum first (the reference's plain exp overflows to NaN once
 * sum(w)/w_i exceeds ~7000 at temperature 10, i.e. for tiny costs); values are otherwise the same.
 */
export function bertEmdUpdate(
  weights: ArrayLike<number>,
  flow: ArrayLike<number>,
  cost: ArrayLike<number>,
  side: 'student' | 'teacher',
  temperature = 10,
): Float64Array {
  const n = weights.length;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new RangeError(`temperature must be finite and > 0 (got ${temperature})`);
  if (flow.length % n !== 0) throw new RangeError(`flow has ${flow.length} entries, not a multiple of ${n} weights`);
  const other = flow.length / n;
  if (cost.length !== flow.length) throw new RangeError(`cost has ${cost.length} entries, flow ${flow.length}`);
  // flow is always K x M; side student: n = K, other = M; side teacher: n = M, other = K.
  const K = side === 'student' ? n : other, M = side === 'student' ? other : n;
  const c = new Float64Array(n);
  if (side === 'student') {
    for (let i = 0; i < K; i++) {
      let s = 0;
      for (let j = 0; j < M; j++) s += flow[i * M + j] * cost[i * M + j];
      c[i] = s;
    }
  } else {
    for (let j = 0; j < M; j++) {
      let s = 0;
      for (let i = 0; i < K; i++) s += flow[i * M + j] * cost[j * K + i];
      c[j] = s;
    }
  }
  const w = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const wi = weights[i];
    if (!Number.isFinite(wi) || wi < 0) throw new RangeError(`weights[${i}] = ${wi}: must be finite and >= 0`);
    w[i] = wi === 0 ? 0 : c[i] / wi;
    sum += w[i];
  }
  for (let i = 0; i < n; i++) if (w[i] !== 0) w[i] = sum / w[i];
  return softmaxScaled(w, 1 / temperature);
}

function softmaxScaled(x: Float64Array, scale: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i] * scale);
  const out = new Float64Array(x.length);
  let z = 0;
  for (let i = 0; i < x.length; i++) { out[i] = Math.exp(x[i] * scale - max); z += out[i]; }
  for (let i = 0; i < x.length; i++) out[i] /= z;
  return out;
}

/** What {@link EmdLayerMapping.solve} returns; pass it back to {@link EmdLayerMapping.update}. */
export interface EmdStep {
  /** Optimal flow, K x M row-major, between the student and teacher weights used for this step. */
  flow: Float64Array;
  /** L_hid = sum_ij F_ij Dst_ij (the supernet multiplies the constant flow into its cost tensor). */
  loss: number;
  /** The costs the step was solved with (K x M and M x K), kept for the weight update. */
  Dst: Float64Array;
  Dts: Float64Array;
}

/** Checkpoint form of the mapping: plain numbers, exact through JSON. */
export interface EmdLayerMappingState {
  studentWeights: number[];
  teacherWeights: number[];
  temperature: number;
}

/**
 * The EMD layer mapping of L_hid: student layer weights (K, start uniform) and teacher layer
 * weights (M, start uniform), both summing to 1. Per training step: `solve(Dst, Dts)` gives the
 * flow and the loss value; after the optimiser step, `update(step)` applies the BERT-EMD rule to
 * both sides with the flow and costs of that step. The weights are state: `state()` /
 * `loadState()` put them in checkpoints.
 */
export class EmdLayerMapping {
  readonly K: number;
  readonly M: number;
  readonly temperature: number;
  private ws: Float64Array;
  private wt: Float64Array;
  private last: EmdStep | null = null;

  constructor(K: number, M: number, opts: { temperature?: number } = {}) {
    if (!Number.isInteger(K) || !Number.isInteger(M) || K < 1 || M < 1) throw new RangeError(`EmdLayerMapping needs integer K, M >= 1 (got ${K}, ${M})`);
    const t = opts.temperature ?? 10;
    if (!(t > 0) || !Number.isFinite(t)) throw new RangeError(`temperature must be finite and > 0 (got ${t})`);
    this.K = K; this.M = M; this.temperature = t;
    this.ws = new Float64Array(K).fill(1 / K);
    this.wt = new Float64Array(M).fill(1 / M);
  }

  /** Copies of the current weights. */
  get studentWeights(): Float64Array { return this.ws.slice(); }
  get teacherWeights(): Float64Array { return this.wt.slice(); }

  /**
   * Dst: K x M, Dst[i*M+j] = KL(softmax(h_t,j) || softmax(h_s,i)) (batch-mean);
   * Dts: M x K, Dts[j*K+i] = KL(softmax(h_s,i) || softmax(h_t,j)) (the reverse, used only by the
   * teacher-side weight update, see the file comment).
   */
  solve(Dst: ArrayLike<number>, Dts: ArrayLike<number>): EmdStep {
    const { K, M } = this;
    if (Dst.length !== K * M) throw new RangeError(`Dst has ${Dst.length} entries, expected K x M = ${K * M}`);
    if (Dts.length !== K * M) throw new RangeError(`Dts has ${Dts.length} entries, expected M x K = ${K * M}`);
    for (let k = 0; k < Dts.length; k++) if (!Number.isFinite(Dts[k])) throw new RangeError(`Dts[${k}] = ${Dts[k]} is not finite`);
    const dst = Float64Array.from(Dst), dts = Float64Array.from(Dts);
    const sol = solveTransport(this.ws, this.wt, dst);
    this.last = { flow: sol.flow, loss: sol.cost, Dst: dst, Dts: dts };
    return this.last;
  }

  /** The BERT-EMD update of both weight vectors from a step's flow and costs (default: the last solve). */
  update(step: EmdStep | null = this.last): void {
    if (step === null) throw new Error('EmdLayerMapping.update: no solve() to update from');
    if (step.flow.length !== this.K * this.M) throw new RangeError(`step flow has ${step.flow.length} entries, expected ${this.K * this.M}`);
    const ws = bertEmdUpdate(this.ws, step.flow, step.Dst, 'student', this.temperature);
    const wt = bertEmdUpdate(this.wt, step.flow, step.Dts, 'teacher', this.temperature);
    this.ws = ws; this.wt = wt;
  }

  state(): EmdLayerMappingState {
    return { studentWeights: Array.from(this.ws), teacherWeights: Array.from(this.wt), temperature: this.temperature };
  }

  /** Restores weights saved by state(); the temperature must match this mapping's. */
  loadState(s: EmdLayerMappingState): void {
    const check = (w: unknown, n: number, what: string): Float64Array => {
      if (!Array.isArray(w) && !(w instanceof Float64Array)) throw new TypeError(`EMD state: ${what} is not an array`);
      if (w.length !== n) throw new RangeError(`EMD state: ${what} has ${w.length} entries, this mapping ${n}`);
      const a = Float64Array.from(w as ArrayLike<number>);
      const sum = checkWeights(a, `EMD state ${what}`);
      if (!(Math.abs(sum - 1) <= 1e-9)) throw new RangeError(`EMD state: ${what} sums to ${sum}, not 1`);
      return a;
    };
    if (s.temperature !== this.temperature) throw new RangeError(`EMD state: temperature ${s.temperature} differs from this mapping's ${this.temperature}`);
    const ws = check(s.studentWeights, this.K, 'studentWeights');
    const wt = check(s.teacherWeights, this.M, 'teacherWeights');
    this.ws = ws; this.wt = wt; this.last = null;
  }
}
