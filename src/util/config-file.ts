// Config files: JSON read with a clear error, validated by a zod schema, every problem reported
// with its key path in one message (shared by the training, search and run configs).
import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** Parsed JSON of a file; the error names the file and says whether it is missing or not JSON. */
export function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON (${oneLine((e as Error).message)})`}`);
  }
}

/** An error message on one line (JSON.parse quotes the text around the error, newlines included). */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Validates `json` against `schema` and fills in its defaults. Throws one Error naming `source`
 * and every bad key path, e.g. "config.json: optimizer.lr: expected number, got string; unknown key 'lerning_rate'".
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, json: unknown, source: string): z.output<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  throw new Error(`${source}: ${r.error.issues.map((i) => describeIssue(i, json)).join('; ')}`);
}

function valueAt(json: unknown, path: (string | number)[]): unknown {
  let v = json;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

function describeIssue(issue: z.ZodIssue, json: unknown): string {
  const path = issue.path.join('.');
  const at = (text: string): string => (path ? `${path}: ${text}` : text);
  switch (issue.code) {
    case 'invalid_type':
      return at(issue.received === 'undefined' ? `required (${issue.expected})` : `expected ${issue.expected}, got ${issue.received}`);
    case 'unrecognized_keys':
      return issue.keys.map((k) => at(`unknown key '${k}'`)).join('; ');
    case 'invalid_enum_value':
      return at(`expected one of ${issue.options.map((o) => `'${String(o)}'`).join(', ')}, got ${JSON.stringify(issue.received)}`);
    case 'invalid_union_discriminator':
      return at(`expected one of ${issue.options.map((o) => `'${String(o)}'`).join(', ')}, got ${JSON.stringify(valueAt(json, issue.path) ?? null)}`);
    case 'invalid_literal':
      return at(`expected ${JSON.stringify(issue.expected)}`);
    case 'too_small':
      return at(issue.type === 'array' ? `needs at least ${issue.minimum} entries`
        : `must be ${issue.inclusive ? '>=' : '>'} ${issue.minimum}`);
    case 'too_big':
      return at(issue.type === 'array' ? `allows at most ${issue.maximum} entries`
        : `must be ${issue.inclusive ? '<=' : '<'} ${issue.maximum}`);
    case 'not_finite':
      return at('must be finite');
    default:
      return at(issue.message);
  }
}

