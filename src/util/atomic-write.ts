// Crash-safe file writes shared by every layer that persists state (prepared data, checkpoints,
// run files): readers see the old content or the new, never a torn file. A write that fails (a
// full disk, a read-only folder) throws one error naming the file and leaves the old one as it was.
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, existsSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const TEMP_SUFFIX = '.tmp';

/** A write that failed; `code` is the system's (ENOSPC, EROFS, EACCES, ...), `path` the file meant. */
export class WriteError extends Error {
  readonly code: string | undefined;

  constructor(readonly path: string, cause: unknown, kept: boolean) {
    const e = cause as NodeJS.ErrnoException;
    const why = e.code === 'ENOSPC' ? 'no space left on the device' : e.code === 'EROFS' ? 'the file system is read-only'
      : e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EDQUOT' ? 'disk quota exceeded' : (e.message ?? String(cause));
    super(`cannot write ${path}: ${why}${e.code ? ` (${e.code})` : ''}; ${kept ? 'the previous version of the file is intact' : 'nothing was written'}`);
    this.name = 'WriteError';
    this.code = e.code;
  }
}

/**
 * Writes a file so that readers see either the old content or the new, never a torn file: the
 * chunks go to a temp file in the same folder, which is fsynced and renamed over `path`. If
 * anything fails (including the chunk iterator throwing) the temp file is removed and the old
 * file is untouched; a failed system call is a WriteError naming `path`. Temp files of the same
 * name that killed processes left are removed after a successful write.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  let fd = -1;
  try {
    fd = openSync(tmp, 'wx');
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length;) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) try { closeSync(fd); } catch { /* already failing */ }
    try { rmSync(tmp, { force: true }); } catch { /* e.g. a read-only folder: nothing was created */ }
    throw (e as NodeJS.ErrnoException).syscall ? new WriteError(path, e, existsSync(path)) : e;
  }
  // make the rename itself durable (best effort: not every platform can fsync a folder)
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* ignore */ }
  removeStaleTempFiles(dir, basename(path));
}

/**
 * Appends to a log file (JSON Lines); a failure is a WriteError naming it. A kill or a full disk may
 * leave a partial last line, which the readers of these logs drop (`truncateLog`).
 */
export function appendFileLogged(path: string, text: string): void {
  try {
    appendFileSync(path, text);
  } catch (e) {
    throw (e as NodeJS.ErrnoException).syscall ? new WriteError(path, e, existsSync(path)) : e;
  }
}

/** Whether a process of this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files that a killed writeFileAtomic left in `dir` for `name` (the writer's pid is in
 * the name: files of another live process, which may be writing right now, are left alone).
 */
export function removeStaleTempFiles(dir: string, name: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  const prefix = `.${name}.`;
  for (const e of entries) {
    if (!e.startsWith(prefix) || !e.endsWith(TEMP_SUFFIX)) continue;
    const pid = Number(/^(\d+)\.[0-9a-f]+$/.exec(e.slice(prefix.length, -TEMP_SUFFIX.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    try { rmSync(join(dir, e), { force: true }); } catch { /* a read-only folder: left for later */ }
  }
}
