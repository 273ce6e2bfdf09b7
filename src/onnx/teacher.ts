// A teacher given as an ONNX file plus its mapping (mapping.ts): onnxruntime-node runs it and its
// named outputs become the embedding, intermediate and logits signals. Loading checks the mapping
// against the model (input and output names) and the first batch checks the output shapes, each
// error naming the mapping file and the field.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { tensor, tidy, type Tensor } from '../engine/index.js';
import { pickRows } from '../models/common.js';
import { gatherCandidateLogits, type LogitCandidates } from '../models/sampled-softmax.js';
import type { Teacher } from '../models/teacher.js';
import type { DistillationSignals } from '../models/types.js';
import { readOnnxMapping, type OnnxMapping } from './mapping.js';
import { idsTensor, openSession } from './session.js';

/** The session's inputs and outputs against the mapping. */
function checkNames(session: InferenceSession, m: OnnxMapping, modelPath: string, mappingPath: string): void {
  if (!session.inputNames.includes(m.input.name))
    throw new Error(`${mappingPath}: input.name: '${m.input.name}' is not an input of ${modelPath} (its inputs: ${session.inputNames.join(', ')})`);
  const named: [string, string][] = [['outputs.embedding', m.outputs.embedding], ...m.outputs.intermediates.map((n, i): [string, string] => [`outputs.intermediates.${i}`, n]), ['outputs.logits', m.outputs.logits]];
  for (const [field, name] of named) {
    if (!session.outputNames.includes(name))
      throw new Error(`${mappingPath}: ${field}: '${name}' is not an output of ${modelPath} (its outputs: ${session.outputNames.join(', ')})`);
  }
}

export class OnnxTeacher implements Teacher {
  readonly kind: string;
  readonly vocabSize: number;
  readonly hidden: number;
  readonly intermediates: number;
  readonly manifestHash = null;

  private constructor(private readonly session: InferenceSession, private readonly mapping: OnnxMapping, private readonly mappingPath: string) {
    this.kind = mapping.kind;
    this.vocabSize = mapping.vocabSize;
    this.hidden = mapping.hidden;
    this.intermediates = mapping.outputs.intermediates.length;
  }

  /** Opens `modelPath` with the mapping file at `mappingPath`. */
  static async load(modelPath: string, mappingPath: string, threads?: number): Promise<OnnxTeacher> {
    const mapping = readOnnxMapping(mappingPath);
    let model: string | Uint8Array = modelPath;
    if (mapping.sha256) {
      // checked before onnxruntime parses it: a damaged file may load as a different model
      try {
        model = readFileSync(modelPath);
      } catch (e) {
        throw new Error(`${modelPath}: cannot be read (${(e as Error).message})`);
      }
      const sha = createHash('sha256').update(model).digest('hex');
      if (sha !== mapping.sha256) throw new Error(`${modelPath} is corrupt or not the model of ${mappingPath} (its SHA-256 is ${sha.slice(0, 12)}..., the mapping's sha256 ${mapping.sha256.slice(0, 12)}...)`);
    }
    const session = await openSession(model, modelPath, threads);
    checkNames(session, mapping, modelPath, mappingPath);
    return new OnnxTeacher(session, mapping, mappingPath);
  }

  /** The input length the model takes (mapping maxLength). */
  get maxLength(): number {
    return this.mapping.maxLength;
  }

  async signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): Promise<DistillationSignals> {
    const [B, T] = ids.shape;
    const m = this.mapping;
    if (T !== m.maxLength) throw new Error(`${this.mappingPath}: maxLength: the model takes ${m.maxLength} positions, the batch has ${T}`);
    const out = await this.session.run({ [m.input.name]: idsTensor(ids.values as Int32Array, B, T, m.input.dtype) },
      [m.outputs.embedding, ...m.outputs.intermediates, m.outputs.logits]);
    const fields: [string, string, number][] = [
      ['outputs.embedding', m.outputs.embedding, m.hidden],
      ...m.outputs.intermediates.map((n, i): [string, string, number] => [`outputs.intermediates.${i}`, n, m.hidden]),
      ['outputs.logits', m.outputs.logits, m.vocabSize],
    ];
    for (const [field, name, last] of fields) {
      const t: OrtTensor = out[name];
      const want = [B, T, last];
      if (t.type !== 'float32' || t.dims.length !== 3 || t.dims.some((d, i) => d !== want[i]))
        throw new Error(`${this.mappingPath}: ${field}: output '${name}' is ${t.type} [${t.dims.join(', ')}], expected float32 [${want.join(', ')}]`);
    }
    const [embedding, ...rest] = fields.map(([, name, last]) => tensor(out[name].data as Float32Array, [B, T, last], 'float32'));
    const logits = rest[rest.length - 1];
    if (!rows) return { embedding, intermediates: rest.slice(0, -1), logits };
    // the ONNX model scores every position and item; the rows and candidates asked for are gathered from them
    const picked = tidy(() => pickRows(logits, rows));
    logits.dispose();
    if (!candidates) return { embedding, intermediates: rest.slice(0, -1), logits: picked };
    const n = picked.shape[0], W = candidates.adjust.length / Math.max(1, n);
    const over = tensor(gatherCandidateLogits(picked.values, m.vocabSize, candidates), [n, W], 'float32');
    picked.dispose();
    return { embedding, intermediates: rest.slice(0, -1), logits: over };
  }

  dispose(): void {
    void this.session.release();
  }
}
