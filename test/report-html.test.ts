// report.html end to end: a tiny `adarec run` (two seeds, every baseline kind) writes it; headless
// Chromium opens it with no console error and no request beyond the file itself, and every section
// renders what the run folder holds (a screenshot is kept). Copies of the run cut back to earlier
// moments (a finetune in progress, a search in progress, nothing trained yet) get a page too, whose
// sections say what is missing. `adarec report` refuses a folder that is not a run.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { SECTIONS } from '../src/report/html.js';
import { browserSkip, launchBrowser } from './browser.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adarec-report-html-'));
/** Screenshots outlive the test's folder, for a person to look at (never in the checkout). */
const SHOTS = join(tmpdir(), 'adarec-report-screenshots');
const run = join(dir, 'run');

function adarec(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ADAREC_CACHE_DIR: join(dir, 'cache') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const skip = browserSkip();
let browser: Browser | undefined;

before(async () => {
  writeFileSync(join(dir, 'run.json'), JSON.stringify({
    teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 3 },
    search: { hidden: 8, cells: 2, nodes: 2, epochs: 3, maxLength: 12 },
    student: { epochs: 3 }, baselines: { random: 1, randomAny: 1, randomSearch: { epochsEach: 1 } }, seeds: 2, latencyRuns: 3,
  }));
  const r = adarec('run', '--data', 'synthetic:users=200,items=150', '--negatives', '20', '--config', join(dir, 'run.json'), '--out', run);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err + r.out, /report\.html/);
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Opened { page: Page; errors: string[]; requests: string[] }

/** The page in a fresh tab, with every console error, page error and request it caused. */
async function open(file: string): Promise<Opened> {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [], requests: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`failed request: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  const response = await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  assert.ok(response === null || response.ok(), 'the page loads');
  return { page, errors, requests };
}

/** Per section: its rendered size, its 'missing' sentences, and the size of every SVG in it. */
async function sections(page: Page) {
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const s = document.getElementById(id)!;
    const box = s.getBoundingClientRect();
    return [id, {
      height: box.height,
      missing: [...s.querySelectorAll('.missing')].map((m) => m.textContent ?? ''),
      svgs: [...s.querySelectorAll('svg')].map((g) => { const b = g.getBoundingClientRect(); return { w: b.width, h: b.height }; }),
    }];
  })), SECTIONS.map(([id]) => id));
}

function assertClean(o: Opened, file: string): void {
  assert.deepEqual(o.errors, [], 'no console error, page error or failed request');
  assert.deepEqual(o.requests, [pathToFileURL(file).href], 'no request beyond the page itself');
}

async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  assert.deepEqual([...readFileSync(path).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  assert.ok(statSync(path).size > 20_000, 'a screenshot of a whole page');
  return path;
}

describe('report.html of a finished run', { skip }, () => {
  it('opens offline with no error, and every section shows the run', async (t) => {
    const file = join(run, 'report.html');
    const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
    const o = await open(file);
    try {
      assertClean(o, file);
      const s = await sections(o.page);
      for (const [id] of SECTIONS) {
        assert.ok(s[id].height > 40, `${id} renders`);
        assert.deepEqual(s[id].missing, [], `${id} misses nothing`);
        for (const g of s[id].svgs) assert.ok(g.w > 50 && g.h > 40, `${id}: every picture has a size`);
      }
      const page = o.page;

      // results: one row per results.json row, the means as written, 95% intervals around them over the 2 seeds
      const rows = await page.$$eval('#results-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({
        text: td.firstChild?.textContent ?? '', ci: td.querySelector('.ci')?.textContent ?? null, title: td.getAttribute('title') }))));
      assert.equal(rows.length, results.rows.length);
      results.rows.forEach((r: any, i: number) => {
        assert.equal(rows[i][0].text, r.name);
        assert.equal(rows[i][3].text, r.figures.full['ndcg@10'].toFixed(4), `${r.name}: NDCG@10`);
        if (r.kind === 'teacher') {
          assert.equal(rows[i][1].text, '1');
          assert.equal(rows[i][3].ci, null, 'the teacher is trained once: no interval');
        } else {
          assert.equal(rows[i][1].text, '2', `${r.name}: 2 seeds`);
          const [lo, hi] = rows[i][3].ci!.slice(1, -1).split(', ').map(Number);
          assert.ok(lo <= r.figures.full['ndcg@10'] && r.figures.full['ndcg@10'] <= hi, `${r.name}: the interval holds the mean`);
          assert.deepEqual(rows[i][3].title, `seeds: ${r.seedNdcg10.map((x: number) => x.toFixed(4)).join(', ')}`);
        }
      });
      // trade-offs: every model on both pictures, a Pareto front through at least one
      const points = await page.$$eval('#tradeoff svg', (svgs) => svgs.map((g) => ({ points: g.querySelectorAll('g.point').length, front: g.querySelectorAll('g.point[data-pareto]').length, line: g.querySelectorAll('path.pareto').length })));
      assert.deepEqual(points.map((p) => p.points), [results.rows.length, results.rows.length]);
      for (const p of points) assert.ok(p.front >= 1 && p.line === 1);
      // the cell: one operator edge per cell edge (2 nodes: 3 edges), the genotype's
      const ops = await page.$$eval('#cell svg path.edge', (ps) => ps.map((p) => p.getAttribute('data-op')));
      assert.deepEqual(ops.sort(), [...results.genotype.cells[0]].sort());
      // alpha: 3 epochs x 3 edges x 8 operators
      assert.equal(await page.locator('#alpha svg rect.cell').count(), 3 * 3 * 8);
      // curves: a card per stage and its seeds, with a drawn line per seed
      const cards = await page.$$eval('#curves .card', (cs) => cs.map((c) => ({
        stage: c.getAttribute('data-stage'), lines: [...c.querySelectorAll('g.series polyline')].map((l) => (l as SVGGraphicsElement).getBBox().width) })));
      assert.deepEqual(cards.map((c) => c.stage), ['teacher', 'search', 'student', 'scratch', 'kd', 'random-1', 'random-any-1', 'random-search', 'random-search-student']);
      for (const c of cards) {
        assert.ok(c.lines.length >= 2, `${c.stage}: loss and validation`);
        if (c.stage !== 'random-search') for (const w of c.lines) assert.ok(w > 10, `${c.stage}: lines are drawn`);
      }
      assert.equal(cards.find((c) => c.stage === 'student')!.lines.length, 4, 'student: loss and validation of 2 seeds');
      assert.equal(await page.locator('#curves [data-stage="random-search"] g.series').count(), 6, '3 candidates, loss and validation');
      // data: the statistics of the prepared data
      const stats = await page.$$eval('#data-stats tr', (trs) => Object.fromEntries(trs.map((tr) => [tr.children[0].textContent, tr.children[1].textContent])));
      assert.equal(stats.sequences, '200');
      assert.equal(stats.items, '150');
      assert.ok(await page.locator('#data-lengths tr').count() > 1 && await page.locator('#data-top tbody tr').count() === 10);
      // links from the table to the curves resolve
      for (const href of await page.$$eval('#results-table a', (as) => as.map((a) => a.getAttribute('href')!))) {
        assert.equal(await page.locator(`[id="${href.slice(1)}"]`).count(), 1, href);
      }
      t.diagnostic(`screenshot: ${await screenshot(page, 'finished-run')}`);
    } finally {
      await o.page.close();
    }
  });
});

/** A copy of the run with `cut` applied, reported by `adarec report`; returns report.html's path. */
function reportOf(name: string, cut: (d: string) => void): string {
  const d = join(dir, name);
  cpSync(run, d, { recursive: true });
  rmSync(join(d, 'report.html'));
  cut(d);
  const r = adarec('report', d);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), join(d, 'report.html'));
  return join(d, 'report.html');
}

/** Removes every stage folder but `keep`, and the run's final files. */
function keepStages(d: string, keep: string[]): void {
  for (const f of ['results.json', 'report.md', 'cell.svg', 'alpha.svg', 'tradeoff.svg']) rmSync(join(d, f));
  for (const e of readdirSync(d)) if (statSync(join(d, e)).isDirectory() && !keep.includes(e)) rmSync(join(d, e), { recursive: true });
}

/** Keeps the first `n` lines of a JSON Lines log and a torn half line after them (a write in progress). */
function cutLog(path: string, n: number): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  writeFileSync(path, lines.slice(0, n).join('\n') + '\n' + lines[n].slice(0, 20));
}

describe('report.html of a run in progress', { skip }, () => {
  it('the student finetune in progress: the table has the finished stages, the curves what is logged', async () => {
    const file = reportOf('finetuning', (d) => {
      keepStages(d, ['teacher', 'search', 'student']);
      rmSync(join(d, 'student', 'stage.json'));
      cutLog(join(d, 'student', 'train.jsonl'), 1);
    });
    const o = await open(file);
    try {
      assertClean(o, file);
      const s = await sections(o.page);
      assert.match(s.results.missing.join(), /results\.json is not written yet/);
      assert.deepEqual(await o.page.$$eval('#results-table tbody td.name', (tds) => tds.map((td) => td.textContent)), ['teacher']);
      for (const id of ['tradeoff', 'cell', 'alpha', 'curves', 'data']) assert.deepEqual(s[id].missing, [], id);
      const student = o.page.locator('#curves [data-stage="student"]');
      assert.match(await student.locator('.status').innerText(), /student: in progress or stopped, 1 epoch so far/);
      assert.equal(await student.locator('g.series[data-points="1"]').count(), 2, 'the torn second line is left out');
      assert.match(await o.page.locator('header .status').innerText(), /not finished/);
      await screenshot(o.page, 'run-in-progress');
    } finally {
      await o.page.close();
    }
  });

  it('the search in progress: the cell is its last epoch\'s argmax, the rest says what is missing', async () => {
    const file = reportOf('searching', (d) => {
      keepStages(d, ['teacher', 'search']);
      for (const f of ['stage.json', 'genotype.json']) rmSync(join(d, 'search', f));
      cutLog(join(d, 'search', 'search.jsonl'), 2);
    });
    const o = await open(file);
    try {
      assertClean(o, file);
      const s = await sections(o.page);
      assert.deepEqual(s.cell.missing, []);
      assert.match(await o.page.locator('#cell').innerText(), /has not finished: this is the argmax genotype after epoch 2/);
      assert.equal(await o.page.locator('#cell svg path.edge').count(), 3);
      assert.deepEqual(await o.page.$$eval('#tradeoff svg', (svgs) => svgs.map((g) => g.querySelectorAll('g.point').length)), [1, 1], 'the teacher alone');
      assert.match(await o.page.locator('#curves [data-stage="search"] .status').innerText(), /in progress or stopped, 2 epochs so far/);
    } finally {
      await o.page.close();
    }
  });

  it('nothing trained yet, and a damaged log: each section says what is missing', async () => {
    const file = reportOf('starting', (d) => {
      keepStages(d, ['teacher']);
      for (const f of readdirSync(join(d, 'teacher'))) if (f !== 'stage-key.json' && f !== 'train.jsonl') rmSync(join(d, 'teacher', f));
      writeFileSync(join(d, 'teacher', 'train.jsonl'), '{"epoch":1,\n{}\n'); // a damaged first line, unlike a torn last one
      const data = JSON.parse(readFileSync(join(d, 'data.json'), 'utf8'));
      delete data.stats; // a run from before data.json held statistics
      writeFileSync(join(d, 'data.json'), JSON.stringify(data));
    });
    const o = await open(file);
    try {
      assertClean(o, file);
      const s = await sections(o.page);
      assert.match(s.results.missing.join(), /no model stage has finished yet/);
      assert.match(s.tradeoff.missing.join(), /needs the results table/);
      assert.match(s.cell.missing.join(), /no search stage yet/);
      assert.match(s.alpha.missing.join(), /no search stage yet/);
      assert.match(s.curves.missing.join(), /teacher\/train\.jsonl line 1 is not valid JSON/);
      assert.match(s.data.missing.join(), /data\.json holds no statistics.*adarec data stats synthetic:users=200,items=150/);
    } finally {
      await o.page.close();
    }
  });
});

describe('adarec report', () => {
  it('refuses what is not a run folder, saying what it is', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    let r = adarec('report', empty);
    assert.equal(r.code, 1);
    assert.match(r.err, /is not a run folder of adarec run \(no results\.json, and no stage folder/);
    r = adarec('report', join(run, 'student'));
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`one stage of a run, not the run folder: give the folder above it \\(adarec report ${run}\\)`));
    r = adarec('report', join(dir, 'nowhere'));
    assert.match(r.err, /nowhere: no such folder/);
    assert.ok(!existsSync(join(empty, 'report.html')));
  });

  it('a file of an unexpected shape costs its section, not the page', () => {
    const file = reportOf('odd-genotype', (d) => writeFileSync(join(d, 'search', 'genotype.json'), JSON.stringify({ operators: ['skip'], nodes: 2, cells: [['skip']] })));
    const html = readFileSync(file, 'utf8');
    const section = (id: string): string => html.slice(html.indexOf(`<section id="${id}">`), html.indexOf('</section>', html.indexOf(`<section id="${id}">`)));
    assert.match(section('cell'), /<p class="missing">could not be drawn: /);
    assert.ok(!section('results').includes('class="missing"') && section('results').includes('<table id="results-table">'));
    assert.ok(!section('curves').includes('class="missing"'));
  });

  it('--help says what the page holds, and --out writes it elsewhere', () => {
    const r = adarec('report', '--help');
    assert.equal(r.code, 0);
    for (const s of ['report.html', '95% interval', 'Pareto', 'train.jsonl', 'offline', 'Examples:']) assert.ok(r.out.includes(s), s);
    const out = join(dir, 'elsewhere.html');
    assert.equal(adarec('report', run, '--out', out).code, 0);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(run, 'report.html'), 'utf8'), 'the same page as adarec run wrote');
  });
});
