// The HTTP service: a fastify app over a hot-reloadable model, with strict request validation
// (JSON bodies only, no type coercion, no unknown fields), size limits, JSON errors, metrics per
// request and the OpenAPI description. No request names a file, except an authorised reload naming
// a run folder inside the configured model root.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { Recommender, type UnknownItemPolicy } from '../recommender.js';
import { adminRoutes } from './admin.js';
import { installErrorHandlers } from './errors.js';
import { healthRoutes } from './health.js';
import { ServiceMetrics } from './metrics.js';
import { ModelHolder } from './model-holder.js';
import { registerOpenApi } from './openapi.js';
import { recommendRoutes } from './routes.js';
import { sessionRoutes } from './sessions.js';
import type { ServiceLimits } from './schemas.js';

export interface ServiceOptions extends ServiceLimits {
  /** The run folder (best.ckpt + items.json), loaded at start and on every reload. */
  model: string;
  unknownItems: UnknownItemPolicy;
  /** Largest request body in bytes (413 above). */
  bodyLimit: number;
  /** Bearer token of POST /admin/reload; the route is disabled without one. */
  adminToken?: string;
  /**
   * The folder whose run folders POST /admin/reload may name ({"model": "<dir>"}, relative to it
   * or absolute, symbolic links resolved); absent: a reload re-reads `model` only.
   */
  modelRoot?: string;
  /** Incremental sessions in an LRU of at most this many bytes (0 / absent: off, the service is stateless). */
  sessionBytes?: number;
  /** fastify's logger option (false in tests). */
  logger: FastifyServerOptions['logger'];
}

export interface Service {
  app: FastifyInstance;
  holder: ModelHolder;
  metrics: ServiceMetrics;
}

/** Builds the service without loading the model: call `holder.reload()` (readyz is 503 until then). */
export async function createService(o: ServiceOptions): Promise<Service> {
  const app = Fastify({
    logger: o.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  });
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is a 415
  const metrics = new ServiceMetrics();
  const holder = new ModelHolder((folder) => Recommender.load(folder, { unknownItems: o.unknownItems, sessionBytes: o.sessionBytes }), o.model, {
    loaded: (info, previous, seconds) => {
      metrics.modelLoaded(info);
      app.log.info({ version: info.version, kind: info.kind, items: info.items, previous: previous?.version ?? null, seconds }, 'model loaded');
    },
    failed: (error, kept) => {
      metrics.reloadFailed();
      app.log.error({ err: error, serving: kept?.version ?? null }, kept ? 'model reload failed; still serving the previous model' : 'model load failed');
    },
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  installErrorHandlers(app, o.bodyLimit);
  await registerOpenApi(app);
  recommendRoutes(app, holder, metrics, o);
  sessionRoutes(app, holder, metrics, o);
  metrics.trackSessions(() => holder.current?.sessions ?? null);
  healthRoutes(app, holder, metrics);
  adminRoutes(app, holder, o.adminToken, o.modelRoot);
  await app.ready();
  return { app, holder, metrics };
}
