// The AdaRec network: item + learned position embedding (dropout 0.1), K cells, a linear output
// over all items. With every candidate operator on every edge it is the supernet the search
// trains; with one operator per edge (a genotype) it is the derived student. Without position
// embeddings (`positions: 'none'`) a causal student depends only on the items it has seen, so it
// can be served incrementally per event (src/serve/stream.ts). `convNorm` picks the norm after
// every convolution: METHOD.md's batch norm, whose training-mode statistics see later positions,
// or a causal one (ops/conv.ts).
import { F, Rng, Tensor, nn } from '../../engine/index.js';
import { NextItemModel } from '../next-item-model.js';
import { layer, paddingMask, pickRows, positionIds } from '../common.js';
import type { DistillationSignals } from '../types.js';
import type { LogitCandidates } from '../sampled-softmax.js';
import { Cell, cellEdges, type EdgeMix } from './cell.js';
import type { ConvNorm, EdgeContext, OperatorSpec } from './ops/edge-op.js';

export interface AdaRecNetConfig {
  vocabSize: number;
  maxLength: number;
  hidden: number;
  cells: number;
  nodes: number;
  /** The operator list (alpha's columns, in order). */
  operators: readonly OperatorSpec[];
  /**
   * The operators built per cell and edge, as column indices: null = the supernet (all of them
   * everywhere); otherwise one list per cell of one column per edge (the genotype).
   */
  genotype: number[][] | null;
  /** Dropout on the embedding output (METHOD.md: 0.1). */
  dropout: number;
  /** 'learned' (METHOD.md, the default when absent): a position embedding over maxLength; 'none': items only. */
  positions?: 'learned' | 'none';
  /**
   * The norm after each convolution: 'batch' (METHOD.md; what an absent field means, so configs
   * and checkpoints written before the option load as they were), 'layer' or 'none' (ops/conv.ts).
   */
  convNorm?: ConvNorm;
}

/** How the supernet's edges are mixed in the next forwards: weights and which columns to compute. */
export interface NetworkMix {
  weights: Tensor;
  /** Per alpha row (cells x edges when per-cell, edges when shared), the columns to compute. */
  active: number[][];
  /** True when alpha has one row block per cell. */
  perCell: boolean;
}

export class AdaRecNet extends NextItemModel {
  readonly itemEmbedding: nn.Embedding;
  /** Null when built with positions: 'none'. */
  readonly positionEmbedding: nn.Embedding | null;
  readonly drop: nn.Dropout;
  readonly cells: Cell[];
  readonly output: nn.Linear;
  protected get itemTable(): nn.Embedding { return this.itemEmbedding; }
  /** Set by the search before a forward; null for a derived student. */
  mix: NetworkMix | null = null;
  /** Whether an operator built here reads the padding mask (the running mean). */
  private readonly readsPadding: boolean;

  constructor(readonly config: AdaRecNetConfig, rng: Rng) {
    super();
    const { vocabSize, maxLength, hidden, cells, nodes, operators, genotype } = config;
    const E = cellEdges(nodes).length;
    if (genotype && (genotype.length !== cells || genotype.some((g) => g.length !== E)))
      throw new Error(`a genotype needs ${cells} cells x ${E} edges of operator columns`);
    this.itemEmbedding = this.child('itemEmbedding', new nn.Embedding(vocabSize, hidden, rng, 1 / Math.sqrt(hidden)));
    this.positionEmbedding = config.positions === 'none' ? null
      : this.child('positionEmbedding', new nn.Embedding(maxLength, hidden, rng, 1 / Math.sqrt(hidden)));
    this.drop = this.child('dropout', new nn.Dropout(config.dropout, rng));
    const all = operators.map((_, o) => o);
    this.cells = Array.from({ length: cells }, (_, k) => this.child(`cells.${k}`, new Cell(hidden, nodes, operators,
      genotype ? genotype[k].map((o) => [o]) : Array.from({ length: E }, () => all), rng, config.convNorm ?? 'batch')));
    this.output = this.child('output', new nn.Linear(hidden, vocabSize, rng));
    const built = genotype ? genotype.flat() : all;
    this.readsPadding = built.some((o) => operators[o].kind === 'mean');
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  get edgesPerCell(): number {
    return this.cells[0].edges.length;
  }

  /** Embeddings of ids [B, T] taken as positions positionOffset..positionOffset+T-1 of a window. */
  private embed(ids: Tensor, positionOffset = 0): Tensor {
    const [B, T] = ids.shape;
    const items = this.itemEmbedding.forward(ids);
    if (!this.positionEmbedding) return this.drop.forward(items);
    if (positionOffset + T > this.config.maxLength)
      throw new Error(`AdaRecNet: positions up to ${positionOffset + T}, the position embedding has ${this.config.maxLength}`);
    return this.drop.forward(F.add(items, this.positionEmbedding.forward(positionIds(B, T, positionOffset))));
  }

  private cellMix(k: number): EdgeMix | null {
    const m = this.mix;
    if (!m) return null;
    const E = this.edgesPerCell, offset = m.perCell ? k * E : 0;
    return { weights: m.weights, rowOffset: offset, active: m.active.slice(offset, offset + E) };
  }

  /** Hidden states [B, T, hidden]; positionOffset: where ids start in the window (a crop of its end). */
  hidden(ids: Tensor, positionOffset = 0): Tensor {
    let x = this.embed(ids, positionOffset);
    const context = this.context(ids);
    this.cells.forEach((c, k) => { const input = x; x = layer(() => c.forward(input, this.cellMix(k), context)); });
    return x;
  }

  /** The edges' view of a window's padding: a mask only when an operator reads it (the running mean). */
  private context(ids: Tensor): EdgeContext {
    return { keep: this.readsPadding ? paddingMask(ids) : null };
  }

  /** Intermediates are the K cell outputs. */
  signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): DistillationSignals {
    const embedding = this.embed(ids);
    const intermediates: Tensor[] = [];
    let x = embedding;
    const context = this.context(ids);
    this.cells.forEach((c, k) => { x = c.forward(x, this.cellMix(k), context); intermediates.push(x); });
    return { embedding, intermediates, logits: this.outputAt(pickRows(x, rows), candidates) };
  }
}
