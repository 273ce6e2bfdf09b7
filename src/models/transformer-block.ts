// A pre-LayerNorm transformer block with learned residual scales (METHOD.md: SASRec/BERT4Rec):
// x + a * Dropout(Attention(LN(x))), then x + b * Dropout(FFN(LN(x))), a and b scalars starting at 0
// when `residual` is 'learned' (1 and fixed when 'plain').
import { F, Rng, Tensor, nn, zeros } from '../engine/index.js';

export interface TransformerBlockConfig {
  hidden: number;
  heads: number;
  /** Width of the point-wise feed-forward layer, as a multiple of hidden. */
  ffnMultiplier: number;
  dropout: number;
  residual: 'learned' | 'plain';
}

export class TransformerBlock extends nn.Module {
  readonly ln1: nn.LayerNorm;
  readonly attention: nn.MultiHeadAttention;
  readonly ln2: nn.LayerNorm;
  readonly ffnIn: nn.Linear;
  readonly ffnOut: nn.Linear;
  readonly drop: nn.Dropout;
  readonly scaleAttention: Tensor | null;
  readonly scaleFfn: Tensor | null;

  constructor(c: TransformerBlockConfig, causal: boolean, rng: Rng) {
    super();
    this.ln1 = this.child('ln1', new nn.LayerNorm(c.hidden));
    this.attention = this.child('attention', new nn.MultiHeadAttention(c.hidden, c.heads, causal, rng));
    this.ln2 = this.child('ln2', new nn.LayerNorm(c.hidden));
    this.ffnIn = this.child('ffnIn', new nn.Linear(c.hidden, c.hidden * c.ffnMultiplier, rng));
    this.ffnOut = this.child('ffnOut', new nn.Linear(c.hidden * c.ffnMultiplier, c.hidden, rng));
    this.drop = this.child('dropout', new nn.Dropout(c.dropout, rng));
    const learned = c.residual === 'learned';
    this.scaleAttention = learned ? this.param('scaleAttention', zeros([1])) : null;
    this.scaleFfn = learned ? this.param('scaleFfn', zeros([1])) : null;
  }

  set causal(on: boolean) {
    this.attention.causal = on;
  }

  forward(x: Tensor, keyMask: Tensor): Tensor {
    const a = this.drop.forward(this.attention.forward(this.ln1.forward(x), keyMask));
    x = F.add(x, this.scaleAttention ? F.mul(a, this.scaleAttention) : a);
    const h = this.drop.forward(this.ffnOut.forward(F.relu(this.ffnIn.forward(this.ln2.forward(x)))));
    return F.add(x, this.scaleFfn ? F.mul(h, this.scaleFfn) : h);
  }
}
