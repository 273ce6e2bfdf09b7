// Resumable pipeline stages. A stage is a folder with a key (the hash of everything its outputs
// depend on: its config, the data, the keys of the stages it reads). Finished, it holds
// stage.json { key, result }; run again with the same key it is skipped and its result reused.
// Interrupted, it holds only stage-key.json, and the next run resumes it (its trainer or search
// continues from last.ckpt). When the key differs the old folder is moved aside, never deleted.
// A stage may name former keys: the keys an older adarec gave the same work (an option added
// later, at the value that reproduces the older behaviour); a folder holding one is still current.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, writeFileAtomic } from '../util/atomic-write.js';

export function stageKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** True when the folder holds nothing but what a start killed while writing stage-key.json leaves. */
function startKilled(dir: string): boolean {
  try {
    return readdirSync(dir).every((e) => e.startsWith('.stage-key.json.') && e.endsWith('.tmp'));
  } catch {
    return false;
  }
}

export interface StageContext {
  dir: string;
  /** True when an interrupted run of this stage (same key) is being continued. */
  resume: boolean;
}

export interface StageRecord<T> { key: string; seconds: number; result: T; sha256?: string }

const recordChecksum = (r: StageRecord<unknown>): string =>
  createHash('sha256').update(JSON.stringify({ key: r.key, seconds: r.seconds, result: r.result })).digest('hex');

/**
 * The finished stage's record, or null: missing, not JSON, or not matching its checksum (a changed
 * byte would otherwise put a wrong figure in the report; the stage is finished again instead, from
 * its checkpoints). Records written before the checksum are taken as they are.
 */
export function readStageRecord<T>(path: string, log: (line: string) => void): StageRecord<T> | null {
  if (!existsSync(path)) return null;
  const r = readJson<StageRecord<T>>(path);
  if (r && typeof r === 'object' && typeof r.key === 'string' && (r.sha256 === undefined || r.sha256 === recordChecksum(r))) return r;
  log(`${path} is corrupt: the stage is finished again`);
  return null;
}

export async function runStage<T>(root: string, name: string, key: string, log: (line: string) => void,
  run: (ctx: StageContext) => Promise<T>, formerKeys: readonly string[] = []): Promise<T> {
  const dir = join(root, name);
  const current = (k: string | undefined): boolean => k === key || (k !== undefined && formerKeys.includes(k));
  const done = readStageRecord<T>(join(dir, 'stage.json'), log);
  if (done && current(done.key)) {
    log(`[${name}] up to date (key ${done.key}): skipped`);
    return done.result;
  }
  const started = readJson<{ key: string }>(join(dir, 'stage-key.json'));
  let resume = false;
  if (existsSync(dir)) {
    if (!done && current(started?.key)) {
      resume = true;
    } else if (!done && !started && startKilled(dir)) {
      // a start killed before its stage-key.json was written: nothing of it to keep
    } else {
      const aside = `${dir}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dir, aside);
      log(`[${name}] its inputs changed: the old outputs were moved to ${aside}`);
    }
  }
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'stage-key.json'), [Buffer.from(JSON.stringify({ key }) + '\n')]);
  log(`[${name}] ${resume ? 'resuming' : 'running'}`);
  const t0 = performance.now();
  const result = await run({ dir, resume });
  const record: StageRecord<T> = { key, seconds: (performance.now() - t0) / 1000, result };
  record.sha256 = recordChecksum(record);
  writeFileAtomic(join(dir, 'stage.json'), [Buffer.from(JSON.stringify(record, null, 2) + '\n')]);
  return result;
}

/**
 * Takes the run folder for this process (a lock file holding its pid) so that two runs never
 * write the same stages; a lock left by a process that no longer exists is taken over. Returns
 * the release function.
 */
export function lockRunFolder(root: string): () => void {
  mkdirSync(root, { recursive: true });
  const path = join(root, '.adarec-run.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => { try { if (readFileSync(path, 'utf8') === String(process.pid)) unlinkSync(path); } catch { /* already gone */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new Error(`${root} is in use by another adarec run (pid ${pid}); wait for it or choose another --out`);
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${root}`);
}

