// The architecture-search layer (METHOD.md "Student search space" and "Search").
export * from './emd.js';
export * from './operators.js';
export * from './gumbel.js';
export * from './cell.js';
export * from './network.js';
export * from './genotype.js';
export * from './distill.js';
export * from './config.js';
export { runSearch, searchOperators, studentHidden, type SearchOptions, type SearchResult, type SearchEpochRecord, type AlphaHistory } from './search.js';
