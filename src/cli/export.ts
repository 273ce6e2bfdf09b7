// `adarec export`: a trained model (a run folder's best.ckpt or any checkpoint) to an ONNX file;
// with --signals also the distillation signals and the mapping file that makes it an ONNX
// teacher (docs/ONNX.md).
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ITEM_KEYS_FILE } from '../data/item-keys.js';
import { exportOnnx } from '../onnx/export.js';
import { MAX_OPSET, MIN_OPSET } from '../onnx/graph.js';
import { defaultMappingPath } from '../onnx/mapping.js';
import { readCheckpoint } from '../train/checkpoint.js';
import { loadTrainedModel, resolveCheckpoint } from '../train/load.js';
import { writeFileAtomic } from '../util/atomic-write.js';

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

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model (teacher or student) to ONNX: input ids [batch, maxLength] int64, output scores [batch, vocab]')
    .requiredOption('--model <run folder|file.ckpt>', 'a training run folder (its best.ckpt) or a checkpoint')
    .requiredOption('--out <model.onnx>', 'the ONNX file to write')
    .option('--signals', 'also output embedding, intermediate_<i> and logits, and write <name>.mapping.json beside <name>.onnx (an ONNX teacher)')
    .option('--opset <n>', `ONNX opset (${MIN_OPSET}..${MAX_OPSET})`, opset, MIN_OPSET)
    .addHelpText('after', '\nExamples:\n' +
      '  adarec export --model runs/teacher --out teacher.onnx --signals\n' +
      '  adarec export --model runs/pipeline/student/best.ckpt --out student.onnx --opset 18\n' +
      'See docs/ONNX.md for the outputs, the mapping file and using an ONNX teacher.')
    .action((o) => {
      const r = exportModelFile({ model: resolve(String(o.model)), out: resolve(String(o.out)), signals: o.signals === true, opset: o.opset as number });
      console.log(`wrote ${r.onnx} (${r.kind}, ${(r.bytes / 1e6).toFixed(2)} MB)${r.mapping ? `, its teacher mapping ${r.mapping}` : ''}` +
        `${r.items ? `, and the item vocabulary ${r.items} (scores column i is itemKeys[i - 1]; column 0 is padding)` : ''}`);
    });
}
