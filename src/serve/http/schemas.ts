// The HTTP API's JSON schemas, built from the service limits: fastify validates request bodies
// against them, serialises responses with them, and @fastify/swagger turns them into /docs. The
// TypeScript body types below mirror the request schemas (after defaults are applied).

/** Request-size limits; everything over them is a 4xx before any scoring. */
export interface ServiceLimits {
  /** Most items in one history. */
  maxHistory: number;
  /** Largest k. */
  maxK: number;
  /** Most requests in one batch call. */
  maxBatch: number;
}

export const DEFAULT_K = 10;
/** Longest original item id accepted (bounds per-item memory and log lines). */
export const MAX_ITEM_ID_LENGTH = 256;

export interface RecommendBody {
  /** Original item ids, oldest first; numbers are accepted and read as their decimal text. */
  history: (string | number)[];
  k: number;
  excludeSeen: boolean;
}

export interface BatchBody {
  requests: RecommendBody[];
}

export interface SessionEventsBody {
  /** New events of the session (original ids, oldest first); may be empty to just ask again. */
  items: (string | number)[];
  k: number;
  excludeSeen: boolean;
}

const itemId = {
  anyOf: [{ type: 'string', minLength: 1, maxLength: MAX_ITEM_ID_LENGTH }, { type: 'integer' }],
  description: 'an original item id (as in the training log); integers are read as their decimal text',
} as const;

function recommendRequest(l: ServiceLimits): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['history'],
    properties: {
      history: { type: 'array', maxItems: l.maxHistory, items: itemId, description: 'the user\'s items, oldest first' },
      k: { type: 'integer', minimum: 1, maximum: l.maxK, default: DEFAULT_K, description: 'how many items to return' },
      excludeSeen: { type: 'boolean', default: false, description: 'leave out items already in the history' },
    },
  };
}

const recommendation = {
  type: 'object',
  required: ['item', 'score'],
  properties: { item: { type: 'string' }, score: { type: 'number' } },
} as const;

const result = {
  type: 'object',
  required: ['items', 'unknown'],
  properties: {
    items: { type: 'array', items: recommendation, description: 'best first' },
    unknown: { type: 'array', items: { type: 'string' }, description: 'history items the model does not know (skipped)' },
  },
} as const;

const modelRef = {
  type: 'object',
  required: ['version'],
  properties: { version: { type: 'string', description: 'first 12 hex digits of the checkpoint\'s SHA-256' } },
} as const;

/** Every 4xx/5xx body: a stable error name and a human message, plus details for some errors. */
export const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  additionalProperties: true,
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    items: { type: 'array', items: { type: 'string' }, description: 'UnknownItems: the unknown ids' },
    requests: {
      type: 'array',
      description: 'UnknownItems in a batch: which requests and their unknown ids',
      items: { type: 'object', properties: { index: { type: 'integer' }, items: { type: 'array', items: { type: 'string' } } } },
    },
  },
} as const;

const errors = { '4xx': errorBody, '5xx': errorBody };

export function recommendSchema(l: ServiceLimits): object {
  return {
    summary: 'top-k next items for one history',
    body: recommendRequest(l),
    response: {
      200: { type: 'object', required: ['items', 'unknown', 'model'], properties: { ...result.properties, model: modelRef } },
      ...errors,
    },
  };
}

export function batchSchema(l: ServiceLimits): object {
  return {
    summary: 'top-k for many histories, scored in one forward pass',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['requests'],
      properties: { requests: { type: 'array', minItems: 1, maxItems: l.maxBatch, items: recommendRequest(l) } },
    },
    response: {
      200: {
        type: 'object',
        required: ['results', 'model'],
        properties: { results: { type: 'array', items: result, description: 'in request order' }, model: modelRef },
      },
      ...errors,
    },
  };
}

export const healthSchema = {
  summary: 'liveness: the process answers',
  response: { 200: { type: 'object', properties: { status: { type: 'string' } } } },
};

export const readySchema = {
  summary: 'readiness: a model is loaded (503 until then, and while shutting down)',
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string' },
        model: {
          type: 'object',
          properties: { version: { type: 'string' }, kind: { type: 'string' }, items: { type: 'integer' }, loadedAt: { type: 'string' } },
        },
      },
    },
    503: errorBody,
  },
};

export const metricsSchema = {
  summary: 'Prometheus metrics (text exposition format)',
  produces: ['text/plain'],
};

export interface ReloadBody {
  /** A run folder inside --model-root to serve instead (absent: the served folder again). */
  model?: string;
}

export const reloadSchema = {
  summary: 'reload the run folder and swap the model atomically (bearer token; disabled without --admin-token-env)',
  security: [{ bearer: [] }],
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      model: {
        type: 'string', minLength: 1, maxLength: 4096,
        description: 'a run folder inside --model-root (relative to it, or absolute) to serve from now on; absent: reload the served folder',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        model: modelRef,
        previous: { anyOf: [modelRef, { type: 'null' }] },
        changed: { type: 'boolean', description: 'the weights differ from the previous model\'s' },
        seconds: { type: 'number' },
      },
    },
    ...errors,
  },
};

const sessionParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'the client\'s session id (letters, digits, . _ : -)' } },
} as const;

export function sessionEventsSchema(l: ServiceLimits): object {
  return {
    summary: 'append events to an incremental session (created on first use) and get its top-k (needs --sessions)',
    params: sessionParams,
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['items'],
      properties: {
        items: { type: 'array', maxItems: l.maxHistory, items: itemId, description: 'new events, oldest first' },
        k: { type: 'integer', minimum: 1, maximum: l.maxK, default: DEFAULT_K },
        excludeSeen: { type: 'boolean', default: false, description: 'leave out every item of the session so far' },
      },
    },
    response: {
      200: {
        type: 'object',
        required: ['items', 'unknown', 'events', 'model'],
        properties: {
          ...result.properties,
          events: { type: 'integer', description: 'known events in the session so far (restarts after eviction or a reload)' },
          model: modelRef,
        },
      },
      ...errors,
    },
  };
}

export const sessionDeleteSchema = {
  summary: 'forget an incremental session',
  params: sessionParams,
  response: { 204: { type: 'null' }, ...errors },
};
