// A run folder of `adarec run` read back into the HTML report's page (report/page.ts), and
// report.html written from it (`adarec report`, and the end of `adarec run`). Everything is read
// from the files the stages leave, so an older run, or one still going, gets a page too: a part
// whose files are not there yet (or unreadable) becomes a sentence saying which and why.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatasetStats } from '../data/stats.js';
import { meanInterval95 } from '../eval/interval.js';
import { cellEdges } from '../models/adarec/cell.js';
import { reportHtml } from '../report/html.js';
import { isMissing, type AlphaView, type CellView, type CurvesView, type DataView, type Estimate, type Part, type ReportPage, type ResultRowView, type ResultsView } from '../report/page.js';
import type { TradeoffPoint } from '../report/charts.js';
import type { LineSeries } from '../report/line-chart.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { describeLatencyCheck, type LatencyCheck } from './latency.js';
import { meanFigures, type ModelFigures } from './measure.js';
import { PROTOCOL_NOTE, baselineNote, type ReportRow } from './report.js';
import { readStageRecord } from './stage.js';

const KINDS: readonly ResultRowView['kind'][] = ['teacher', 'student', 'baseline'];

/** The metrics the results table gives intervals for. */
const INTERVAL_METRICS = ['hr@10', 'ndcg@10', 'mrr@10'] as const;

/** Stage folders in the pipeline's order (names not listed sort last, by name). */
const STAGE_ORDER = [/^teacher$/, /^ops-latency/, /^search$/, /^student$/, /^scratch$/, /^kd$/, /^random-\d+$/, /^random-any-\d+$/,
  /^random-search$/, /^random-search-student$/, /^search-no-/, /^student-no-/, /^search-paper$/, /^student-paper$/];

/** 'student-seed3' -> ['student', 3]; the first seed's folder has no suffix. */
function seedOf(stage: string): [string, number] {
  const m = /^(.*)-seed(\d+)$/.exec(stage);
  return m ? [m[1], Number(m[2])] : [stage, 0];
}

function stageRank(stage: string): number {
  const base = seedOf(stage)[0];
  const i = STAGE_ORDER.findIndex((r) => r.test(base));
  return i < 0 ? STAGE_ORDER.length : i;
}

function compareStages(a: string, b: string): number {
  const [ba, sa] = seedOf(a), [bb, sb] = seedOf(b);
  return stageRank(a) - stageRank(b) || ba.localeCompare(bb, 'en', { numeric: true }) || sa - sb;
}

const isDir = (p: string): boolean => { try { return statSync(p).isDirectory(); } catch { return false; } };

/** The stage folders of a run (a stage-key.json inside; folders moved aside as stale are not), in pipeline order. */
function stageFolders(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.includes('.stale-') && isDir(join(dir, n)) && existsSync(join(dir, n, 'stage-key.json'))).sort(compareStages);
}

/**
 * Refuses what is not a run folder of `adarec run`, with what it is instead when that is clear.
 * A run folder has results.json or at least one stage folder.
 */
function checkRunFolder(dir: string, stages: readonly string[]): void {
  if (stages.length > 0 || existsSync(join(dir, 'results.json'))) return;
  if (existsSync(join(dir, 'stage-key.json')))
    throw new RangeError(`${dir} is one stage of a run, not the run folder: give the folder above it (adarec report ${dirname(dir)})`);
  if (existsSync(join(dir, 'train.jsonl')))
    throw new RangeError(`${dir} is a run of adarec train, not of adarec run: its epochs are in train.jsonl, and adarec eval --run ${dir} evaluates it`);
  throw new RangeError(`${dir} is not a run folder of adarec run (no results.json, and no stage folder such as teacher/ or search/ with a stage-key.json); ` +
    'adarec run --out <folder> makes one');
}

/** Parsed JSON of a run file, or an Error whose message names the file relative to the run folder. */
function readJson(dir: string, rel: string): unknown {
  const path = join(dir, rel);
  if (!existsSync(path)) throw new Error(`${rel} is not there`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${rel} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

/**
 * The records of a JSON Lines log. A last line without its newline is a write in progress and is
 * left out; any other unparsable line is an error naming the file and line.
 */
function readJsonl<T>(dir: string, rel: string): T[] {
  const path = join(dir, rel);
  if (!existsSync(path)) return [];
  // the part after the last newline is '' or a line still being written
  const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
  return lines.flatMap((l, i) => {
    if (l.trim() === '') return [];
    try {
      return [JSON.parse(l) as T];
    } catch {
      throw new Error(`${rel} line ${i + 1} is not valid JSON`);
    }
  });
}

/** Runs one part's reader; a failure becomes the sentence the page shows instead. */
function part<T>(read: () => Part<T>): Part<T> {
  try {
    return read();
  } catch (e) {
    return { missing: `could not be read: ${(e as Error).message}` };
  }
}

const finished = (dir: string, stage: string): { seconds: number; result: any } | null =>
  readStageRecord<any>(join(dir, stage, 'stage.json'), () => {});

// ---------------------------------------------------------------------------------------------
// Results

function estimate(mean: number, seeds: number[]): Estimate {
  const ci = seeds.length >= 2 ? meanInterval95(seeds) : undefined;
  return { mean, seeds, ...(ci?.low !== undefined ? { low: ci.low, high: ci.high } : {}) };
}

function rowView(r: { name: string; kind: ResultRowView['kind']; figures: ModelFigures; genotype?: string[]; stages: string[] }, perSeed: ModelFigures[] | null,
  seedNdcg10?: number[]): ResultRowView {
  const f = r.figures;
  const seedsOf = (m: string): number[] => perSeed ? perSeed.map((s) => s.full[m]) : m === 'ndcg@10' && seedNdcg10 ? seedNdcg10 : [];
  return {
    name: String(r.name), kind: KINDS.includes(r.kind) ? r.kind : 'baseline', stages: r.stages, seeds: perSeed?.length ?? seedNdcg10?.length ?? 1,
    full: Object.fromEntries(INTERVAL_METRICS.filter((m) => Number.isFinite(f.full[m])).map((m) => [m, estimate(f.full[m], seedsOf(m))])),
    sampled: f.sampled, params: f.params, nonEmbeddingParams: f.nonEmbeddingParams, macs: f.macs, latencyMs: f.latencyP50Ms,
    ...(Array.isArray(r.genotype) ? { genotype: r.genotype.map(String) } : {}),
  };
}

/** Each seed's figures from its stage.json, or null when any is missing (a run from before `stages`). */
function seedFigures(dir: string, stages: readonly string[]): ModelFigures[] | null {
  if (stages.length === 0) return null;
  const figures = stages.map((s) => finished(dir, s)?.result?.figures as ModelFigures | undefined);
  return figures.every((f) => f && typeof f.full === 'object') ? figures as ModelFigures[] : null;
}

const SEED_NOTE = 'Seeds: the student and each baseline are trained that many times and the row is their mean; under a mean, its 95% interval over the seeds ' +
  '(Student t: with 2 or 3 seeds it is wide, which is what so few seeds can tell); hover a value for each seed\'s.';

function finalResults(dir: string): ResultsView {
  const json = readJson(dir, 'results.json') as { rows?: ReportRow[]; latencyCheck?: LatencyCheck };
  if (!Array.isArray(json?.rows)) throw new Error('results.json has no rows');
  const rows = json.rows.map((r) => rowView({ ...r, stages: r.stages ?? [] }, seedFigures(dir, r.stages ?? []), r.seedNdcg10));
  const notes = [PROTOCOL_NOTE, SEED_NOTE, baselineNote(json.rows)].filter((n): n is string => n !== null);
  if (json.latencyCheck) notes.push(`Latency budget: the searched student (random weights), timed in the serving path on this machine: ${describeLatencyCheck(json.latencyCheck)}.`);
  return { rows, final: true, notes };
}

/** A run without results.json: one row per finished model stage, seeds grouped. */
function partialResults(dir: string, stages: readonly string[]): ResultsView {
  const groups = new Map<string, string[]>();
  for (const s of stages) {
    const figures = finished(dir, s)?.result?.figures;
    if (!figures || typeof figures.full !== 'object') continue; // not a model stage, or not finished
    const base = seedOf(s)[0];
    groups.set(base, [...(groups.get(base) ?? []), s]);
  }
  const rows = [...groups.entries()].map(([base, seeds]) => {
    const perSeed = seedFigures(dir, seeds)!;
    const kind: ResultRowView['kind'] = base === 'teacher' ? 'teacher' : base === 'student' ? 'student' : 'baseline';
    return rowView({ name: base, kind, figures: meanFigures(perSeed).figures, stages: seeds }, perSeed);
  });
  if (rows.length === 0) throw new Error('no model stage has finished yet (results.json and every stage.json with figures are missing)');
  return { rows, final: false, notes: [PROTOCOL_NOTE, SEED_NOTE] };
}

function tradeoffPoints(results: Part<ResultsView>): Part<TradeoffPoint[]> {
  if (isMissing(results)) return { missing: 'needs the results table, which is missing (above)' };
  return results.rows.map((r) => ({ name: r.name, kind: r.kind, params: r.params, macs: r.macs, latencyMs: r.latencyMs, metric: r.full['ndcg@10']?.mean ?? NaN }));
}

// ---------------------------------------------------------------------------------------------
// Search: the cell and alpha

interface AlphaJson { operators: string[]; edges: string[]; epochs: number[][][]; entropy?: number[] }

function searchStages(dir: string, stages: readonly string[]): string[] {
  return stages.filter((s) => existsSync(join(dir, s, 'search.jsonl')) || existsSync(join(dir, s, 'alpha.json')) || /^search(-|$)/.test(s));
}

function readAlpha(dir: string, stage: string): AlphaJson | null {
  if (!existsSync(join(dir, stage, 'alpha.json'))) return null;
  const a = readJson(dir, join(stage, 'alpha.json')) as AlphaJson;
  if (!Array.isArray(a?.operators) || !Array.isArray(a.edges) || !Array.isArray(a.epochs)) throw new Error(`${stage}/alpha.json: expected { operators, edges, epochs }`);
  return a;
}

function cellView(dir: string, stage: string): CellView | null {
  const genotypeFile = join(stage, 'genotype.json');
  let cells: string[][], nodes: number, operators: string[], probabilities: number[][] | undefined, note: string | undefined;
  if (existsSync(join(dir, genotypeFile))) {
    const g = readJson(dir, genotypeFile) as { operators: string[]; nodes: number; cells: string[][]; probabilities?: number[][] };
    if (!Array.isArray(g?.cells) || !Number.isInteger(g.nodes) || !Array.isArray(g.operators)) throw new Error(`${genotypeFile}: expected { operators, nodes, cells }`);
    ({ cells, nodes, operators, probabilities } = g);
  } else {
    // a search in progress: the argmax genotype its last finished epoch validated
    const epochs = readJsonl<{ epoch: number; genotype: string[][] }>(dir, join(stage, 'search.jsonl'));
    const last = epochs[epochs.length - 1];
    if (!last) return null;
    cells = last.genotype;
    const edges = cells[0].length;
    nodes = Math.round((Math.sqrt(8 * edges + 1) - 1) / 2); // edges = nodes (nodes + 1) / 2
    const alpha = readAlpha(dir, stage);
    operators = alpha?.operators ?? [];
    probabilities = alpha?.epochs[alpha.epochs.length - 1];
    note = `The search has not finished: this is the argmax genotype after epoch ${last.epoch} (genotype.json is written at its end).`;
  }
  const edges = cellEdges(nodes);
  const picture = {
    nodes, title: `${stage}: searched cell`,
    edges: edges.map((e, i) => {
      const op = cells[0][i], col = operators.indexOf(op), prob = probabilities?.[i]?.[col];
      return { ...e, op, ...(col >= 0 && prob !== undefined && Number.isFinite(prob) ? { prob } : {}) };
    }),
  };
  return { stage, picture, cells, ...(note ? { note } : {}) };
}

function cellsPart(dir: string, searches: readonly string[]): Part<CellView[]> {
  const views = searches.map((s) => cellView(dir, s)).filter((v): v is CellView => v !== null);
  return views.length > 0 ? views : { missing: searches.length > 0 ? 'the search has not finished an epoch yet (no genotype.json, no line in search.jsonl)' : 'no search stage yet (search/)' };
}

function alphaPart(dir: string, searches: readonly string[]): Part<AlphaView[]> {
  const views = searches.flatMap((stage) => {
    const a = readAlpha(dir, stage);
    return a ? [{ stage, history: { ops: a.operators, edges: a.edges, epochs: a.epochs, ...(a.entropy && a.entropy.length === a.epochs.length ? { entropy: a.entropy } : {}) } }] : [];
  });
  return views.length > 0 ? views : { missing: searches.length > 0 ? 'the search has not finished an epoch yet (no alpha.json)' : 'no search stage yet (search/)' };
}

// ---------------------------------------------------------------------------------------------
// Training curves

interface TrainLine { epoch: number; phase?: string; loss: number; metrics?: Record<string, number>; bestEpoch?: number | null }
interface SearchLine { epoch: number; loss: Record<string, number>; metrics?: Record<string, number>; bestEpoch?: number | null }

function configMetric(dir: string, stage: string, pick: (c: any) => unknown): string {
  try {
    const m = pick(readJson(dir, join(stage, 'config.json')));
    return typeof m === 'string' ? m : 'ndcg@10';
  } catch {
    return 'ndcg@10';
  }
}

function status(dir: string, stage: string, epochs: number, best: number | null): string {
  const done = finished(dir, stage);
  const bestPart = best !== null ? `best epoch ${best} of ${epochs}` : `${epochs} epoch${epochs === 1 ? '' : 's'}, none with a finite metric`;
  if (done) return `${stage}: finished, ${bestPart} (${done.seconds.toFixed(1)} s)`;
  if (stage.includes('/')) return `${stage}: ${bestPart}`; // a random-search candidate: the random search's stage.json covers it
  return `${stage}: in progress or stopped, ${epochs} epoch${epochs === 1 ? '' : 's'} so far`;
}

/** One stage's train.jsonl as series named `label` (per phase when BERT4Rec's masked phase is there too). */
function trainCurves(dir: string, stage: string, label: string): CurvesView | null {
  const lines = readJsonl<TrainLine>(dir, join(stage, 'train.jsonl'));
  if (lines.length === 0) return null;
  const metric = configMetric(dir, stage, (c) => c?.earlyStopping?.metric);
  const phaseOf = (l: TrainLine): string => l.phase ?? 'autoregressive';
  const phases = [...new Set(lines.map(phaseOf))];
  const best = lines[lines.length - 1].bestEpoch ?? null;
  const byPhase = (f: (l: TrainLine) => number): LineSeries[] => phases.map((p) => ({
    name: phases.length > 1 ? `${label} ${p}` : label, best, points: lines.filter((l) => phaseOf(l) === p).map((l) => [l.epoch, f(l)] as [number, number]),
  }));
  return {
    group: stage, status: [status(dir, stage, lines.length, best)], lossName: 'training loss',
    loss: byPhase((l) => l.loss).map(({ best: _, ...s }) => s), metricName: metric, validation: byPhase((l) => l.metrics?.[metric] ?? NaN),
  };
}

/** A search's search.jsonl: its total loss and cross-entropy term, and the validation of its argmax genotype. */
function searchCurves(dir: string, stage: string): CurvesView | null {
  const lines = readJsonl<SearchLine>(dir, join(stage, 'search.jsonl'));
  if (lines.length === 0) return null;
  const metric = configMetric(dir, stage, (c) => c?.validation?.metric);
  const terms = Object.keys(lines[0].loss ?? {}).filter((k) => k === 'total' || k === 'ce');
  const best = lines[lines.length - 1].bestEpoch ?? null;
  return {
    group: stage, status: [status(dir, stage, lines.length, best)], lossName: 'search loss (total, and its cross-entropy term)',
    loss: terms.map((t) => ({ name: t, points: lines.map((l) => [l.epoch, l.loss[t]] as [number, number]) })),
    metricName: metric, validation: [{ name: 'argmax genotype', best, points: lines.map((l) => [l.epoch, l.metrics?.[metric] ?? NaN] as [number, number]) }],
  };
}

/** Stages' curves drawn together: their series side by side, named by stage. */
function merge(group: string, views: CurvesView[]): CurvesView | null {
  if (views.length === 0) return null;
  return {
    group, status: views.flatMap((v) => v.status), lossName: views[0].lossName, loss: views.flatMap((v) => v.loss),
    metricName: views[0].metricName, validation: views.flatMap((v) => v.validation),
  };
}

/** One card per stage with its seeds (student with student-seed2, ...), per search, and one for a random search's candidates. */
function curvesPart(dir: string, stages: readonly string[]): Part<CurvesView[]> {
  const groups = new Map<string, string[]>();
  for (const s of stages) groups.set(seedOf(s)[0], [...(groups.get(seedOf(s)[0]) ?? []), s]);
  const cards: CurvesView[] = [];
  for (const [base, members] of groups) {
    const search = members.length === 1 ? searchCurves(dir, members[0]) : null;
    const candidates = readdirSync(join(dir, members[0])).filter((n) => /^candidate-\d+$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const card = search
      ?? merge(base, members.map((m) => trainCurves(dir, m, m)).filter((v): v is CurvesView => v !== null))
      ?? merge(base, candidates.map((n) => trainCurves(dir, join(base, n), n)).filter((v): v is CurvesView => v !== null));
    if (card) cards.push(card);
  }
  return cards.length > 0 ? cards : { missing: 'no stage has finished an epoch yet (no train.jsonl or search.jsonl with a line)' };
}

// ---------------------------------------------------------------------------------------------
// Data

function dataPart(dir: string): Part<DataView> {
  if (!existsSync(join(dir, 'data.json'))) return { missing: 'data.json is not there (adarec run writes it before the first stage; a run folder made otherwise has none)' };
  const d = readJson(dir, 'data.json') as { source?: unknown; options?: unknown; stats?: DatasetStats };
  if (typeof d?.source !== 'string') throw new Error('data.json has no source');
  const options = typeof d.options === 'object' && d.options !== null ? d.options as Record<string, unknown> : {};
  const stats: Part<DatasetStats> = d.stats && typeof d.stats === 'object' && Array.isArray(d.stats.histogram) ? d.stats
    : { missing: `data.json holds no statistics (written before adarec recorded them): adarec data stats ${d.source} with the run's data options prints them` };
  return { source: d.source, options, stats };
}

// ---------------------------------------------------------------------------------------------

/** The report page of a run folder; a RangeError when `folder` is not one. */
export function readRunReport(folder: string): ReportPage {
  const dir = resolve(folder);
  if (!existsSync(dir)) throw new RangeError(`${dir}: no such folder`);
  if (!isDir(dir)) throw new RangeError(`${dir} is a file, not a run folder`);
  const stages = stageFolders(dir);
  checkRunFolder(dir, stages);
  const final = existsSync(join(dir, 'results.json'));
  const results = part(() => (final ? finalResults(dir) : partialResults(dir, stages)));
  const searches = searchStages(dir, stages);
  const done = stages.filter((s) => finished(dir, s) !== null);
  return {
    title: basename(dir), folder: dir,
    status: [
      final ? 'finished: results.json is written' : 'not finished: no results.json yet (in progress, or stopped: run the same adarec run command again to continue)',
      `${done.length} of ${stages.length} stage${stages.length === 1 ? '' : 's'} finished${done.length < stages.length ? ` (not yet: ${stages.filter((s) => !done.includes(s)).join(', ')})` : ''}`,
    ],
    results,
    tradeoff: tradeoffPoints(results),
    cells: part(() => cellsPart(dir, searches)),
    alpha: part(() => alphaPart(dir, searches)),
    curves: part(() => curvesPart(dir, stages)),
    data: part(() => dataPart(dir)),
  };
}

/** Writes <folder>/report.html (or `out`) atomically; returns its path. */
export function writeHtmlReport(folder: string, out = join(resolve(folder), 'report.html')): string {
  writeFileAtomic(out, [Buffer.from(reportHtml(readRunReport(folder)), 'utf8')]);
  return out;
}
