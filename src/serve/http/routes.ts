// The recommendation routes: one history, or a batch scored in one Recommender.recommendBatch
// call. Each request reads the current model once and scores synchronously, so it is answered by
// exactly one model even while a reload swaps it.
import type { FastifyInstance } from 'fastify';
import { UnknownItemsError, type Recommender, type RecommendRequest } from '../recommender.js';
import { HttpError } from './errors.js';
import type { ModelHolder } from './model-holder.js';
import type { ServiceMetrics } from './metrics.js';
import { batchSchema, recommendSchema, type BatchBody, type RecommendBody, type ServiceLimits } from './schemas.js';

function toRequest(b: RecommendBody): RecommendRequest {
  return { history: b.history.map(String), k: b.k, excludeSeen: b.excludeSeen };
}

function servingModel(holder: ModelHolder): Recommender {
  const model = holder.current;
  if (!model) throw new HttpError(503, 'NotReady', 'no model is loaded yet; retry when GET /readyz answers 200');
  return model;
}

export function recommendRoutes(app: FastifyInstance, holder: ModelHolder, metrics: ServiceMetrics, limits: ServiceLimits): void {
  app.post<{ Body: RecommendBody }>('/v1/recommend', { schema: recommendSchema(limits) }, async (request) => {
    const model = servingModel(holder);
    const [result] = model.recommendBatch([toRequest(request.body)]);
    metrics.itemsRecommended(result.items.length);
    return { ...result, model: { version: model.info.version } };
  });

  app.post<{ Body: BatchBody }>('/v1/recommend/batch', { schema: batchSchema(limits) }, async (request) => {
    const model = servingModel(holder);
    let results;
    try {
      results = model.recommendBatch(request.body.requests.map(toRequest));
    } catch (e) {
      if (!(e instanceof UnknownItemsError) || !e.requests.length) throw e;
      const bad = e.requests;
      throw new HttpError(422, 'UnknownItems', `${bad.length} request${bad.length > 1 ? 's have' : ' has'} unknown item ids (first: request ${bad[0].index}: ${bad[0].items.slice(0, 5).join(', ')})`, { requests: bad });
    }
    metrics.itemsRecommended(results.reduce((n, r) => n + r.items.length, 0));
    return { results, model: { version: model.info.version } };
  });
}
