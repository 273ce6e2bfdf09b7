// The training configuration: one zod schema gives the TypeScript type, the defaults (METHOD.md's
// reference sizes and optimisers) and the error messages. A config file is JSON of the schema's
// input type; every key is optional except model.kind, and unknown keys are errors.
import { z } from 'zod';
import type { Rng } from '../engine/index.js';
import { METRIC_PATTERN } from '../eval/metrics.js';
import { BERT4Rec } from '../models/bert4rec.js';
import { NextItNet } from '../models/nextitnet.js';
import { SASRec } from '../models/sasrec.js';
import { genotypeColumns, validateGenotype, type Genotype } from '../models/adarec/genotype.js';
import { AdaRecNet } from '../models/adarec/network.js';
import type { SequentialRecommender } from '../models/types.js';
import { parseConfig, readJsonFile } from '../util/config-file.js';

const positiveInt = z.number().int().positive();
const positive = z.number().positive().finite();
const residual = z.enum(['learned', 'plain']).default('learned');

const nextItNet = z.object({
  kind: z.literal('nextitnet'),
  hidden: positiveInt.default(256),
  /** One entry per residual block; the block's two convolutions use dilations d and 2d. */
  dilations: z.array(positiveInt).min(1).default([1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4, 1, 4]),
  kernelSize: positiveInt.default(3),
  residual,
  /** Dropout on the embedding and on each block's residual branch (0 = the reference model, none). */
  dropout: z.number().min(0).lt(1).default(0),
}).strict();

const transformerFields = {
  hidden: positiveInt.default(128),
  heads: positiveInt.default(4),
  blocks: positiveInt.default(8),
  ffnMultiplier: positiveInt.default(4),
  dropout: z.number().min(0).lt(1).default(0.2),
  residual,
};

const sasRec = z.object({ kind: z.literal('sasrec'), ...transformerFields }).strict();

const bert4Rec = z.object({
  kind: z.literal('bert4rec'),
  ...transformerFields,
  /** Probability that an item is replaced by [MASK] in masked pre-training. */
  maskProb: z.number().gt(0).max(1).default(0.5),
  /** Masked pre-training epochs, run before the `epochs` causal (autoregressive) finetune epochs. */
  pretrainEpochs: z.number().int().min(0).default(50),
  /** Learning rate of the causal finetune (METHOD.md: 2e-5); `optimizer.lr` drives pre-training. */
  finetuneLr: positive.default(2e-5),
  /** Dropout of the causal finetune; unset: `dropout`, the rate of pre-training (small data wants more). */
  finetuneDropout: z.number().min(0).lt(1).optional(),
}).strict();

/** A student derived by the search: the cell network of a genotype (genotype.json of a search). */
const adarecStudent = z.object({
  kind: z.literal('adarec'),
  hidden: positiveInt.default(64),
  genotype: z.object({
    operators: z.array(z.string()).min(1),
    nodes: positiveInt,
    cells: z.array(z.array(z.string())).min(1),
    probabilities: z.array(z.array(z.number())).optional(),
  }).strict(),
  /** Dropout on the embedding output (METHOD.md: 0.1). */
  dropout: z.number().min(0).lt(1).default(0.1),
  /**
   * 'learned' (METHOD.md; what an absent field means, so older configs, checkpoints and stage keys
   * stay as they were) or 'none': no position embedding, which lets a causal student stream per event.
   */
  positions: z.enum(['learned', 'none']).optional(),
  /**
   * The norm after every convolution (models/adarec/ops/conv.ts): 'batch' (METHOD.md; what an
   * absent field means, so older configs, checkpoints and stage keys stay as they were), 'layer'
   * (causal in training too) or 'none'. A student finetuned from a search takes the search's.
   */
  convNorm: z.enum(['batch', 'layer', 'none']).optional(),
}).strict();

/** `"model": "sasrec"` is shorthand for `"model": { "kind": "sasrec" }`. */
const modelSchema = z.preprocess((v) => (typeof v === 'string' ? { kind: v } : v),
  z.discriminatedUnion('kind', [nextItNet, sasRec, bert4Rec, adarecStudent]))
  .superRefine((m, ctx) => {
    if (m.kind === 'adarec') {
      try {
        validateGenotype(m.genotype as Genotype, 'genotype');
      } catch (e) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['genotype'], message: (e as Error).message.replace(/^genotype: /, '') });
      }
    }
    if ((m.kind === 'sasrec' || m.kind === 'bert4rec') && m.hidden % m.heads !== 0)
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['heads'], message: `hidden ${m.hidden} is not divisible by ${m.heads} heads` });
  });

export type ModelKind = 'nextitnet' | 'sasrec' | 'bert4rec' | 'adarec';
/** The teachers (`adarec` students come from a search's genotype). */
export const MODEL_KINDS: readonly ModelKind[] = ['nextitnet', 'sasrec', 'bert4rec'];

const lrDecay = z.object({
  /** lr = base * gamma^floor(epoch / everyEpochs), epochs counted from the start of the phase. */
  gamma: z.number().positive().max(1),
  everyEpochs: positiveInt,
}).strict();

const optimizerInput = z.object({
  name: z.enum(['adam', 'adamw', 'lamb']).optional(),
  lr: positive.optional(),
  weightDecay: z.number().min(0).finite().optional(),
  lrDecay: lrDecay.optional(),
  /** Global gradient-norm clip; null = no clipping. */
  clipNorm: positive.nullable().optional(),
}).strict();

export interface OptimizerConfig {
  name: 'adam' | 'adamw' | 'lamb';
  lr: number;
  weightDecay: number;
  lrDecay: { gamma: number; everyEpochs: number };
  clipNorm: number | null;
}

/**
 * METHOD.md's teacher optimisers. The weight decay of BERT4Rec and every model's clipping are not
 * stated there: BERT4Rec takes SASRec's 0.01, and no model clips unless asked.
 */
export const OPTIMIZER_DEFAULTS: Record<ModelKind, OptimizerConfig> = {
  nextitnet: { name: 'adam', lr: 1e-3, weightDecay: 1e-7, lrDecay: { gamma: 0.9, everyEpochs: 10 }, clipNorm: null },
  sasrec: { name: 'lamb', lr: 5e-3, weightDecay: 0.01, lrDecay: { gamma: 1, everyEpochs: 1 }, clipNorm: null },
  bert4rec: { name: 'lamb', lr: 5e-3, weightDecay: 0.01, lrDecay: { gamma: 1, everyEpochs: 1 }, clipNorm: null },
  // METHOD.md's student finetune (from the search weights): AdamW lr 1e-4, wd 5e-4, decay 0.9 / 10 epochs, clip 5
  adarec: { name: 'adamw', lr: 1e-4, weightDecay: 5e-4, lrDecay: { gamma: 0.9, everyEpochs: 10 }, clipNorm: 5 },
};

/** Which items distillation's CE and logit terms score (distillation.logitItems; the search's logitItems). */
export const logitItemsSchema = z.object({
  over: z.enum(['auto', 'all', 'candidates']).default('auto'),
  topK: positiveInt.default(32),
  negatives: positiveInt.default(1024),
  sampler: z.enum(['uniform', 'popularity']).default('popularity'),
}).strict().default({});

export const trainConfigSchema = z.object({
  model: modelSchema,
  optimizer: optimizerInput.default({}),
  batchSize: positiveInt.default(128),
  /** Epochs of autoregressive training (for BERT4Rec: finetune epochs after model.pretrainEpochs). */
  epochs: positiveInt.default(50),
  /** Input window: the most recent maxLength items of a sequence (and the position-embedding size). */
  maxLength: positiveInt.default(50),
  seed: z.number().int().min(0).max(2 ** 53 - 1).default(1),
  /**
   * Each epoch, put the training items that share a timestamp (within one sequence) in a fresh random
   * order: for logs whose timestamps are coarser than the events (MovieLens: seconds, rated in bursts).
   */
  shuffleTies: z.boolean().default(false),
  earlyStopping: z.object({
    metric: z.string().regex(METRIC_PATTERN, "expected a metric like 'ndcg@10' (hr, ndcg or mrr @ a cut-off)").default('ndcg@10'),
    /** Stop after this many epochs without improvement; null = never stop early. */
    patience: positiveInt.nullable().default(10),
  }).strict().default({}),
  /** Start from the weights of another checkpoint whose parameter names match (e.g. a search's supernet). */
  init: z.object({
    checkpoint: z.string().min(1),
    /** Prefix of the names in that checkpoint to strip (the search saves its supernet under 'net.'). */
    prefix: z.string().default(''),
  }).strict().optional(),
  /** Train with knowledge distillation from a trained teacher: its best.ckpt, or an ONNX model (docs/ONNX.md). */
  distillation: z.object({
    teacher: z.string().min(1),
    /** The mapping file of an ONNX teacher (default: <teacher without .onnx>.mapping.json). */
    teacherMapping: z.string().min(1).optional(),
    gamma: z.number().min(0).max(1).default(0.5),
    terms: z.object({
      ce: z.boolean().default(true), embedding: z.boolean().default(true), hidden: z.boolean().default(true), logits: z.boolean().default(true),
    }).strict().default({}),
    /** 'emd': the many-to-many EMD mapping; 'fixed': student layer i <-> teacher layer ceil((i+1) M / K) - 1 (plain KD). */
    mapping: z.enum(['emd', 'fixed']).default('emd'),
    temperature: positive.default(1),
    /**
     * The items the CE and logit terms score. 'all': every item. 'candidates': at each position the
     * teacher's top `topK` items there and, shared by the batch, its positives and `negatives` items
     * drawn by `sampler` (importance-weighted; the CE term a sampled softmax), so that a step's cost
     * does not grow with the catalog (docs/DESIGN.md). 'auto' (default): candidates above
     * SAMPLED_SOFTMAX_ABOVE (50,000) items, every item below.
     */
    logitItems: logitItemsSchema,
  }).strict().optional(),
  /**
   * The training loss. Absent or kind 'auto': the softmax over every item up to
   * SAMPLED_SOFTMAX_ABOVE items, a sampled softmax above. 'sampled': a softmax over the batch's
   * positives (in-batch negatives for the other rows) and `negatives` items drawn per batch
   * (uniformly or by training popularity; default 1,024 by popularity), with the logQ correction
   * for popularity-distributed candidates. 'gbce': gSASRec's generalised binary cross-entropy, each
   * positive against `negatives` items drawn uniformly per batch (default 256) with calibration `t`
   * (default 0.75; 0 = plain BCE). `sharedPositives` (sampled softmax, default 1,024): at most this
   * many distinct positives of a batch are shared as the other rows' negatives (a uniform choice);
   * beyond it each row scores its own positive in a column of its own, so that a step's columns stay
   * at most sharedPositives + negatives on any catalog. Both sampled losses train the catalog's embedding table and
   * output layer lazily (slice gradients, only the touched rows updated). Autoregressive training
   * only: BERT4Rec's masked phase and distillation keep the full softmax.
   */
  loss: z.object({
    kind: z.enum(['auto', 'full', 'sampled', 'gbce']).default('auto'),
    negatives: positiveInt.optional(),
    sampler: z.enum(['uniform', 'popularity']).optional(),
    t: z.number().min(0).max(1).optional(),
    sharedPositives: positiveInt.optional(),
  }).strict()
    .refine((l) => l.kind !== 'gbce' || l.sampler !== 'popularity', { message: 'gBCE\'s calibration assumes uniform negatives', path: ['sampler'] })
    .refine((l) => l.kind === 'gbce' || l.t === undefined, { message: 'the calibration t is a gbce setting', path: ['t'] })
    .refine((l) => l.kind !== 'gbce' || l.sharedPositives === undefined, { message: 'gBCE shares no positives (each row scores its own)', path: ['sharedPositives'] })
    .optional(),
  validation: z.object({
    /** 'full': rank among all items; 'sampled': among the data set's fixed negatives. */
    protocol: z.enum(['full', 'sampled']).default('full'),
    excludeSeen: z.boolean().default(false),
    batchSize: positiveInt.default(256),
  }).strict().default({}),
}).strict().transform((c) => ({
  ...c,
  optimizer: { ...OPTIMIZER_DEFAULTS[c.model.kind], ...definedOnly(c.optimizer) } as OptimizerConfig,
}));

/** Catalogs larger than this train with a sampled softmax unless `loss.kind` says otherwise. */
export const SAMPLED_SOFTMAX_ABOVE = 50_000;

/** The sampled loss of a config (its `loss`, defaults filled in): a sampled softmax unless kind is 'gbce'. */
export interface SampledLossOptions {
  kind: 'sampled' | 'gbce';
  negatives: number;
  sampler: 'uniform' | 'popularity';
  /** gBCE's calibration. */
  t: number;
  /** Sampled softmax: at most this many distinct positives shared as columns. */
  sharedPositives: number;
}

export function sampledLossOptions(config: TrainConfig): SampledLossOptions {
  const l = config.loss;
  if (l?.kind === 'gbce') return { kind: 'gbce', negatives: l.negatives ?? 256, sampler: 'uniform', t: l.t ?? 0.75, sharedPositives: 0 };
  return { kind: 'sampled', negatives: l?.negatives ?? 1024, sampler: l?.sampler ?? 'popularity', t: 0, sharedPositives: l?.sharedPositives ?? 1024 };
}

/** Whether a distillation config scores its logits over candidates (distillation.logitItems) on a catalog of numItems items. */
export function distillsOverCandidates(over: 'auto' | 'all' | 'candidates', numItems: number): boolean {
  return over === 'candidates' || (over === 'auto' && numItems > SAMPLED_SOFTMAX_ABOVE);
}

/** Whether a config trains with a sampled loss (sampled softmax or gBCE) on a catalog of numItems items. */
export function usesSampledLoss(config: TrainConfig, numItems: number): boolean {
  const kind = config.loss?.kind ?? 'auto';
  return kind === 'sampled' || kind === 'gbce' || (kind === 'auto' && numItems > SAMPLED_SOFTMAX_ABOVE);
}

/** The parsed configuration, every default filled in. Its JSON is itself a valid config file. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** What a config file may hold. */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type ModelConfig = TrainConfig['model'];

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Validates a config (parsed JSON, or an object assembled from command-line options) and fills
 * in the defaults. Throws one Error naming `source` and every bad key path, e.g.
 * "config.json: optimizer.lr: expected number, got string; unknown key 'lerning_rate'".
 */
export function parseTrainConfig(json: unknown, source: string): TrainConfig {
  return parseConfig(trainConfigSchema, json, source);
}

/** Reads and validates a JSON config file. */
export function readTrainConfig(path: string): TrainConfig {
  return parseTrainConfig(readJsonFile(path), path);
}

/** The model a config describes, for a data set of vocabSize - 1 items; weights drawn from rng. */
export function buildModel(config: TrainConfig, vocabSize: number, rng: Rng): SequentialRecommender {
  const m = config.model;
  switch (m.kind) {
    case 'nextitnet':
      return new NextItNet({ vocabSize, hidden: m.hidden, dilations: m.dilations, kernelSize: m.kernelSize, residual: m.residual, dropout: m.dropout }, rng);
    case 'sasrec':
    case 'bert4rec': {
      const c = { vocabSize, maxLength: config.maxLength, hidden: m.hidden, heads: m.heads, blocks: m.blocks,
        ffnMultiplier: m.ffnMultiplier, dropout: m.dropout, residual: m.residual };
      return m.kind === 'sasrec' ? new SASRec(c, rng) : new BERT4Rec(c, rng);
    }
    case 'adarec': {
      const g = m.genotype as Genotype;
      return new AdaRecNet({ vocabSize, maxLength: config.maxLength, hidden: m.hidden, cells: g.cells.length, nodes: g.nodes,
        operators: validateGenotype(g), genotype: genotypeColumns(g), dropout: m.dropout, positions: m.positions, convNorm: m.convNorm }, rng);
    }
  }
}
