// The item vocabulary a run was trained with, kept beside its checkpoints (<run>/items.json) so
// that a served model maps original item ids to its own ids and back without the training data.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from './errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const ITEM_KEYS_FILE = 'items.json';

export interface ItemKeysFile {
  /** The prepared data the keys come from (checkpoints carry the same hash). */
  manifestHash: string;
  /** itemKeys[i - 1] is the original id of model item i (0 is padding). */
  itemKeys: string[];
}

export function writeItemKeys(runDir: string, manifestHash: string, itemKeys: readonly string[]): void {
  const body = JSON.stringify({ manifestHash, itemKeys });
  writeFileAtomic(join(runDir, ITEM_KEYS_FILE), [Buffer.from(body + '\n', 'utf8')]);
}

/** Reads <runDir>/items.json; a clear error when it is missing or malformed. */
export function readItemKeys(runDir: string): ItemKeysFile {
  const path = join(runDir, ITEM_KEYS_FILE);
  if (!existsSync(path)) throw new DataError(path, 'missing: the run folder has no item vocabulary (runs trained before it was written: retrain, or train again with --resume to write it)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(path, `not valid JSON (${(e as Error).message})`);
  }
  const f = parsed as Partial<ItemKeysFile>;
  if (typeof f.manifestHash !== 'string') throw new DataError(path, 'expected a string', undefined, 'manifestHash');
  if (!Array.isArray(f.itemKeys) || f.itemKeys.some((k) => typeof k !== 'string')) throw new DataError(path, 'expected an array of strings', undefined, 'itemKeys');
  return { manifestHash: f.manifestHash, itemKeys: f.itemKeys };
}
