// `adarec serve`: the HTTP service over one run folder (see docs/SERVING.md). Listens first and
// loads the model (readyz is 503 meanwhile; a failed first load stops the process), reloads on
// SIGHUP, and on SIGTERM/SIGINT stops accepting connections, finishes the requests in flight and
// exits 0.
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { createService, type Service } from '../serve/http/app.js';
import { StreamPlan, StreamUnsupportedError } from '../serve/stream.js';
import { loadTrainedModel, resolveCheckpoint } from '../train/load.js';
import { positiveInt } from './data.js';

/** After this long a graceful shutdown gives up on in-flight requests and exits 1. */
const SHUTDOWN_GRACE_MS = 30_000;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port in 0..65535, got '${value}'`);
  return n;
}

function envToken(name: string | undefined): string | undefined {
  if (!name) return undefined;
  const token = process.env[name];
  if (!token) throw new RangeError(`--admin-token-env ${name}: the environment variable is not set (or empty)`);
  return token;
}

/**
 * --sessions needs a model that streams per event: refused here, in one line, before anything
 * listens (the service would otherwise start, fail its first load and log the error's stack).
 */
function assertStreams(model: string, checkpoint: string): void {
  const { model: m } = loadTrainedModel(checkpoint);
  try {
    new StreamPlan(m, 0);
  } catch (e) {
    if (e instanceof StreamUnsupportedError) throw new RangeError(`--sessions: cannot keep sessions for ${model}: ${e.message}`);
    throw e;
  } finally {
    m.dispose();
  }
}

/** Resolves when the service has closed after a signal. */
function handleSignals({ app, holder }: Service): Promise<void> {
  const reload = (): void => { void holder.reload(); };
  process.on('SIGHUP', reload);
  return new Promise((done) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (closing) {
        app.log.warn(`${signal} again: exiting without waiting`);
        process.exit(1);
      }
      closing = true;
      app.log.info(`${signal}: finishing requests in flight, then exiting`);
      setTimeout(() => {
        app.log.error(`requests still in flight after ${SHUTDOWN_GRACE_MS / 1000} s: exiting`);
        process.exit(1);
      }, SHUTDOWN_GRACE_MS).unref();
      app.close().then(() => {
        process.off('SIGHUP', reload);
        app.log.info('stopped');
        done();
      }, (e: Error) => {
        app.log.error({ err: e }, 'error while closing');
        process.exit(1);
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a trained run over HTTP: recommendations, health, Prometheus metrics, OpenAPI, hot reload (docs/SERVING.md)')
    .requiredOption('--model <dir>', 'run folder written by adarec train or adarec run (best.ckpt + items.json)')
    .option('--port <n>', 'TCP port (0: any free port)', port, 8080)
    .option('--host <address>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .addOption(new Option('--unknown-items <policy>', 'history ids the model does not know: skip (and report) or error (422)').choices(['skip', 'error']).default('skip'))
    .option('--max-history <n>', 'most items in one history', positiveInt, 1000)
    .option('--max-k <n>', 'largest k', positiveInt, 1000)
    .option('--max-batch <n>', 'most requests in one batch call (bounds how long one call holds the event loop)', positiveInt, 256)
    .option('--body-limit <bytes>', 'largest request body', positiveInt, 4 * 1024 * 1024)
    .option('--sessions <MB>', 'keep incremental sessions (POST /v1/sessions/:id/events: one position of compute per event; causal models without position embeddings) in an LRU of this many MB', positiveInt)
    .option('--admin-token-env <VAR>', 'enable POST /admin/reload, with the bearer token held in this environment variable')
    .option('--model-root <dir>', 'let POST /admin/reload {"model": "<dir>"} switch to another run folder inside this folder (none outside it)')
    .addHelpText('after', '\nExample:\n  ADMIN_TOKEN=s3cret adarec serve --model runs/x/student --port 8080 --admin-token-env ADMIN_TOKEN\n' +
      '  curl -s localhost:8080/v1/recommend -H \'content-type: application/json\' -d \'{"history":["50","172"],"k":5}\'')
    .action(async (o) => {
      const model = resolve(o.model);
      const checkpoint = resolveCheckpoint(model); // a wrong path fails here, in one line, before anything listens
      if (o.sessions) assertStreams(o.model, checkpoint);
      const service = await createService({
        model, unknownItems: o.unknownItems, bodyLimit: o.bodyLimit,
        maxHistory: o.maxHistory, maxK: o.maxK, maxBatch: o.maxBatch, sessionBytes: o.sessions ? o.sessions * 1024 * 1024 : undefined, adminToken: envToken(o.adminTokenEnv), logger: { level: 'info' },
        modelRoot: o.modelRoot ? resolve(String(o.modelRoot)) : undefined,
      });
      const closed = handleSignals(service);
      const address = await service.app.listen({ port: o.port, host: o.host });
      const first = await service.holder.reload();
      if (!first.ok) {
        await service.app.close();
        throw new RangeError(`cannot serve ${o.model}: ${first.error}`);
      }
      service.app.log.info({ address, version: first.version }, 'ready');
      await closed;
    });
}
