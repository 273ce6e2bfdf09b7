#!/usr/bin/env node
// npm's `prepare` lifecycle: compiles the TypeScript into dist/ and makes the CLI executable,
// unless dist/ is up to date: its stamp (written after the last compile here) is newer than
// every input (tsconfig.json, package-lock.json, the .ts files tsconfig includes). The check is
// what keeps `npx adarec` instant in a checkout: npx installs the checkout itself into its cache
// (as a link, because package.json has a bin named adarec) and runs the lifecycle scripts again.
// `--force` (and `npm run build`, `npm test`, which call tsc directly) always compile.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.prepare-stamp');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

/** Newest modification time (ms) among the files, and the .ts files under the folders. */
function newestInput() {
  let newest = 0;
  const see = (file) => { newest = Math.max(newest, statSync(file).mtimeMs); };
  for (const f of ['tsconfig.json', 'package-lock.json', 'package.json']) if (existsSync(path.join(root, f))) see(path.join(root, f));
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) see(p);
    }
  };
  for (const d of ['src', 'test', 'bench']) walk(path.join(root, d));
  return newest;
}

const force = process.argv.includes('--force');
if (!force && existsSync(stamp) && existsSync(cli) && statSync(stamp).mtimeMs > newestInput()) {
  process.stderr.write('adarec: dist/ is up to date (compiled from these sources); skipping tsc\n');
  process.exit(0);
}
const started = new Date();
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
chmodSync(cli, 0o755);
// dated when the compile started: a source saved during it is newer, and compiles next time
writeFileSync(stamp, `compiled from the sources as of ${started.toISOString()}\n`);
utimesSync(stamp, started, started);
