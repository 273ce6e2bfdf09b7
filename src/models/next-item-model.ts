// What every model shares once it has per-position hidden states and a linear output layer:
// full logits, last-position scoring and the next-item loss.
import { F, Tensor, nn, tensor } from '../engine/index.js';
import { candidateLogits, type CandidateSource, type LogitCandidates } from './sampled-softmax.js';
import type { DistillationSignals, SequentialRecommender } from './types.js';

export abstract class NextItemModel extends nn.Module implements SequentialRecommender {
  abstract readonly output: nn.Linear;
  /** The item embedding table (the catalog's input side). */
  protected abstract get itemTable(): nn.Embedding;
  abstract get vocabSize(): number;
  /**
   * Hidden states [B, T, hidden] for item ids [B, T] (int32, left-padded with 0); positionOffset:
   * where ids start in the window (models without position embeddings ignore it).
   */
  abstract hidden(ids: Tensor, positionOffset?: number): Tensor;
  /** See SequentialRecommender.leadingPaddingInert (false unless a model knows better). */
  readonly leadingPaddingInert: boolean = false;
  abstract signals(ids: Tensor, rows?: Tensor | null, candidates?: LogitCandidates | null): DistillationSignals;

  /**
   * signals()'s logits: the output layer on hidden states h ([B, T, C], or [n, C] picked at target
   * rows), over `candidates` only when given (with picked rows).
   */
  protected outputAt(h: Tensor, candidates?: LogitCandidates | null): Tensor {
    if (!candidates) return this.output.forward(h);
    if (h.rank !== 2) throw new Error('signals: logit candidates are scored at target rows; pass the rows');
    return candidateLogits(h, this.output.weight, this.output.bias, candidates);
  }

  /**
   * Whether the catalog's parameters (the item embedding table, the output layer's weight and bias)
   * get slice gradients of the rows and columns a step touches (Tensor.sparseAxis), so that a sampled
   * step and its lazy optimizer update cost O(candidates), not O(catalog). Ops that score every
   * item still give them dense gradients.
   */
  sparseCatalogGradients(on: boolean): void {
    this.itemTable.weight.sparseAxis = on ? 0 : null;
    this.output.weight.sparseAxis = on ? 1 : null;
    if (this.output.bias) this.output.bias.sparseAxis = on ? 0 : null;
  }

  /** Logits [B, T, vocab] at every position. */
  forward(ids: Tensor): Tensor {
    return this.output.forward(this.hidden(ids));
  }

  /** Logits [B, vocab] of the last position only (what evaluation and serving need). */
  scoreLast(ids: Tensor, positionOffset = 0): Tensor {
    return this.output.forward(this.lastHidden(ids, positionOffset));
  }

  /** Hidden states [B, hidden] of the last position: what the output layer turns into scoreLast's logits. */
  lastHidden(ids: Tensor, positionOffset = 0): Tensor {
    const h = this.hidden(ids, positionOffset);
    const [B, T, C] = h.shape;
    return F.reshape(F.narrow(h, 1, T - 1, 1), [B, C]);
  }

  /**
   * Mean next-item cross-entropy: inputs [B, T], targets [B, T] with 0 = padding (ignored).
   * positionOffset as in scoreLast (a batch cut to its longest window). With `candidates`, the
   * sampled loss they describe (models/sampled-softmax.ts): a sampled softmax or gBCE.
   */
  loss(inputs: Tensor, targets: Tensor, positionOffset = 0, candidates?: CandidateSource): Tensor {
    return this.targetLoss(this.hidden(inputs, positionOffset), targets, candidates);
  }

  /**
   * Cross-entropy of hidden states [B, T, C] against targets [B, T] (0 = none), with the output
   * layer run only at positions that have a target: on short-sequence data most positions are
   * padding, and the output layer over the whole catalog is the largest cost of a step. With
   * `candidates`, over those items only (see loss).
   */
  targetLoss(h: Tensor, targets: Tensor, candidates?: CandidateSource): Tensor {
    const [B, T, C] = h.shape;
    const tv = targets.values;
    let n = 0;
    for (let i = 0; i < tv.length; i++) if (tv[i] !== 0) n++;
    if (candidates && n > 0) {
      const rows = new Int32Array(n), positives = new Int32Array(n);
      for (let i = 0, j = 0; i < tv.length; i++) if (tv[i] !== 0) { rows[j] = i; positives[j++] = tv[i]; }
      const picked = n === B * T ? F.reshape(h, [n, C]) : F.embedding(F.reshape(h, [B * T, C]), tensor(rows, [n], 'int32'));
      const c = candidates(positives);
      const { weight, bias } = this.output;
      if (c.kind === 'gbce') return F.gbce(F.linearPicked(picked, weight, bias, positives), F.linearColumns(picked, weight, bias, c.negatives), c.beta);
      let logits = F.linearColumns(picked, weight, bias, c.items);
      if (c.correction) logits = F.sub(logits, tensor(c.correction, [c.items.length], logits.dtype));
      if (c.own) { // more distinct positives than shared: a column of each row's own positive first (masked where it is shared)
        let own = F.add(F.reshape(F.linearPicked(picked, weight, bias, positives), [n, 1]), tensor(c.own.mask, [n, 1], logits.dtype));
        if (c.own.correction) own = F.sub(own, tensor(c.own.correction, [n, 1], logits.dtype));
        logits = F.concat([own, logits], 1);
      }
      return F.crossEntropy(logits, tensor(c.labels, [n], 'int32'), -1, true);
    }
    // the logits feed only the loss: it writes their gradient over them (consume)
    if (n === B * T || n === 0) return F.crossEntropy(this.output.forward(h), targets, 0, true);
    const rows = new Int32Array(n), labels = new Int32Array(n);
    for (let i = 0, j = 0; i < tv.length; i++) if (tv[i] !== 0) { rows[j] = i; labels[j++] = tv[i]; }
    const picked = F.embedding(F.reshape(h, [B * T, C]), tensor(rows, [n], 'int32'));
    return F.crossEntropy(this.output.forward(picked), tensor(labels, [n], 'int32'), 0, true);
  }
}
