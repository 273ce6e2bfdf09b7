// What a new user meets first (issue 16's trial on a clean clone): the set-up script without sudo,
// lifecycle scripts that do not rebuild what is built (so `npx adarec` in a checkout starts at
// once), `adarec train --help` with its defaults, a run's summary within 100 columns, `adarec serve
// --sessions` refusing a model that cannot stream before it listens, and Node versions that the
// engines field, the README and every installed package agree on.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressionNote, summaryTable, resultsTable, type ReportRow } from '../src/pipeline/report.js';
import { parseTrainConfig } from '../src/train/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'adarec-first-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A folder of fake commands: name -> shell body (each logs its arguments to calls.log). */
function fakeBin(name: string, commands: Record<string, string>): { bin: string; calls: () => string } {
  const bin = join(dir, name, 'bin');
  mkdirSync(bin, { recursive: true });
  const log = join(dir, name, 'calls.log');
  writeFileSync(log, '');
  for (const [cmd, body] of Object.entries(commands)) {
    writeFileSync(join(bin, cmd), `#!/bin/bash\necho "${cmd} $*" >> ${log}\n${body}\n`);
    chmodSync(join(bin, cmd), 0o755);
  }
  for (const real of ['dirname', 'env']) {
    copyFileSync(`/usr/bin/${real}`, join(bin, real));
    chmodSync(join(bin, real), 0o755);
  }
  return { bin, calls: () => readFileSync(log, 'utf8') };
}

describe('scripts/setup.sh', () => {
  const checkout = join(dir, 'checkout');
  mkdirSync(join(checkout, 'scripts'), { recursive: true });
  copyFileSync(join(ROOT, 'scripts', 'setup.sh'), join(checkout, 'scripts', 'setup.sh'));
  const run = (bin: string, env: Record<string, string> = {}) =>
    spawnSync('/bin/bash', [join(checkout, 'scripts', 'setup.sh')], { encoding: 'utf8', env: { PATH: bin, ...env } });
  const missing = { id: 'echo 1000', dpkg: 'exit 1', 'apt-get': 'exit 0', npm: 'exit 0' };

  it('not root and no sudo: says what to run as root (or how to go on without), installs nothing', () => {
    const f = fakeBin('nosudo', missing);
    const r = run(f.bin);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not root and there is no sudo/);
    assert.match(r.stderr, /apt-get install -y --no-install-recommends libdnnl-dev libopenblas-dev/);
    assert.match(r.stderr, /ADAREC_SKIP_APT=1 bash scripts\/setup\.sh/);
    assert.doesNotMatch(f.calls(), /apt-get|npm/);
  });

  it('not root with sudo: apt-get through sudo, then npm ci; ADAREC_SKIP_APT=1 goes straight to npm ci', () => {
    const f = fakeBin('sudo', { ...missing, sudo: '"$@"' });
    const r = run(f.bin);
    assert.equal(r.status, 0, r.stderr);
    assert.match(f.calls(), /^sudo apt-get update -qq$/m);
    assert.match(f.calls(), /^apt-get install -y -qq --no-install-recommends libdnnl-dev libopenblas-dev$/m);
    assert.match(f.calls(), /^npm ci --no-audit --no-fund$/m);
    const skip = fakeBin('skip', missing);
    assert.equal(run(skip.bin, { ADAREC_SKIP_APT: '1' }).status, 0);
    assert.doesNotMatch(skip.calls(), /apt-get|dpkg/);
    assert.match(skip.calls(), /^npm ci/m);
  });
});

describe('lifecycle scripts skip what is up to date (npx adarec reruns them in a checkout)', () => {
  it('scripts/prepare.mjs compiles once, then only when an input is newer than its stamp', () => {
    const root = join(dir, 'prepare');
    for (const d of ['scripts', 'src/cli', 'node_modules/typescript/bin']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'prepare.mjs'), join(root, 'scripts', 'prepare.mjs'));
    writeFileSync(join(root, 'tsconfig.json'), '{}');
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), '');
    const count = join(root, 'compiles');
    // a stand-in tsc: counts its runs and writes the CLI
    writeFileSync(join(root, 'node_modules/typescript/bin/tsc'), `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(count)}, 'x');` +
      `fs.mkdirSync(${JSON.stringify(join(root, 'dist/src/cli'))}, { recursive: true }); fs.writeFileSync(${JSON.stringify(join(root, 'dist/src/cli/main.js'))}, '');`);
    const prepare = () => spawnSync(process.execPath, [join(root, 'scripts', 'prepare.mjs')], { encoding: 'utf8' });
    const compiles = () => (existsSync(count) ? readFileSync(count, 'utf8').length : 0);
    // sources dated in the past, as after a checkout
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'src/cli/main.ts'), past, past);
    utimesSync(join(root, 'tsconfig.json'), past, past);
    assert.equal(prepare().status, 0);
    assert.equal(compiles(), 1);
    const again = prepare();
    assert.equal(compiles(), 1, 'nothing changed: no compile');
    assert.match(again.stderr, /dist\/ is up to date/);
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), '// edited');
    prepare();
    assert.equal(compiles(), 2, 'an edited source compiles again');
    rmSync(join(root, 'dist', 'src'), { recursive: true });
    prepare();
    assert.equal(compiles(), 3, 'a missing CLI compiles again');
    spawnSync(process.execPath, [join(root, 'scripts', 'prepare.mjs'), '--force']);
    assert.equal(compiles(), 4, '--force compiles');
  });

  it('scripts/build-native.mjs builds once, then only when a source or the configuration changed',
    { skip: !existsSync(join(ROOT, 'build', 'Release', 'adarec_native.node')) && 'the native addon is not built here' }, () => {
      const root = join(dir, 'native');
      mkdirSync(join(root, 'scripts'), { recursive: true });
      mkdirSync(join(root, 'native'), { recursive: true });
      copyFileSync(join(ROOT, 'scripts', 'build-native.mjs'), join(root, 'scripts', 'build-native.mjs'));
      writeFileSync(join(root, 'binding.gyp'), '{}');
      writeFileSync(join(root, 'native', 'addon.cc'), '');
      const count = join(root, 'builds');
      // a stand-in node-gyp: counts its runs and "builds" by copying the real addon (the script checks that it loads)
      const gyp = join(root, 'fake-node-gyp.js');
      writeFileSync(gyp, `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(count)}, 'x'); fs.mkdirSync(${JSON.stringify(join(root, 'build/Release'))}, { recursive: true });` +
        `fs.copyFileSync(${JSON.stringify(join(ROOT, 'build/Release/adarec_native.node'))}, ${JSON.stringify(join(root, 'build/Release/adarec_native.node'))});`);
      const past = new Date(Date.now() - 60_000);
      for (const f of ['binding.gyp', 'native/addon.cc', 'scripts/build-native.mjs']) utimesSync(join(root, f), past, past);
      const build = (...args: string[]) => spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), ...args],
        { encoding: 'utf8', env: { ...process.env, npm_config_node_gyp: gyp, ADAREC_REQUIRE_NATIVE: '1' } });
      const builds = () => (existsSync(count) ? readFileSync(count, 'utf8').length : 0);
      const first = build();
      assert.equal(first.status, 0, first.stderr);
      assert.equal(builds(), 1);
      const again = build();
      assert.equal(again.status, 0);
      assert.equal(builds(), 1, 'nothing changed: no build');
      assert.match(again.stderr, /native backend is up to date/);
      writeFileSync(join(root, 'native', 'addon.cc'), '// edited');
      build();
      assert.equal(builds(), 2, 'an edited source builds again');
      build('--', '-Dadarec_dnnl=0');
      assert.equal(builds(), 3, 'other node-gyp arguments build again');
      build('--require');
      assert.equal(builds(), 4, 'npm run build:native always builds');
    });
});

function adarec(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('adarec train --help', () => {
  it('shows every training option\'s default (per model where they differ), read from the config schema, and marks --data required', () => {
    const help = adarec(['train', '--help']).out.replace(/\s+/g, ' ');
    const d = Object.fromEntries((['nextitnet', 'sasrec', 'bert4rec'] as const).map((k) => [k, parseTrainConfig({ model: k }, 'test')]));
    assert.match(help, /--data <source> \(required\)/);
    assert.match(help, new RegExp(`--epochs <n> most epochs \\(default: ${d.nextitnet.epochs};`));
    assert.match(help, new RegExp(`--batch-size <n> sequences per step \\(default: ${d.nextitnet.batchSize}\\)`));
    assert.match(help, new RegExp(`--max-length <n> input window \\(most recent items\\) \\(default: ${d.nextitnet.maxLength}\\)`));
    assert.match(help, new RegExp(`\\(default: nextitnet ${d.nextitnet.optimizer.lr}, sasrec ${d.sasrec.optimizer.lr}, bert4rec ${d.bert4rec.optimizer.lr}\\)`));
    assert.match(help, new RegExp(`\\(default: nextitnet ${d.nextitnet.model.dropout}, sasrec ${d.sasrec.model.dropout}, bert4rec ${d.bert4rec.model.dropout}\\)`));
    assert.match(help, new RegExp(`--patience <n> early stopping: epochs without improvement \\(default: ${d.nextitnet.earlyStopping.patience}\\)`));
    for (const cmd of [['serve'], ['search'], ['export']]) assert.match(adarec([...cmd, '--help']).out, /\(required\)/, cmd.join(' '));
  });
});

describe('the run summary printed to the terminal', () => {
  const figures = (ndcg: number, latency: number) => ({
    full: { 'hr@10': 0.2345, 'ndcg@10': ndcg, 'mrr@10': 0.1111 }, sampled: { 'mrr@5': 0.3, 'hr@5': 0.4, 'ndcg@5': 0.35 },
    params: 12_345_678, nonEmbeddingParams: 2_345_678, macs: 987_654_321, latencyP50Ms: latency,
  });
  const teacher: ReportRow = { name: 'teacher (nextitnet)', kind: 'teacher', figures: figures(0.1, 12.5) };
  const rows: ReportRow[] = [teacher,
    { name: 'AdaRec student', kind: 'student', figures: figures(0.09, 0.25), seedNdcg10: [0.089, 0.091, 0.09] },
    { name: 'random search (best of 12, 3 epochs each)', kind: 'baseline', baseline: 'random-search', figures: figures(0.08, 0.3), seedNdcg10: [0.08, 0.081] },
    { name: 'random genotype (latency-matched) 1', kind: 'baseline', baseline: 'random-latency-matched', figures: figures(0.07, 0.31), seedNdcg10: [0.07, 0.071] },
  ];

  it('fits 100 columns with the longest row names and seed deviations; report.md keeps the full table', () => {
    const summary = summaryTable(rows, teacher);
    const lines = summary.split('\n');
    assert.equal(lines.length, rows.length + 1);
    for (const line of lines) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
    assert.match(lines[0], /^model\s+HR@10\s+NDCG@10\s+MRR@10\s+params\s+MACs\s+p50 ms\s+speed-up$/);
    assert.match(lines[2], /^AdaRec student\s+0\.2345\s+0\.0900±0\.0010\s+0\.1111\s+12\.35M\s+987\.65M\s+0\.25\s+50\.0x$/);
    assert.ok(resultsTable(rows, teacher).split('\n')[0].length > 100, 'the full Markdown table is unchanged');
  });

  it('warns when the student keeps half or more of the teacher\'s non-embedding parameters or MACs, and only then', () => {
    const student = (nonEmbeddingParams: number, macs: number): ReportRow => ({ ...rows[1], figures: { ...figures(0.09, 0.25), nonEmbeddingParams, macs } });
    assert.equal(compressionNote([teacher, student(1_000_000, 400_000_000)], teacher), null);
    assert.match(compressionNote(rows, teacher)!, /keeps 100% of the teacher's non-embedding parameters and 100% of its MACs.*latencyBudgetMs/);
    assert.match(compressionNote([teacher, student(1_780_000, 100_000_000)], teacher)!, /keeps 76% of the teacher's non-embedding parameters and 10% of its MACs/);
    assert.match(compressionNote([teacher, student(100_000, 600_000_000)], teacher)!, /keeps 4% .* and 61% of its MACs/);
    // from counts only: the measured latency does not change it (a resumed run writes the same report)
    assert.equal(compressionNote([teacher, { ...student(1_000_000, 400_000_000), figures: { ...student(1_000_000, 400_000_000).figures, latencyP50Ms: 99 } }], teacher), null);
  });
});

describe('adarec serve --sessions with a model that cannot stream', () => {
  it('refuses in one line before listening', () => {
    const run = join(dir, 'sasrec');
    const t = adarec(['train', '--model', 'sasrec', '--data', 'synthetic:users=40,items=30,seed=5', '--negatives', '0', '--epochs', '1',
      '--batch-size', '16', '--max-length', '8', '--out', run, '--cache-dir', join(dir, 'cache')], 300_000);
    assert.equal(t.code, 0, t.err);
    const r = adarec(['serve', '--model', run, '--sessions', '8', '--port', '0'], 60_000);
    assert.equal(r.code, 1);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.match(r.err, /^adarec: --sessions: cannot keep sessions for .*sasrec: SASRec cannot stream/);
    assert.doesNotMatch(r.out + r.err, /listening|"level"|\n\s+at /);
  });
});

describe('supported Node versions', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
  const semver = createRequire(import.meta.url)('semver') as { minVersion(range: string): { version: string } | null; satisfies(v: string, range: string): boolean };

  it('every locked package accepts the oldest Node our engines field admits, and this one (npm ci shows no EBADENGINE)', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const bad = Object.entries(lock.packages)
      .filter(([, p]) => p.engines && !Array.isArray(p.engines) && p.engines.node)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node) || !semver.satisfies(process.versions.node, (p.engines as { node: string }).node))
      .map(([name, p]) => `${name}@${p.version} wants node ${(p.engines as { node: string }).node}`);
    assert.deepEqual(bad, [], `engines.node is ${pkg.engines.node} (oldest ${oldest})`);
    assert.ok(semver.satisfies(process.versions.node, pkg.engines.node), `this Node ${process.version} is outside engines ${pkg.engines.node}`);
  });

  it('the README names the same oldest major, and the @types/node major is it', () => {
    const major = semver.minVersion(pkg.engines.node)!.version.split('.')[0];
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, new RegExp(`Node ${major} or later`));
    assert.equal(semver.minVersion(pkg.devDependencies['@types/node'])!.version.split('.')[0], major);
  });
});
