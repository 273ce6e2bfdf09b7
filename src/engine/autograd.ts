// Reverse-mode autograd with an explicit tape. Each differentiable op calls `record` with its
// output, its inputs and a closure that maps the output's gradient to the inputs' gradients
// (the closure captures exactly what backward needs, like autograd.Function's saved tensors).
// `backward` walks the tape once in reverse and frees every gradient as soon as it is consumed.
import { keep, onOutermostScopeExit } from './memory.js';
import { Tensor, clone, ones, shapeString, type SliceGrad, type TapeNode } from './tensor.js';
import { mergeSliceGrads } from './sparse.js';
import { kernels } from './backend/index.js';
import type { FloatArray } from './backend/kernels.js';

export type { TapeNode } from './tensor.js';


const tape: TapeNode[] = [];
let gradEnabled = true;

onOutermostScopeExit(() => {
  tape.length = 0;
});

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording: for inference, evaluation and teacher forwards. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op with these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t?.requiresGrad) return true;
  return false;
}

/** Records an op on the tape when any input requires grad; returns its output. */
export function record(name: string, output: Tensor, inputs: readonly Tensor[],
  backward: (gy: Tensor) => readonly (Tensor | SliceGrad | null)[]): Tensor {
  if (!needsGrad(...inputs)) return output;
  output.requiresGrad = true;
  const node: TapeNode = { name, inputs, output, backward };
  output.node = node;
  tape.push(node);
  return output;
}

export function tapeLength(): number {
  return tape.length;
}

function accumulate(into: Tensor, g: Tensor): void {
  kernels().axpy(1, g.values as FloatArray, into.values as FloatArray);
}


/** Adds a slice gradient into a `sparseAxis` leaf's `.sliceGrad`. */
function giveSlices(input: Tensor, g: SliceGrad, op: string): void {
  if (!input.requiresGrad) { g.values.dispose(); return; }
  if (input.node !== null || input.sparseAxis !== g.axis)
    throw new Error(`backward of ${op}: a slice gradient (axis ${g.axis}) for ${input}, which is not a leaf with sparseAxis ${g.axis}`);
  input.sliceGrad = input.sliceGrad ? mergeSliceGrads(input.sliceGrad, g) : { ...g, values: keep(g.values) };
}

/**
 * Back-propagates from `root` (a scalar unless `seed` is given) through every op recorded since the
 * last backward, accumulating into the `.grad` of leaves that require grad (or their `.sliceGrad`,
 * for leaves with `sparseAxis` and ops that give one). Clears the tape.
 */
export function backward(root: Tensor, seed?: Tensor): void {
  if (!root.requiresGrad) throw new Error('backward: the root does not depend on any tensor that requires grad');
  if (!seed && root.size !== 1) throw new Error(`backward: root has shape ${shapeString(root.shape)}; give a seed gradient`);
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, seed ?? ones(root.shape, root.dtype));
  const give = (input: Tensor, g: Tensor): void => {
    if (input.node === null) {
      // a leaf: its .grad outlives every scope
      if (input.grad === null) input.grad = keep(g);
      else { accumulate(input.grad, g); g.dispose(); }
      return;
    }
    const existing = grads.get(input);
    if (existing) { accumulate(existing, g); g.dispose(); }
    else grads.set(input, g);
  };
  try {
    for (let i = tape.length - 1; i >= 0; i--) {
      const node = tape[i];
      const gy = grads.get(node.output);
      if (!gy) continue;
      grads.delete(node.output);
      const gxs = node.backward(gy);
      // gy passed through unchanged to several inputs: each but the last gets a copy (give() may
      // dispose what it is given once it has been accumulated)
      let gyUses = 0;
      for (let j = 0; j < node.inputs.length; j++) if (gxs[j] === gy && node.inputs[j].requiresGrad) gyUses++;
      const gyGiven = gyUses > 0;
      for (let j = 0; j < node.inputs.length; j++) {
        const input = node.inputs[j], g = gxs[j];
        if (!g) continue;
        if (!(g instanceof Tensor)) { giveSlices(input, g, node.name); continue; }
        if (!input.requiresGrad) { if (g !== gy) g.dispose(); continue; }
        if (g.dtype !== input.dtype || g.size !== input.size)
          throw new Error(`backward of ${node.name}: gradient ${g} does not match input ${input}`);
        if (g === gy && --gyUses > 0) give(input, clone(g));
        else give(input, g);
      }
      if (!gyGiven) gy.dispose();
    }
  } finally {
    for (const g of grads.values()) g.dispose();
    tape.length = 0;
  }
}
