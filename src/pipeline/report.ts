// The run's report: the results table (printed, report.md, results.json) and the pictures
// (cell.svg: the searched cell; alpha.svg: alpha over the search epochs; tradeoff.svg: accuracy vs
// cost of teacher, baselines and student). report.html is read back from the run folder by
// run-folder.ts, so that `adarec report` draws the same page for any run, finished or not.
import { join } from 'node:path';
import { cellEdges } from '../models/adarec/cell.js';
import type { Genotype } from '../models/adarec/genotype.js';
import type { AlphaHistory } from '../search/search.js';
import { formatSeconds } from '../train/progress.js';
import { alphaHeatmapSvg, cellSvg, tradeoffSvg } from '../report/index.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { ModelFigures } from './measure.js';
import { describeLatencyCheck, type LatencyCheck } from './latency.js';

/** Which baseline a row is (results.json). */
export type BaselineKind = 'scratch' | 'kd' | 'random-cost-matched' | 'random-latency-matched' | 'random-any' | 'random-search' | 'ablation' | 'paper-mode';

export interface ReportRow {
  name: string;
  kind: 'teacher' | 'student' | 'baseline';
  baseline?: BaselineKind;
  figures: ModelFigures;
  /** One cell's operators, for searched and random students. */
  genotype?: string[];
  /** Each finetune seed's NDCG@10 when the figures are means over seeds. */
  seedNdcg10?: number[];
  /** The stage folders of its seeds, first seed first (their stage.json holds each seed's figures; runs before report.html lack it). */
  stages?: string[];
  /** The random search's budget and choice (its candidates in random-search/candidates.json). */
  randomSearch?: { candidates: number; epochsEach: number; searchEpochs: number; chosen: number; metric: string; validation: number | null; seconds: number; searchSeconds: number | null };
}

/** Sample standard deviation. */
function sd(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

const f4 = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(4));
const count = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : String(x));

/** The results table as Markdown. */
export function resultsTable(rows: readonly ReportRow[], teacher: ReportRow): string {
  const head = '| model | HR@10 | NDCG@10 | MRR@10 | MRR@5 (s) | HR@5 (s) | NDCG@5 (s) | params | non-emb. params | MACs | p50 ms | speed-up |';
  const lines = rows.map((r) => {
    const f = r.figures;
    const ndcg = r.seedNdcg10 ? `${f4(f.full['ndcg@10'])} ± ${f4(sd(r.seedNdcg10))}` : f4(f.full['ndcg@10']);
    return `| ${r.name} | ${f4(f.full['hr@10'])} | ${ndcg} | ${f4(f.full['mrr@10'])} | ${f4(f.sampled?.['mrr@5'])} | ` +
      `${f4(f.sampled?.['hr@5'])} | ${f4(f.sampled?.['ndcg@5'])} | ${count(f.params)} | ${count(f.nonEmbeddingParams)} | ${count(f.macs)} | ` +
      `${f.latencyP50Ms.toFixed(2)} | ${(teacher.figures.latencyP50Ms / f.latencyP50Ms).toFixed(1)}x |`;
  });
  return [head, `|${'---|'.repeat(12)}`, ...lines].join('\n');
}

/**
 * The terminal's summary of the table, in at most `width` columns: full-ranking metrics, size and
 * latency, names cut to fit (the sampled metrics and non-embedding parameters are in report.md).
 */
export function summaryTable(rows: readonly ReportRow[], teacher: ReportRow, width = 100): string {
  const head = ['model', 'HR@10', 'NDCG@10', 'MRR@10', 'params', 'MACs', 'p50 ms', 'speed-up'];
  const body = rows.map((r) => {
    const f = r.figures;
    const ndcg = r.seedNdcg10 ? `${f4(f.full['ndcg@10'])}±${f4(sd(r.seedNdcg10))}` : f4(f.full['ndcg@10']);
    return [r.name, f4(f.full['hr@10']), ndcg, f4(f.full['mrr@10']), count(f.params), count(f.macs),
      f.latencyP50Ms.toFixed(2), `${(teacher.figures.latencyP50Ms / f.latencyP50Ms).toFixed(1)}x`];
  });
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c].length)));
  const gap = 2;
  const rest = widths.slice(1).reduce((a, w) => a + w + gap, 0);
  widths[0] = Math.max(8, Math.min(widths[0], width - rest));
  const cut = (t: string): string => (t.length > widths[0] ? `${t.slice(0, widths[0] - 1)}…` : t);
  const line = (cells: string[]): string => cells.map((t, c) => (c === 0 ? cut(t).padEnd(widths[0]) : t.padStart(widths[c]))).join(' '.repeat(gap)).trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

/** What the random baselines are, for the rows the table has (null: none). */
export function baselineNote(rows: readonly ReportRow[]): string | null {
  const notes: string[] = [];
  if (rows.some((r) => r.baseline === 'random-cost-matched'))
    notes.push('random genotype (cost-matched): operator parameters within 25% of the searched cell\'s (or the closest drawn)');
  if (rows.some((r) => r.baseline === 'random-latency-matched'))
    notes.push('random genotype (latency-matched): predicted serving latency (the search\'s latency table) within 10% of the searched student\'s (or the closest drawn)');
  if (rows.some((r) => r.baseline === 'random-any')) notes.push('random genotype (any): a uniform operator per edge from the whole space');
  const rs = rows.find((r) => r.randomSearch)?.randomSearch;
  if (rs) notes.push(`random search: ${rs.candidates} genotypes from the whole space trained ${rs.epochsEach} epochs each ` +
    `(${rs.candidates * rs.epochsEach} epochs, ${formatSeconds(rs.seconds)}; the search: ${rs.searchEpochs} epochs${rs.searchSeconds === null ? '' : `, ${formatSeconds(rs.searchSeconds)}`}), ` +
    `the best on validation ${rs.metric} (candidate ${rs.chosen}) finetuned as the student`);
  return notes.length ? `Baselines: ${notes.join('; ')}; each random genotype is shared by all cells.` : null;
}

/**
 * A warning when the searched student keeps half or more of the teacher's non-embedding parameters
 * or MACs: a MACs-priced search weighs cost with a fixed beta, not against the teacher, and a small
 * teacher leaves little to compress (on Amazon Beauty the default search chose 24 convolutions
 * against a 2-block SASRec: 76% of its non-embedding parameters, and it served at half the
 * teacher's speed). From the parameter and MAC counts only, so that a resumed run writes the same
 * report (measured latency varies); null when the student has less than half of both.
 */
export function compressionNote(rows: readonly ReportRow[], teacher: ReportRow): string | null {
  const student = rows.find((r) => r.kind === 'student');
  if (!student) return null;
  const size = student.figures.nonEmbeddingParams / teacher.figures.nonEmbeddingParams;
  const macs = student.figures.macs / teacher.figures.macs;
  if (size < 0.5 && macs < 0.5) return null;
  return `Note: the AdaRec student keeps ${(100 * size).toFixed(0)}% of the teacher's non-embedding parameters and ${(100 * macs).toFixed(0)}% ` +
    'of its MACs: the search prices operators by a fixed weight, not against the teacher, and a small teacher leaves little to compress. ' +
    'For a student within a serving budget, search with "cost": "latency" and "latencyBudgetMs" (README, "Searching for a latency budget").';
}

function seedNote(rows: readonly ReportRow[]): string | null {
  const n = rows.find((r) => r.seedNdcg10)?.seedNdcg10?.length;
  return n ? `Students and baselines: means over ${n} finetune seeds (NDCG@10 ± its standard deviation over seeds; per seed in results.json).` : null;
}

/** The sentences every results table of a run shares: the protocols and what latency is. */
export const PROTOCOL_NOTE = '(s) = sampled protocol (target among the fixed negatives); the others rank all items. Latency: scoring one sequence, last position, batch 1.';

/**
 * Writes report.md, results.json and the pictures; returns the terminal's summary (the caller
 * prints it once report.html is written too).
 */
export function writeReport(outDir: string, r: { rows: ReportRow[]; genotype: Genotype; alpha: AlphaHistory; teacher: ReportRow; latencyCheck?: LatencyCheck }): string {
  const table = resultsTable(r.rows, r.teacher);
  const write = (name: string, text: string): void => writeFileAtomic(join(outDir, name), [Buffer.from(text, 'utf8')]);
  const edges = cellEdges(r.genotype.nodes);
  const probs = r.genotype.probabilities;
  write('cell.svg', cellSvg({
    nodes: r.genotype.nodes, title: 'AdaRec searched cell',
    edges: edges.map((e, i) => {
      const op = r.genotype.cells[0][i];
      return { ...e, op, prob: probs ? probs[i][r.genotype.operators.indexOf(op)] : undefined };
    }),
  }));
  write('alpha.svg', alphaHeatmapSvg({ ops: r.alpha.operators, edges: r.alpha.edges, epochs: r.alpha.epochs, entropy: r.alpha.entropy }));
  write('tradeoff.svg', tradeoffSvg(r.rows.map((row) => ({
    name: row.name, kind: row.kind, params: row.figures.params, macs: row.figures.macs, latencyMs: row.figures.latencyP50Ms, metric: row.figures.full['ndcg@10'],
  })), { x: 'latencyMs', y: 'NDCG@10 (full ranking, test)', pareto: true }));
  const genotypeLines = edges.map((e, i) => `- ${e.from === 0 ? 'x' : `node ${e.from}`} → node ${e.to}: ${r.genotype.cells[0][i]}`).join('\n');
  const compression = compressionNote(r.rows, r.teacher);
  write('report.md', `# AdaRec run\n\n${table}\n\n${[PROTOCOL_NOTE, seedNote(r.rows), baselineNote(r.rows)].filter((n) => n !== null).join(' ')}\n\n` +
    `${compression ? `${compression}\n\n` : ''}` +
    `${r.latencyCheck ? `## Latency budget\n\nThe searched student (random weights), timed in the serving path on this machine: ${describeLatencyCheck(r.latencyCheck)}.\n\n` : ''}` +
    `## Searched cell\n\n${genotypeLines}\n\n![cell](cell.svg)\n\n![alpha](alpha.svg)\n\n![trade-off](tradeoff.svg)\n`);
  write('results.json', JSON.stringify({ rows: r.rows, genotype: r.genotype, ...(r.latencyCheck ? { latencyCheck: r.latencyCheck } : {}) }, null, 2) + '\n');
  return `\n${summaryTable(r.rows, r.teacher)}\n${compression ? `\n${compression}\n` : ''}\nreport: ${join(outDir, 'report.html')} (open it in a browser: every figure, offline)\n` +
    `and ${join(outDir, 'report.md')} (the full table, with the sampled protocol's metrics; pictures: cell.svg, alpha.svg, tradeoff.svg)`;
}
