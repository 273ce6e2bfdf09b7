// adarec as a library.
export * from './engine/index.js';
export { NextItNet, NEXTITNET_REFERENCE, type NextItNetConfig } from './models/nextitnet.js';
export { syntheticSequences, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './data/synthetic.js';
export { nextItemBatch, type TrainingBatch } from './data/batch.js';
