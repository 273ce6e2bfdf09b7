// The random baselines of `adarec run`: genotypes from the whole space beside the cost-matched ones,
// and the random search with the search's compute (its choice on the validation split, its resume
// after an interruption, its row in the report).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/engine/index.js';
import { DEFAULT_OPS } from '../src/models/adarec/operators.js';
import { genotypeCost, randomGenotypes } from '../src/models/adarec/genotype.js';
import { parseRunConfig } from '../src/pipeline/config.js';
import { randomSearchBudget, type RandomSearchResult } from '../src/pipeline/random-search.js';
import { runPipeline } from '../src/pipeline/run.js';
import { tinyData } from './train-fixture.js';

const quiet = (): void => {};
let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-baselines-')); });
after(() => rmSync(root, { recursive: true, force: true }));

describe('random genotypes from the whole space', () => {
  const names = new Set(DEFAULT_OPS.map((o) => o.name));
  const searched = { operators: DEFAULT_OPS.map((o) => o.name), nodes: 3, cells: Array.from({ length: 4 }, () => ['causal_conv_3', 'skip', 'none', 'none', 'causal_max_pool_3', 'skip']) };

  it('are distinct, from the operator set, shared by the cells, not the searched one, and not all of its cost', () => {
    const rs = randomGenotypes(DEFAULT_OPS, 3, 4, 20, new Rng(9), { exclude: [searched] });
    assert.equal(rs.length, 20);
    assert.equal(new Set(rs.map((r) => JSON.stringify(r.cells))).size, 20);
    for (const r of rs) {
      assert.equal(r.cells.length, 4);
      assert.equal(r.cells[0].length, 6);
      assert.ok(r.cells.every((c) => JSON.stringify(c) === JSON.stringify(r.cells[0])), 'one genotype shared by all cells');
      assert.ok(r.cells[0].every((o) => names.has(o)), r.cells[0].join());
      assert.notDeepEqual(r.cells, searched.cells);
    }
    const want = genotypeCost(searched, 64, 50).params;
    const off = rs.filter((r) => Math.abs(genotypeCost(r, 64, 50).params - want) / want > 0.25);
    assert.ok(off.length >= 10, `${off.length} of 20 outside the cost-matched tolerance`);
  });

  it('are the same for the same seed and differ for another', () => {
    const draw = (seed: number) => randomGenotypes(DEFAULT_OPS, 3, 4, 5, new Rng(seed)).map((g) => g.cells);
    assert.deepEqual(draw(3), draw(3));
    assert.notDeepEqual(draw(3), draw(4));
  });

  it('stop at the size of the space, the excluded genotypes left out', () => {
    const ops = DEFAULT_OPS.filter((o) => o.name === 'skip' || o.name === 'none');
    const all = randomGenotypes(ops, 1, 2, 10, new Rng(1)); // one edge, two operators
    assert.deepEqual(all.map((g) => g.cells[0][0]).sort(), ['none', 'skip']);
    assert.deepEqual(randomGenotypes(ops, 1, 2, 10, new Rng(1), { exclude: [all[0]] }).map((g) => g.cells), [all[1].cells]);
  });
});

describe('the random-search budget', () => {
  it('matches the search epochs by default, at least two candidates', () => {
    const c = parseRunConfig({}, 'test').baselines;
    assert.equal(c.randomAny, 3);
    assert.deepEqual(c.randomSearch, { epochsEach: 2 });
    assert.deepEqual(randomSearchBudget({ epochsEach: 2 }, 20), { candidates: 10, epochsEach: 2, searchEpochs: 20 });
    assert.deepEqual(randomSearchBudget({ epochsEach: 2 }, 1), { candidates: 2, epochsEach: 2, searchEpochs: 1 });
    assert.deepEqual(randomSearchBudget({ candidates: 4, epochsEach: 3 }, 20), { candidates: 4, epochsEach: 3, searchEpochs: 20 });
    assert.equal(parseRunConfig({ baselines: { randomSearch: false } }, 'test').baselines.randomSearch, false);
    assert.throws(() => parseRunConfig({ baselines: { randomSearch: { candidates: 1 } } }, 'test'), /candidates/);
    assert.deepEqual(parseRunConfig({ baselines: { randomSearch: true } }, 'test').baselines.randomSearch, { epochsEach: 2 });
    assert.throws(() => parseRunConfig({ baselines: { randomSearch: 'yes' } }, 'run.json'),
      /run\.json: baselines\.randomSearch: expected true, false or \{ "candidates": n >= 2, "epochsEach": n >= 1 \}/);
  });
});

describe('adarec run: random baselines', () => {
  const data = tinyData({ users: 240, items: 50 }, 20);
  const config = parseRunConfig({
    teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 2 },
    search: { hidden: 8, cells: 2, nodes: 2, epochs: 2, maxLength: 12 },
    student: { epochs: 1 }, latencyRuns: 3,
    baselines: { scratch: false, kd: false, random: 1, randomAny: 2, randomSearch: { candidates: 3, epochsEach: 2 } },
  }, 'test');
  const candidatesOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'random-search', 'candidates.json'), 'utf8')) as RandomSearchResult;
  /** What must not depend on an interruption: everything but the wall-clock seconds. */
  const timeless = (r: RandomSearchResult) => ({ ...r, candidates: r.candidates.map(({ seconds: _, ...c }) => c) });

  it('labels cost-matched, whole-space and random-search rows; the search picks the best validation candidate', async () => {
    const out = join(root, 'run');
    const r = await runPipeline({ config, data, outDir: out, log: quiet });
    assert.deepEqual(r.rows.map((x) => x.kind), ['teacher', 'student', 'baseline', 'baseline', 'baseline', 'baseline']);
    assert.deepEqual(r.rows.slice(2).map((x) => x.baseline), ['random-cost-matched', 'random-any', 'random-any', 'random-search']);
    assert.deepEqual(r.rows.slice(2).map((x) => x.name), [
      'random genotype (cost-matched) 1', 'random genotype (any) 1', 'random genotype (any) 2', 'random search (best of 3, 2 epochs each)']);
    const any = r.rows.filter((x) => x.baseline === 'random-any').map((x) => x.genotype);
    assert.notDeepEqual(any[0], any[1]);
    for (const g of any) assert.notDeepEqual(g, r.genotype.cells[0]);

    const rs = candidatesOf(out);
    assert.equal(rs.candidates.length, 3);
    assert.equal(new Set(rs.candidates.map((c) => JSON.stringify(c.genotype))).size, 3);
    assert.deepEqual(rs.budget, { candidates: 3, epochsEach: 2, searchEpochs: 2, candidateEpochs: 6, stepsPerEpoch: rs.budget.stepsPerEpoch });
    for (const c of rs.candidates) {
      assert.ok(c.validation !== null && Number.isFinite(c.validation));
      assert.equal(c.validation, c.validationMetrics![rs.metric]);
      assert.equal(c.epochsRun, 2);
      assert.ok(existsSync(join(out, 'random-search', `candidate-${c.index}`, 'best.ckpt')));
    }
    const best = Math.max(...rs.candidates.map((c) => c.validation!));
    assert.equal(rs.chosen, rs.candidates.find((c) => c.validation === best)!.index);
    const row = r.rows.find((x) => x.baseline === 'random-search')!;
    assert.deepEqual(row.genotype, rs.candidates[rs.chosen! - 1].genotype);
    assert.equal(row.randomSearch!.chosen, rs.chosen);

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.deepEqual(results.rows.map((x: { baseline?: string }) => x.baseline ?? null), [null, null, 'random-cost-matched', 'random-any', 'random-any', 'random-search']);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    for (const x of r.rows) assert.ok(report.includes(`| ${x.name} |`), x.name);
    assert.match(report, /random search: 3 genotypes from the whole space trained 2 epochs each/);
  });

  it('resumes an interrupted random search to the same candidates and choice, then skips every stage', async () => {
    const out = join(root, 'run-cut');
    cpSync(join(root, 'run'), out, { recursive: true });
    for (const s of ['random-search', 'random-search-student']) rmSync(join(out, s), { recursive: true });
    // interrupt the second candidate after its first epoch
    const controller = new AbortController();
    let second = false;
    await assert.rejects(runPipeline({ config, data, outDir: out, signal: controller.signal, log: (l) => {
      if (/\[random-search\] candidate 2\/3/.test(l)) second = true;
      if (second && /^epoch 1\/2\b/.test(l)) controller.abort();
    } }), /interrupted/);
    assert.ok(existsSync(join(out, 'random-search', 'candidate-2', 'last.ckpt')));
    assert.equal(candidatesOf(out).candidates.length, 1);
    const logs: string[] = [];
    await runPipeline({ config, data, outDir: out, log: (l) => logs.push(l) });
    assert.ok(logs.some((l) => /\[random-search\] resuming/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /candidate 1\/3: trained earlier/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /resuming .*candidate-2 after epoch 1/.test(l)), logs.join('\n'));
    assert.deepEqual(timeless(candidatesOf(out)), timeless(candidatesOf(join(root, 'run'))));
    const again: string[] = [];
    await runPipeline({ config, data, outDir: out, log: (l) => again.push(l) });
    // teacher, search, student, random-1, random-any-1, random-any-2, random-search, random-search-student
    assert.equal(again.filter((l) => /skipped/.test(l)).length, 8, again.join('\n'));
  });
});
