// POST /admin/reload: reload the run folder and swap the model, behind a bearer token. Without a
// configured token the route answers 403 (disabled); a missing token is 401, a wrong one 403 (the
// comparison takes the same time whatever the token: SHA-256 digests, timingSafeEqual). A reload
// may name another run folder, {"model": "<dir>"}, only inside the configured model root: a path
// outside it (`..`, an absolute path elsewhere, a symbolic link pointing out) is a 403 before the
// file system is asked whether it exists.
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import type { ModelHolder } from './model-holder.js';
import { reloadSchema, type ReloadBody } from './schemas.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Throws the 401/403 unless the request carries `token` (compared in constant time). */
export function authorize(request: FastifyRequest, token: string | undefined): void {
  if (!token) throw new HttpError(403, 'AdminDisabled', 'admin routes are disabled: start adarec serve with --admin-token-env VAR, VAR holding a token');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new HttpError(401, 'Unauthorized', 'send the admin token as Authorization: Bearer <token>');
  if (!timingSafeEqual(digest(match[1]), digest(token))) throw new HttpError(403, 'Forbidden', 'wrong admin token');
}

const inside = (root: string, path: string): boolean => {
  const rel = relative(root, path);
  return !rel.startsWith('..') && !isAbsolute(rel);
};

/** The run folder a reload names, resolved inside `root` (a real path), or the HttpError refusing it. */
export function allowedModelFolder(asked: string, root: string | undefined): string {
  const shown = JSON.stringify(asked.length > 200 ? `${asked.slice(0, 200)}...` : asked);
  if (!root) throw new HttpError(403, 'ReloadPathsDisabled', 'this server reloads only the folder it serves: start adarec serve with --model-root DIR to reload other run folders inside DIR');
  if (asked.includes('\0')) throw new HttpError(400, 'BadModelPath', `body.model: ${shown} is not a path`);
  const realRoot = root;
  const candidate = resolve(realRoot, asked);
  if (!inside(realRoot, candidate)) throw new HttpError(403, 'OutsideModelRoot', `body.model: ${shown} is outside the model folder this server may load from`);
  // the deepest part of the path that exists, links resolved, must be inside too: a link pointing
  // out is refused whether or not the rest of the path exists there
  let probe = candidate;
  while (probe !== realRoot && !existsSync(probe)) probe = dirname(probe);
  const real = realpathSync(probe);
  if (!inside(realRoot, real)) throw new HttpError(403, 'OutsideModelRoot', `body.model: ${shown} leads outside the model folder this server may load from`);
  if (probe !== candidate) throw new HttpError(404, 'NoSuchModel', `body.model: no run folder ${shown} in the model folder`);
  return real;
}

export function adminRoutes(app: FastifyInstance, holder: ModelHolder, token: string | undefined, modelRoot?: string): void {
  let root: string | undefined;
  try {
    root = modelRoot === undefined ? undefined : realpathSync(modelRoot);
  } catch {
    throw new RangeError(`--model-root ${modelRoot}: no such folder`);
  }
  app.post<{ Body: ReloadBody | undefined }>('/admin/reload', {
    schema: reloadSchema,
    // the token first, before the body is even read
    onRequest: async (request) => authorize(request, token),
    // no body at all (curl -X POST) is a reload of the served folder, as before the body existed
    preValidation: async (request) => { if (request.body === undefined) request.body = {}; },
  }, async (request, reply) => {
    const asked = request.body?.model;
    const folder = asked === undefined ? undefined : allowedModelFolder(asked, root);
    const r = await holder.reload(folder);
    if (!r.ok) {
      // the served folder failing is the server's problem (500); a named folder that does not load, the caller's (422)
      reply.code(asked === undefined ? 500 : 422);
      return { error: 'ReloadFailed', message: `${r.error} (still serving ${r.version ?? 'no model'})`, model: r.version ? { version: r.version } : null };
    }
    return { model: { version: r.version }, previous: r.previous ? { version: r.previous } : null, changed: r.changed, seconds: r.seconds };
  });
}
