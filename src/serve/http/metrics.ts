// The service's Prometheus metrics, in a registry of its own (several services in one process,
// as in tests, do not collide): requests by route and status, latency, the served model's version,
// items recommended, reload outcomes, and prom-client's process metrics (memory, event-loop lag).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelInfo } from '../recommender.js';
import type { SessionStore } from '../sessions.js';

export type ReloadResult = 'success' | 'failure';

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route'>;
  private readonly model: Gauge<'version' | 'kind'>;
  private readonly recommended: Counter;
  private readonly reloads: Counter<'result'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'adarec_http_requests_total', help: 'HTTP requests answered, by route pattern and status code',
      labelNames: ['method', 'route', 'status'], registers,
    });
    this.latency = new Histogram({
      name: 'adarec_http_request_duration_seconds', help: 'time from request received to response sent',
      labelNames: ['method', 'route'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    });
    this.model = new Gauge({ name: 'adarec_model_info', help: 'the served model (value 1; labels name it)', labelNames: ['version', 'kind'], registers });
    this.recommended = new Counter({ name: 'adarec_recommended_items_total', help: 'items returned in recommendations', registers });
    this.reloads = new Counter({ name: 'adarec_model_reloads_total', help: 'model (re)loads by result', labelNames: ['result'], registers });
  }

  /** Gauges of the served model's incremental sessions (count and bytes), read at each scrape. */
  trackSessions(current: () => SessionStore | null): void {
    const registers = [this.registry];
    new Gauge({ name: 'adarec_sessions', help: 'incremental sessions held (LRU)', registers, collect() { this.set(current()?.size ?? 0); } });
    new Gauge({ name: 'adarec_session_bytes', help: 'bytes held by incremental sessions', registers, collect() { this.set(current()?.bytes ?? 0); } });
  }

  /** `route` is the route pattern (never the raw URL, to keep label values bounded). */
  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }

  itemsRecommended(n: number): void {
    this.recommended.inc(n);
  }

  modelLoaded(info: ModelInfo): void {
    this.model.reset();
    this.model.set({ version: info.version, kind: info.kind }, 1);
    this.reloads.inc({ result: 'success' });
  }

  reloadFailed(): void {
    this.reloads.inc({ result: 'failure' });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
