// The architecture-search layer (METHOD.md "Student search space" and "Search").
export * from './emd.js';
export * from './operators.js';
