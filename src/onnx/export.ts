// Exports a trained model to ONNX: input `ids` [batch, maxLength] (left-padded with 0), output
// `scores` [batch, vocab] (the last position), and with `signals` the distillation signals
// `embedding`, `intermediate_<i>` and `logits` as the model's signals() defines them, plus the
// mapping that lets the file be imported as a teacher. Eval mode: dropout is the identity and
// batch norms use their running statistics.
import { createHash } from 'node:crypto';
import { BERT4Rec } from '../models/bert4rec.js';
import { NextItNet } from '../models/nextitnet.js';
import { SASRec } from '../models/sasrec.js';
import { TransformerRecommender } from '../models/transformer-recommender.js';
import type { SequentialRecommender } from '../models/types.js';
import { AdaRecNet } from '../models/adarec/network.js';
import { GraphBuilder, MIN_OPSET, elemType, int } from './graph.js';
import type { OnnxMapping } from './mapping.js';
import { emitLinear } from './emit/linear.js';
import { emitAdaRec } from './models/adarec.js';
import type { Body } from './models/body.js';
import { emitNextItNet } from './models/nextitnet.js';
import { emitTransformer } from './models/transformer.js';

export interface ExportOptions {
  /** The fixed input length (the training config's maxLength). */
  maxLength: number;
  /** Also output the distillation signals. */
  signals?: boolean;
  opset?: number;
  /** Element type of the ids input (default int64). */
  inputType?: 'int64' | 'int32';
}

export interface ExportResult {
  /** The serialized ModelProto. */
  bytes: Uint8Array;
  /** The teacher mapping (with `signals`), else null. */
  mapping: OnnxMapping | null;
  kind: string;
}

function emitBody(g: GraphBuilder, model: SequentialRecommender, ids: string, T: number): { body: Body; kind: string } {
  if (model instanceof NextItNet) return { body: emitNextItNet(g, model, ids), kind: 'nextitnet' };
  if (model instanceof AdaRecNet) return { body: emitAdaRec(g, model, ids, T), kind: 'adarec' };
  if (model instanceof TransformerRecommender) {
    if (model instanceof BERT4Rec && !model.causal) throw new Error('ONNX export: this BERT4Rec is in its bidirectional (masked) mode; only the causal finetuned model is exported');
    if (T > model.config.maxLength) throw new Error(`ONNX export: maxLength ${T} exceeds the model's position embedding (${model.config.maxLength})`);
    return { body: emitTransformer(g, model, ids, T), kind: model instanceof SASRec ? 'sasrec' : 'bert4rec' };
  }
  throw new Error(`ONNX export: no exporter for ${model.constructor.name}`);
}

export function exportOnnx(model: SequentialRecommender, o: ExportOptions): ExportResult {
  const T = o.maxLength, inputType = o.inputType ?? 'int64';
  if (!Number.isInteger(T) || T < 1) throw new Error(`ONNX export: maxLength must be an integer >= 1, got ${T}`);
  const V = model.vocabSize;
  const g = new GraphBuilder();
  const input = g.input('ids', inputType, ['batch', T]);
  const ids = inputType === 'int64' ? input : g.op('ids', 'Cast', [input], { to: elemType('int64') });
  const { body, kind } = emitBody(g, model, ids, T);
  const C = body.output.inFeatures;
  const last = g.op('scores', 'Gather', [body.hidden, g.int64('scores.last', [-1], [])], { axis: int(1) });
  g.output('scores', emitLinear(g, body.output, last, 'output'), 'float', ['batch', V]);
  let mapping: OnnxMapping | null = null;
  if (o.signals) {
    g.output('embedding', body.embedding, 'float', ['batch', T, C]);
    const intermediates = body.intermediates.map((v, i) => {
      g.output(`intermediate_${i}`, v, 'float', ['batch', T, C]);
      return `intermediate_${i}`;
    });
    g.output('logits', emitLinear(g, body.output, body.hidden, 'output'), 'float', ['batch', T, V]);
    mapping = {
      input: { name: 'ids', dtype: inputType }, vocabSize: V, hidden: C, maxLength: T, kind,
      outputs: { embedding: 'embedding', intermediates, logits: 'logits', scores: 'scores' },
    };
  }
  const bytes = g.encode({ opset: o.opset ?? MIN_OPSET, graphName: kind, docString: `adarec ${kind}, ${model.parameterCount()} parameters, maxLength ${T}` });
  if (mapping) mapping.sha256 = createHash('sha256').update(bytes).digest('hex'); // the teacher refuses a file that is not these bytes
  return { bytes, mapping, kind };
}
