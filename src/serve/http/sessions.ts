// Incremental-session routes (enabled by --sessions): each call appends a session's new events to
// its per-event model state and answers its top-k, one position of compute per event. The state
// lives in the served Recommender's LRU (serve/sessions.ts); a reload starts with no sessions.
import type { FastifyInstance } from 'fastify';
import type { SessionStore } from '../sessions.js';
import { HttpError } from './errors.js';
import type { ModelHolder } from './model-holder.js';
import type { ServiceMetrics } from './metrics.js';
import { sessionDeleteSchema, sessionEventsSchema, type ServiceLimits, type SessionEventsBody } from './schemas.js';

function store(holder: ModelHolder): { sessions: SessionStore; version: string } {
  const model = holder.current;
  if (!model) throw new HttpError(503, 'NotReady', 'no model is loaded yet; retry when GET /readyz answers 200');
  if (!model.sessions) throw new HttpError(404, 'SessionsDisabled', 'incremental sessions are off: start the server with --sessions <MB>');
  return { sessions: model.sessions, version: model.info.version };
}

export function sessionRoutes(app: FastifyInstance, holder: ModelHolder, metrics: ServiceMetrics, limits: ServiceLimits): void {
  app.post<{ Params: { id: string }; Body: SessionEventsBody }>('/v1/sessions/:id/events', { schema: sessionEventsSchema(limits) }, async (request) => {
    const { sessions, version } = store(holder);
    const b = request.body;
    const result = sessions.append(request.params.id, b.items.map(String), b.k, b.excludeSeen);
    metrics.itemsRecommended(result.items.length);
    return { ...result, model: { version } };
  });

  app.delete<{ Params: { id: string } }>('/v1/sessions/:id', { schema: sessionDeleteSchema }, async (request, reply) => {
    const { sessions } = store(holder);
    if (!sessions.delete(request.params.id)) throw new HttpError(404, 'UnknownSession', `no session '${request.params.id}' (never created, evicted, or dropped by a reload)`);
    return reply.code(204).send();
  });
}
