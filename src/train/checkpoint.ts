// Checkpoints: everything a killed run needs to continue exactly where its last epoch ended
// (weights, buffers, optimizer state, RNG states, progress counters) plus what guards against
// resuming the wrong run (config, data manifest hash). One binary file (format version 3):
//
//   0   8 bytes  magic 'ADARECCK'
//   8   u32 LE   format version
//   12  u32 LE   header byte length H
//   16  32 bytes SHA-256 of every byte from offset 48 to the end (header, padding, payload)
//   48  H bytes  header JSON: { meta, tensors: [{ name, dtype, shape, offset }], payloadBytes }
//   ..  zero padding to a multiple of 8
//   ..  payload: every tensor's elements, little endian, at its offset (from the payload start)
//
// Versions 1 and 2 (read, not written) had no checksum field: the header JSON started at 16 and
// held payloadSha256, the SHA-256 of the payload only, so a changed header byte (a config value,
// a tensor offset) could go unnoticed; version 3's checksum covers the header too.
//
// Files are written atomically (temp file in the same folder, fsync, rename), so a reader sees
// the old checkpoint or the new one, never a torn one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Rng, Tensor, nn, optim } from '../engine/index.js';
import type { TrainConfig } from './config.js';

export const CHECKPOINT_MAGIC = 'ADARECCK';
/**
 * 3: one checksum over header and payload; 2: optimizer state keyed by optimizer
 * ('optimizers/<key>/...'); version 1 and 2 files are read (version 1 converted).
 */
export const CHECKPOINT_VERSION = 3;
const FIXED_V3 = 48;

export type RngSnapshot = ReturnType<Rng['getState']>;
type Values = Float32Array | Float64Array | Int32Array;
type DTypeName = 'float32' | 'float64' | 'int32';

export interface NamedArray {
  name: string;
  shape: number[];
  values: Values;
}

/** Where a run stands after a completed epoch. */
export interface TrainProgress {
  /** Epochs completed (all phases). */
  epoch: number;
  /** Optimizer steps taken (all phases). */
  step: number;
  /** The best validation value of config.earlyStopping.metric so far (autoregressive phase only). */
  bestMetric: number | null;
  /** 1-based epoch of bestMetric. */
  bestEpoch: number | null;
  bestMetrics: Record<string, number> | null;
  /** Epochs since the last improvement. */
  badEpochs: number;
  /** True once early stopping fired: resuming such a run trains no further. */
  stopped: boolean;
}

export interface OptimizerSnapshot {
  name: string;
  /** The training phase the optimizer belongs to (BERT4Rec starts a fresh one for its finetune). */
  phase: string;
  stepCount: number;
  lr: number;
  /** State tensors per parameter (e.g. Adam's m and v). */
  slotsPerParam: number;
}

export interface CheckpointMeta<C = TrainConfig> {
  vocabSize: number;
  config: C;
  manifestHash: string;
  progress: TrainProgress;
  rngs: Record<string, RngSnapshot>;
  /** Each optimizer's step count, lr and slot count, by key ('model' for the trainer's). */
  optimizers: Record<string, OptimizerSnapshot>;
  /** BERT4Rec's attention mode when written. */
  causal?: boolean;
  /** Any other state a loop needs back (e.g. the search's EMD layer weights and alpha history). */
  extra?: Record<string, unknown>;
}

/**
 * Tensors are named 'param/<name>' and 'buffer/<name>' (the model), 'module/<key>/param/<name>' and
 * 'module/<key>/buffer/<name>' (modules trained beside it, e.g. distillation projections), and
 * 'optimizers/<key>/<parameter tensor name>/<slot>' (each optimizer's state).
 */
export interface Checkpoint<C = TrainConfig> {
  meta: CheckpointMeta<C>;
  tensors: NamedArray[];
}

interface TensorEntry {
  name: string;
  dtype: DTypeName;
  shape: number[];
  offset: number;
}

interface Header {
  meta: CheckpointMeta<unknown>;
  tensors: TensorEntry[];
  payloadBytes: number;
  /** Versions 1 and 2: SHA-256 of the payload. */
  payloadSha256?: string;
}

if (endianness() !== 'LE') throw new Error('adarec checkpoints assume a little-endian machine');

/** What a checkpoint holds state for: a model, modules trained beside it, and optimizers over their parameters. */
export interface CheckpointTargets {
  model: nn.Module;
  /** Further modules (saved as 'module/<key>/...'). */
  modules?: Record<string, nn.Module>;
  /** Optimizers, each over any of the parameters of the model and the modules. */
  optimizers?: Record<string, { optimizer: optim.Optimizer; name?: string; phase?: string }>;
}

/** Every parameter and buffer of the model and the modules, by checkpoint tensor name. */
function stateTensors(t: CheckpointTargets): { params: [string, Tensor][]; buffers: [string, Tensor][] } {
  const params: [string, Tensor][] = [...t.model.namedParameters()].map(([n, p]) => [`param/${n}`, p]);
  const buffers: [string, Tensor][] = [...t.model.namedBuffers()].map(([n, b]) => [`buffer/${n}`, b]);
  for (const [key, m] of Object.entries(t.modules ?? {})) {
    for (const [n, p] of m.namedParameters()) params.push([`module/${key}/param/${n}`, p]);
    for (const [n, b] of m.namedBuffers()) buffers.push([`module/${key}/buffer/${n}`, b]);
  }
  return { params, buffers };
}

/** The checkpoint names of an optimizer's parameters (each must belong to the model or a module). */
function optimizerParamNames(params: [string, Tensor][], opt: optim.Optimizer, key: string): string[] {
  const byTensor = new Map(params.map(([n, p]) => [p, n]));
  return opt.params.map((p, i) => {
    const n = byTensor.get(p);
    if (n === undefined) throw new Error(`optimizer '${key}': parameter ${i} belongs neither to the model nor to a module`);
    return n;
  });
}

/** Copies the parameters and buffers, the optimizers' state and the RNG states. */
export function captureCheckpoint<C = TrainConfig>(o: CheckpointTargets & {
  rngs: Record<string, Rng>; meta: Omit<CheckpointMeta<C>, 'rngs' | 'optimizers'>;
}): Checkpoint<C> {
  const { params, buffers } = stateTensors(o);
  const tensors: NamedArray[] = [...params, ...buffers].map(([name, t]) => ({ name, shape: [...t.shape], values: copyOf(t.values) }));
  const optimizers: Record<string, OptimizerSnapshot> = {};
  for (const [key, { optimizer: opt, name, phase }] of Object.entries(o.optimizers ?? {})) {
    const names = optimizerParamNames(params, opt, key);
    const sd = opt.stateDict();
    sd.slots.forEach((slots, i) => slots.forEach((v, j) =>
      tensors.push({ name: `optimizers/${key}/${names[i]}/${j}`, shape: [...opt.params[i].shape], values: v })));
    optimizers[key] = { name: name ?? opt.constructor.name, phase: phase ?? '', stepCount: sd.stepCount, lr: sd.lr, slotsPerParam: sd.slots[0]?.length ?? 0 };
  }
  const rngs = Object.fromEntries(Object.entries(o.rngs).map(([k, r]) => [k, r.getState()]));
  return { meta: { ...o.meta, rngs, optimizers }, tensors };
}

function copyOf(v: Values): Values {
  return v instanceof Float32Array ? Float32Array.from(v) : v instanceof Float64Array ? Float64Array.from(v) : Int32Array.from(v);
}

function dtypeName(v: Values): DTypeName {
  return v instanceof Float32Array ? 'float32' : v instanceof Float64Array ? 'float64' : 'int32';
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The file's bytes as a list of chunks (tensor payloads are not copied); `version` 2 only for compatibility tests. */
export function encodeCheckpoint<C>(ckpt: Checkpoint<C>, o: { version?: 2 | 3 } = {}): Uint8Array[] {
  const version = o.version ?? CHECKPOINT_VERSION;
  const entries: TensorEntry[] = [];
  const payload: Uint8Array[] = [];
  let offset = 0;
  for (const t of ckpt.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.values.length) throw new Error(`checkpoint tensor ${t.name}: shape [${t.shape}] needs ${size} values, got ${t.values.length}`);
    entries.push({ name: t.name, dtype: dtypeName(t.values), shape: t.shape, offset });
    const bytes = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
    payload.push(bytes);
    const pad = align8(bytes.length) - bytes.length;
    if (pad) payload.push(new Uint8Array(pad));
    offset += bytes.length + pad;
  }
  const header: Header = { meta: ckpt.meta, tensors: entries, payloadBytes: offset };
  if (version === 2) {
    const h = createHash('sha256');
    for (const p of payload) h.update(p);
    header.payloadSha256 = h.digest('hex');
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const fixed = version === 2 ? 16 : FIXED_V3;
  const prefix = Buffer.alloc(align8(fixed + json.length));
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(version, 8);
  prefix.writeUInt32LE(json.length, 12);
  json.copy(prefix, fixed);
  if (version !== 2) {
    const h = createHash('sha256').update(prefix.subarray(FIXED_V3));
    for (const p of payload) h.update(p);
    h.digest().copy(prefix, 16);
  }
  return [prefix, ...payload];
}

export function saveCheckpoint<C>(path: string, ckpt: Checkpoint<C>): void {
  writeFileAtomic(path, encodeCheckpoint(ckpt));
}

/** Reads a checkpoint and checks its magic, version, length and checksum; every refusal names the file. */
export function readCheckpoint<C = TrainConfig>(path: string): Checkpoint<C> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`checkpoint ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (buf.length < 16 || buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) throw new Error(`${path} is not an adarec checkpoint (bad magic)`);
  const version = buf.readUInt32LE(8);
  if (version < 1 || version > CHECKPOINT_VERSION) throw new Error(`checkpoint ${path} has format version ${version}; this adarec reads versions 1 to ${CHECKPOINT_VERSION}`);
  const headerBytes = buf.readUInt32LE(12);
  const fixed = version >= 3 ? FIXED_V3 : 16;
  if (fixed + headerBytes > buf.length) throw new Error(`checkpoint ${path} is truncated or corrupt (its header runs past the end of the file)`);
  if (version >= 3 && !createHash('sha256').update(buf.subarray(FIXED_V3)).digest().equals(buf.subarray(16, FIXED_V3)))
    throw new Error(`checkpoint ${path} is truncated or corrupt (checksum mismatch)`);
  let header: Header;
  try {
    header = JSON.parse(buf.toString('utf8', fixed, fixed + headerBytes)) as Header;
    if (!header || !Array.isArray(header.tensors) || typeof header.payloadBytes !== 'number' || !header.meta) throw new Error('fields');
  } catch {
    throw new Error(`checkpoint ${path} has a corrupt header`);
  }
  const start = align8(fixed + headerBytes);
  if (buf.length !== start + header.payloadBytes)
    throw new Error(`checkpoint ${path} is ${buf.length} bytes, its header says ${start + header.payloadBytes} (truncated or corrupt)`);
  const payload = buf.subarray(start);
  if (version < 3 && createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) throw new Error(`checkpoint ${path} is corrupt (payload checksum mismatch)`);
  const tensors = header.tensors.map((e): NamedArray => {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const width = e.dtype === 'float64' ? 8 : 4;
    if (!Number.isInteger(n) || n < 0 || !(e.offset >= 0) || e.offset + n * width > payload.length || !['float32', 'float64', 'int32'].includes(e.dtype))
      throw new Error(`checkpoint ${path} has a corrupt header (tensor ${e.name} lies outside the payload)`);
    const bytes = payload.subarray(e.offset, e.offset + n * width);
    // copy into a fresh, aligned buffer
    const ab = new ArrayBuffer(n * width);
    new Uint8Array(ab).set(bytes);
    const values = e.dtype === 'float32' ? new Float32Array(ab) : e.dtype === 'float64' ? new Float64Array(ab) : new Int32Array(ab);
    return { name: e.name, shape: e.shape, values };
  });
  return version === 1 ? fromVersion1<C>(header.meta, tensors) : { meta: header.meta as CheckpointMeta<C>, tensors };
}

/** Version 1 had one optimizer: meta.optimizer and tensors 'optimizer/<param>/<slot>'; it is the trainer's 'model' optimizer. */
function fromVersion1<C>(meta: CheckpointMeta<unknown> & { optimizer?: OptimizerSnapshot | null }, tensors: NamedArray[]): Checkpoint<C> {
  const { optimizer, ...rest } = meta;
  return {
    meta: { ...rest, optimizers: optimizer ? { model: optimizer } : {} } as CheckpointMeta<C>,
    tensors: tensors.map((t) => (t.name.startsWith('optimizer/') ? { ...t, name: `optimizers/model/param/${t.name.slice('optimizer/'.length)}` } : t)),
  };
}

/**
 * Checks that a checkpoint belongs to this data and config before a resume: the data manifest
 * hash, the vocabulary and the config must match (epochs, patience and the validation batch
 * size may change, e.g. to extend a run).
 */
export function assertResumable<C>(ckpt: Checkpoint<C>, path: string, o: { manifestHash: string; vocabSize: number; config: C }): void {
  const m = ckpt.meta;
  if (m.manifestHash !== o.manifestHash) throw new Error(`checkpoint ${path} was written for data ${m.manifestHash}, this data is ${o.manifestHash}`);
  if (m.vocabSize !== o.vocabSize) throw new Error(`checkpoint ${path} was written for ${m.vocabSize - 1} items, this data has ${o.vocabSize - 1}`);
  const mutable = new Set(['epochs', 'earlyStopping.patience', 'validation.batchSize']);
  const diffs = diffJson(m.config, o.config).filter((d) => !mutable.has(d.path));
  if (diffs.length)
    throw new Error(`checkpoint ${path} was written with a different config: ${diffs.map((d) => `${d.path} ${d.was} (now ${d.now})`).join(', ')}`);
}

function diffJson(a: unknown, b: unknown, path = ''): { path: string; was: string; now: string }[] {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diffJson(a[k], b[k], path ? `${path}.${k}` : k));
  }
  const ja = JSON.stringify(a) ?? 'unset', jb = JSON.stringify(b) ?? 'unset';
  return ja === jb ? [] : [{ path, was: ja, now: jb }];
}

/**
 * Loads a checkpoint's tensors into the model (and optimizer) and its RNG states into the given
 * Rngs. Every name and shape must match; the error lists what did not.
 */
export function restoreCheckpoint<C>(ckpt: Checkpoint<C>, path: string, o: CheckpointTargets & { rngs?: Record<string, Rng> }): void {
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  const { params, buffers } = stateTensors(o);
  const targets = [...params, ...buffers];
  const problems: string[] = [];
  const wanted = new Set(targets.map(([n]) => n));
  const missing = targets.filter(([n]) => !byName.has(n)).map(([n]) => n);
  // optimizer state and modules the caller does not ask for are simply not restored
  const unexpected = ckpt.tensors.map((t) => t.name).filter((n) => !/^(optimizers|module)\//.test(n) && !wanted.has(n));
  if (missing.length) problems.push(`missing ${list(missing)}`);
  if (unexpected.length) problems.push(`not in the model: ${list(unexpected)}`);
  for (const [n, t] of targets) {
    const c = byName.get(n);
    if (!c) continue;
    if (c.shape.join() !== t.shape.join()) problems.push(`${n} has shape [${c.shape.join(', ')}], the model's is [${t.shape.join(', ')}]`);
    else if (dtypeName(c.values) !== dtypeName(t.values)) problems.push(`${n} is ${dtypeName(c.values)}, the model's is ${dtypeName(t.values)}`);
  }
  const optimizerStates: [optim.Optimizer, OptimizerSnapshot, Values[][]][] = [];
  for (const [key, { optimizer: opt }] of Object.entries(o.optimizers ?? {})) {
    const s = ckpt.meta.optimizers[key];
    if (!s) { problems.push(`it holds no state for optimizer '${key}'`); continue; }
    const names = optimizerParamNames(params, opt, key);
    optimizerStates.push([opt, s, names.map((n, i) => Array.from({ length: s.slotsPerParam }, (_, j) => {
      const t = byName.get(`optimizers/${key}/${n}/${j}`);
      if (!t) { problems.push(`missing optimizers/${key}/${n}/${j}`); return new Float32Array(0); }
      if (t.values.length !== opt.params[i].size || !(t.values instanceof Float32Array)) problems.push(`optimizers/${key}/${n}/${j} does not fit parameter ${n}`);
      return t.values;
    }))]);
  }
  for (const name of Object.keys(o.rngs ?? {})) if (!ckpt.meta.rngs[name]) problems.push(`no state for rng '${name}'`);
  if (problems.length) throw new Error(`checkpoint ${path} does not fit this model: ${problems.join('; ')}`);
  for (const [n, t] of targets) t.values.set(byName.get(n)!.values);
  for (const [opt, s, slots] of optimizerStates) opt.loadStateDict({ stepCount: s.stepCount, lr: s.lr, slots });
  for (const [name, r] of Object.entries(o.rngs ?? {})) r.setState(ckpt.meta.rngs[name]);
}

function list(names: string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}


export { appendFileLogged, removeStaleTempFiles, writeFileAtomic, WriteError } from '../util/atomic-write.js';
