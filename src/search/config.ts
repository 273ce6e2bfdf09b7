// The search configuration (one zod schema: types, defaults, error messages), with the two modes
// of METHOD.md: 'paper' reproduces the reference (its operators, alpha lr 2e-5, single-level,
// sampled-genotype validation, pads in the KL terms); 'default' is the corrected behaviour.
import { z } from 'zod';
import { parseConfig } from '../util/config-file.js';
import { METRIC_PATTERN } from '../eval/metrics.js';
import { logitItemsSchema } from '../train/config.js';
import { operatorsByName } from '../models/adarec/operators.js';

/**
 * Default mode's convNorm when the config does not say (paper mode: 'batch', METHOD.md). 'layer':
 * causal in training, and its students scored as well as or better than batch norm's on the
 * synthetic default (docs/RESULTS.md, "The norm after the convolutions").
 */
export const DEFAULT_CONV_NORM: 'batch' | 'layer' | 'none' = 'layer';

/**
 * Default weight of the latency hinge (cost 'latency'). The hinge is zero within the budget and
 * about the excess over it as a fraction of the budget above it, so unlike the MACs price it does
 * not pull a student that fits towards cheaper operators. 0.1: with Adam any consistent gradient
 * outweighs the task's, and an intermittent large one (the 'derived' hinge switching on and off)
 * would also swell Adam's second moment and slow alpha for long after (docs/RESULTS.md,
 * "Searching for a latency budget").
 */
export const LATENCY_BETA = 0.1;

const positiveInt = z.number().int().positive();

/** The latency keys of a parsed config: all present (budget, quantile, path; the table when given) when cost is 'latency', else none. */
interface LatencyKeys {
  cost?: 'latency';
  latencyBudgetMs?: number;
  latencyQuantile?: 'p50' | 'p99';
  latencyPath?: 'window' | 'stream';
  latencyPenalty?: 'derived' | 'expected';
  latencyTable?: string;
}
const positive = z.number().positive().finite();

const termsSchema = z.object({
  ce: z.boolean().default(true),
  embedding: z.boolean().default(true),
  hidden: z.boolean().default(true),
  logits: z.boolean().default(true),
  efficiency: z.boolean().default(true),
}).strict().default({});

export const searchConfigSchema = z.object({
  mode: z.enum(['default', 'paper']).default('default'),
  /** A custom operator list (registry names); default: the mode's set. */
  operators: z.array(z.string()).min(2).optional(),
  /** Student hidden size; default 64 for a NextItNet teacher, 32 for SASRec/BERT4Rec (METHOD.md). */
  hidden: positiveInt.optional(),
  cells: positiveInt.default(4),
  nodes: positiveInt.default(3),
  /** One genotype per cell instead of one shared by all cells. */
  perCell: z.boolean().default(false),
  dropout: z.number().min(0).lt(1).default(0.1),
  /** Position embedding of the network and its students: 'learned' (METHOD.md; when absent) or 'none' (students that can stream per event). */
  positions: z.enum(['learned', 'none']).optional(),
  /**
   * The norm after every convolution of the supernet and its students (models/adarec/ops/conv.ts).
   * 'batch': METHOD.md's BatchNorm1d, paper mode's default; its training-mode statistics over
   * batch x time let a position see later positions of every sequence in the batch (padding
   * included), a leak the search and the finetune train with and serving does not have. 'layer':
   * LayerNorm over the channels of each position, causal. 'none': no norm. Default mode's default:
   * DEFAULT_CONV_NORM, chosen by measurement (docs/RESULTS.md). The parsed config holds the key
   * only when it is not 'batch' (searchConvNorm).
   */
  convNorm: z.enum(['batch', 'layer', 'none']).optional(),
  /**
   * How alpha's gradient is estimated. 'all' (default): every operator's output is computed, so
   * every entry of alpha gets the exact straight-through gradient <dL/dedge, o(x)>; unsampled
   * operators run forward only (no backward). 'single-path' (GDAS): only the sampled operator is
   * computed and only its entry of alpha moves, a biased estimate (cheaper by the other forwards).
   */
  estimator: z.enum(['all', 'single-path']).default('all'),
  epochs: positiveInt.default(20),
  batchSize: positiveInt.default(128),
  maxLength: positiveInt.default(50),
  seed: z.number().int().min(0).max(2 ** 53 - 1).default(1),
  gamma: z.number().min(0).max(1).default(0.5),
  /**
   * Weight of the efficiency term. Paper mode: METHOD.md's 8. Default mode: 0.01. Alpha is stepped
   * by Adam, which normalises each entry's gradient, so a deterministic cost gradient outweighs the
   * noisy task gradient at almost any scale: at beta 1 and 8 every edge drifted to pools, skip and
   * none; at 0.01 the task decides between convolutions and pools while the cost still prefers k3
   * over k5 (docs/RESULTS.md).
   */
  beta: z.number().min(0).finite().optional(),
  /**
   * What the efficiency term prices. 'macs' (METHOD.md; what an absent key means): each operator's
   * MAC and parameter counts (search/efficiency.ts opCosts). 'latency': the operators' measured
   * latencies on the serving machine (a table of `adarec profile-ops`: latencyTable, or profiled
   * by the caller), and the term is the hinge max(0, E[latency] / latencyBudgetMs - 1) on the
   * expected latency of the student under softmax(alpha); the genotype is then derived within the
   * budget (search/latency.ts).
   */
  cost: z.enum(['macs', 'latency']).optional(),
  /** The serving-latency budget of the student in milliseconds (batch 1, last position); cost 'latency' only. */
  latencyBudgetMs: positive.optional(),
  /** Which quantile the budget bounds: 'p99' (default) or 'p50' (a shared machine's p99 is set by other processes, docs/RESULTS.md). */
  latencyQuantile: z.enum(['p50', 'p99']).optional(),
  /**
   * The hinge (search/latency.ts): 'derived' (default) is on while the genotype the search would
   * derive now (alpha's argmax) is predicted over the budget; 'expected' while E_p[latency] is,
   * which with alpha near uniform drove every budget to cells of skip and none (docs/RESULTS.md).
   * Both take alpha's gradient from E_p[latency].
   */
  latencyPenalty: z.enum(['derived', 'expected']).optional(),
  /** The serving path priced: 'window' (default: the receptive-field crop of a window) or 'stream' (one event of a session; positions 'none'). */
  latencyPath: z.enum(['window', 'stream']).optional(),
  /** The latency table (a file of `adarec profile-ops`); absent: `adarec run` and `adarec search` profile this machine first. */
  latencyTable: z.string().min(1).optional(),
  terms: termsSchema,
  /** Logit distillation temperature. */
  temperature: positive.default(1),
  gumbel: z.object({
    initial: positive.default(1),
    decay: z.number().positive().max(1).default(0.8),
    everyEpochs: positiveInt.default(5),
  }).strict().default({}),
  optimizer: z.object({ lr: positive.default(5e-3), weightDecay: z.number().min(0).default(5e-4), clipNorm: positive.nullable().default(5) }).strict().default({}),
  alphaOptimizer: z.object({ lr: positive.optional(), weightDecay: z.number().min(0).default(1e-4) }).strict().default({}),
  /**
   * Epochs in which only the weights train and alpha stays put: untrained convolutions lose to
   * parameter-free operators early on (the DARTS collapse towards skip/pool), so a warm-up lets
   * every operator become useful before alpha chooses.
   */
  alphaWarmupEpochs: z.number().int().min(0).default(0),
  /** First-order bi-level (alpha stepped on a held-out slice of the training sequences); default mode only. */
  bilevel: z.boolean().default(false),
  heldOutFraction: z.number().gt(0).lt(1).default(0.2),
  validation: z.object({
    protocol: z.enum(['full', 'sampled']).default('full'),
    metric: z.string().regex(METRIC_PATTERN, "expected a metric like 'ndcg@10'").default('ndcg@10'),
    /** 'argmax': validate the derived genotype; 'sampled': a Gumbel sample per batch (the reference). */
    genotype: z.enum(['argmax', 'sampled']).optional(),
    batchSize: positiveInt.default(256),
  }).strict().default({}),
  /** Keep the teacher's signals of every training sequence in memory after the first epoch. */
  cacheTeacher: z.boolean().default(false),
  /**
   * The items the CE and logit terms score, as in a distillation config (distillation.logitItems):
   * 'candidates' (the teacher's top k per position, the batch's positives and drawn items) above
   * 50,000 items by default, every item below. Default mode only; not with cacheTeacher.
   */
  logitItems: logitItemsSchema,
}).strict().superRefine((c, ctx) => {
  // before the transform, which drops the latency keys of a config that is not latency-priced
  const issue = (path: string, message: string): void => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
  if (c.operators) {
    try {
      operatorsByName(c.operators); // the registry's own check: unknown or repeated names
    } catch (e) {
      issue('operators', (e as Error).message);
    }
  }
  if (c.logitItems.over === 'candidates' && c.mode === 'paper') issue('logitItems', 'paper mode scores every item at every position: use over "all" or default mode');
  if (c.logitItems.over === 'candidates' && c.cacheTeacher) issue('logitItems', 'cacheTeacher keeps logits over every item: not with over "candidates"');
  if (c.cost === 'latency') {
    if (c.latencyBudgetMs === undefined) issue('latencyBudgetMs', 'required with cost "latency" (the serving budget in milliseconds)');
    if (c.latencyPath === 'stream' && c.positions !== 'none') issue('latencyPath', 'the stream path serves students without position embeddings: set positions "none"');
  } else {
    for (const k of ['latencyBudgetMs', 'latencyQuantile', 'latencyPath', 'latencyPenalty', 'latencyTable'] as const)
      if (c[k] !== undefined) issue(k, 'needs cost "latency"');
  }
}).transform((c) => {
  const paper = c.mode === 'paper';
  // batch norm is left out of the parsed config (as before the option existed), so that the stage
  // keys and checkpoints of batch-norm searches stay as they were; read it with searchConvNorm()
  const { convNorm: asked, cost, latencyBudgetMs, latencyQuantile, latencyPath, latencyPenalty, latencyTable, ...rest } = c;
  const convNorm = asked ?? (paper ? 'batch' : DEFAULT_CONV_NORM);
  // likewise the latency keys appear only in latency-priced configs, so MACs-priced ones keep their keys
  const latency: LatencyKeys = cost === 'latency'
    ? {
      cost, latencyBudgetMs, latencyQuantile: latencyQuantile ?? 'p99' as const, latencyPath: latencyPath ?? 'window' as const,
      latencyPenalty: latencyPenalty ?? 'derived' as const, ...(latencyTable ? { latencyTable } : {}),
    }
    : {};
  return {
    ...rest,
    ...(convNorm !== 'batch' ? { convNorm } : {}),
    ...latency,
    beta: c.beta ?? (paper ? 8 : cost === 'latency' ? LATENCY_BETA : 0.01),
    alphaOptimizer: { ...c.alphaOptimizer, lr: c.alphaOptimizer.lr ?? (paper ? 2e-5 : 1e-2) },
    validation: { ...c.validation, genotype: c.validation.genotype ?? (paper ? 'sampled' as const : 'argmax' as const) },
  };
}).superRefine((c, ctx) => {
  if (c.bilevel && c.mode === 'paper') ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bilevel'], message: 'paper mode is single-level (the reference); use mode "default" for bi-level' });
});

export type SearchConfig = z.output<typeof searchConfigSchema>;

/** The norm after the convolutions of a parsed search config (absent: 'batch'). */
export function searchConvNorm(c: SearchConfig): 'batch' | 'layer' | 'none' {
  return c.convNorm ?? 'batch';
}
export type SearchConfigInput = z.input<typeof searchConfigSchema>;

export function parseSearchConfig(json: unknown, source: string): SearchConfig {
  return parseConfig(searchConfigSchema, json, source);
}
