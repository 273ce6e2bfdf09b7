// The AdaRec student family (METHOD.md "Student search space"): operators, cells, the network
// (the supernet when every operator is built on every edge, a student when a genotype picks one)
// and genotypes.
export * from './operators.js';
export * from './mix-edge.js';
export * from './cell.js';
export * from './network.js';
export * from './genotype.js';
