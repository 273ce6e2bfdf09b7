// NextItNet (Yuan et al. 2019): item embedding, a stack of residual blocks of two causal dilated
// convolutions each followed by LayerNorm + ReLU, and a linear output over all items.
import { F, Rng, Tensor, nn, zeros } from '../engine/index.js';
import type { DistillationSignals } from './types.js';
import type { LogitCandidates } from './sampled-softmax.js';
import { NextItemModel } from './next-item-model.js';
import { layer, pickRows } from './common.js';

export interface NextItNetConfig {
  /** Vocabulary size including padding id 0 (numItems + 1). */
  vocabSize: number;
  hidden: number;
  /** One entry per residual block; the block's convolutions use dilations d and 2d. */
  dilations: number[];
  kernelSize: number;
  /** 'learned': out = x + eps * block(x), eps a scalar starting at 0 (METHOD.md); 'plain': out = x + block(x). */
  residual: 'learned' | 'plain';
  /** Dropout on the embedding and each block's residual branch; 0 (the reference) when omitted. */
  dropout?: number;
}

export const NEXTITNET_REFERENCE: Omit<NextItNetConfig, 'vocabSize'> = {
  hidden: 256,
  dilations: [1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4],
  kernelSize: 3,
  residual: 'learned',
};

class ResidualBlock extends nn.Module {
  readonly conv1: nn.CausalConv1d;
  readonly conv2: nn.CausalConv1d;
  readonly ln1: nn.LayerNorm;
  readonly ln2: nn.LayerNorm;
  readonly eps: Tensor | null;

  readonly drop: nn.Dropout | null;

  constructor(hidden: number, kernelSize: number, dilation: number, residual: NextItNetConfig['residual'], dropout: number, rng: Rng) {
    super();
    this.drop = dropout > 0 ? this.child('dropout', new nn.Dropout(dropout, rng)) : null;
    this.conv1 = this.child('conv1', new nn.CausalConv1d(hidden, hidden, kernelSize, dilation, rng));
    this.ln1 = this.child('ln1', new nn.LayerNorm(hidden));
    this.conv2 = this.child('conv2', new nn.CausalConv1d(hidden, hidden, kernelSize, 2 * dilation, rng));
    this.ln2 = this.child('ln2', new nn.LayerNorm(hidden));
    this.eps = residual === 'learned' ? this.param('eps', zeros([1])) : null;
  }

  forward(x: Tensor): Tensor {
    let h = this.ln1.forward(this.conv1.forward(x), true);
    h = this.ln2.forward(this.conv2.forward(h), true);
    if (this.drop) h = this.drop.forward(h);
    return F.add(x, this.eps ? F.mul(h, this.eps) : h);
  }
}

export class NextItNet extends NextItemModel {
  readonly embedding: nn.Embedding;
  readonly embeddingDrop: nn.Dropout | null;
  readonly blocks: ResidualBlock[];
  readonly output: nn.Linear;
  protected get itemTable(): nn.Embedding { return this.embedding; }

  constructor(readonly config: NextItNetConfig, rng: Rng) {
    super();
    const { vocabSize, hidden, dilations, kernelSize, residual } = config;
    this.embedding = this.child('embedding', new nn.Embedding(vocabSize, hidden, rng, 1 / Math.sqrt(hidden)));
    this.embeddingDrop = config.dropout ? this.child('embeddingDropout', new nn.Dropout(config.dropout, rng)) : null;
    this.blocks = dilations.map((d, i) => this.child(`blocks.${i}`, new ResidualBlock(hidden, kernelSize, d, residual, config.dropout ?? 0, rng)));
    this.output = this.child('output', new nn.Linear(hidden, vocabSize, rng));
  }

  get vocabSize(): number {
    return this.config.vocabSize;
  }

  private embed(ids: Tensor): Tensor {
    const e = this.embedding.forward(ids);
    return this.embeddingDrop ? this.embeddingDrop.forward(e) : e;
  }

  /** Hidden states [B, T, hidden] for item ids [B, T] (int32, left-padded with 0). */
  hidden(ids: Tensor): Tensor {
    let x = this.embed(ids);
    for (const b of this.blocks) x = layer(() => b.forward(x));
    return x;
  }

  /** Intermediates are the outputs of every second block (8 for the reference 16 blocks). */
  signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): DistillationSignals {
    const embedding = this.embed(ids);
    const intermediates: Tensor[] = [];
    let x = embedding;
    this.blocks.forEach((b, i) => {
      x = b.forward(x);
      if (i % 2 === 1) intermediates.push(x);
    });
    return { embedding, intermediates, logits: this.outputAt(pickRows(x, rows), candidates) };
  }
}
