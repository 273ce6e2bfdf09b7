// Every differentiable op, in one namespace: `import * as F from './engine/ops/index.js'`.
export * from './elementwise.js';
export * from './shape.js';
export * from './linalg.js';
export * from './nn.js';
export * from './loss.js';
