// What the HTML report of a run folder shows, as plain data: `pipeline/run-folder.ts` reads a run
// folder into a ReportPage (saying what is missing where a run is still going or is older than a
// file), `html.ts` renders it.
import type { DatasetStats } from '../data/stats.js';
import type { AlphaHistory, TradeoffPoint } from './charts.js';
import type { CellPicture } from './cell-svg.js';
import type { LineSeries } from './line-chart.js';

/** A part of the page that could not be shown, and why (a sentence naming the file). */
export interface Missing { missing: string }
export type Part<T> = T | Missing;

export function isMissing<T>(p: Part<T>): p is Missing {
  return typeof p === 'object' && p !== null && 'missing' in p;
}

/** One metric of a row: the mean over its seeds, each seed's value, and the 95% interval of the mean (two or more seeds). */
export interface Estimate {
  mean: number;
  seeds: number[];
  low?: number;
  high?: number;
}

export interface ResultRowView {
  name: string;
  kind: 'teacher' | 'student' | 'baseline';
  /** Stage folders of its seeds (their training curves), first seed first; empty when unknown. */
  stages: string[];
  /** How many seeds the figures are means over. */
  seeds: number;
  /** Full-ranking test metrics with intervals over the seeds: hr@10, ndcg@10, mrr@10. */
  full: Record<string, Estimate>;
  /** Sampled-protocol test metrics (means), when the data has negatives. */
  sampled: Record<string, number> | null;
  params: number;
  nonEmbeddingParams: number;
  macs: number;
  latencyMs: number;
  /** One cell's operators, for searched and random students. */
  genotype?: string[];
}

export interface ResultsView {
  rows: ResultRowView[];
  /** False when the table is assembled from the stages finished so far (no results.json yet). */
  final: boolean;
  /** Sentences under the table (protocols, baselines, latency budget). */
  notes: string[];
}

export interface CellView {
  /** The search stage folder. */
  stage: string;
  picture: CellPicture;
  /** Every cell's operators (cells may differ in a per-cell search). */
  cells: string[][];
  /** Where the genotype comes from when the search has not finished, e.g. 'the argmax after epoch 2 of 10'. */
  note?: string;
}

export interface AlphaView {
  stage: string;
  history: AlphaHistory;
}

/** The training curves of one stage with its seeds (student, student-seed2, ...), or of a random search's candidates. */
export interface CurvesView {
  /** The first stage's folder, e.g. 'student' or 'random-search'. */
  group: string;
  /** One line per stage of the group, e.g. 'student-seed2: finished, best epoch 3 of 3 (1.2 s)'. */
  status: string[];
  lossName: string;
  /** One series per stage (and per phase, for BERT4Rec); for a search, per loss term. */
  loss: LineSeries[];
  metricName: string;
  /** One series per stage, each with its best epoch. */
  validation: LineSeries[];
}

export interface DataView {
  source: string;
  /** The data options the run was prepared with, as given to the command. */
  options: Record<string, unknown>;
  stats: Part<DatasetStats>;
}

export interface ReportPage {
  /** The run folder's name. */
  title: string;
  /** The run folder's path. */
  folder: string;
  /** One line each: how complete the run is. */
  status: string[];
  results: Part<ResultsView>;
  tradeoff: Part<TradeoffPoint[]>;
  cells: Part<CellView[]>;
  alpha: Part<AlphaView[]>;
  curves: Part<CurvesView[]>;
  data: Part<DataView>;
}
