// POST /admin/reload: reload the run folder and swap the model, behind a bearer token. Without a
// configured token the route answers 403 (disabled); a missing token is 401, a wrong one 403.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';
import type { ModelHolder } from './model-holder.js';
import { reloadSchema } from './schemas.js';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Throws the 401/403 unless the request carries `token` (compared in constant time). */
function authorize(request: FastifyRequest, token: string | undefined): void {
  if (!token) throw new HttpError(403, 'AdminDisabled', 'admin routes are disabled: start adarec serve with --admin-token-env VAR, VAR holding a token');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new HttpError(401, 'Unauthorized', 'send the admin token as Authorization: Bearer <token>');
  if (!timingSafeEqual(digest(match[1]), digest(token))) throw new HttpError(403, 'Forbidden', 'wrong admin token');
}

export function adminRoutes(app: FastifyInstance, holder: ModelHolder, token: string | undefined): void {
  app.post('/admin/reload', { schema: reloadSchema }, async (request, reply) => {
    authorize(request, token);
    const r = await holder.reload();
    if (!r.ok) {
      reply.code(500);
      return { error: 'ReloadFailed', message: `${r.error} (still serving ${r.version ?? 'no model'})`, model: r.version ? { version: r.version } : null };
    }
    return { model: { version: r.version }, previous: r.previous ? { version: r.previous } : null, changed: r.changed, seconds: r.seconds };
  });
}
