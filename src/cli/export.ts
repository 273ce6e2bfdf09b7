// `adarec export`: a trained model (a run folder's best.ckpt or any checkpoint) to an ONNX file;
// with --signals also the distillation signals and the mapping file that makes it an ONNX
// teacher (docs/ONNX.md); with --web a run folder as a static page that recommends in the browser
// (docs/SERVING.md, "In a browser").
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DATASETS, type DatasetName } from '../data/fetch.js';
import { ITEM_KEYS_FILE } from '../data/item-keys.js';
import { titlesFileBeside } from '../data/item-titles.js';
import { defaultCacheDir } from '../data/source.js';
import { exportOnnx } from '../onnx/export.js';
import { MAX_OPSET, MIN_OPSET } from '../onnx/graph.js';
import { defaultMappingPath } from '../onnx/mapping.js';
import { exportWebPage, type WebExportResult } from '../serve/web/export.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { loadTrainedModel, resolveCheckpoint } from '../train/load.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { RunData } from './train.js';

export interface ExportFileOptions {
  /** A run folder (its best.ckpt is exported) or a checkpoint file. */
  model: string;
  /** The .onnx file to write. */
  out: string;
  signals: boolean;
  opset: number;
}

export interface ExportFileResult {
  onnx: string;
  /** The mapping file written beside it (with signals), else null. */
  mapping: string | null;
  /** <name>.items.json: the run's item vocabulary (column i of scores is item i), when the run has one. */
  items: string | null;
  kind: string;
  bytes: number;
}

/** Exports the model and writes the .onnx file (and its mapping with signals) atomically. */
export function exportModelFile(o: ExportFileOptions): ExportFileResult {
  if (!/\.onnx$/i.test(o.out)) throw new RangeError(`--out: expected a file name ending in .onnx, got ${o.out}`);
  const ckpt = resolveCheckpoint(o.model);
  const meta = readCheckpoint<Record<string, unknown>>(ckpt).meta;
  if (meta.config.model === undefined)
    throw new RangeError(`--model: ${ckpt} is not a trained model's checkpoint (a search's supernet?): export the trained student's run folder`);
  const trained = loadTrainedModel(ckpt);
  try {
    const r = exportOnnx(trained.model, { maxLength: trained.config.maxLength, signals: o.signals, opset: o.opset });
    mkdirSync(dirname(o.out), { recursive: true });
    writeFileAtomic(o.out, [r.bytes]);
    const mapping = r.mapping ? defaultMappingPath(o.out) : null;
    if (mapping) writeFileAtomic(mapping, [Buffer.from(JSON.stringify(r.mapping, null, 2) + '\n', 'utf8')]);
    const vocabulary = join(dirname(ckpt), ITEM_KEYS_FILE);
    const items = existsSync(vocabulary) ? o.out.replace(/\.onnx$/i, '') + '.items.json' : null;
    if (items) writeFileAtomic(items, [readFileSync(vocabulary)]);
    return { onnx: o.out, mapping, items, kind: r.kind, bytes: r.bytes.length };
  } finally {
    trained.model.dispose();
  }
}

function opset(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_OPSET || n > MAX_OPSET) throw new InvalidArgumentError(`expected an opset from ${MIN_OPSET} to ${MAX_OPSET}, got '${value}'`);
  return n;
}

/**
 * The titles file of a run's data when it has one: the MovieLens file (u.item, movies.dat,
 * movies.csv) beside the ratings file its data.json names (a path, or a downloaded data set), or null.
 */
export function titlesOfRun(runDir: string): string | null {
  const dataFile = [join(runDir, 'data.json'), join(dirname(runDir), 'data.json')].find((f) => existsSync(f));
  if (!dataFile) return null;
  let runData: Partial<RunData>;
  try {
    runData = JSON.parse(readFileSync(dataFile, 'utf8')) as Partial<RunData>;
  } catch {
    return null; // no titles is the answer; eval and resume report a damaged data.json
  }
  const source = runData.source;
  if (typeof source !== 'string' || source === 'synthetic' || source.startsWith('synthetic:')) return null;
  if (source in DATASETS && !existsSync(resolve(source))) {
    const cacheDir = typeof runData.options?.cacheDir === 'string' ? runData.options.cacheDir : defaultCacheDir();
    return titlesFileBeside(join(cacheDir, 'downloads', DATASETS[source as DatasetName].ratings));
  }
  return titlesFileBeside(resolve(source));
}

function exportWeb(o: Record<string, unknown>): WebExportResult & { out: string; titles: string | null } {
  if (o.signals) throw new InvalidArgumentError('--signals: not with --web (the page needs the scores only)');
  const model = resolve(String(o.web)), out = resolve(String(o.out));
  const titles = o.titles === false ? null : typeof o.titles === 'string' ? resolve(o.titles) : titlesOfRun(model);
  return { ...exportWebPage({ model, out, titles, opset: o.opset as number }), out, titles };
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model (teacher or student) to ONNX: input ids [batch, maxLength] int64, output scores [batch, vocab];\n' +
      'or, with --web, a run folder as a static web page that recommends in the browser')
    .option('--model <run folder|file.ckpt>', 'a training run folder (its best.ckpt) or a checkpoint (this or --web is required)')
    .option('--web <run folder>', 'write a static page instead (a folder: index.html, model.onnx, catalog.json, onnxruntime-web): click items, see the top-10 as `adarec serve` scores them')
    .requiredOption('--out <model.onnx|dir>', 'the ONNX file to write; with --web the folder')
    .option('--signals', 'also output embedding, intermediate_<i> and logits, and write <name>.mapping.json beside <name>.onnx (an ONNX teacher)')
    .option('--titles <file>', "with --web: item titles to show, rows 'id<delimiter>title' (MovieLens u.item, movies.dat, movies.csv, or any id,title CSV/TSV); default: the MovieLens titles file beside the run's data, if any")
    .option('--no-titles', 'with --web: show item ids even when the data has titles')
    .option('--opset <n>', `ONNX opset (${MIN_OPSET}..${MAX_OPSET})`, opset, MIN_OPSET)
    .addHelpText('after', '\nExamples:\n' +
      '  adarec export --model runs/teacher --out teacher.onnx --signals\n' +
      '  adarec export --model runs/pipeline/student/best.ckpt --out student.onnx --opset 18\n' +
      '  adarec export --web runs/adarec/student --out site/ && (cd site && python3 -m http.server 8000)\n' +
      'See docs/ONNX.md for the outputs, the mapping file and using an ONNX teacher, and docs/SERVING.md\n' +
      '("In a browser") for hosting the page: any static host, .wasm served as application/wasm.')
    .action((o) => {
      if ((o.model === undefined) === (o.web === undefined)) throw new InvalidArgumentError('give --model <run folder|file.ckpt> (an ONNX file) or --web <run folder> (a web page), one of them');
      if (o.web !== undefined) {
        const r = exportWeb(o);
        console.log(`wrote ${r.out}/ (${r.kind} ${r.version}, ${r.items.toLocaleString('en')} items${r.titles ? `, ${r.titled.toLocaleString('en')} titled from ${r.titles}` : ', shown by id'}; ` +
          `${(r.bytes / 1e6).toFixed(1)} MB: ${r.files.join(', ')}); host it on any static server, e.g. cd ${r.out} && python3 -m http.server 8000`);
        return;
      }
      if (o.titles !== undefined) throw new InvalidArgumentError('--titles, --no-titles: only with --web');
      const r = exportModelFile({ model: resolve(String(o.model)), out: resolve(String(o.out)), signals: o.signals === true, opset: o.opset as number });
      console.log(`wrote ${r.onnx} (${r.kind}, ${(r.bytes / 1e6).toFixed(2)} MB)${r.mapping ? `, its teacher mapping ${r.mapping}` : ''}` +
        `${r.items ? `, and the item vocabulary ${r.items} (scores column i is itemKeys[i - 1]; column 0 is padding)` : ''}`);
    });
}
