// A versioned binary container for prepared data: named typed arrays and JSON values behind a JSON
// header, checksummed, written atomically, read back with one file read and typed-array views.
//
// Layout (little-endian):
//   0   8  magic 'ADARECDS'
//   8   4  format version (u32)
//   12  4  header JSON length in bytes (u32)
//   16  8  payload length in bytes (u64)
//   24 32  sha256 of header JSON + payload
//   56  .. header JSON: { manifest, sections: [{ name, type, offset, length }] } (offset into payload)
//   ..  .. zero padding to a multiple of 8, then the payload: each section 8-byte aligned;
//          typed arrays as raw little-endian elements, JSON values (e.g. keys) as UTF-8 text.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write.js';

export const CACHE_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('ADARECDS', 'latin1');
const FIXED = 56;

export type Section = Int32Array | Float64Array | Float32Array | Uint8Array | { json: unknown };
const TYPES = { int32: Int32Array, float64: Float64Array, float32: Float32Array, uint8: Uint8Array } as const;
type TypeName = keyof typeof TYPES | 'json';

interface SectionEntry { name: string; type: TypeName; offset: number; length: number }

/** A cache file that is missing, truncated, corrupt or of another format version. */
export class CacheError extends Error {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.name = 'CacheError';
  }
}

if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('adarec caches assume a little-endian machine');

function typeOf(v: Section): TypeName {
  if (v instanceof Int32Array) return 'int32';
  if (v instanceof Float64Array) return 'float64';
  if (v instanceof Float32Array) return 'float32';
  if (v instanceof Uint8Array) return 'uint8';
  return 'json';
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** The file's bytes, as a list of buffers to write in order. */
export function encodeCache(manifest: unknown, sections: Record<string, Section>): Buffer[] {
  const entries: SectionEntry[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  for (const [name, value] of Object.entries(sections)) {
    const type = typeOf(value);
    const bytes = type === 'json'
      ? Buffer.from(JSON.stringify((value as { json: unknown }).json), 'utf8')
      : Buffer.from((value as Int32Array).buffer, (value as Int32Array).byteOffset, (value as Int32Array).byteLength);
    const length = type === 'json' ? bytes.length : (value as Int32Array).length;
    entries.push({ name, type, offset, length });
    parts.push(bytes);
    const padded = pad8(bytes.length);
    if (padded > bytes.length) parts.push(Buffer.alloc(padded - bytes.length));
    offset += padded;
  }
  const json = Buffer.from(JSON.stringify({ manifest, sections: entries }), 'utf8');
  const jsonPadded = pad8(FIXED + json.length) - FIXED;
  const head = Buffer.alloc(FIXED);
  MAGIC.copy(head, 0);
  head.writeUInt32LE(CACHE_FORMAT_VERSION, 8);
  head.writeUInt32LE(jsonPadded, 12);
  head.writeBigUInt64LE(BigInt(offset), 16);
  const body = [json, Buffer.alloc(jsonPadded - json.length), ...parts];
  const h = createHash('sha256');
  for (const b of body) h.update(b);
  h.digest().copy(head, 24);
  return [head, ...body];
}

/** Writes the file atomically: a temporary file in the same folder, fsync, rename over the target. */
export function writeCacheFile(path: string, manifest: unknown, sections: Record<string, Section>): void {
  writeFileAtomic(path, encodeCache(manifest, sections));
}

export interface CacheContents { manifest: unknown; sections: Record<string, Section> }

/** Reads and verifies a cache file; throws CacheError when it is missing, truncated or corrupt. */
export function readCacheFile(path: string): CacheContents {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CacheError(path, `cannot be read (${(e as Error).message})`);
  }
  if (buf.length < FIXED || !buf.subarray(0, 8).equals(MAGIC)) throw new CacheError(path, 'is not an adarec cache file');
  const version = buf.readUInt32LE(8);
  if (version !== CACHE_FORMAT_VERSION) throw new CacheError(path, `has format version ${version}, this adarec reads ${CACHE_FORMAT_VERSION}`);
  const jsonLength = buf.readUInt32LE(12), payloadLength = Number(buf.readBigUInt64LE(16));
  const payloadStart = FIXED + jsonLength;
  if (buf.length !== payloadStart + payloadLength) throw new CacheError(path, `is truncated or padded (${buf.length} bytes, header says ${payloadStart + payloadLength})`);
  const digest = createHash('sha256').update(buf.subarray(FIXED)).digest();
  if (!digest.equals(buf.subarray(24, 56))) throw new CacheError(path, 'fails its checksum');
  let header: { manifest: unknown; sections: SectionEntry[] };
  try {
    header = JSON.parse(buf.toString('utf8', FIXED, payloadStart).replace(/\0+$/, ''));
  } catch {
    throw new CacheError(path, 'has an unreadable header');
  }
  const sections: Record<string, Section> = {};
  if (!Array.isArray(header?.sections)) throw new CacheError(path, 'has an unreadable header');
  for (const e of header.sections) {
    const start = payloadStart + e.offset;
    if (e.type === 'json') {
      try {
        sections[e.name] = { json: JSON.parse(buf.toString('utf8', start, start + e.length)) };
      } catch {
        throw new CacheError(path, `has a bad section '${e.name}'`);
      }
      continue;
    }
    const T = TYPES[e.type];
    if (!T || start + e.length * T.BYTES_PER_ELEMENT > buf.length) throw new CacheError(path, `has a bad section '${e.name}'`);
    const at = buf.byteOffset + start, ab = buf.buffer as ArrayBuffer;
    // a view when aligned (the usual case: large reads get their own buffer), else a copy
    sections[e.name] = at % T.BYTES_PER_ELEMENT === 0
      ? new T(ab, at, e.length)
      : new T(ab.slice(at, at + e.length * T.BYTES_PER_ELEMENT));
  }
  return { manifest: header.manifest, sections };
}

/** sha256 of a file, read in 1 MiB chunks, as lowercase hex. */
export function hashFile(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      h.update(chunk.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** JSON with object keys sorted and undefined members dropped: equal options give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}
