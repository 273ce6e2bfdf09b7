// The mapping file of an ONNX teacher: which graph input takes the ids (name, dtype) and which
// outputs are the distillation signals, plus the sizes the search and the trainer need before
// running it. Written by `adarec export --signals` next to the model; written by hand for a
// model exported elsewhere (docs/ONNX.md).
import { z } from 'zod';
import { parseConfig, readJsonFile } from '../util/config-file.js';

const name = z.string().min(1);
const positiveInt = z.number().int().positive();

export const onnxMappingSchema = z.object({
  input: z.object({
    name,
    /** The ids' element type: int64 (torch's default for indices) or int32. */
    dtype: z.enum(['int64', 'int32']).default('int64'),
  }).strict(),
  /** Output size: numItems + 1 (id 0 is padding). */
  vocabSize: positiveInt,
  /** Channels of the embedding and intermediate outputs. */
  hidden: positiveInt,
  /** The fixed input length (ids left-padded with 0). */
  maxLength: positiveInt,
  /** The teacher's kind, e.g. 'nextitnet' (a NextItNet teacher's default student is wider). */
  kind: name.default('onnx'),
  outputs: z.object({
    /** [B, T, hidden] */
    embedding: name,
    /** Each [B, T, hidden], in depth order. */
    intermediates: z.array(name).min(1),
    /** [B, T, vocabSize] */
    logits: name,
    /** [B, vocabSize]: the last position's logits (serving). */
    scores: name.optional(),
  }).strict(),
  /**
   * SHA-256 (hex) of the ONNX file; `adarec export --signals` writes it and the teacher refuses a
   * file that does not match (corrupt, or replaced). Optional for mappings written by hand.
   */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits').optional(),
}).strict();

export type OnnxMapping = z.output<typeof onnxMappingSchema>;

/** Reads and validates a mapping file; errors name the file and the field. */
export function readOnnxMapping(path: string): OnnxMapping {
  return parseConfig(onnxMappingSchema, readJsonFile(path), path);
}

/** Where `adarec export --signals` writes the mapping of model.onnx: model.mapping.json. */
export function defaultMappingPath(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/i, '') + '.mapping.json';
}
