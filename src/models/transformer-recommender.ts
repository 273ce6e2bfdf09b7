// The transformer teachers' shared body: item + learned position embeddings, dropout, a stack of
// TransformerBlocks, a final LayerNorm and a linear output over all items. SASRec runs it causally;
// BERT4Rec bidirectionally with a [MASK] token, then causally after its autoregressive finetune.
import { F, Rng, Tensor, isGradEnabled, nn } from '../engine/index.js';
import { layer, paddingMask, pickRows, positionIds } from './common.js';
import { TransformerBlock, type TransformerBlockConfig } from './transformer-block.js';
import type { DistillationSignals } from './types.js';
import type { LogitCandidates } from './sampled-softmax.js';
import { NextItemModel } from './next-item-model.js';

export interface TransformerRecommenderConfig extends TransformerBlockConfig {
  /** numItems + 1 (0 is padding). */
  vocabSize: number;
  blocks: number;
  /** Longest input the position embedding covers. */
  maxLength: number;
}

export class TransformerRecommender extends NextItemModel {
  readonly itemEmbedding: nn.Embedding;
  readonly positionEmbedding: nn.Embedding;
  readonly drop: nn.Dropout;
  readonly blocks: TransformerBlock[];
  readonly finalNorm: nn.LayerNorm;
  readonly output: nn.Linear;
  protected get itemTable(): nn.Embedding { return this.itemEmbedding; }

  /** extraTokens: embedding rows after the items (BERT4Rec's [MASK]). */
  constructor(readonly config: TransformerRecommenderConfig, causal: boolean, rng: Rng, extraTokens = 0) {
    super();
    const c = config;
    this.itemEmbedding = this.child('itemEmbedding', new nn.Embedding(c.vocabSize + extraTokens, c.hidden, rng, 1 / Math.sqrt(c.hidden)));
    this.positionEmbedding = this.child('positionEmbedding', new nn.Embedding(c.maxLength, c.hidden, rng, 1 / Math.sqrt(c.hidden)));
    this.drop = this.child('dropout', new nn.Dropout(c.dropout, rng));
    this.blocks = Array.from({ length: c.blocks }, (_, i) => this.child(`blocks.${i}`, new TransformerBlock(c, causal, rng)));
    this.finalNorm = this.child('finalNorm', new nn.LayerNorm(c.hidden));
    this.output = this.child('output', new nn.Linear(c.hidden, c.vocabSize, rng));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  /** Padded keys are masked out of every attention, so leading padding changes no real position. */
  override readonly leadingPaddingInert = true;

  /** Embeddings of ids [B, T] taken as positions positionOffset.. of the window (a crop of its end). */
  protected embed(ids: Tensor, positionOffset = 0): Tensor {
    const [B, T] = ids.shape;
    if (positionOffset + T > this.config.maxLength)
      throw new Error(`input length ${positionOffset + T} exceeds the model's maxLength ${this.config.maxLength}`);
    const pos = positionIds(B, T, positionOffset);
    return this.drop.forward(F.add(this.itemEmbedding.forward(ids), this.positionEmbedding.forward(pos)));
  }

  /**
   * Hidden states [B, hidden] of the last position (scoreLast's input to the output layer). Without
   * a tape the top block runs its query, residuals and FFN at the last position only (keys and
   * values still at every position).
   */
  override lastHidden(ids: Tensor, positionOffset = 0): Tensor {
    if (isGradEnabled()) return super.lastHidden(ids, positionOffset);
    const mask = paddingMask(ids);
    let x = this.embed(ids, positionOffset);
    const top = this.blocks.length - 1;
    for (let i = 0; i < top; i++) { const input = x; x = layer(() => this.blocks[i].forward(input, mask)); }
    return this.finalNorm.forward(this.blocks[top].forwardLast(x, mask));
  }

  /** Intermediates are every block's output (8 for the reference size). */
  signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): DistillationSignals {
    const mask = paddingMask(ids);
    const embedding = this.embed(ids);
    const intermediates: Tensor[] = [];
    let x = embedding;
    for (const b of this.blocks) intermediates.push((x = b.forward(x, mask)));
    return { embedding, intermediates, logits: this.outputAt(this.finalNorm.forward(pickRows(x, rows)), candidates) };
  }

  /** Final hidden states [B, T, hidden] (after the final LayerNorm). */
  hidden(ids: Tensor, positionOffset = 0): Tensor {
    const mask = paddingMask(ids);
    let x = this.embed(ids, positionOffset);
    for (const b of this.blocks) x = layer(() => b.forward(x, mask));
    return this.finalNorm.forward(x);
  }
}
