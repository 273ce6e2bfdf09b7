// Operational routes: liveness, readiness (a model is loaded) and the Prometheus scrape.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors.js';
import type { ModelHolder } from './model-holder.js';
import type { ServiceMetrics } from './metrics.js';
import { healthSchema, metricsSchema, readySchema } from './schemas.js';

export function healthRoutes(app: FastifyInstance, holder: ModelHolder, metrics: ServiceMetrics): void {
  app.get('/healthz', { schema: healthSchema }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: readySchema }, async () => {
    const model = holder.current;
    if (!model) throw new HttpError(503, 'NotReady', 'no model is loaded yet');
    const { version, kind, items, loadedAt } = model.info;
    return { status: 'ready', model: { version, kind, items, loadedAt } };
  });

  app.get('/metrics', { schema: metricsSchema }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.text();
  });
}
