// The script of the page `adarec export --web` writes (runs in the browser, not in Node): loads
// catalog.json and the model's ONNX into onnxruntime-web's single-threaded WebAssembly backend
// (bundled beside it, nothing fetched from elsewhere), lists the catalog (a search box narrows it),
// and after every click scores the history as `adarec serve` does: the last maxLength items,
// left-padded with 0, the scores of the last position, top-10 by the same heap and tie rule
// (../top-k.ts, copied beside this file), the history left out when the box says so. Each click's
// latency (click to list updated) is measured with performance.now() and shown.
import { topK } from '../top-k.js';

/** catalog.json, written by serve/web/export.ts. */
export interface WebCatalog {
  format: 1;
  kind: string;
  /** The checkpoint's version, as `adarec serve` reports it. */
  version: string;
  /** The ONNX input's fixed length: histories are cropped to their last maxLength items and left-padded with 0. */
  maxLength: number;
  model: string;
  input: string;
  output: string;
  /** itemKeys[i - 1] is the original id of model item i (score column i). */
  itemKeys: string[];
  /** Display titles beside itemKeys (null: show the id), or null when the data has none. */
  titles: (string | null)[] | null;
}

/** The few parts of onnxruntime-web this page uses. */
interface OrtTensor { readonly data: unknown; readonly dims: readonly number[] }
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface Ort {
  env: { wasm: { numThreads: number; proxy: boolean } };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, options: { executionProviders: string[] }): Promise<OrtSession> };
}

/** Where export.ts puts onnxruntime-web's bundle (ORT_FILES), relative to this script at lib/web/app.js. */
const ORT_MODULE = '../../ort/ort.wasm.bundle.min.js';
const TOP = 10;
/** Most catalog entries listed at once; the search box finds the others. */
const LISTED = 200;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

function setStatus(state: 'loading' | 'ready' | 'error', text: string): void {
  const status = $('status');
  status.dataset.state = state;
  status.textContent = text;
}

async function fetchOk(url: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    const hint = location.protocol === 'file:' ? ' (this page must be served over http(s): browsers do not let a file:// page load its model; e.g. run `python3 -m http.server` in its folder)' : '';
    throw new Error(`cannot fetch ${url}: ${(e as Error).message}${hint}`);
  }
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return response;
}

function checkCatalog(c: WebCatalog): WebCatalog {
  const bad = (field: string, why: string): never => { throw new Error(`catalog.json: ${field}: ${why}`); };
  if (c === null || typeof c !== 'object') bad('(root)', 'expected an object');
  if (c.format !== 1) bad('format', `expected 1, got ${JSON.stringify(c.format)}`);
  if (!Number.isInteger(c.maxLength) || c.maxLength < 1) bad('maxLength', 'expected an integer >= 1');
  if (!Array.isArray(c.itemKeys) || c.itemKeys.length === 0) bad('itemKeys', 'expected a non-empty array of ids');
  if (c.titles !== null && (!Array.isArray(c.titles) || c.titles.length !== c.itemKeys.length)) bad('titles', 'expected null or one entry per item');
  for (const f of ['model', 'input', 'output', 'version', 'kind'] as const) if (typeof c[f] !== 'string') bad(f, 'expected a string');
  return c;
}

class App {
  private readonly history: number[] = [];
  private readonly latencies: number[] = [];
  /** Clicks are scored one after another (a session runs one call at a time). */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly catalog: WebCatalog, private readonly ort: Ort, private readonly session: OrtSession) {}

  /** Resolves once every click so far is scored and shown. */
  idle(): Promise<void> {
    return this.queue;
  }

  label(id: number): string {
    return this.catalog.titles?.[id - 1] ?? this.catalog.itemKeys[id - 1];
  }

  /** Last-position scores of the history, as serve computes them (crop to maxLength, left-pad with 0). */
  async score(history: readonly number[]): Promise<Float32Array> {
    const T = this.catalog.maxLength, ids = new BigInt64Array(T);
    const tail = history.slice(-T);
    tail.forEach((id, i) => { ids[T - tail.length + i] = BigInt(id); });
    const out = await this.session.run({ [this.catalog.input]: new this.ort.Tensor('int64', ids, [1, T]) });
    const scores = out[this.catalog.output].data;
    if (!(scores instanceof Float32Array) || scores.length !== this.catalog.itemKeys.length + 1)
      throw new Error(`${this.catalog.model}: output '${this.catalog.output}' is not ${this.catalog.itemKeys.length + 1} float scores`);
    return scores;
  }

  item(id: number, score?: number): HTMLLIElement {
    const li = document.createElement('li'), button = document.createElement('button');
    button.type = 'button';
    button.dataset.item = this.catalog.itemKeys[id - 1];
    button.textContent = this.label(id);
    if (this.catalog.titles?.[id - 1]) button.title = `id ${this.catalog.itemKeys[id - 1]}`;
    button.addEventListener('click', () => this.click(id));
    li.append(button);
    if (score !== undefined) {
      const s = document.createElement('span');
      s.className = 'score';
      s.dataset.score = String(score);
      s.textContent = score.toFixed(4);
      li.append(' ', s);
    }
    return li;
  }

  listCatalog(query: string): void {
    const q = query.trim().toLowerCase(), shown: HTMLLIElement[] = [];
    let matches = 0;
    for (let id = 1; id <= this.catalog.itemKeys.length; id++) {
      if (q && !this.label(id).toLowerCase().includes(q) && !this.catalog.itemKeys[id - 1].toLowerCase().includes(q)) continue;
      if (++matches <= LISTED) shown.push(this.item(id));
    }
    $('items').replaceChildren(...shown);
    const total = this.catalog.itemKeys.length;
    $('count').textContent = matches > LISTED ? `showing ${LISTED} of ${matches.toLocaleString('en')} matching items; type to narrow`
      : `${matches.toLocaleString('en')} of ${total.toLocaleString('en')} items`;
  }

  click(id: number): void {
    const started = performance.now();
    this.history.push(id);
    this.update(started);
  }

  clear(): void {
    this.history.length = 0;
    this.update(null);
  }

  /** Scores the history as it is now and shows the top-10; `started` (a click's time) is timed. */
  update(started: number | null): void {
    const history = this.history.slice(), exclude = ($('exclude') as HTMLInputElement).checked;
    this.queue = this.queue.then(async () => {
      const scores = await this.score(history);
      const best = topK(scores, 0, scores.length, TOP, exclude ? new Set(history) : undefined);
      const top = $('top');
      top.replaceChildren(...Array.from(best.ids, (id, n) => this.item(id, best.scores[n])));
      $('history').replaceChildren(...history.map((id) => this.item(id)));
      top.dataset.clicks = String(history.length);
      top.dataset.exclude = String(exclude);
      if (started !== null) this.showLatency(performance.now() - started);
    }).catch((e: unknown) => setStatus('error', `scoring failed: ${(e as Error).message}`));
  }

  showLatency(ms: number): void {
    this.latencies.push(ms);
    const sorted = this.latencies.slice().sort((a, b) => a - b), median = sorted[sorted.length >> 1];
    const el = $('latency');
    el.dataset.lastMs = String(ms);
    el.dataset.medianMs = String(median);
    el.dataset.clicks = String(this.latencies.length);
    el.textContent = `last click: ${ms.toFixed(2)} ms, median ${median.toFixed(2)} ms over ${this.latencies.length} click${this.latencies.length > 1 ? 's' : ''} (click to list updated, in this browser)`;
  }
}

async function main(): Promise<void> {
  setStatus('loading', 'loading the model ...');
  const catalog = checkCatalog(await (await fetchOk('catalog.json')).json() as WebCatalog);
  const ort = await import(ORT_MODULE).catch((e: Error) => { throw new Error(`cannot load onnxruntime-web (ort/): ${e.message}`); }) as Ort;
  ort.env.wasm.numThreads = 1; // no SharedArrayBuffer, so no cross-origin isolation needed
  ort.env.wasm.proxy = false;
  const bytes = new Uint8Array(await (await fetchOk(catalog.model)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] })
    .catch((e: Error) => { throw new Error(`${catalog.model}: onnxruntime-web cannot load it: ${e.message}`); });
  if (!session.inputNames.includes(catalog.input) || !session.outputNames.includes(catalog.output))
    throw new Error(`${catalog.model}: expected input '${catalog.input}' and output '${catalog.output}', it has ${session.inputNames.join(', ')} -> ${session.outputNames.join(', ')}`);
  const app = new App(catalog, ort, session);
  $('model').textContent = `${catalog.kind} · ${catalog.itemKeys.length.toLocaleString('en')} items · window ${catalog.maxLength} · version ${catalog.version}`;
  const search = $('search') as HTMLInputElement;
  search.addEventListener('input', () => app.listCatalog(search.value));
  $('exclude').addEventListener('change', () => app.update(null));
  $('clear').addEventListener('click', () => app.clear());
  app.listCatalog('');
  app.update(null);
  await app.idle();
  setStatus('ready', 'ready: click items to build a history');
}

main().catch((e: unknown) => setStatus('error', `could not start: ${(e as Error).message}`));
