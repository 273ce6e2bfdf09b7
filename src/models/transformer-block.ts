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
    return this.feedForward(F.add(x, this.scaleAttention ? F.mul(a, this.scaleAttention) : a));
  }

  /**
   * The block's output at the last position only, [B, hidden], from its input at every position
   * [B, T, hidden]: keys and values of all positions, the query, the residuals and the FFN of the
   * last. Inference only (no tape): what last-position scoring needs of the top block.
   */
  forwardLast(x: Tensor, keyMask: Tensor): Tensor {
    const [B, T, C] = x.shape;
    const last = (t: Tensor): Tensor => F.reshape(F.narrow(t, 1, T - 1, 1), [B, C]);
    const h = this.ln1.forward(x), att = this.attention;
    const q = att.q.forward(last(h));
    const a = this.drop.forward(att.out.forward(F.attentionLastQuery(q, att.k.forward(h), att.v.forward(h), att.heads, keyMask)));
    return this.feedForward(F.add(last(x), this.scaleAttention ? F.mul(a, this.scaleAttention) : a));
  }

  /** x + b * Dropout(FFN(LN(x))), at every position of x. */
  private feedForward(x: Tensor): Tensor {
    const h = this.drop.forward(this.ffnOut.forward(F.relu(this.ffnIn.forward(this.ln2.forward(x)))));
    return F.add(x, this.scaleFfn ? F.mul(h, this.scaleFfn) : h);
  }
}
