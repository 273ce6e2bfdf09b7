// The engine's public surface.
export { Tensor, tensor, zeros, ones, full, scalar, empty, fromBuffer, clone, sizeOf, setDefaultFloat, getDefaultFloat, type Shape, type DType } from './tensor.js';
export { tidy, keep, pool } from './memory.js';
export { backward, noGrad, isGradEnabled, tapeLength } from './autograd.js';
export { kernels, setBackend, backendName, nativeAvailable, nativeLoadError, type BackendName } from './backend/index.js';
export type { Kernels, FloatArray, QuantizedItems, QuantizedQuery } from './backend/kernels.js';
export { engineThreads, physicalCores } from './backend/threads.js';
export { Rng } from './random.js';
export * as F from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
