// Incremental (per-event) inference for causal convolutional models: NextItNet, and AdaRec students
// of causal operators built without position embeddings. A session's state holds what each layer
// needs from the past (a conv's last (k-1)*d inputs, a causal pool's last k-1, a running mean's
// sum and count); LayerNorm, ReLU, batch norm (eval), residuals and node sums are per position,
// and so is a conv's LayerNorm (convNorm 'layer'). One new item costs one position of compute: a
// matrix-vector product per conv, or one GEMM per conv for a batch of sessions.
// A new session starts from the state of `padding` ids 0 (the window length), so after h1..hn it
// answers exactly what scoreLast answers for [0 x padding, h1..hn] (docs/INFERENCE.md; a running
// mean so covers every item of the session, where serving a window covers the window's).
// A plan reads the model's weights when it is made: make a new one after changing them.
import { kernels, nn } from '../engine/index.js';
import { NextItNet } from '../models/nextitnet.js';
import type { SequentialRecommender } from '../models/types.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { ConvNormOp } from '../models/adarec/ops/conv.js';
import { Pool } from '../models/adarec/ops/pool.js';
import { RunningMean } from '../models/adarec/ops/mean.js';

/** The model cannot keep per-event state; the message says why. */
export class StreamUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamUnsupportedError';
  }
}

const f32 = (t: { values: unknown }): Float32Array => {
  if (!(t.values instanceof Float32Array)) throw new StreamUnsupportedError('streaming needs float32 weights');
  return t.values;
};
const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** Scratch arrays of the plan, by name, grown to the largest batch seen. */
class Scratch {
  private readonly arrays = new Map<string, Float32Array>();
  get(name: string, size: number): Float32Array {
    let a = this.arrays.get(name);
    if (!a || a.length < size) this.arrays.set(name, (a = new Float32Array(size)));
    return a;
  }
}

/**
 * A causal conv (+ eval-mode batch norm, or LayerNorm over channels) over one position per session;
 * its state is its last (k-1)*d inputs.
 */
class ConvStep {
  private readonly span: number;
  private readonly w: Float32Array;
  private readonly bias: Float32Array | null;
  /** Eval-mode batch norm as y = (x - mean) * scale + shift, scale = gamma / sqrt(var + eps). */
  private readonly bn: { mean: Float32Array; scale: Float64Array; shift: Float32Array } | null;

  constructor(private readonly conv: nn.CausalConv1d, bn: nn.BatchNorm1d | null, readonly offset: number, private readonly scratch: Scratch,
    private readonly ln: nn.LayerNorm | null = null) {
    this.span = (conv.kernelSize - 1) * conv.dilation;
    this.w = f32(conv.weight);
    this.bias = conv.bias ? f32(conv.bias) : null;
    if (bn) {
      const gamma = f32(bn.gamma);
      this.bn = { mean: f32(bn.runningMean), scale: Float64Array.from(f32(bn.runningVar), (v, c) => gamma[c] / Math.sqrt(v + bn.eps)), shift: f32(bn.beta) };
    } else this.bn = null;
  }

  get stateFloats(): number {
    return this.span * this.conv.inChannels;
  }

  /** out [B, O] = the conv at each session's position t[b] of inputs x [B, C]; then x is remembered. */
  run(B: number, x: Float32Array, states: readonly Float32Array[], t: readonly number[], out: Float32Array): void {
    const { inChannels: C, outChannels: O, kernelSize: k, dilation: d } = this.conv;
    const K = k * C, span = this.span, off = this.offset;
    const col = this.scratch.get('col', B * K);
    for (let b = 0; b < B; b++) {
      const s = states[b];
      for (let j = 0; j < k - 1; j++) {
        // the input (k-1-j)*d positions back; a slot not written yet holds a position before the start: zeros
        const slot = off + mod(t[b] - (k - 1 - j) * d, span) * C;
        col.set(s.subarray(slot, slot + C), b * K + j * C);
      }
      col.set(x.subarray(b * C, b * C + C), b * K + (k - 1) * C);
    }
    const kn = kernels();
    kn.gemm(false, false, 1, B, O, K, col, 0, this.w, 0, out, 0);
    if (this.bias) kn.addRowVector(out, this.bias, B, O);
    if (this.bn) {
      const { mean, scale, shift } = this.bn;
      for (let b = 0; b < B; b++) for (let c = 0; c < O; c++) out[b * O + c] = (out[b * O + c] - mean[c]) * scale[c] + shift[c];
    }
    if (this.ln) {
      const y = this.scratch.get('convLn', B * O);
      layerNorm(this.ln, B, out, y, this.scratch, false);
      out.set(y.subarray(0, B * O));
    }
    if (span > 0) for (let b = 0; b < B; b++) states[b].set(x.subarray(b * C, b * C + C), off + mod(t[b], span) * C);
  }
}

/** A causal max/avg pool over the current and k-1 previous positions (clipped at the start). */
class PoolStep {
  constructor(private readonly pool: Pool, private readonly C: number, readonly offset: number) {}

  get stateFloats(): number {
    return this.pool.before * this.C;
  }

  run(B: number, x: Float32Array, states: readonly Float32Array[], t: readonly number[], out: Float32Array): void {
    const { C, offset: off } = this, span = this.pool.before, max = this.pool.mode === 'max';
    for (let b = 0; b < B; b++) {
      const s = states[b], seen = Math.min(t[b], span), o = b * C;
      for (let c = 0; c < C; c++) {
        let acc = max ? -Infinity : 0;
        for (let m = seen; m >= 1; m--) { // oldest first, as pool1d
          const v = s[off + mod(t[b] - m, span) * C + c];
          acc = max ? (v > acc ? v : acc) : acc + v;
        }
        const v = x[o + c];
        out[o + c] = max ? (seen === 0 || v > acc ? v : acc) : (acc + v) / (seen + 1);
      }
      if (span > 0) s.set(x.subarray(o, o + C), off + mod(t[b], span) * C);
    }
  }
}

/** LayerNorm (+ ReLU) of x [B, C] into y through the kernel the model's forward uses. */
function layerNorm(norm: nn.LayerNorm, B: number, x: Float32Array, y: Float32Array, scratch: Scratch, relu: boolean): void {
  kernels().layerNormForward(x, f32(norm.gamma), f32(norm.beta), B, norm.dim, norm.eps, relu, y,
    scratch.get('mean', B), scratch.get('rstd', B));
}

/**
 * A running mean of the items so far (padding, id 0, left out): its state is the sum of its
 * inputs at items and their count.
 */
class MeanStep {
  constructor(private readonly C: number, readonly offset: number) {}

  get stateFloats(): number {
    return this.C + 1;
  }

  run(B: number, x: Float32Array, states: readonly Float32Array[], _t: readonly number[], out: Float32Array, ids: ArrayLike<number>): void {
    const { C, offset: off } = this;
    for (let b = 0; b < B; b++) {
      const s = states[b], o = b * C;
      if (ids[b] !== 0) {
        for (let c = 0; c < C; c++) s[off + c] += x[o + c];
        s[off + C]++;
      }
      const n = s[off + C], r = n ? 1 / n : 0;
      for (let c = 0; c < C; c++) out[o + c] = s[off + c] * r;
    }
  }
}

/** Advances x [B, C] (the embeddings of ids, overwritten by the last hidden states) by one position. */
type Body = (B: number, x: Float32Array, states: readonly Float32Array[], t: readonly number[], ids: ArrayLike<number>) => void;

function nextItNetBody(model: NextItNet, scratch: Scratch): { body: Body; stateFloats: number } {
  const C = model.config.hidden;
  let offset = 0;
  const blocks = model.blocks.map((blk) => {
    const c1 = new ConvStep(blk.conv1, null, offset, scratch);
    offset += c1.stateFloats;
    const c2 = new ConvStep(blk.conv2, null, offset, scratch);
    offset += c2.stateFloats;
    return { blk, c1, c2, eps: blk.eps ? f32(blk.eps)[0] : null };
  });
  const body: Body = (B, x, states, t) => {
    const h = scratch.get('h', B * C), g = scratch.get('g', B * C), n = B * C;
    for (const { blk, c1, c2, eps } of blocks) {
      c1.run(B, x, states, t, h);
      layerNorm(blk.ln1, B, h, g, scratch, true);
      c2.run(B, g, states, t, h);
      layerNorm(blk.ln2, B, h, g, scratch, true);
      if (eps === null) for (let i = 0; i < n; i++) x[i] += g[i];
      else for (let i = 0; i < n; i++) x[i] += Math.fround(g[i] * eps);
    }
  };
  return { body, stateFloats: offset };
}

function adaRecBody(model: AdaRecNet, scratch: Scratch): { body: Body; stateFloats: number } {
  const C = model.config.hidden, N = model.config.nodes;
  let offset = 0;
  const cells = model.cells.map((cell, k) => {
    const edges = cell.edges.map(({ from, to }, e) => {
      const chosen = cell.chosen(e);
      if (!chosen) return null;
      const { spec, op } = chosen;
      if (!spec.causal) throw new StreamUnsupportedError(`cell ${k} edge ${e} uses '${spec.name}', which reads later positions: only causal operators can stream`);
      let step: ConvStep | PoolStep | MeanStep | null = null;
      if (op instanceof ConvNormOp) step = new ConvStep(op.conv, op.bn, offset, scratch, op.ln);
      else if (op instanceof Pool) step = new PoolStep(op, C, offset);
      else if (op instanceof RunningMean) step = new MeanStep(C, offset);
      else if (spec.kind !== 'skip') throw new StreamUnsupportedError(`cell ${k} edge ${e}: operator '${spec.name}' has no streaming form`);
      offset += step?.stateFloats ?? 0;
      return { from, to, step };
    });
    const w = f32(cell.nodeWeights), top = Math.max(...w);
    const z = w.reduce((s, v) => s + Math.exp(v - top), 0);
    const attn = Float32Array.from(w, (v) => Math.exp(v - top) / z);
    return { cell, edges, attn };
  });
  const body: Body = (B, x, states, t, ids) => {
    const n = B * C;
    const node = Array.from({ length: N + 1 }, (_, i) => scratch.get(`node${i}`, n));
    const relu = Array.from({ length: N + 1 }, (_, i) => scratch.get(`relu${i}`, n));
    const y = scratch.get('y', n), sum = scratch.get('sum', n), out = scratch.get('out', n);
    for (const { cell, edges, attn } of cells) {
      node[0].set(x.subarray(0, n));
      const relued = new Array<boolean>(N + 1).fill(false);
      const first = new Array<boolean>(N + 1).fill(true);
      for (const edge of edges) {
        if (!edge) continue;
        const { from, to, step } = edge;
        if (!relued[from]) {
          for (let i = 0; i < n; i++) relu[from][i] = node[from][i] > 0 ? node[from][i] : 0;
          relued[from] = true;
        }
        const input = relu[from];
        let value = input;
        if (step) { step.run(B, input, states, t, y, ids); value = y; }
        if (first[to]) node[to].set(value.subarray(0, n));
        else for (let i = 0; i < n; i++) node[to][i] += value[i];
        first[to] = false;
      }
      for (let i = 1; i <= N; i++) if (first[i]) node[i].fill(0, 0, n);
      for (let j = 0; j < n; j++) {
        let s = Math.fround(node[1][j] * attn[0]);
        for (let i = 2; i <= N; i++) s = Math.fround(s + Math.fround(node[i][j] * attn[i - 1]));
        sum[j] = s;
      }
      layerNorm(cell.norm, B, sum, out, scratch, true);
      for (let i = 0; i < n; i++) x[i] += out[i];
    }
  };
  return { body, stateFloats: offset };
}

/** Why a model cannot stream, or null when it can. */
function unsupported(model: SequentialRecommender): string | null {
  const name = model.constructor.name;
  if (model.training) return `${name} is in training mode (dropout, batch statistics): call model.eval() before streaming`;
  if (model instanceof NextItNet) return null;
  if (model instanceof AdaRecNet) {
    if (!model.config.genotype || model.mix) return 'an AdaRec supernet cannot stream: derive a student from its genotype';
    if (model.positionEmbedding) return 'this AdaRec student has learned absolute position embeddings, so its state changes with every shift of the window: train it with positions: \'none\' to stream, or score windows';
    return null;
  }
  return `${name} cannot stream: per-event state needs a causal convolutional model (NextItNet, or an AdaRec student of causal operators with positions: 'none'); score windows instead`;
}

/** One session: the model's state after the items pushed so far. */
export class StreamSession {
  /** @param position positions processed, the initial padding included */
  constructor(readonly plan: StreamPlan, readonly state: Float32Array, readonly last: Float32Array, public position: number) {}

  /** Advances by one item (a model id, 1..vocab-1). */
  push(id: number): this {
    this.plan.push([this], [id]);
    return this;
  }

  /** Logits [vocab] of the next item after everything pushed. */
  logits(): Float32Array {
    return this.plan.logits([this]);
  }

  clone(): StreamSession {
    return new StreamSession(this.plan, Float32Array.from(this.state), Float32Array.from(this.last), this.position);
  }

  /** Bytes this session holds (what an LRU of sessions should count). */
  get bytes(): number {
    return this.state.byteLength + this.last.byteLength;
  }
}

/** A model compiled for per-event inference; sessions start from `padding` ids 0. */
export class StreamPlan {
  readonly hidden: number;
  readonly vocabSize: number;
  /** Floats of conv/pool history per session. */
  readonly stateFloats: number;
  private readonly scratch = new Scratch();
  private readonly body: Body;
  private readonly embedding: Float32Array;
  private readonly outWeight: Float32Array;
  private readonly outBias: Float32Array | null;
  private readonly start: StreamSession;

  constructor(model: SequentialRecommender, readonly padding: number) {
    const why = unsupported(model);
    if (why) throw new StreamUnsupportedError(why);
    if (!Number.isInteger(padding) || padding < 0) throw new RangeError(`padding must be an integer >= 0, got ${padding}`);
    const m = model as NextItNet | AdaRecNet;
    const compiled = m instanceof NextItNet ? nextItNetBody(m, this.scratch) : adaRecBody(m, this.scratch);
    this.body = compiled.body;
    this.stateFloats = compiled.stateFloats;
    this.hidden = m.config.hidden;
    this.vocabSize = m.vocabSize;
    this.embedding = f32(m instanceof NextItNet ? m.embedding.weight : m.itemEmbedding.weight);
    this.outWeight = f32(m.output.weight);
    this.outBias = m.output.bias ? f32(m.output.bias) : null;
    this.start = new StreamSession(this, new Float32Array(this.stateFloats), new Float32Array(this.hidden), 0);
    for (let i = 0; i < padding; i++) this.start.push(0);
  }

  /** A new session (the padding already processed), advanced by `history` when given. */
  session(history: ArrayLike<number> = []): StreamSession {
    const s = this.start.clone();
    for (let i = 0; i < history.length; i++) s.push(history[i]);
    return s;
  }

  /** Advances each session by its item: one position of compute for all of them together. */
  push(sessions: readonly StreamSession[], ids: ArrayLike<number>): void {
    const B = sessions.length, C = this.hidden;
    if (ids.length !== B) throw new Error(`push: ${B} sessions but ${ids.length} ids`);
    const x = this.scratch.get('x', B * C);
    for (let b = 0; b < B; b++) {
      const id = ids[b];
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`push: item id ${id} is outside [0, ${this.vocabSize})`);
      if (sessions[b].plan !== this) throw new Error('push: a session of another plan');
      x.set(this.embedding.subarray(id * C, id * C + C), b * C);
    }
    this.body(B, x, sessions.map((s) => s.state), sessions.map((s) => s.position), ids);
    sessions.forEach((s, b) => {
      s.last.set(x.subarray(b * C, b * C + C));
      s.position++;
    });
  }

  /** Logits [sessions.length * vocab], row-major, of the next item of each session (one GEMM). */
  logits(sessions: readonly StreamSession[]): Float32Array {
    const B = sessions.length, C = this.hidden, V = this.vocabSize;
    const h = this.scratch.get('last', B * C);
    sessions.forEach((s, b) => h.set(s.last, b * C));
    const out = new Float32Array(B * V);
    kernels().gemm(false, false, 1, B, V, C, h, 0, this.outWeight, 0, out, 0);
    if (this.outBias) kernels().addRowVector(out, this.outBias, B, V);
    return out;
  }
}
