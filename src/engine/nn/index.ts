export { Module } from './module.js';
export { Linear, Embedding } from './linear.js';
export { LayerNorm, BatchNorm1d } from './norm.js';
export { CausalConv1d } from './conv.js';
export { Dropout } from './dropout.js';
export { MultiHeadAttention } from './attention.js';
export * from './init.js';
