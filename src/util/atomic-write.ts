// Crash-safe file writes shared by every layer that persists state (prepared data, checkpoints,
// run files): readers see the old content or the new, never a torn file.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_SUFFIX = '.tmp';

/**
 * Writes a file so that readers see either the old content or the new, never a torn file: the
 * chunks go to a temp file in the same folder, which is fsynced and renamed over `path`. If
 * anything fails (including the chunk iterator throwing) the temp file is removed and the old
 * file is untouched.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  let fd = openSync(tmp, 'wx');
  try {
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  // make the rename itself durable (best effort: not every platform can fsync a folder)
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* ignore */ }
}

/** Removes temp files that a killed writeFileAtomic left in `dir` for `name`. */
export function removeStaleTempFiles(dir: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) if (e.startsWith(`.${name}.`) && e.endsWith(TEMP_SUFFIX)) rmSync(join(dir, e), { force: true });
}
