// Sequences -> training sequences plus validation and test examples, under three protocols.
// All are deterministic (no randomness). Examples are listed by sequence, then chronologically.
//
// - leaveOneOut (default protocol): a sequence of n >= 3 items trains on items[:-2]; validation
//   predicts items[n-2] from items[:-2]; test predicts items[n-1] from the full prefix items[:-1].
//   A sequence shorter than 3 stays whole in training and gives no example.
// - referenceChunks (the reference protocol of METHOD.md, reproduced with its quirks): each sequence is
//   cut into non-overlapping windows of `length` items counted back from its END (the newest window is
//   full, the oldest may be partial), and windows shorter than 4 are dropped, as the reference loader
//   does. Each window c trains on c[:-2]; validation predicts c[-2] from c[:-2]; test predicts c[-1]
//   from c[:-2] too (two steps ahead: the reference's quirk). Windows are listed oldest first (the
//   reference lists newest first; order does not change any metric). Training sequences are the
//   windows, so train has one entry per kept window rather than one per sequence.
// - temporalSplit: global cut-offs at time quantiles. With T the sorted timestamps of all N
//   interactions, validStart = T[floor(N * (1 - valid - test))] and testStart = T[floor(N * (1 - test))]
//   (+Infinity when the index is N). An interaction at time >= testStart is a test target, one at
//   validStart <= time < testStart a validation target, each with the full prefix of its sequence as
//   input (truncated to the last maxInputLength items if given); training is every interaction before
//   validStart. A target that is the first item of its sequence has no input and gives no example.
import type { DataSplit, EvalExamples, SequenceDataset } from './types.js';

/** Minimum window length kept by the reference loader (train needs 2 items after holding out 2). */
export const REFERENCE_MIN_CHUNK = 4;

export function leaveOneOut(ds: SequenceDataset): DataSplit {
  return buildSplit((train, valid, test) => forEachSequence(ds, (s, from, to) => {
    const n = to - from;
    if (n < 3) { train.add(ds, from, to); return; }
    train.add(ds, from, to - 2);
    valid.add(s, ds.items, from, to - 2, ds.items[to - 2]);
    test.add(s, ds.items, from, to - 1, ds.items[to - 1]);
  }));
}

export function referenceChunks(ds: SequenceDataset, length: number): DataSplit {
  if (!(Number.isInteger(length) && length >= REFERENCE_MIN_CHUNK))
    throw new RangeError(`referenceChunks: length must be an integer >= ${REFERENCE_MIN_CHUNK} (shorter windows are dropped), got ${length}`);
  return buildSplit((train, valid, test) => forEachSequence(ds, (s, from, to) => {
    const n = to - from;
    for (let part = Math.ceil(n / length) - 1; part >= 0; part--) {
      const a = from + Math.max(0, n - (part + 1) * length), b = from + n - part * length;
      if (b - a < REFERENCE_MIN_CHUNK) continue;
      train.add(ds, a, b - 2);
      valid.add(s, ds.items, a, b - 2, ds.items[b - 2]);
      test.add(s, ds.items, a, b - 2, ds.items[b - 1]);
    }
  }));
}

export interface TemporalSplitOptions {
  validFraction: number;
  testFraction: number;
  /** Keep only the last maxInputLength items of each input (all of them when absent). */
  maxInputLength?: number;
}

export function temporalSplit(ds: SequenceDataset, o: TemporalSplitOptions): DataSplit {
  const { validFraction: v, testFraction: t } = o;
  if (!(v >= 0 && t >= 0 && v + t < 1)) throw new RangeError(`temporalSplit: need validFraction, testFraction >= 0 with sum < 1, got ${v} and ${t}`);
  if (o.maxInputLength !== undefined && !(Number.isInteger(o.maxInputLength) && o.maxInputLength >= 1))
    throw new RangeError(`temporalSplit: maxInputLength must be a positive integer, got ${o.maxInputLength}`);
  const { validStart, testStart } = temporalCutoffs(ds.times, v, t);
  const maxIn = o.maxInputLength ?? Infinity;
  return buildSplit((train, valid, test) => forEachSequence(ds, (s, from, to) => {
    let j = from;
    while (j < to && ds.times[j] < validStart) j++;
    train.add(ds, from, j);
    for (j = Math.max(j, from + 1); j < to; j++) {
      const into = ds.times[j] >= testStart ? test : valid;
      into.add(s, ds.items, Math.max(from, j - maxIn), j, ds.items[j]);
    }
  }));
}

/** The two time cut-offs of temporalSplit (see the file comment). */
export function temporalCutoffs(times: Float64Array, validFraction: number, testFraction: number): { validStart: number; testStart: number } {
  const sorted = Float64Array.from(times).sort();
  const N = sorted.length;
  const at = (q: number): number => {
    const i = Math.floor(Math.round(N * q * 1e9) / 1e9); // 1 - 0.1 - 0.2 must not fall just short
    return i >= N ? Infinity : sorted[i];
  };
  return { validStart: at(1 - validFraction - testFraction), testStart: at(1 - testFraction) };
}

function forEachSequence(ds: SequenceDataset, f: (s: number, from: number, to: number) => void): void {
  for (let s = 0; s + 1 < ds.offsets.length; s++) f(s, ds.offsets[s], ds.offsets[s + 1]);
}

/** Runs a protocol twice: once to size the arrays exactly, once to fill them (one allocation each). */
function buildSplit(protocol: (train: SequencesBuilder, valid: ExamplesBuilder, test: ExamplesBuilder) => void): DataSplit {
  const train = new SequencesBuilder(), valid = new ExamplesBuilder(), test = new ExamplesBuilder();
  protocol(train, valid, test);
  train.allocate(); valid.allocate(); test.allocate();
  protocol(train, valid, test);
  return { train: train.result(), valid: valid.result(), test: test.result() };
}

class SequencesBuilder {
  private items = new Int32Array(0);
  private times = new Float64Array(0);
  private offsets = new Int32Array(1);
  private n = 0;
  private used = 0;
  private sizing = true;
  add(src: SequenceDataset, from: number, to: number): void {
    if (!this.sizing) {
      this.items.set(src.items.subarray(from, to), this.used);
      this.times.set(src.times.subarray(from, to), this.used);
      this.offsets[this.n + 1] = this.used + to - from;
    }
    this.n++;
    this.used += to - from;
  }
  allocate(): void {
    this.items = new Int32Array(this.used);
    this.times = new Float64Array(this.used);
    this.offsets = new Int32Array(this.n + 1);
    this.n = this.used = 0;
    this.sizing = false;
  }
  result(): DataSplit['train'] {
    return { items: this.items, times: this.times, offsets: this.offsets };
  }
}

class ExamplesBuilder {
  private ex: EvalExamples = { sequence: new Int32Array(0), inputs: new Int32Array(0), offsets: new Int32Array(1), targets: new Int32Array(0) };
  private n = 0;
  private used = 0;
  private sizing = true;
  add(s: number, src: Int32Array, from: number, to: number, target: number): void {
    if (!this.sizing) {
      const e = this.ex;
      e.sequence[this.n] = s;
      e.inputs.set(src.subarray(from, to), this.used);
      e.offsets[this.n + 1] = this.used + to - from;
      e.targets[this.n] = target;
    }
    this.n++;
    this.used += to - from;
  }
  allocate(): void {
    this.ex = { sequence: new Int32Array(this.n), inputs: new Int32Array(this.used), offsets: new Int32Array(this.n + 1), targets: new Int32Array(this.n) };
    this.n = this.used = 0;
    this.sizing = false;
  }
  result(): EvalExamples {
    return this.ex;
  }
}
