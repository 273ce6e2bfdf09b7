// One JSON shape for every failure, {error, message} (plus details for unknown items): schema
// violations, malformed JSON, oversized bodies, unknown ids, unknown routes, and our own bugs
// (logged, answered without internals).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnknownItemsError } from '../recommender.js';

/** A 4xx/5xx the handlers raise on purpose. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, readonly error: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

const NAMES: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 408: 'RequestTimeout', 411: 'LengthRequired', 413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType', 422: 'UnprocessableEntity', 429: 'TooManyRequests', 503: 'ServiceUnavailable',
};

function describeClientError(e: FastifyError, bodyLimit: number): string {
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return `the request body is larger than the limit of ${bodyLimit} bytes`;
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'send JSON with Content-Type: application/json';
  return e.message;
}

export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((e: FastifyError | HttpError | UnknownItemsError, request: FastifyRequest, reply: FastifyReply) => {
    if (e instanceof HttpError) {
      if (e.statusCode === 401) reply.header('www-authenticate', 'Bearer');
      return reply.code(e.statusCode).send({ error: e.error, message: e.message, ...e.details });
    }
    if (e instanceof UnknownItemsError) return reply.code(422).send({ error: 'UnknownItems', message: e.message, items: e.items });
    const status = e.statusCode ?? 500;
    if (e.validation) return reply.code(400).send({ error: 'ValidationError', message: e.message });
    if (status >= 400 && status < 500) return reply.code(status).send({ error: NAMES[status] ?? 'ClientError', message: describeClientError(e, bodyLimit) });
    request.log.error({ err: e }, 'request failed');
    return reply.code(500).send({ error: 'InternalServerError', message: 'the server failed to answer this request; the error is in its log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}; see GET /docs` }));
}
