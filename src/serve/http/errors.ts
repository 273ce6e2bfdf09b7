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

interface ValidationIssue { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }

/** 'body' + '/requests/0/history/3' -> 'body.requests[0].history[3]'. */
function where(context: string, instancePath: string): string {
  return context + instancePath.split('/').slice(1).map((p) => {
    const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }).join('');
}

/**
 * A schema violation in words that name the field: "body: unknown property 'foo'",
 * "body.history[0]: must be string or integer", "body: missing required property 'history'".
 * (ajv's own text says "body must NOT have additional properties", without the property.)
 */
export function describeValidation(issues: readonly ValidationIssue[], context = 'body'): string {
  const anyOf = new Set(issues.filter((i) => i.keyword === 'anyOf').map((i) => i.instancePath));
  const parts: string[] = [];
  for (const path of anyOf) {
    // the branches' complaints about the same value, as one alternative
    const branches = issues.filter((i) => i.instancePath === path && i.keyword !== 'anyOf').map((i) => i.message ?? i.keyword);
    const types = branches.every((b) => b.startsWith('must be ')) ? `must be ${branches.map((b) => b.slice(8)).join(' or ')}` : branches.join(' or ');
    parts.push(`${where(context, path)}: ${types || 'matches none of the allowed forms'}`);
  }
  for (const i of issues) {
    if (anyOf.has(i.instancePath)) continue;
    const at = where(context, i.instancePath);
    if (i.keyword === 'additionalProperties') parts.push(`${at}: unknown property '${String(i.params.additionalProperty)}'`);
    else if (i.keyword === 'required') parts.push(`${at}: missing required property '${String(i.params.missingProperty)}'`);
    else parts.push(`${at}: ${i.message ?? i.keyword}`);
  }
  return [...new Set(parts)].join('; ');
}

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
    if (e.validation) return reply.code(400).send({ error: 'ValidationError', message: describeValidation(e.validation as ValidationIssue[], e.validationContext ?? 'body') });
    if (status >= 400 && status < 500) return reply.code(status).send({ error: NAMES[status] ?? 'ClientError', message: describeClientError(e, bodyLimit) });
    request.log.error({ err: e }, 'request failed');
    return reply.code(500).send({ error: 'InternalServerError', message: 'the server failed to answer this request; the error is in its log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}; see GET /docs` }));
}
