// `adarec train` then `adarec eval` end to end on small synthetic runs: the table, the paired
// model-vs-baseline intervals, the per-user CSV, two seeds with their mean and sd, and clear errors
// for an unknown --compare metric and for --per-user with several runs; an interrupted training run;
// `adarec train --dropout --shuffle-ties`.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareOptionsFrom } from '../src/cli/data.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'adarec-eval-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function adarec(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('adarec eval', () => {
  it('prints the metrics table, paired intervals against each baseline and a per-user CSV', () => {
    const run = join(dir, 'run'), config = join(dir, 'c.json'), csv = join(dir, 'users.csv');
    writeFileSync(config, JSON.stringify({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] } }));
    const data = ['--data', 'synthetic:users=120,items=200,seed=4', '--cache-dir', dir];
    const trained = adarec('train', ...data, '--config', config, '--epochs', '2', '--out', run);
    assert.equal(trained.code, 0, trained.err);
    const r = adarec('eval', '--run', run, '--per-user', csv, '--compare', 'ndcg@10,mrr@5');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^120 test examples, full ranking/m);
    assert.match(r.out, /^nextitnet\s+\d\.\d{4}/m);
    assert.match(r.out, /nextitnet minus each baseline, paired bootstrap 95% interval \(2000 resamples of the 120 examples, seed 1\)/);
    for (const baseline of ['MostPopular', 'ItemTransitions'])
      assert.match(r.out, new RegExp(`vs ${baseline}\\s+NDCG@10 [+-]\\d\\.\\d{4} \\[[+-]\\d\\.\\d{4}, [+-]\\d\\.\\d{4}\\]\\s+MRR@5 `));
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 121);
    const again = adarec('eval', '--run', run, '--per-user', csv, '--compare', 'ndcg@10,mrr@5');
    assert.equal(again.out, r.out, 'the same run evaluates to the same table and intervals');

    // a second seed: one row per run, their mean, the sd, and intervals of the per-user mean
    const run2 = join(dir, 'run2');
    assert.equal(adarec('train', ...data, '--config', config, '--epochs', '2', '--seed', '2', '--out', run2).code, 0);
    const both = adarec('eval', '--run', run, run2, '--exclude-seen');
    assert.equal(both.code, 0, both.err);
    const value = (name: string): number => Number(both.out.match(new RegExp(`^${name}\\s+(?:\\S+\\s+){7}(\\d\\.\\d{4})`, 'm'))![1]);
    const ndcg10 = [value('nextitnet \\(run\\)'), value('nextitnet \\(run2\\)'), value('mean of 2 runs')];
    assert.ok(Math.abs((ndcg10[0] + ndcg10[1]) / 2 - ndcg10[2]) <= 6e-5, `mean row ${ndcg10}`);
    assert.match(both.out, /seen items excluded/);
    assert.match(both.out, /^sd over the runs: NDCG@10 \d\.\d{4}, HR@10 \d\.\d{4}$/m);
    assert.match(both.out, /the mean of the 2 runs minus each baseline/);
    const perUser = adarec('eval', '--run', run, run2, '--per-user', csv);
    assert.match(perUser.err, /--per-user writes one run's users: give a single --run/);
  });

  it('opens every stage folder of adarec run that holds a model, and names the search folder', () => {
    const out = join(dir, 'pipeline'), config = join(dir, 'run.json');
    writeFileSync(config, JSON.stringify({
      teacher: { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, epochs: 1 },
      search: { hidden: 8, cells: 2, nodes: 2, epochs: 1, maxLength: 12 },
      student: { epochs: 1 }, baselines: { random: 1, randomAny: 1, randomSearch: false, ablations: [], paperMode: false }, latencyRuns: 2,
    }));
    const ran = adarec('run', '--data', 'synthetic:users=80,items=150,seed=6', '--cache-dir', dir, '--config', config, '--out', out);
    assert.equal(ran.code, 0, ran.err);
    for (const stage of ['teacher', 'student', 'scratch', 'kd', 'random-1', 'random-any-1']) {
      const r = adarec('eval', '--run', join(out, stage), '--no-baselines');
      assert.equal(r.code, 0, `${stage}: ${r.err}`);
      assert.match(r.out, /^80 test examples, full ranking/m, stage);
      assert.match(r.out, new RegExp(`^${['teacher', 'scratch', 'kd'].includes(stage) ? 'nextitnet' : 'adarec'}\\s+\\d\\.\\d{4}`, 'm'), stage);
    }
    const search = adarec('eval', '--run', join(out, 'search'));
    assert.notEqual(search.code, 0);
    assert.match(search.err, /is the search stage of adarec run: it holds the supernet.*student/);
    assert.doesNotMatch(search.err, /    at /, 'no stack trace');
    const nothing = adarec('eval', '--run', dir);
    assert.match(nothing.err, /is not a run folder of adarec train or a stage folder of adarec run \(no data\.json\)/);
  });

  it('--preset: the protocols of the papers set the negatives, the validation protocol and the default of eval', () => {
    const run = join(dir, 'preset'), config = join(dir, 'nin.json');
    writeFileSync(config, JSON.stringify({ model: { kind: 'nextitnet', hidden: 8, dilations: [1, 2] } }));
    const data = ['--data', 'synthetic:users=60,items=150,seed=7', '--cache-dir', dir];
    const r = adarec('train', ...data, '--preset', 'sasrec', '--config', config, '--epochs', '1', '--out', run);
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).validation.protocol, 'sampled');
    assert.match(adarec('eval', '--run', run, '--no-baselines').out, /^60 test examples, sampled ranking/m);
    assert.match(adarec('eval', '--run', run, '--no-baselines', '--protocol', 'full').out, /^60 test examples, full ranking/m);
    for (const [preset, strategy] of [['sasrec', 'uniform'], ['bert4rec', 'popularity'], ['full', 'uniform']] as const)
      assert.equal(prepareOptionsFrom({ preset, negatives: 100, negativesSeed: 1 }).negatives?.strategy, strategy, preset);
    assert.equal(prepareOptionsFrom({ preset: 'bert4rec', negatives: 100, negativeStrategy: 'uniform', negativesSeed: 1 }).negatives?.strategy, 'uniform', 'an explicit strategy wins');
    assert.match(adarec('train', ...data, '--preset', 'nope', '--config', config).err, /--preset.*nope.*Allowed choices are full, sasrec, bert4rec/);
  });

  it('adarec train --dropout and --shuffle-ties set their keys over the config file, and a bad rate is named', () => {
    const run = join(dir, 'dropout'), config = join(dir, 'sas.json');
    writeFileSync(config, JSON.stringify({ model: { kind: 'sasrec', hidden: 8, blocks: 1, heads: 2, dropout: 0.1 } }));
    const data = ['--data', 'synthetic:users=60,items=200,seed=5', '--cache-dir', dir];
    const r = adarec('train', ...data, '--config', config, '--dropout', '0.4', '--shuffle-ties', '--epochs', '1', '--out', run);
    assert.equal(r.code, 0, r.err);
    const saved = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    assert.deepEqual([saved.model.kind, saved.model.hidden, saved.model.dropout, saved.shuffleTies], ['sasrec', 8, 0.4, true]);
    assert.match(r.err + r.out, /shuffleTies: [\d,]+ training items share their timestamp/);
    const bad = adarec('train', ...data, '--model', 'nextitnet', '--dropout', '1', '--out', join(dir, 'bad-dropout'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /model\.dropout/);
    assert.doesNotMatch(bad.err, /\n\s+at /);
  });

  it('opens an interrupted adarec train run (data.json is written before the first epoch)', async () => {
    const run = join(dir, 'interrupted'), config = join(dir, 'i.json');
    writeFileSync(config, JSON.stringify({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, earlyStopping: { patience: 500 } }));
    const child = spawn(process.execPath, [CLI, 'train', '--data', 'synthetic:users=120,items=200,seed=4', '--cache-dir', dir, '--config', config,
      '--epochs', '500', '--out', run], { stdio: 'ignore' });
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    while (!existsSync(join(run, 'best.ckpt'))) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    await exited;
    assert.ok(!existsSync(join(run, 'result.json')), 'the run was interrupted, not finished');
    const r = adarec('eval', '--run', run, '--no-baselines');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^nextitnet\s+\d\.\d{4}/m);
  });

  it('refuses an unknown comparison metric before any work', () => {
    const r = adarec('eval', '--run', join(dir, 'no-such-run'), '--compare', 'recall@10');
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown metric 'recall@10'/);
    assert.doesNotMatch(r.err, /\n\s+at /);
  });
});
