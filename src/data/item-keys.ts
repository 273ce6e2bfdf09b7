// The item vocabulary a run was trained with, kept beside its checkpoints (<run>/items.json) so
// that a served model maps original item ids to its own ids and back without the training data.
// The file carries the SHA-256 of its contents: a changed byte inside an id would still be valid
// JSON and would silently map ids to the wrong items (files written before it are read unchecked).
import { createHash } from 'node:crypto';
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

const checksum = (manifestHash: string, itemKeys: readonly string[]): string =>
  createHash('sha256').update(JSON.stringify({ manifestHash, itemKeys })).digest('hex');

export function writeItemKeys(runDir: string, manifestHash: string, itemKeys: readonly string[]): void {
  const body = JSON.stringify({ manifestHash, itemKeys, sha256: checksum(manifestHash, itemKeys) });
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
    throw new DataError(path, `not valid JSON (${(e as Error).message.replace(/\s*\n\s*/g, ' ')})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new DataError(path, 'expected an object { manifestHash, itemKeys, sha256 }');
  const f = parsed as Partial<ItemKeysFile> & { sha256?: unknown };
  const unknown = Object.keys(f).filter((k) => !['manifestHash', 'itemKeys', 'sha256'].includes(k));
  if (unknown.length) throw new DataError(path, `unknown key '${unknown[0]}' (corrupt?)`);
  if (typeof f.manifestHash !== 'string') throw new DataError(path, 'expected a string', undefined, 'manifestHash');
  if (!Array.isArray(f.itemKeys) || f.itemKeys.some((k) => typeof k !== 'string')) throw new DataError(path, 'expected an array of strings', undefined, 'itemKeys');
  if (f.sha256 !== undefined && f.sha256 !== checksum(f.manifestHash, f.itemKeys)) throw new DataError(path, 'corrupt: its contents do not match their checksum (sha256)');
  if (new Set(f.itemKeys).size !== f.itemKeys.length) throw new DataError(path, 'corrupt: an item id appears twice', undefined, 'itemKeys');
  return { manifestHash: f.manifestHash, itemKeys: f.itemKeys };
}
