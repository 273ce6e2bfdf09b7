// The configuration of `adarec run`: the teacher's training config, the search config, and how the
// student and the baselines are trained. Every section is optional; the defaults run the whole
// method on the embedded synthetic data in minutes.
import { z } from 'zod';
import { parseConfig } from '../util/config-file.js';

const positiveInt = z.number().int().positive();

export const runConfigSchema = z.object({
  /** A training config (see `adarec train`); model defaults to NextItNet at the reference size. */
  teacher: z.record(z.unknown()).default({}),
  /** A search config (see docs: mode, estimator, epochs, ...). */
  search: z.record(z.unknown()).default({}),
  student: z.object({
    epochs: positiveInt.default(40),
    patience: positiveInt.default(6),
    /**
     * Finetune learning rate. METHOD.md's reference finetune uses 1e-4; with our few-epoch budgets
     * that leaves the student under-trained, so the default is 1e-3 (set 1e-4 to reproduce).
     */
    lr: z.number().positive().default(1e-3),
    /** Start from the search weights of the chosen operators (the reference) or from scratch. */
    initFromSearch: z.boolean().default(true),
    /**
     * Finetune with CE + the distillation terms (default mode) instead of CE only (the reference):
     * on the synthetic default it lifts the student from the scratch baseline's level to 99% of
     * the teacher (docs/RESULTS.md).
     */
    distill: z.boolean().default(true),
  }).strict().default({}),
  baselines: z.object({
    /** The isomorphic NextItNet student (blocks [1,4] x cells/2... at the student's hidden size) from scratch. */
    scratch: z.boolean().default(true),
    /** The same NextItNet trained with plain KD (fixed layer mapping). */
    kd: z.boolean().default(true),
    /**
     * Random genotypes of similar cost (operator parameters within 25% of the searched cell's),
     * trained as the searched student. When the search chose one conv, these all hold one conv too.
     */
    random: z.number().int().min(0).default(3),
    /** Random genotypes from the whole space (a uniform operator per edge), trained as the searched student. */
    randomAny: z.number().int().min(0).default(3),
    /**
     * Random search with the search's training compute: `candidates` genotypes from the whole space,
     * each trained `epochsEach` epochs (same batches, loss and optimizer as the search's weights), the
     * best on the validation split finetuned as the searched student. Default candidates: the search's
     * epochs / epochsEach (at least 2), so that candidates x epochsEach = the search's epochs. false: skip.
     */
    randomSearch: z.preprocess(
      (v) => (v === true ? {} : v), // true: the defaults
      z.union([
        z.literal(false),
        z.object({ candidates: z.number().int().min(2).optional(), epochsEach: positiveInt.default(2) }).strict(),
      ], { errorMap: (issue, ctx) => ({ message: issue.code === 'invalid_union' ? 'expected true, false or { "candidates": n >= 2, "epochsEach": n >= 1 }' : ctx.defaultError }) }),
    ).default({}),
    /** Searches with one distillation term switched off, each derived and finetuned. */
    ablations: z.array(z.enum(['hidden', 'logits', 'efficiency'])).default([]),
    /** A paper-mode search (the reference's operators and settings) beside the default one. */
    paperMode: z.boolean().default(false),
  }).strict().default({}),
  /**
   * Finetune seeds: the student and every baseline are trained this many times (seeds seed,
   * seed + 1, ...) and the table shows their means (NDCG@10 with its standard deviation); on small
   * data one seed's differences are often a handful of users. The teacher and searches run once.
   */
  seeds: positiveInt.default(1),
  /** Single-sequence latency runs per model. */
  latencyRuns: positiveInt.default(30),
  seed: z.number().int().min(0).default(1),
}).strict();

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/**
 * What `adarec run` uses on the embedded synthetic data when no config is given: a NextItNet
 * teacher of half the reference width and depth (hidden 128, 8 blocks) so that the whole method
 * runs in minutes on a laptop core; real data gets the reference sizes.
 */
export const SYNTHETIC_PRESET: RunConfigInput = {
  teacher: { model: { kind: 'nextitnet', hidden: 128, dilations: [1, 4, 1, 4, 1, 4, 1, 4] }, epochs: 20 },
  search: { epochs: 10 },
  student: { epochs: 30 },
};

export function parseRunConfig(json: unknown, source: string): RunConfig {
  return parseConfig(runConfigSchema, json, source);
}
