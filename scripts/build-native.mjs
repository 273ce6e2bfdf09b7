#!/usr/bin/env node
// Builds the native CPU backend (build/Release/adarec_native.node) with node-gyp.
// Run by npm's `install` lifecycle: a failed build prints one warning and exits 0, since adarec
// still works on its js backend. The lifecycle run skips the build when the addon is up to date
// (its stamp is newer than every source and records the same configuration, and it loads): `npx
// adarec` in a checkout installs the checkout into npx's cache and runs this again. `--require` (npm run build:native) or ADAREC_REQUIRE_NATIVE=1
// makes a failure exit 1. `--verbose` (or ADAREC_BUILD_VERBOSE=1) shows the compiler output;
// arguments after `--` go to node-gyp (e.g. `-- -Dadarec_dnnl=0` builds against OpenBLAS only).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dashdash = process.argv.indexOf('--');
const argv = dashdash < 0 ? process.argv.slice(2) : process.argv.slice(2, dashdash);
const gypExtra = dashdash < 0 ? [] : process.argv.slice(dashdash + 1);
const strict = argv.includes('--require') || process.env.ADAREC_REQUIRE_NATIVE === '1';
const verbose = argv.includes('--verbose') || process.env.ADAREC_BUILD_VERBOSE === '1';
const addonPath = path.join(root, 'build', 'Release', 'adarec_native.node');

function fail(reason, detail) {
  if (detail) process.stderr.write(detail.endsWith('\n') ? detail : detail + '\n');
  const level = strict ? 'error' : 'WARNING';
  process.stderr.write(
    `adarec: ${level}: the native backend could not be built (${reason}). Install a C++ toolchain, ` +
    'python3 and a GEMM library (Debian/Ubuntu: apt-get install build-essential python3 libdnnl-dev, ' +
    'or libopenblas-dev instead of libdnnl-dev), then run `npm run build:native`. ' +
    (strict ? '\n' : 'Until then adarec runs on the slower js backend.\n'));
  process.exit(strict ? 1 : 0);
}

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

// How to run node-gyp: [command, ...leading args], or null.
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp; // set by npm during lifecycle scripts
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bin = onPath('node-gyp');
  if (bin) return [bin];
  const npm = onPath('npm');
  if (npm) {
    // $(dirname npm)/../lib/node_modules/npm/..., or next to npm-cli.js when npm is a symlink
    const candidates = [path.resolve(path.dirname(npm), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')];
    try { candidates.push(path.resolve(path.dirname(realpathSync(npm)), '../node_modules/node-gyp/bin/node-gyp.js')); } catch { /* dangling */ }
    for (const js of candidates) if (existsSync(js)) return [process.execPath, js];
  }
  const local = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(local)) return [process.execPath, local];
  const npx = onPath('npx');
  if (npx) return [npx, '--no-install', 'node-gyp'];
  return null;
}

// node-gyp downloads Node's headers unless told where they are; use the installed ones
// (e.g. /usr/include/node from a distro or nodesource package) when they match this node.
function localNodeDir() {
  if (process.env.npm_config_nodedir) return null;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  try {
    const h = readFileSync(path.join(prefix, 'include', 'node', 'node_version.h'), 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => h.match(new RegExp(`#define NODE_${k}_VERSION (\\d+)`))?.[1]);
    if (`v${v.join('.')}` === process.version && existsSync(path.join(prefix, 'include', 'node', 'common.gypi')))
      return prefix;
  } catch { /* no local headers */ }
  return null;
}

// What the build depends on besides its sources: node-gyp arguments, compiler, which GEMM headers exist.
const stampPath = path.join(root, 'build', 'Release', '.adarec-build-stamp');
const config = JSON.stringify({
  gypExtra, cxx: process.env.CXX ?? null, arch: process.arch, platform: process.platform, napi: process.versions.napi,
  dnnl: existsSync('/usr/include/oneapi/dnnl/dnnl.h'), openblas: existsSync('/usr/include/openblas/cblas.h') || existsSync('/usr/include/cblas.h'),
});

function newestSource() {
  let newest = 0;
  const see = (file) => { newest = Math.max(newest, statSync(file).mtimeMs); };
  see(path.join(root, 'binding.gyp'));
  see(fileURLToPath(import.meta.url));
  for (const e of readdirSync(path.join(root, 'native'), { withFileTypes: true })) if (e.isFile()) see(path.join(root, 'native', e.name));
  return newest;
}

function loads() {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonPath)}).info()`], { stdio: 'ignore' });
  return r.status === 0;
}

// an explicit build (npm run build:native: --require, or --force) always rebuilds
if (!argv.includes('--require') && !argv.includes('--force') && existsSync(addonPath) && existsSync(stampPath) &&
    readFileSync(stampPath, 'utf8') === config && statSync(stampPath).mtimeMs > newestSource() && loads()) {
  process.stderr.write('adarec: the native backend is up to date (build/Release/adarec_native.node); skipping node-gyp\n');
  process.exit(0);
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found');

const args = [...gyp.slice(1), 'rebuild'];
const nodedir = localNodeDir();
if (nodedir) args.push(`--nodedir=${nodedir}`);
if (gypExtra.length) args.push('--', ...gypExtra);
process.stderr.write('adarec: building the native backend (node-gyp rebuild, C++, about 20 s)...\n');
const t0 = Date.now();
rmSync(stampPath, { force: true });
const r = spawnSync(gyp[0], args, {
  cwd: root,
  stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
  maxBuffer: 64 << 20,
});
const output = verbose ? '' : `${r.stdout ?? ''}${r.stderr ?? ''}`;
if (r.error) fail(`could not run node-gyp: ${r.error.message}`);
if (r.status !== 0 || !existsSync(addonPath)) {
  // keep the full log; name the first meaningful error in the one-line warning
  const dir = mkdtempSync(path.join(os.tmpdir(), 'adarec-build-'));
  const log = path.join(dir, 'node-gyp.log');
  writeFileSync(log, output);
  const lines = output.split('\n').map((l) => l.trim());
  const pick = (re) => lines.find((l) => re.test(l));
  const reason = pick(/^adarec_native: /) ?? pick(/fatal error: /) ?? pick(/\berror: /) ??
    pick(/^gyp: /) ?? pick(/^gyp ERR! stack Error: /)?.replace(/^gyp ERR! stack /, '') ??
    `node-gyp rebuild exited with ${r.status ?? r.signal}`;
  const tail = strict ? lines.filter((l) => l !== '').slice(-25).join('\n') : undefined;
  fail(`${reason.slice(0, 300)}; full log: ${log}`, tail);
}

// The addon must also load (a missing shared library only shows up here).
const check = spawnSync(process.execPath, ['-e',
  `const a = require(${JSON.stringify(addonPath)}); const i = a.info(); ` +
  'console.log(`${i.gemm} (available: ${i.available.join(", ")})`);'], { encoding: 'utf8' });
if (check.status !== 0) {
  const msg = (check.stderr || '').split('\n').find((l) => /Error/.test(l)) ?? `exit ${check.status}`;
  rmSync(addonPath, { force: true });
  fail(`the built addon does not load: ${msg.trim()}`);
}
// dated when the build started: a source saved during it is newer, and rebuilds next time
writeFileSync(stampPath, config);
utimesSync(stampPath, new Date(t0), new Date(t0));
process.stderr.write(`adarec: native backend built in ${((Date.now() - t0) / 1000).toFixed(0)} s; GEMM: ${check.stdout.trim()}\n`);
