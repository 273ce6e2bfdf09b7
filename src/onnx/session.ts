// onnxruntime-node sessions as adarec uses them: CPU, one inter-op thread, intra-op threads as our
// engine's kernels (ADAREC_THREADS, default the physical cores) unless given, and the ids input built from our int32
// batches in the dtype the model declares.
import { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { engineThreads } from '../engine/backend/threads.js';

/** A session over a file path or the model bytes; `source` names it in errors. */
export async function openSession(model: string | Uint8Array, source: string, threads = engineThreads()): Promise<InferenceSession> {
  const options: InferenceSession.SessionOptions = {
    executionProviders: ['cpu'], intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  };
  try {
    return typeof model === 'string' ? await InferenceSession.create(model, options) : await InferenceSession.create(model, options);
  } catch (e) {
    throw new Error(`${source}: onnxruntime cannot load the model (${(e as Error).message})`);
  }
}

/** Ids [B, T] (int32, row-major) as an onnxruntime tensor of `dtype`. */
export function idsTensor(ids: Int32Array, B: number, T: number, dtype: 'int64' | 'int32'): OrtTensor {
  return dtype === 'int32' ? new OrtTensor('int32', ids, [B, T]) : new OrtTensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [B, T]);
}
