// Modules own parameters and child modules, PyTorch style: a model is a tree of modules, its
// parameters are found by walking it, and a checkpoint is the named parameter (and buffer) list.
import { keep } from '../memory.js';
import type { Tensor } from '../tensor.js';

export abstract class Module {
  training = true;
  private params = new Map<string, Tensor>();
  private bufs = new Map<string, Tensor>();
  private children = new Map<string, Module>();

  /** Registers a trainable tensor (kept out of every tidy scope, requiresGrad set). */
  protected param(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    this.params.set(name, keep(t));
    return t;
  }

  /** Registers non-trainable state that belongs in checkpoints (e.g. BatchNorm running stats). */
  protected buffer(name: string, t: Tensor): Tensor {
    this.bufs.set(name, keep(t));
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.params) yield [prefix + n, p];
    for (const [n, c] of this.children) yield* c.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.bufs) yield [prefix + n, b];
    for (const [n, c] of this.children) yield* c.namedBuffers(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** Sets training mode (dropout, batch statistics) on this module and all children. */
  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Releases every parameter and buffer back to the pool. */
  dispose(): void {
    for (const [, p] of this.namedParameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}
