// `adarec export --web`: the page, served from a localhost static server, loaded in headless
// Chromium, clicked through; after every click its top-10 must be `adarec serve`'s (a running
// child process over the same run folder) for the same history: the same items in the same order,
// scores within 1e-5, with and without the history left out, over more clicks than the model's
// window (so the page crops as serve does). Also: the latency it shows, titles, no request
// leaving the folder's origin, and a clear message when the page cannot load.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DataError } from '../src/data/errors.js';
import { readItemTitles, titlesFileBeside } from '../src/data/item-titles.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { titlesOfRun } from '../src/cli/export.js';
import { parseTrainConfig } from '../src/train/config.js';
import { train } from '../src/train/trainer.js';
import { browserSkip, launchBrowser } from './browser.js';
import { tinyData } from './train-fixture.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const MAX_LENGTH = 8;
const TITLES: Record<string, string> = { i1: 'Alpha, the "first"', i2: 'Beta', i7: 'Gamma ray', i12: 'Delta' };

interface Ranked { item: string; score: number }

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('item titles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adarec-titles-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keys = ['1', '2', '3', '10'];

  it('reads the MovieLens layouts (u.item in Latin-1, movies.dat, quoted movies.csv) and leaves unknown rows out', () => {
    writeFileSync(join(dir, 'u.item'), Buffer.from('1|Toy Story (1995)|01-Jan-1995||http://x|0|1\n2|Ma vie en rose (1997)|x\n3|Cité des enfants perdus, La (1995)|x\n99|Not rated|x\n', 'latin1'));
    assert.deepEqual(readItemTitles(join(dir, 'u.item'), keys), { titles: ['Toy Story (1995)', 'Ma vie en rose (1997)', 'Cité des enfants perdus, La (1995)', null], found: 3 });
    writeFileSync(join(dir, 'movies.dat'), '1::Toy Story (1995)::Animation|Comedy\n10::GoldenEye (1995)::Action\n');
    assert.deepEqual(readItemTitles(join(dir, 'movies.dat'), keys).titles, ['Toy Story (1995)', null, null, 'GoldenEye (1995)']);
    writeFileSync(join(dir, 'movies.csv'), 'movieId,title,genres\r\n3,"American President, The (1995)",Comedy\r\n2,"Say ""hi"" (2001)",Drama\r\n');
    assert.deepEqual(readItemTitles(join(dir, 'movies.csv'), keys).titles, [null, 'Say "hi" (2001)', 'American President, The (1995)', null]);
  });

  it('names the file and line of a bad row, and finds the file beside a ratings file', () => {
    writeFileSync(join(dir, 'bad.csv'), '1,One\n2\n');
    assert.throws(() => readItemTitles(join(dir, 'bad.csv'), keys), (e: Error) => e instanceof DataError && e.message.includes('bad.csv:2') && /two .*fields/.test(e.message));
    writeFileSync(join(dir, 'twice.tsv'), '1\tOne\n1\tUno\n');
    assert.throws(() => readItemTitles(join(dir, 'twice.tsv'), keys), /twice\.tsv:2: item '1' has two titles/);
    assert.throws(() => readItemTitles(join(dir, 'none.csv'), keys), /none\.csv: no such titles file/);
    assert.equal(titlesFileBeside(join(dir, 'u.data')), join(dir, 'u.item')); // u.item is looked for first
    const run = join(dir, 'run');
    mkdirSync(join(run, 'student'), { recursive: true });
    writeFileSync(join(run, 'data.json'), JSON.stringify({ source: join(dir, 'ratings.dat'), options: {}, manifestKey: 'x' }));
    assert.equal(titlesOfRun(join(run, 'student')), join(dir, 'u.item')); // a stage folder: data.json is the run's
    writeFileSync(join(run, 'data.json'), JSON.stringify({ source: 'synthetic:users=10', options: {}, manifestKey: 'x' }));
    assert.equal(titlesOfRun(join(run, 'student')), null);
  });
});

/** The server's JSON log lines, until the `ready` record (its address). */
async function readyAddress(child: ChildProcess): Promise<string> {
  for await (const line of createInterface({ input: child.stdout! })) {
    let record: { msg?: string; address?: string };
    try { record = JSON.parse(line) as typeof record; } catch { continue; }
    if (record.msg === 'ready') return String(record.address);
  }
  throw new Error('adarec serve exited before it was ready');
}

const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };

/** A static file server over `root` on a free localhost port (what any static host does). */
async function staticServer(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/\/$/, '/index.html')));
    if (!path.startsWith(root) || !existsSync(path)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream' }).end(readFileSync(path));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}/` };
}

describe('adarec export --web in headless Chromium', { skip: browserSkip() }, () => {
  let root = '', run = '', site = '', serveUrl = '';
  let serve: ChildProcess | null = null, files: { server: Server; url: string } | null = null, browser: Browser | null = null;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'adarec-web-'));
    run = join(root, 'student');
    site = join(root, 'site');
    // a searched-student-like model whose receptive field (2 cells of conv 3 and max pool 3) is
    // shorter than its window: serve crops to it, the ONNX graph runs the whole window
    const genotype = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 2, cells: [['causal_conv_3', 'causal_max_pool_3', 'skip'], ['causal_conv_3', 'none', 'causal_conv_3']] };
    const config = parseTrainConfig({ model: { kind: 'adarec', hidden: 16, genotype }, maxLength: MAX_LENGTH, batchSize: 64, epochs: 1, seed: 4 }, 'test');
    await train({ config, data: tinyData(), outDir: run, log: () => {} });
    writeFileSync(join(root, 'titles.csv'), 'id,title\n' + Object.entries(TITLES).map(([id, t]) => `${id},"${t.replace(/"/g, '""')}"`).join('\n') + '\n');

    const exported = cli('export', '--web', run, '--out', site, '--titles', join(root, 'titles.csv'));
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stdout, /60 items, 4 titled from .*titles\.csv/);
    for (const f of ['index.html', 'catalog.json', 'model.onnx', 'lib/web/app.js', 'lib/top-k.js', 'ort/ort.wasm.bundle.min.js', 'ort/ort-wasm-simd-threaded.wasm'])
      assert.ok(existsSync(join(site, f)), `${f} was written`);

    serve = spawn(process.execPath, [MAIN, 'serve', '--model', run, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    serveUrl = await readyAddress(serve);
    files = await staticServer(site);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    files?.server.close();
    serve?.kill('SIGTERM');
    rmSync(root, { recursive: true, force: true });
  });

  async function recommend(history: string[], excludeSeen: boolean): Promise<Ranked[]> {
    const r = await fetch(new URL('/v1/recommend', serveUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history, k: 10, excludeSeen }) });
    assert.equal(r.status, 200);
    return ((await r.json()) as { items: Ranked[] }).items;
  }

  /** The page's top-10 once it has scored `clicks` clicks with the box as `exclude` says. */
  async function pageTop(page: Page, clicks: number, exclude: boolean): Promise<Ranked[]> {
    await page.waitForSelector(`#top[data-clicks="${clicks}"][data-exclude="${exclude}"]`, { state: 'attached' });
    return page.$$eval('#top li', (lis) => lis.map((li) => ({ item: li.querySelector('button')!.dataset.item!, score: Number(li.querySelector<HTMLElement>('.score')!.dataset.score) })));
  }

  function assertSame(got: Ranked[], want: Ranked[], what: string): number {
    assert.deepEqual(got.map((r) => r.item), want.map((r) => r.item), `${what}: the page's top-10 items are the server's`);
    const diff = Math.max(...got.map((r, i) => Math.abs(r.score - want[i].score)));
    assert.ok(diff <= 1e-5, `${what}: scores differ by ${diff}`);
    return diff;
  }

  async function openPage(url: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const page = await browser!.newPage();
    const errors: string[] = [], requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url);
    return { page, errors, requests };
  }

  it("shows serve's top-10 after every click, within 1e-5, cropping long histories, with and without the history left out", async (t) => {
    const { page, errors, requests } = await openPage(files!.url);
    await page.waitForSelector('#status:is([data-state="ready"], [data-state="error"])');
    assert.equal(await page.getAttribute('#status', 'data-state'), 'ready', await page.textContent('#status') ?? '');
    let worst = assertSame(await pageTop(page, 0, true), await recommend([], true), 'no clicks');

    // titles where the file gave them, ids elsewhere; the search box finds items by title
    assert.equal(await page.textContent('#items button[data-item="i1"]'), TITLES.i1);
    assert.equal(await page.textContent('#items button[data-item="i3"]'), 'i3');

    const history: string[] = [];
    const click = async (selector: string): Promise<void> => {
      const button = page.locator(selector).first();
      history.push((await button.getAttribute('data-item'))!);
      await button.click();
    };
    // more clicks than the window (8): the oldest fall out, as in serve
    const plan = ['i5', 'i9', 'search:gamma', 'i20', 'top', 'i33', 'i5', 'search:delta', 'i41', 'top', 'i2', 'i58'];
    for (const step of plan) {
      if (step === 'top') await click('#top button');
      else if (step.startsWith('search:')) {
        await page.fill('#search', step.slice(7));
        assert.equal(await page.locator('#items button').count(), 1, `searching '${step.slice(7)}' lists one item`);
        await click('#items button');
        await page.fill('#search', '');
      } else await click(`#items button[data-item="${step}"]`);
      worst = Math.max(worst, assertSame(await pageTop(page, history.length, true), await recommend(history, true), `after ${history.join(' ')}`));
    }
    assert.ok(history.length > MAX_LENGTH);
    assert.deepEqual(await page.$$eval('#history button', (bs) => bs.map((b) => b.dataset.item)), history);

    await page.uncheck('#exclude');
    worst = Math.max(worst, assertSame(await pageTop(page, history.length, false), await recommend(history, false), 'history not left out'));
    await click('#items button[data-item="i7"]');
    worst = Math.max(worst, assertSame(await pageTop(page, history.length, false), await recommend(history, false), 'one more click, history not left out'));

    // the latency of every click, measured in the page, is shown
    const latency = await page.$eval('#latency', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent ?? '' })) as Record<string, string>;
    assert.equal(Number(latency.clicks), history.length);
    for (const ms of [Number(latency.lastMs), Number(latency.medianMs)]) assert.ok(Number.isFinite(ms) && ms >= 0, latency.text);
    assert.match(latency.text, /median [\d.]+ ms over 13 clicks/);
    t.diagnostic(`per-click latency in Chromium: median ${Number(latency.medianMs).toFixed(3)} ms, last ${Number(latency.lastMs).toFixed(3)} ms; largest score difference to serve ${worst.toExponential(2)}`);

    assert.deepEqual(errors, [], 'no console errors');
    const outside = requests.filter((u) => !u.startsWith(files!.url));
    assert.deepEqual(outside, [], 'nothing is fetched from outside the folder');
    await page.close();
  });

  it('says why when it cannot load: a missing model file, a file:// page', async () => {
    const broken = join(root, 'broken');
    cpSync(site, broken, { recursive: true });
    rmSync(join(broken, 'model.onnx'));
    const other = await staticServer(broken);
    try {
      const { page } = await openPage(other.url);
      await page.waitForSelector('#status[data-state="error"]');
      assert.match(await page.textContent('#status') ?? '', /could not start: cannot fetch model\.onnx: HTTP 404/);
      await page.close();
    } finally {
      other.server.close();
    }
    const { page } = await openPage(pathToFileURL(join(site, 'index.html')).href);
    await page.waitForSelector('#status[data-state="error"]');
    assert.match(await page.textContent('#status') ?? '', /must be served over http\(s\).*python3 -m http\.server/);
    await page.close();
  });
});

describe('adarec export --web: the command line', () => {
  it('takes --model or --web, not both, and refuses --signals with --web', () => {
    for (const args of [['--out', 'x.onnx'], ['--model', 'a', '--web', 'b', '--out', 'x']]) {
      const r = cli('export', ...args);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /give --model .* or --web .*, one of them/);
    }
    const signals = cli('export', '--web', 'nowhere', '--out', 'x', '--signals');
    assert.match(signals.stderr, /--signals: not with --web/);
    assert.match(cli('export', '--help').stdout, /--web <run folder>[\s\S]*adarec export --web runs\/adarec\/student --out site\//);
  });
});
