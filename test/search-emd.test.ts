// EMD layer mapping (METHOD.md "Search", L_hid): exact transport solver against brute force and a
// duality certificate, degenerate cases, the BERT-EMD weight update, checkpoint state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { solveTransport, bertEmdUpdate, EmdLayerMapping, type TransportSolution } from '../src/distill/emd.js';
import { lcg } from './helpers.js';

/** Feasibility (marginals to 1e-12, F >= 0) and optimality (the duals are a certificate). */
function checkSolution(s: TransportSolution, ws: ArrayLike<number>, wt: ArrayLike<number>, D: ArrayLike<number>): void {
  const K = ws.length, M = wt.length;
  assert.equal(s.flow.length, K * M);
  let cost = 0, scale = 1;
  for (let k = 0; k < K * M; k++) { assert.ok(s.flow[k] >= 0, `F[${k}] = ${s.flow[k]}`); cost += s.flow[k] * D[k]; scale = Math.max(scale, Math.abs(D[k])); }
  for (let i = 0; i < K; i++) {
    let r = 0;
    for (let j = 0; j < M; j++) r += s.flow[i * M + j];
    assert.ok(Math.abs(r - ws[i]) <= 1e-12, `row ${i}: ${r} vs ${ws[i]}`);
  }
  for (let j = 0; j < M; j++) {
    let c = 0;
    for (let i = 0; i < K; i++) c += s.flow[i * M + j];
    assert.ok(Math.abs(c - wt[j]) <= 1e-12, `column ${j}: ${c} vs ${wt[j]}`);
  }
  assert.ok(Math.abs(cost - s.cost) <= 1e-12 * scale, `reported cost ${s.cost} vs ${cost}`);
  // Weak duality: any (u, v) with u_i + v_j <= D_ij bounds the primal cost from below; equality
  // proves the flow optimal, independently of how the solver found it.
  let dual = 0;
  for (let i = 0; i < K; i++) dual += ws[i] * s.u[i];
  for (let j = 0; j < M; j++) dual += wt[j] * s.v[j];
  for (let i = 0; i < K; i++) for (let j = 0; j < M; j++) {
    assert.ok(s.u[i] + s.v[j] <= D[i * M + j] + 1e-10 * scale, `dual infeasible at ${i},${j}`);
  }
  assert.ok(Math.abs(dual - cost) <= 1e-10 * scale, `duality gap: primal ${cost}, dual ${dual}`);
}

/**
 * Brute force: the LP optimum sits at a vertex, and the vertices of the transport polytope are
 * the feasible basic solutions: sets of K + M - 1 cells forming a spanning tree of the row/column
 * nodes, whose flows (forced by the tree) are all >= 0. Enumerate every such set.
 */
function bruteForceCost(ws: number[], wt: number[], D: number[]): number {
  const K = ws.length, M = wt.length, N = K + M, nb = N - 1, cells = K * M;
  let best = Infinity;
  const pick: number[] = [];
  const evaluate = (): void => {
    // Leaf elimination; if it stalls, the set has a cycle (and so is not a tree).
    const rem = [...ws, ...wt];
    const used = new Array<boolean>(nb).fill(false);
    const ends = pick.map((c) => [Math.floor(c / M), K + (c % M)]);
    let cost = 0;
    for (let step = 0; step < nb; step++) {
      let found = false;
      for (let a = 0; a < N && !found; a++) {
        let only = -1, count = 0;
        for (let e = 0; e < nb; e++) if (!used[e] && (ends[e][0] === a || ends[e][1] === a)) { count++; only = e; }
        if (count !== 1) continue;
        const x = rem[a];
        if (x < -1e-12) return; // infeasible basis
        used[only] = true;
        const o = ends[only][0] === a ? ends[only][1] : ends[only][0];
        rem[a] = 0; rem[o] -= x;
        cost += x * D[pick[only]];
        found = true;
      }
      if (!found) return;
    }
    best = Math.min(best, cost);
  };
  const rec = (start: number): void => {
    if (pick.length === nb) { evaluate(); return; }
    for (let c = start; c <= cells - (nb - pick.length); c++) { pick.push(c); rec(c + 1); pick.pop(); }
  };
  rec(0);
  return best;
}

/** Random weights summing to 1: small integer counts (ties and zeros happen) over their total. */
function randomWeights(n: number, r: () => number, zeros: boolean): number[] {
  const c = Array.from({ length: n }, () => Math.floor(r() * 4) + (zeros ? 0 : 1));
  if (!c.some((x) => x > 0)) c[0] = 1;
  const total = c.reduce((a, b) => a + b, 0);
  const w = c.map((x) => x / total);
  // Make the sum exactly 1 in floating point where rounding left it off.
  const s = w.reduce((a, b) => a + b, 0);
  const k = w.indexOf(Math.max(...w));
  w[k] += 1 - s;
  return w;
}

test('transport: optimal cost equals brute force on random small problems (K, M <= 4)', () => {
  const r = lcg(12345);
  let n = 0;
  for (let K = 1; K <= 4; K++) for (let M = 1; M <= 4; M++) for (let rep = 0; rep < 3; rep++) {
    const ws = randomWeights(K, r, rep === 1), wt = randomWeights(M, r, rep === 2);
    // rep 0: continuous costs; rep 1, 2: small integer costs (ties: degenerate pivots).
    const D = Array.from({ length: K * M }, () => (rep === 0 ? r() * 2 - 0.5 : Math.floor(r() * 3)));
    const s = solveTransport(ws, wt, D);
    checkSolution(s, ws, wt, D);
    const bf = bruteForceCost(ws, wt, D);
    assert.ok(Math.abs(s.cost - bf) <= 1e-12, `K=${K} M=${M} rep=${rep}: ${s.cost} vs brute force ${bf}`);
    n++;
  }
  assert.equal(n, 48);
});

test('transport: degenerate cases', () => {
  // K = 1 and M = 1: the only feasible flow.
  {
    const wt = [0.2, 0.5, 0.3], D = [3, 1, 2];
    const s = solveTransport([1], wt, D);
    checkSolution(s, [1], wt, D);
    assert.deepEqual(Array.from(s.flow), wt);
    const s2 = solveTransport(wt, [1], D);
    checkSolution(s2, wt, [1], D);
    assert.deepEqual(Array.from(s2.flow), wt);
    assert.ok(Math.abs(s2.cost - (0.6 + 0.5 + 0.6)) < 1e-15);
    const s3 = solveTransport([1], [1], [7]);
    assert.equal(s3.cost, 7);
    assert.deepEqual(Array.from(s3.flow), [1]);
  }
  // Identity cost (0 on the diagonal, 1 off): equal weights move straight across at cost 0.
  {
    const w = [0.1, 0.4, 0.25, 0.25];
    const D = Array.from({ length: 16 }, (_, k) => (Math.floor(k / 4) === k % 4 ? 0 : 1));
    const s = solveTransport(w, w, D);
    checkSolution(s, w, w, D);
    assert.equal(s.cost, 0);
    for (let i = 0; i < 4; i++) assert.equal(s.flow[i * 5], w[i]);
  }
  // Equal costs: every feasible flow is optimal; the cost is that constant.
  {
    const ws = [0.25, 0.25, 0.5], wt = [0.5, 0.5], D = new Array(6).fill(0.7);
    const s = solveTransport(ws, wt, D);
    checkSolution(s, ws, wt, D);
    assert.ok(Math.abs(s.cost - 0.7) < 1e-15);
  }
  // Zero weights: those rows / columns carry nothing.
  {
    const ws = [0, 0.5, 0, 0.5], wt = [0.5, 0, 0.5], D = [0, 0, 0, 5, 1, 2, 0, 0, 0, 1, 9, 3];
    const s = solveTransport(ws, wt, D);
    checkSolution(s, ws, wt, D);
    assert.ok(Math.abs(s.cost - bruteForceCost(ws, wt, D)) < 1e-15);
    for (let j = 0; j < 3; j++) { assert.equal(s.flow[j], 0); assert.equal(s.flow[6 + j], 0); }
    for (let i = 0; i < 4; i++) assert.equal(s.flow[i * 3 + 1], 0);
    assert.ok(Math.abs(s.cost - 1.5) < 1e-15); // row 1 -> col 2 (cost 2), row 3 -> col 0 (cost 1)
  }
  // All mass in one cell of a many-way tie (highly degenerate NW start).
  {
    const ws = [0.5, 0.5, 0, 0], wt = [0.5, 0.5, 0, 0];
    const D = [1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const s = solveTransport(ws, wt, D);
    checkSolution(s, ws, wt, D);
    assert.equal(s.cost, 0);
    assert.equal(s.flow[1], 0.5);
    assert.equal(s.flow[4], 0.5);
  }
});

test('transport: K = 4 x M = 8 as in the method, and the 32 x 32 limit', () => {
  const r = lcg(777);
  for (let rep = 0; rep < 20; rep++) {
    const ws = [0.25, 0.25, 0.25, 0.25], wt = new Array(8).fill(0.125);
    if (rep % 2) { const a = randomWeights(4, r, false), b = randomWeights(8, r, rep % 4 === 3); ws.splice(0, 4, ...a); wt.splice(0, 8, ...b); }
    const D = Array.from({ length: 32 }, () => r() * 3); // KL-like: non-negative
    const s = solveTransport(ws, wt, D);
    checkSolution(s, ws, wt, D);
    // No feasible flow is cheaper: compare with the independent (product) flow and with
    // random perturbations along 2x2 cycles of the optimum that keep it feasible.
    let product = 0;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 8; j++) product += ws[i] * wt[j] * D[i * 8 + j];
    assert.ok(s.cost <= product + 1e-12);
    for (let t = 0; t < 50; t++) {
      const i = Math.floor(r() * 4), k = Math.floor(r() * 4), j = Math.floor(r() * 8), l = Math.floor(r() * 8);
      if (i === k || j === l) continue;
      const eps = Math.min(s.flow[i * 8 + l], s.flow[k * 8 + j]);
      const delta = eps * (D[i * 8 + j] + D[k * 8 + l] - D[i * 8 + l] - D[k * 8 + j]);
      assert.ok(delta >= -1e-12, `improving 2x2 move found (${delta})`);
    }
  }
  const K = 32, M = 32;
  const ws = randomWeights(K, r, true), wt = randomWeights(M, r, false);
  const D = Array.from({ length: K * M }, () => r());
  const s = solveTransport(ws, wt, D);
  checkSolution(s, ws, wt, D);
});

test('transport: input validation', () => {
  assert.throws(() => solveTransport([0.5, 0.5], [1], [1]), /entries/);
  assert.throws(() => solveTransport([0.5, 0.6], [1], [1, 1]), /unbalanced/);
  assert.throws(() => solveTransport([-0.5, 1.5], [1], [1, 1]), />= 0/);
  assert.throws(() => solveTransport([0.5, 0.5], [1], [1, NaN]), /finite/);
  assert.throws(() => solveTransport([], [1], []), /K, M >= 1/);
});

test('BERT-EMD update: hand-computed example, both sides', () => {
  // K = 2 students, M = 3 teachers; a feasible flow (the rule does not need it optimal).
  const ws = new Float64Array([0.5, 0.5]), wt = new Float64Array([0.3, 0.3, 0.4]);
  const F = new Float64Array([0.3, 0.2, 0, 0, 0.1, 0.4]);
  const Dst = new Float64Array([1, 2, 5, 4, 3, 0.5]); // K x M
  const Dts = new Float64Array([2, 6, 1, 3, 9, 0.25]); // M x K: Dts[j][i]
  // Student: c = [0.3*1 + 0.2*2, 0.1*3 + 0.4*0.5] = [0.7, 0.5]; c / w = [1.4, 1.0]; sum 2.4;
  // sum / w = [2.4/1.4, 2.4] = [1.7142857.., 2.4]; softmax(/10).
  const s = bertEmdUpdate(ws, F, Dst, 'student');
  const a = 2.4 / 1.4 / 10, b = 0.24;
  assert.ok(Math.abs(s[0] - Math.exp(a) / (Math.exp(a) + Math.exp(b))) < 1e-15);
  assert.ok(Math.abs(s[0] - 0.48286386) < 1e-8); // 1 / (1 + e^0.0685714)
  assert.ok(Math.abs(s[0] + s[1] - 1) < 1e-15);
  // Teacher: c_j = sum_i F_ij Dts[j][i] = [0.3*2, 0.2*1 + 0.1*3, 0.4*0.25] = [0.6, 0.5, 0.1];
  // c / w = [2, 5/3, 0.25]; sum 47/12; sum / w = [47/24, 47/20, 47/3]; softmax(/10).
  const t = bertEmdUpdate(wt, F, Dts, 'teacher');
  const x = [47 / 240, 47 / 200, 47 / 30], z = x.reduce((p, q) => p + Math.exp(q), 0);
  for (let j = 0; j < 3; j++) assert.ok(Math.abs(t[j] - Math.exp(x[j]) / z) < 1e-15, `teacher ${j}`);
  assert.ok(Math.abs(t[2] - 0.658791) < 1e-6, `${t[2]}`);
  // Temperature: 1 sharpens.
  const t1 = bertEmdUpdate(wt, F, Dts, 'teacher', 1);
  assert.ok(t1[2] > t[2]);
  // Zero guards: a zero-cost row stays 0 before the softmax (the reference's `if w != 0`), a zero
  // weight gives no NaN.
  const g = bertEmdUpdate([0.5, 0.5], [0.5, 0, 0, 0.5], [0, 1, 1, 2], 'student');
  // c = [0, 1]; c/w = [0, 2]; sum 2; -> [0, 1]; softmax([0, 0.1]).
  assert.ok(Math.abs(g[0] - 1 / (1 + Math.exp(0.1))) < 1e-15);
  const h = bertEmdUpdate([0, 1], [0, 0, 0.5, 0.5], [1, 1, 1, 2], 'student');
  assert.ok(h.every((v) => Number.isFinite(v)));
  assert.ok(Math.abs(h[0] - 1 / (1 + Math.exp(0.1))) < 1e-15); // c/w = [0, 1.5] -> [0, 1]
  const u = bertEmdUpdate([0.5, 0.5], [0.5, 0, 0, 0.5], [0, 0, 0, 0], 'student');
  assert.deepEqual(Array.from(u), [0.5, 0.5]);
  // Tiny costs: no overflow (the reference's plain exp would give NaN here).
  const tiny = bertEmdUpdate([0.5, 0.5], [0.5, 0, 0, 0.5], [1e-9, 1, 1, 1], 'student');
  assert.ok(tiny.every((v) => Number.isFinite(v)) && tiny[0] > 0.999);
});

/**
 * The reference formulation, literally (BERT-EMD's get_new_layer_weight): one (K+M) x (K+M)
 * problem, student weights padded with M zeros, teacher weights with K leading zeros,
 * D[i][K+j] = Dst[i][j], D[K+j][i] = Dts[j][i], zeros elsewhere.
 */
function referenceStep(ws: number[], wt: number[], Dst: number[], Dts: number[], T: number) {
  const K = ws.length, M = wt.length, N = K + M;
  const D = new Array(N * N).fill(0);
  for (let i = 0; i < K; i++) for (let j = 0; j < M; j++) { D[i * N + K + j] = Dst[i * M + j]; D[(K + j) * N + i] = Dts[j * K + i]; }
  const sw = [...ws, ...new Array(M).fill(0)], tw = [...new Array(K).fill(0), ...wt];
  const { flow: F, cost } = solveTransport(sw, tw, D);
  const softmax = (x: number[]) => { const e = x.map((v) => Math.exp(v / T)); const zz = e.reduce((p, q) => p + q); return e.map((v) => v / zz); };
  // student: trans_weight = sum(F * D, -1)
  const s = ws.map((w, i) => { let c = 0; for (let k = 0; k < N; k++) c += F[i * N + k] * D[i * N + k]; return c / w; });
  const ssum = s.reduce((p, q) => p + q);
  // teacher: trans_weight = sum(F^T * D, -1), entries K..K+M-1
  const t = wt.map((w, j) => { let c = 0; for (let k = 0; k < N; k++) c += F[k * N + K + j] * D[(K + j) * N + k]; return c / w; });
  const tsum = t.reduce((p, q) => p + q);
  return { cost, ws: softmax(s.map((v) => (v !== 0 ? ssum / v : 0))), wt: softmax(t.map((v) => (v !== 0 ? tsum / v : 0))) };
}

test('EmdLayerMapping: K = 4 x M = 8 steps match the reference padded formulation; state round trip', () => {
  const K = 4, M = 8, r = lcg(99);
  const map = new EmdLayerMapping(K, M);
  assert.deepEqual(Array.from(map.studentWeights), [0.25, 0.25, 0.25, 0.25]);
  assert.deepEqual(Array.from(map.teacherWeights), new Array(8).fill(0.125));
  let saved: ReturnType<EmdLayerMapping['state']> | null = null;
  const steps: { Dst: number[]; Dts: number[] }[] = [];
  const after: number[][] = [];
  for (let step = 0; step < 6; step++) {
    const Dst = Array.from({ length: K * M }, () => r() * 2), Dts = Array.from({ length: K * M }, () => r() * 2);
    steps.push({ Dst, Dts });
    const ws = Array.from(map.studentWeights), wt = Array.from(map.teacherWeights);
    const res = map.solve(Dst, Dts);
    checkSolution(solveTransport(ws, wt, Dst), ws, wt, Dst);
    const ref = referenceStep(ws, wt, Dst, Dts, 10);
    assert.ok(Math.abs(res.loss - ref.cost) < 1e-12, `step ${step}: loss ${res.loss} vs padded ${ref.cost}`);
    map.update();
    const nws = map.studentWeights, nwt = map.teacherWeights;
    for (let i = 0; i < K; i++) assert.ok(Math.abs(nws[i] - ref.ws[i]) < 1e-12, `student weight ${i}`);
    for (let j = 0; j < M; j++) assert.ok(Math.abs(nwt[j] - ref.wt[j]) < 1e-12, `teacher weight ${j}`);
    assert.ok(Math.abs(nws.reduce((p, q) => p + q) - 1) < 1e-12 && Math.abs(nwt.reduce((p, q) => p + q) - 1) < 1e-12);
    after.push([...nws, ...nwt]);
    if (step === 2) saved = JSON.parse(JSON.stringify(map.state()));
  }
  // Resume from the checkpoint taken after step 3: the remaining steps are bit-identical.
  const resumed = new EmdLayerMapping(K, M);
  resumed.loadState(saved!);
  assert.deepEqual([...resumed.studentWeights, ...resumed.teacherWeights], after[2]);
  for (let step = 3; step < 6; step++) {
    resumed.solve(steps[step].Dst, steps[step].Dts);
    resumed.update();
    assert.deepEqual([...resumed.studentWeights, ...resumed.teacherWeights], after[step]);
  }
  assert.throws(() => resumed.loadState({ ...saved!, studentWeights: [1] }), /entries/);
  assert.throws(() => resumed.loadState({ ...saved!, temperature: 1 }), /temperature/);
  assert.throws(() => new EmdLayerMapping(K, M).update(), /no solve/);
  assert.throws(() => map.solve(new Array(31).fill(0), new Array(32).fill(0)), /Dst/);
});
