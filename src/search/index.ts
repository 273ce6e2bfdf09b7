// The architecture-search layer (METHOD.md "Search"): Gumbel sampling, the efficiency prices,
// derivation of the genotype, the config and the search loop. The network it trains is
// models/adarec; its loss is distill/.
export * from './efficiency.js';
export * from './gumbel.js';
export * from './derive.js';
export * from './config.js';
export { runSearch, searchOperators, studentHidden, type SearchOptions, type SearchResult, type SearchEpochRecord, type AlphaHistory } from './search.js';
