// End-to-end: a NextItNet-style model learns generated sequences on both backends, and the two
// backends follow the same trajectory from the same seed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, backward, nativeAvailable, optim, setBackend, tidy, type BackendName } from '../src/engine/index.js';
import { NextItNet } from '../src/models/nextitnet.js';
import { syntheticSequences } from '../src/data/synthetic.js';
import { nextItemBatch } from '../src/data/batch.js';

function trainLosses(backend: BackendName, steps: number): number[] {
  setBackend(backend);
  const sequences = syntheticSequences({ users: 400, items: 100, minLength: 8, maxLength: 21, seed: 3 });
  const rng = new Rng(11);
  const model = new NextItNet({ vocabSize: 101, hidden: 32, dilations: [1, 2], kernelSize: 3, residual: 'learned' }, rng);
  const opt = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const losses: number[] = [];
  const B = 32;
  for (let step = 0; step < steps; step++) {
    const start = (step * B) % (sequences.length - B);
    losses.push(tidy(() => {
      const { inputs, targets } = nextItemBatch(sequences.slice(start, start + B), 20);
      const loss = model.loss(inputs, targets);
      opt.zeroGrad();
      backward(loss);
      optim.clipGradNorm(model.parameters(), 5);
      opt.step();
      return loss.item();
    }));
  }
  model.dispose();
  return losses;
}

const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
const backends: BackendName[] = nativeAvailable() ? ['js', 'native'] : ['js'];

describe('NextItNet training on generated data', () => {
  const runs = new Map<BackendName, number[]>();
  for (const backend of backends) {
    it(`loss falls by at least 25% over 100 steps (${backend})`, () => {
      const losses = trainLosses(backend, 100);
      runs.set(backend, losses);
      const first = mean(losses.slice(0, 5)), last = mean(losses.slice(-5));
      assert.ok(Number.isFinite(last), `loss is ${last}`);
      assert.ok(last < 0.75 * first, `loss went from ${first.toFixed(4)} to ${last.toFixed(4)}`);
      // ln(100) ≈ 4.6 is the uniform guess; the sequences' structure allows far better
      assert.ok(last < 4.0, `final loss ${last.toFixed(4)} is no better than near-uniform`);
    });
  }
  it('js and native agree to 1e-3 relative over the first 10 steps', { skip: backends.length < 2 && 'native backend not available' }, () => {
    const js = runs.get('js')!.slice(0, 10), nat = runs.get('native')!.slice(0, 10);
    js.forEach((l, i) => {
      const rel = Math.abs(l - nat[i]) / Math.abs(l);
      assert.ok(rel <= 1e-3, `step ${i + 1}: js ${l} vs native ${nat[i]} (relative ${rel.toExponential(2)})`);
    });
  });
});
