// `adarec export --web`: a trained run as a static web page that recommends in the browser. The
// folder holds index.html, the page's script (app.ts and the top-K it shares with the server,
// compiled), catalog.json (the vocabulary, titles, the window), model.onnx, and onnxruntime-web's
// single-threaded WebAssembly build copied from node_modules. Every file is written atomically and
// index.html last, so a folder with an index.html is complete.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readItemTitles } from '../../data/item-titles.js';
import { exportOnnx } from '../../onnx/export.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { Recommender } from '../recommender.js';
import type { WebCatalog } from './app.js';
import { indexHtml } from './page.js';

export interface WebExportOptions {
  /** A run folder (its best.ckpt and items.json), as `adarec serve --model` takes. */
  model: string;
  /** The folder to write (created; our files in it are replaced). */
  out: string;
  /** A titles file (data/item-titles.ts), or null: ids are shown. */
  titles: string | null;
  opset?: number;
}

export interface WebExportResult {
  files: string[];
  kind: string;
  version: string;
  items: number;
  /** Items given a title. */
  titled: number;
  bytes: number;
}

/**
 * onnxruntime-web's files the page needs, into ort/: the ESM bundle of its wasm backend (app.ts
 * imports it as ORT_MODULE) and the WebAssembly binary it loads from beside itself.
 */
const ORT_FILES = [
  { from: 'ort.wasm.bundle.min.mjs', to: 'ort.wasm.bundle.min.js' }, // .js: every static host serves it as JavaScript
  { from: 'ort-wasm-simd-threaded.wasm', to: 'ort-wasm-simd-threaded.wasm' },
] as const;

function ortDist(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  } catch (e) {
    throw new Error(`onnxruntime-web is not installed (npm ci installs it): ${(e as Error).message}`);
  }
}

/** A compiled file of this folder's page, without its source-map comment (the maps are not copied). */
function compiled(relative: string): Buffer {
  const path = fileURLToPath(new URL(relative, import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: build adarec (npm run build)`);
  return Buffer.from(readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'), 'utf8');
}

export function exportWebPage(o: WebExportOptions): WebExportResult {
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new RangeError(`--out: ${o.out} is a file; the web export writes a folder`);
  const dist = ortDist();
  const rec = Recommender.load(o.model);
  try {
    const titles = o.titles ? readItemTitles(o.titles, rec.itemKeys) : null;
    const onnx = exportOnnx(rec.model, { maxLength: rec.maxLength, opset: o.opset });
    const catalog: WebCatalog = {
      format: 1, kind: rec.info.kind, version: rec.info.version, maxLength: rec.maxLength, model: 'model.onnx', input: 'ids', output: 'scores',
      itemKeys: rec.itemKeys.slice(), titles: titles?.titles ?? null,
    };
    const files: [string, Uint8Array][] = [
      ['model.onnx', onnx.bytes],
      ['catalog.json', Buffer.from(JSON.stringify(catalog) + '\n', 'utf8')],
      ...ORT_FILES.map((f): [string, Uint8Array] => [`ort/${f.to}`, readFileSync(join(dist, f.from))]),
      ['lib/top-k.js', compiled('../top-k.js')],
      ['lib/web/app.js', compiled('./app.js')],
      ['index.html', Buffer.from(indexHtml({ name: `${rec.info.kind} ${basename(dirname(rec.info.checkpoint))}` }), 'utf8')],
    ];
    let bytes = 0;
    for (const [name, data] of files) {
      const path = join(o.out, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, [data]);
      bytes += data.length;
    }
    return { files: files.map(([name]) => name), kind: rec.info.kind, version: rec.info.version, items: rec.itemKeys.length, titled: titles?.found ?? 0, bytes };
  } finally {
    rec.model.dispose();
  }
}
