// Target-oriented distillation (METHOD.md "Search", the loss):
//   (1 - gamma) CE + gamma (L_emb + L_hid + L_logit) + beta L_E
// L_emb: MSE(P_e(student embedding), teacher embedding); L_hid: the EMD many-to-many mapping of the
// student's cell outputs (projected by a shared P_h) onto the teacher's intermediates, with KL
// costs; L_logit: KL(teacher || student) of the logits; L_E: the efficiency cost of the sampled
// operators. Every term can be switched off for ablations; each one's value is reported.
//
// Default mode averages the KL terms and the embedding MSE over real (non-padding) positions;
// paper mode keeps the reference's pads (KL: the sum over positions / B; MSE: over every position). The reference
// also passed its KL arguments the other way round; both modes use KL(teacher || student), the
// direction the method describes (the student is the one that learns).
import { F, Tensor, noGrad, nn, tensor, type Rng } from '../engine/index.js';
import type { LogitCandidates } from '../models/sampled-softmax.js';
import { paddingMask, targetRows } from '../models/common.js';
import type { DistillationSignals } from '../models/types.js';
import { EmdLayerMapping } from './emd.js';

export interface DistillTerms {
  ce: boolean;
  embedding: boolean;
  hidden: boolean;
  logits: boolean;
  efficiency: boolean;
}

export interface DistillOptions {
  gamma: number;
  beta: number;
  terms: DistillTerms;
  /** 'emd': learned many-to-many mapping; 'fixed': student layer i <-> teacher layer ceil((i+1) M / K) - 1 (plain KD). */
  mapping: 'emd' | 'fixed';
  /** KL over real positions (default mode) or over all positions with batch-only averaging (paper). */
  maskPads: boolean;
  /** Logit temperature T of L_logit. */
  temperature: number;
}

/** Loss values of one step (plain numbers, for the logs). */
export interface LossParts {
  total: number;
  ce: number;
  embedding: number;
  hidden: number;
  logits: number;
  efficiency: number;
}

export class Distiller extends nn.Module {
  readonly embeddingProjection: nn.Linear;
  readonly hiddenProjection: nn.Linear;
  readonly emd: EmdLayerMapping;
  /** True when the last loss solved an EMD flow that afterStep() has not applied yet. */
  private pending = false;

  constructor(readonly studentHidden: number, readonly teacherHidden: number, readonly studentLayers: number,
    readonly teacherLayers: number, readonly options: DistillOptions, rng: Rng) {
    super();
    this.embeddingProjection = this.child('embeddingProjection', new nn.Linear(studentHidden, teacherHidden, rng));
    this.hiddenProjection = this.child('hiddenProjection', new nn.Linear(studentHidden, teacherHidden, rng));
    this.emd = new EmdLayerMapping(studentLayers, teacherLayers);
  }

  /** KL(softmax(teacher) || softmax(student)) over the last axis, with this mode's averaging. */
  private kl(teacher: Tensor, student: Tensor, mask: Tensor, temperature = 1): Tensor {
    if (this.options.maskPads) return F.distillKL(teacher, student, temperature, mask);
    const T = student.shape[student.rank - 2];
    return F.mulScalar(F.distillKL(teacher, student, temperature, null), T);
  }

  /**
   * The loss of one batch. `inputs` [B, T] (for the padding mask), `targets` [B, T] (0 = no target),
   * `efficiency` the L_E tensor (or null when not searching). The EMD flow of this step is kept
   * for `afterStep()`. Logits may come at every position ([B, T, vocab]) or, in default mode, at
   * the target positions only ([n, vocab], signals() given targetRows(targets).rows, the teacher's
   * likewise): the same loss, since padded positions have no target and are masked out of the KL.
   * With `candidates` (a large catalog, distill/candidates.ts) the logits are [n, k + m] over them:
   * the CE term is the sampled softmax over the shared columns, the KL is over all k + m columns
   * with the candidates' importance weights.
   */
  loss(student: DistillationSignals, teacher: DistillationSignals | null, inputs: Tensor, targets: Tensor,
    efficiency: Tensor | null, candidates: LogitCandidates | null = null): { loss: Tensor; parts: LossParts } {
    const { gamma, beta, terms } = this.options;
    const parts: LossParts = { total: 0, ce: 0, embedding: 0, hidden: 0, logits: 0, efficiency: 0 };
    const weighted: Tensor[] = [];
    const add = (t: Tensor, w: number, key: keyof LossParts): void => {
      parts[key] = t.item();
      if (w !== 0) weighted.push(w === 1 ? t : F.mulScalar(t, w));
    };
    const atRows = student.logits.rank === 2;
    const labels = atRows ? targetRows(targets).labels : targets;
    if (atRows && labels.size !== student.logits.shape[0])
      throw new Error(`distillation: ${student.logits.shape[0]} rows of student logits for ${labels.size} targets`);
    if (atRows && !this.options.maskPads) throw new Error('distillation: paper mode averages the KL over every position; pass logits at every position');
    if (teacher && teacher.logits.rank !== student.logits.rank)
      throw new Error(`distillation: teacher logits [${teacher.logits.shape.join(', ')}], student logits [${student.logits.shape.join(', ')}]`);
    if (candidates && (!atRows || student.logits.shape[1] !== candidates.k + candidates.shared.items.length))
      throw new Error(`distillation: student logits [${student.logits.shape.join(', ')}] are not over the ${candidates.k} + ${candidates.shared.items.length} candidates`);
    if (terms.ce) add(candidates ? this.sampledCE(student.logits, candidates) : F.crossEntropy(student.logits, labels, 0), teacher ? 1 - gamma : 1, 'ce');
    if (teacher) {
      const mask = paddingMask(inputs);
      if (terms.embedding) add(F.mse(this.embeddingProjection.forward(student.embedding), teacher.embedding, this.options.maskPads ? mask : null), gamma, 'embedding');
      if (terms.hidden) add(this.hiddenLoss(student.intermediates, teacher.intermediates, mask), gamma, 'hidden');
      if (terms.logits) {
        const T = this.options.temperature;
        let kl: Tensor;
        if (candidates) {
          const adjust = tensor(T === 1 ? candidates.adjust : candidates.adjust.map((a) => a * T), student.logits.shape, student.logits.dtype);
          kl = F.distillKL(F.add(teacher.logits, adjust), F.add(student.logits, adjust), T, null);
        } else kl = atRows ? F.distillKL(teacher.logits, student.logits, T, null) : this.kl(teacher.logits, student.logits, mask, T);
        add(kl, gamma, 'logits');
      }
    }
    if (terms.efficiency && efficiency) add(efficiency, beta, 'efficiency');
    if (weighted.length === 0) throw new Error('distillation: every loss term is switched off');
    const loss = weighted.reduce((a, b) => F.add(a, b));
    parts.total = loss.item();
    return { loss, parts };
  }

  /** The CE term over candidates: a sampled softmax over the shared columns (the batch's positives and the drawn items). */
  private sampledCE(logits: Tensor, c: LogitCandidates): Tensor {
    const m = c.shared.items.length;
    if (c.shared.own) throw new Error('distillation: the shared candidates must hold every positive of the batch (no cap)');
    let shared = F.narrow(logits, 1, c.k, m);
    if (c.shared.correction) shared = F.sub(shared, tensor(c.shared.correction, [m], logits.dtype));
    return F.crossEntropy(shared, tensor(c.shared.labels, [c.shared.labels.length], 'int32'), -1);
  }

  private hiddenLoss(hs: Tensor[], ht: Tensor[], mask: Tensor): Tensor {
    const K = hs.length, M = ht.length;
    if (K !== this.studentLayers || M !== this.teacherLayers)
      throw new Error(`distillation: ${K} student and ${M} teacher layers, the mapping was built for ${this.studentLayers} and ${this.teacherLayers}`);
    const projected = hs.map((h) => this.hiddenProjection.forward(h));
    if (this.options.mapping === 'fixed') {
      const terms = projected.map((p, i) => this.kl(ht[Math.ceil(((i + 1) * M) / K) - 1], p, mask));
      return F.mulScalar(terms.reduce((a, b) => F.add(a, b)), 1 / K);
    }
    // D_ij with gradients; the reverse costs only as values, for the teacher-side weight update
    const D = projected.map((p) => ht.map((t) => this.kl(t, p, mask)));
    const Dst = Float64Array.from(D.flatMap((row) => row.map((d) => d.item())));
    const Dts = noGrad(() => Float64Array.from(ht.flatMap((t) => projected.map((p) => this.kl(p, t, mask).item()))));
    const step = this.emd.solve(Dst, Dts);
    this.pending = true;
    let sum: Tensor | null = null;
    for (let i = 0; i < K; i++) for (let j = 0; j < M; j++) {
      const f = step.flow[i * M + j];
      if (f > 1e-12) { const term = F.mulScalar(D[i][j], f); sum = sum ? F.add(sum, term) : term; }
    }
    return sum!;
  }

  /** After the optimiser step: the BERT-EMD update of the layer weights from this step's flow. */
  afterStep(): void {
    if (this.pending) this.emd.update();
    this.pending = false;
  }

  /**
   * Drops this step's flow without updating the layer weights: after a step that trained something
   * else (the bi-level search's alpha step on a held-out batch), so that only the weights' steps
   * move the mapping.
   */
  discardStep(): void {
    this.pending = false;
  }
}
