// A full disk and a read-only folder (docs/RELIABILITY.md): training, the search, data
// preparation and export, with writes failing part-way. Injected at the write layer (node:fs's
// open/write/append for files under one folder fail with ENOSPC once a byte budget is spent, or
// with EROFS), so it runs everywhere; and, where the test may mount a small tmpfs (root), through
// the command line on a real file system that fills up and is then remounted read-only. Each time:
// one error naming the file, the previous checkpoint intact and loadable, no temporary file left,
// and once space is back the run resumes to what an uninterrupted run gives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs, { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrepared, prepareDataset, type PrepareOptions } from '../src/data/prepare.js';
import { openSource } from '../src/data/source.js';
import { exportModelFile } from '../src/cli/export.js';
import { parseSearchConfig } from '../src/search/config.js';
import { runSearch } from '../src/search/search.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { parseTrainConfig, type TrainConfigInput } from '../src/train/config.js';
import { loadTeacher } from '../src/train/teacher.js';
import { train } from '../src/train/trainer.js';
import { WriteError } from '../src/util/atomic-write.js';
import { tinyData } from './train-fixture.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const quiet = (): void => {};
let root = '';
before(() => { root = mkdtempSync(join(tmpdir(), 'adarec-disk-')); });
after(() => rmSync(root, { recursive: true, force: true }));

const sysError = (code: 'ENOSPC' | 'EROFS', syscall: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: ${code === 'ENOSPC' ? 'no space left on device' : 'read-only file system'}, ${syscall}${path ? ` '${path}'` : ''}`),
    { code, errno: code === 'ENOSPC' ? -28 : -30, syscall, path });

/**
 * node:fs with faults for files under one folder: `budget` bytes may still be written there (then
 * ENOSPC, a write cut short first, as a filling disk does), or `readOnly` (EROFS on opening for
 * writing). Installed over the builtin module's exports, so the named imports of src/ see it.
 */
class DiskFaults {
  budget = Infinity;
  readOnly = false;
  private readonly fds = new Set<number>();
  private readonly original = { openSync: fs.openSync, writeSync: fs.writeSync, closeSync: fs.closeSync, appendFileSync: fs.appendFileSync, writeFileSync: fs.writeFileSync };

  constructor(private readonly dir: string) {}

  private under(p: unknown): boolean {
    return typeof p === 'string' && (p === this.dir || p.startsWith(this.dir + '/'));
  }

  private spend(n: number): number {
    const ok = Math.min(n, this.budget);
    this.budget -= ok;
    return ok;
  }

  install(): void {
    const o = this.original;
    const f = fs as unknown as Record<string, unknown>;
    f.openSync = (path: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode): number => {
      const writing = typeof flags === 'string' ? /[wa+]/.test(flags) : typeof flags === 'number' && (flags & 3) !== 0;
      if (this.under(path) && writing && this.readOnly) throw sysError('EROFS', 'open', String(path));
      const fd = o.openSync(path, flags ?? 'r', mode);
      if (this.under(path)) this.fds.add(fd);
      return fd;
    };
    f.writeSync = (fd: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number => {
      if (!this.fds.has(fd) || typeof buffer === 'string') return (o.writeSync as (...a: unknown[]) => number)(fd, buffer, offset, length, position);
      const want = length ?? buffer.byteLength - (offset ?? 0);
      const ok = this.spend(want);
      if (ok === 0) throw sysError('ENOSPC', 'write');
      return o.writeSync(fd, buffer, offset ?? 0, ok, position);
    };
    f.closeSync = (fd: number): void => { this.fds.delete(fd); o.closeSync(fd); };
    f.appendFileSync = (path: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions): void => {
      if (!this.under(path)) return o.appendFileSync(path, data, opts);
      if (this.readOnly) throw sysError('EROFS', 'open', String(path));
      const bytes = Buffer.from(data as string);
      const ok = this.spend(bytes.length);
      if (ok) o.appendFileSync(path, bytes.subarray(0, ok));
      if (ok < bytes.length) throw sysError('ENOSPC', 'write');
    };
    f.writeFileSync = (path: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: fs.WriteFileOptions): void => {
      if (this.under(path) && (this.readOnly || this.budget < 64)) throw sysError(this.readOnly ? 'EROFS' : 'ENOSPC', this.readOnly ? 'open' : 'write', String(path));
      o.writeFileSync(path, data, opts);
    };
    syncBuiltinESMExports();
  }

  uninstall(): void {
    Object.assign(fs, this.original);
    syncBuiltinESMExports();
    this.fds.clear();
  }

  /** Runs `fn` with the faults installed (removed afterwards whatever happens). */
  async with<T>(fn: () => Promise<T> | T): Promise<T> {
    this.install();
    try {
      return await fn();
    } finally {
      this.uninstall();
    }
  }
}

const temps = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.tmp'));
const tensorsOf = (path: string) => readCheckpoint(path).tensors;

const tinyNextItNet: TrainConfigInput = { model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 64, epochs: 4 };

describe('full disk and read-only folder, injected at the write layer', () => {
  const data = tinyData({ users: 160, items: 40 });

  it('training: the epoch-3 checkpoint fails part-way; epoch 2 stays loadable; resumed with space, the run ends as an uninterrupted one', async () => {
    const config = parseTrainConfig(tinyNextItNet, 'test');
    const ref = join(root, 'train-ref'), cut = join(root, 'train-full');
    const expected = await train({ config, data, outDir: ref, log: quiet });
    const disk = new DiskFaults(cut);
    const err = await disk.with(() => train({
      config, data, outDir: cut, log: quiet,
      onBatchEnd: ({ epoch, batch }) => { if (epoch === 3 && batch === 0) disk.budget = 3000; }, // the log line fits, the checkpoint does not
    })).then(() => null, (e: Error) => e);
    assert.ok(err instanceof WriteError, String(err));
    assert.match(err.message, new RegExp(`^cannot write ${cut}/(best|last)\\.ckpt: no space left on the device \\(ENOSPC\\); the previous version of the file is intact$`));
    assert.equal(readCheckpoint(join(cut, 'last.ckpt')).meta.progress.epoch, 2, 'last.ckpt holds epoch 2');
    assert.deepEqual(temps(cut), []);
    const resumed = await train({ config, data, outDir: cut, resume: true, log: quiet });
    assert.deepEqual(resumed, expected);
    assert.deepEqual(tensorsOf(join(cut, 'last.ckpt')), tensorsOf(join(ref, 'last.ckpt')));
    assert.deepEqual(tensorsOf(join(cut, 'best.ckpt')), tensorsOf(join(ref, 'best.ckpt')));
  });

  it('training in a read-only folder: EROFS naming the file, last.ckpt untouched; writable again, it resumes', async () => {
    const config = parseTrainConfig(tinyNextItNet, 'test');
    const dir = join(root, 'train-ro');
    await train({ config: parseTrainConfig({ ...tinyNextItNet, epochs: 2 }, 'test'), data, outDir: dir, log: quiet });
    const before = readFileSync(join(dir, 'last.ckpt'));
    const disk = new DiskFaults(dir);
    disk.readOnly = true;
    await assert.rejects(disk.with(() => train({ config, data, outDir: dir, resume: true, log: quiet })),
      new RegExp(`^WriteError: cannot write ${dir}/\\S+: the file system is read-only \\(EROFS\\)`));
    assert.ok(readFileSync(join(dir, 'last.ckpt')).equals(before));
    const r = await train({ config, data, outDir: dir, resume: true, log: quiet });
    assert.equal(r.epochsRun, 4);
    assert.deepEqual(tensorsOf(join(dir, 'last.ckpt')), tensorsOf(join(root, 'train-ref', 'last.ckpt')));
  });

  it('search: a write of epoch 2 fails; epoch 1 stays loadable; resumed with space, the same genotype and checkpoints', async () => {
    const sdata = tinyData({ users: 200, items: 40 });
    const teacherDir = join(root, 'search-teacher');
    await train({ config: parseTrainConfig({ ...tinyNextItNet, epochs: 2 }, 'teacher'), data: sdata, outDir: teacherDir, log: quiet });
    const config = parseSearchConfig({ hidden: 8, cells: 2, nodes: 2, epochs: 3, maxLength: 12, batchSize: 64 }, 'search');
    const search = async (outDir: string, o: { resume?: boolean; onBatchEnd?: (i: { epoch: number; batch: number }) => void } = {}) => {
      const teacher = await loadTeacher({ path: join(teacherDir, 'best.ckpt'), field: 'teacher', maxLength: 12 });
      try {
        return await runSearch({ config, teacher, data: sdata, outDir, log: quiet, ...o });
      } finally {
        teacher.dispose();
      }
    };
    const ref = join(root, 'search-ref'), cut = join(root, 'search-full');
    const expected = await search(ref);
    const disk = new DiskFaults(cut);
    const err = await disk.with(() => search(cut, { onBatchEnd: ({ epoch, batch }) => { if (epoch === 2 && batch === 0) disk.budget = 2000; } }))
      .then(() => null, (e: Error) => e);
    assert.ok(err instanceof WriteError, String(err));
    assert.match(err.message, new RegExp(`^cannot write ${cut}/\\S+: no space left on the device \\(ENOSPC\\)`));
    assert.equal(readCheckpoint(join(cut, 'last.ckpt')).meta.progress.epoch, 1);
    assert.deepEqual(temps(cut), []);
    const resumed = await search(cut, { resume: true });
    assert.deepEqual(resumed, expected);
    assert.deepEqual(tensorsOf(join(cut, 'best.ckpt')), tensorsOf(join(ref, 'best.ckpt')));
    for (const log of ['search.jsonl', 'steps.jsonl']) {
      const lines = (d: string) => readFileSync(join(d, log), 'utf8').trim().split('\n').map((l) => { const { seconds: _s, evalSeconds: _e, ...x } = JSON.parse(l); return x; });
      assert.deepEqual(lines(cut), lines(ref), log);
    }
  });

  it('data preparation: adarec data prepare fails naming the cache file, other commands warn and go on; with space the cache is written', async () => {
    const cacheDir = join(root, 'cache-full');
    mkdirSync(cacheDir);
    writeFileSync(join(cacheDir, 'prepared-older.adarec'), 'an earlier cache file');
    const input = await openSource('synthetic:users=80,items=30,minLength=5,maxLength=12', { cacheDir });
    const options: PrepareOptions = { duplicates: 'keep-all', bySession: false, split: { kind: 'leave-one-out' }, negatives: { count: 10 }, seed: 3 };
    const disk = new DiskFaults(cacheDir);
    disk.budget = 1000;
    const err = await disk.with(() => prepareDataset(input, options, cacheDir, { cacheRequired: true })).then(() => null, (e: Error) => e);
    assert.ok(err instanceof WriteError, String(err));
    assert.match(err.message, new RegExp(`^cannot write ${cacheDir}/prepared-[0-9a-f]{32}\\.adarec: no space left on the device \\(ENOSPC\\); nothing was written$`));
    const warnings: string[] = [];
    disk.budget = 1000;
    const r = await disk.with(() => prepareDataset(input, options, cacheDir, { warn: (w) => warnings.push(w) }));
    assert.equal(r.fromCache, false);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(`cannot write ${r.path}: no space left on the device (ENOSPC)`), warnings[0]);
    assert.deepEqual(readdirSync(cacheDir), ['prepared-older.adarec']);
    assert.equal(readFileSync(join(cacheDir, 'prepared-older.adarec'), 'utf8'), 'an earlier cache file');
    const again = prepareDataset(input, options, cacheDir, { cacheRequired: true });
    assert.equal(again.fromCache, false);
    assert.deepEqual(loadPrepared(again.path).split.train.items, r.data.split.train.items);
  });

  it('export: the ONNX file or its mapping fails; the previous teacher stays loadable, a half-replaced pair is refused, and with space the new one loads', async () => {
    const runs = [join(root, 'train-ref'), join(root, 'train-ro')];
    const out = join(root, 'export-full');
    mkdirSync(out);
    const onnx = join(out, 'teacher.onnx');
    exportModelFile({ model: join(root, 'search-teacher'), out: onnx, signals: true, opset: 17 });
    const previous = readFileSync(onnx);
    const disk = new DiskFaults(out);
    disk.budget = 0;
    await assert.rejects(disk.with(() => exportModelFile({ model: runs[0], out: onnx, signals: true, opset: 17 })),
      new RegExp(`^WriteError: cannot write ${onnx}: no space left on the device \\(ENOSPC\\); the previous version of the file is intact$`));
    assert.ok(readFileSync(onnx).equals(previous));
    (await loadTeacher({ path: onnx, field: 'teacher', maxLength: 12 })).dispose();
    // room for the model, not for its mapping: the new model beside the old mapping is refused, not run
    const size = exportModelFile({ model: runs[0], out: join(root, 'scratch.onnx'), signals: true, opset: 17 }).bytes;
    disk.budget = size + 10;
    await assert.rejects(disk.with(() => exportModelFile({ model: runs[0], out: onnx, signals: true, opset: 17 })),
      new RegExp(`^WriteError: cannot write ${join(out, 'teacher.mapping.json')}: no space left`));
    assert.ok(!readFileSync(onnx).equals(previous), 'the model was replaced');
    await assert.rejects(loadTeacher({ path: onnx, field: 'teacher', maxLength: 12 }), new RegExp(`^Error: ${onnx} is corrupt or not the model of`));
    assert.deepEqual(temps(out), []);
    exportModelFile({ model: runs[0], out: onnx, signals: true, opset: 17 });
    (await loadTeacher({ path: onnx, field: 'teacher', maxLength: 12 })).dispose();
  });
});

/** Whether this process may mount a tmpfs (root on Linux, and the kernel allows it here). */
function tmpfsAvailable(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'needs root on Linux to mount a tmpfs';
  const probe = join(tmpdir(), `adarec-tmpfs-probe-${process.pid}`);
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    return null;
  } catch {
    return 'mount -t tmpfs is not allowed here';
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

const skipTmpfs = tmpfsAvailable();
describe('full disk and read-only file system, for real (a small tmpfs, through the command line)', { skip: skipTmpfs ?? false }, () => {
  let mnt = '', mounted = false;
  const base = (dir: string) => join(mnt, dir);
  const trainArgs = (out: string, cache: string, epochs: number, resume: boolean) => [MAIN, 'train', '--data', 'synthetic:users=200,items=40,minLength=5,maxLength=16',
    '--negatives', '0', '--cache-dir', cache, '--model', 'nextitnet', '--config', join(root, 'tmpfs-train.json'), '--epochs', String(epochs), '--out', out, ...(resume ? ['--resume'] : [])];
  const adarec = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ADAREC_THREADS: '1' } });
  before(() => {
    mnt = join(root, 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
    mounted = true;
    writeFileSync(join(root, 'tmpfs-train.json'), JSON.stringify({ model: { kind: 'nextitnet', hidden: 16, dilations: [1, 2] }, maxLength: 12, batchSize: 64 }));
  });
  after(() => { if (mounted) execFileSync('umount', ['-l', mnt]); });

  it('train, data prepare and export fail naming the file when the disk is full, and the run resumes once space is back; read-only likewise', () => {
    const run = base('run'), cache = base('cache');
    let r = adarec(trainArgs(run, cache, 2, false));
    assert.equal(r.status, 0, r.stderr);
    const atTwo = readFileSync(join(run, 'last.ckpt'));
    // fill the file system but for 2 KB (less than one checkpoint)
    const free = statfsSync(mnt).bavail * statfsSync(mnt).bsize;
    writeFileSync(base('filler'), Buffer.alloc(Math.max(0, free - 2048)));
    r = adarec(trainArgs(run, cache, 4, true));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`adarec: cannot write ${run}/\\S+: no space left on the device \\(ENOSPC\\)`));
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('adarec:')).length, 1, r.stderr);
    assert.ok(readFileSync(join(run, 'last.ckpt')).equals(atTwo), 'last.ckpt untouched');
    assert.equal(readCheckpoint(join(run, 'last.ckpt')).meta.progress.epoch, 2);
    r = adarec([MAIN, 'data', 'prepare', 'synthetic:users=300,items=40', '--negatives', '0', '--cache-dir', base('cache2')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`adarec: cannot write ${base('cache2')}/prepared-[0-9a-f]{32}\\.adarec: no space left on the device \\(ENOSPC\\)`));
    r = adarec([MAIN, 'export', '--model', run, '--out', base('model.onnx')]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`adarec: cannot write ${base('model.onnx')}: no space left on the device \\(ENOSPC\\); nothing was written`));
    assert.deepEqual(temps(mnt), []);
    // space back: the run resumes and ends as one trained for 4 epochs without interruption
    rmSync(base('filler'));
    r = adarec(trainArgs(run, cache, 4, true));
    assert.equal(r.status, 0, r.stderr);
    const ref = join(root, 'tmpfs-ref');
    r = adarec(trainArgs(ref, join(root, 'tmpfs-ref-cache'), 4, false));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(tensorsOf(join(run, 'last.ckpt')), tensorsOf(join(ref, 'last.ckpt')));
    assert.deepEqual(tensorsOf(join(run, 'best.ckpt')), tensorsOf(join(ref, 'best.ckpt')));
    // read-only: the same, with EROFS
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    try {
      const before = readFileSync(join(run, 'last.ckpt'));
      r = adarec(trainArgs(run, cache, 5, true));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`adarec: cannot write ${run}/\\S+: the file system is read-only \\(EROFS\\)`));
      assert.ok(readFileSync(join(run, 'last.ckpt')).equals(before));
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mnt]);
    }
    r = adarec(trainArgs(run, cache, 5, true));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(run, 'result.json')));
  });
});
