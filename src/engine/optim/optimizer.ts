// Optimizers see only a list of parameters and keep their own per-parameter state; updates run in
// place through one backend kernel per parameter. A parameter with a slice gradient only (a large
// catalog's embedding table or output layer in a sampled step, Tensor.sliceGrad) is updated lazily:
// its touched slices and their state are gathered, given the same kernel, and written back.
import { kernels } from '../backend/index.js';
import type { FloatArray } from '../backend/kernels.js';
import { keep, tidy } from '../memory.js';
import { addSliceGrad, gatherSlices, scatterSlices, sliceLayout } from '../sparse.js';
import { Tensor, empty, zeros, type SliceGrad } from '../tensor.js';

/** A parameter with both a dense and a slice gradient: the slices added into the dense one. */
function foldSliceGrad(p: Tensor): void {
  if (!p.grad || !p.sliceGrad) return;
  addSliceGrad(p.grad.values as FloatArray, sliceLayout(p, p.sliceGrad.axis), p.sliceGrad);
  p.sliceGrad.values.dispose();
  p.sliceGrad = null;
}

export abstract class Optimizer {
  /** Number of steps taken (bias correction uses it). */
  stepCount = 0;
  /** Per-parameter state tensors, in parameter order (e.g. Adam's m and v). */
  protected state: Tensor[][];

  constructor(readonly params: Tensor[], public lr: number, slots: number) {
    for (const p of params) if (!p.requiresGrad) throw new Error(`optimizer: parameter ${p} does not require grad`);
    this.state = params.map((p) => Array.from({ length: slots }, () => keep(zeros(p.shape, p.dtype))));
  }

  /**
   * Applies one update to every parameter that has a gradient. A parameter with only a slice
   * gradient gets the lazy update: its untouched slices, and their state, stay as they are (as
   * TensorFlow's LazyAdam and torch.optim.SparseAdam: moments decay and weight decay applies only
   * where a slice has a gradient; bias correction counts every step). With a dense gradient too,
   * the two are added and the update is the dense one.
   */
  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      foldSliceGrad(p);
      if (p.grad) this.update(p.values as FloatArray, p.grad.values as FloatArray, this.state[i].map((s) => s.values as FloatArray));
      else if (p.sliceGrad) this.updateSlices(p, p.sliceGrad, this.state[i]);
    });
  }

  /** The update of the slices a slice gradient touches, run on dense copies of them. */
  private updateSlices(p: Tensor, g: SliceGrad, state: Tensor[]): void {
    const layout = sliceLayout(p, g.axis), n = g.index.length * layout.length;
    tidy(() => {
      const held = [p, ...state];
      const copies = held.map((t) => {
        const c = empty([n], p.dtype);
        gatherSlices(t.values as FloatArray, layout, g.index, c.values as FloatArray);
        return c.values as FloatArray;
      });
      this.update(copies[0], g.values.values as FloatArray, copies.slice(1));
      held.forEach((t, j) => scatterSlices(t.values as FloatArray, layout, g.index, copies[j]));
    });
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
      p.sliceGrad?.values.dispose();
      p.sliceGrad = null;
    }
  }

  protected abstract update(p: FloatArray, g: FloatArray, state: FloatArray[]): void;

  /** State for checkpoints: the step count and every state tensor's values. */
  stateDict(): { stepCount: number; lr: number; slots: Float32Array[][] } {
    return { stepCount: this.stepCount, lr: this.lr, slots: this.state.map((s) => s.map((t) => Float32Array.from(t.values))) };
  }

  loadStateDict(d: { stepCount: number; lr: number; slots: ArrayLike<number>[][] }): void {
    if (d.slots.length !== this.state.length) throw new Error(`optimizer state has ${d.slots.length} parameters, expected ${this.state.length}`);
    this.stepCount = d.stepCount;
    this.lr = d.lr;
    d.slots.forEach((s, i) => s.forEach((v, j) => {
      if (v.length !== this.state[i][j].size) throw new Error(`optimizer state for parameter ${i} has ${v.length} values, expected ${this.state[i][j].size}`);
      this.state[i][j].values.set(v);
    }));
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** Adam (Kingma & Ba) with L2 weight decay added to the gradient, as torch.optim.Adam. */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected decoupled = false;

  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3, 2);
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
  }

  protected update(p: FloatArray, g: FloatArray, [m, v]: FloatArray[]): void {
    kernels().adamStep(p, g, m, v, {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay,
      decoupled: this.decoupled, step: this.stepCount,
    });
  }
}

/** AdamW (Loshchilov & Hutter): weight decay applied to the weights, not the gradient (torch.optim.AdamW). */
export class AdamW extends Adam {
  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, { ...o, weightDecay: o.weightDecay ?? 0.01 });
    this.decoupled = true;
  }
}

export interface LambOptions extends AdamOptions {
  /** Bias-correct the moments (default true, as the LAMB paper). */
  debias?: boolean;
  /** Clamp ||p|| in the trust ratio to at most this (0 = no clamp; 10 in some implementations). */
  clampNorm?: number;
}

/**
 * LAMB (You et al. 2019): Adam direction plus decoupled decay, scaled per parameter by ||p|| /
 * ||update||. In a lazy update (a slice gradient) the norms are those of the touched slices.
 */
export class Lamb extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly debias: boolean;
  readonly clampNorm: number;

  constructor(params: Tensor[], o: LambOptions = {}) {
    super(params, o.lr ?? 1e-3, 2);
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-6;
    this.weightDecay = o.weightDecay ?? 0;
    this.debias = o.debias ?? true;
    this.clampNorm = o.clampNorm ?? 0;
  }

  protected update(p: FloatArray, g: FloatArray, [m, v]: FloatArray[]): void {
    kernels().lambStep(p, g, m, v, {
      lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay,
      step: this.stepCount, debias: this.debias, clampNorm: this.clampNorm,
    });
  }
}

/**
 * Scales all gradients in place so that their global L2 norm is at most maxNorm (as
 * torch.nn.utils.clip_grad_norm_). Returns the norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  const k = kernels();
  params.forEach(foldSliceGrad);
  const grads = params.flatMap((p) => [p.grad, p.sliceGrad?.values].filter((g): g is Tensor => !!g));
  let sq = 0;
  for (const g of grads) sq += k.sumSquares(g.values as FloatArray);
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) k.scale(g.values as FloatArray, coef);
  return norm;
}
