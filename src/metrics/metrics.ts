import { Router, type RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventLogService } from '../events/event-log.service';
import type { Envelope } from '../http/envelope';
import type { FieldCause } from '../http/errors';

/** What the request log hands the metrics for each finished request. */
export interface FinishedRequest {
  method: string;
  route: string;
  status: number;
  dbMs: number;
  /** Transactions the database rolled back (deadlocks) and the plugin ran again. */
  dbRetries: number;
  answer: unknown;
}

/**
 * Prometheus metrics of the plugin, in a registry of its own (so a host's default registry
 * is left alone and two plugins never clash). Labels are route templates, statuses, row kinds
 * and field names: never a value a sender chose, so the series stay few.
 */
export class WebhookMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly rows: Counter<'kind'>;
  private readonly refusals: Counter<'cause'>;
  private readonly rateLimited: Counter;
  private readonly dbSeconds: Histogram<'route'>;
  private readonly dbRetries: Counter<'route'>;
  private sizeCache: { at: number; rows: number; bodyBytes: number } | undefined;

  constructor(eventLog: EventLogService) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'webhook_http_requests_total',
      help: 'Requests answered, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.rows = new Counter({
      name: 'webhook_rows_written_total',
      help: 'Domain rows written by accepted deliveries, by kind (DevLake table).',
      labelNames: ['kind'],
      registers,
    });
    this.refusals = new Counter({
      name: 'webhook_refusals_total',
      help: 'Refused requests (4xx) by cause: the field named in the answer, or the kind of refusal.',
      labelNames: ['cause'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'webhook_rate_limited_total',
      help: 'Requests refused with 429 by the rate limits.',
      registers,
    });
    this.dbSeconds = new Histogram({
      name: 'webhook_request_database_seconds',
      help: 'Time a request spent in database transactions, by route template.',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.dbRetries = new Counter({
      name: 'webhook_transaction_retries_total',
      help: 'Transactions the database rolled back (deadlock, serialization failure) and the plugin ran again, by route template.',
      labelNames: ['route'],
      registers,
    });
    const rows: Gauge = new Gauge({
      name: 'webhook_raw_events',
      help: 'Rows in the raw event log (_raw_webhook_events).',
      registers,
      collect: async () => rows.set((await this.logSize(eventLog)).rows),
    });
    const bytes: Gauge = new Gauge({
      name: 'webhook_raw_event_body_bytes',
      help: 'Bytes of request bodies kept in the raw event log.',
      registers,
      collect: async () => bytes.set((await this.logSize(eventLog)).bodyBytes),
    });
  }

  /** The log's size, asked of the database at most every 30 s whatever the scrape interval. */
  private async logSize(eventLog: EventLogService): Promise<{ rows: number; bodyBytes: number }> {
    if (!eventLog.enabled) return { rows: 0, bodyBytes: 0 };
    const now = Date.now();
    if (!this.sizeCache || now - this.sizeCache.at > 30_000) {
      this.sizeCache = { at: now, ...(await eventLog.size()) };
    }
    return this.sizeCache;
  }

  observe(request: FinishedRequest): void {
    const { method, route, status } = request;
    this.requests.inc({ method, route, status: String(status) });
    if (request.dbMs > 0) this.dbSeconds.observe({ route }, request.dbMs / 1000);
    if (request.dbRetries > 0) this.dbRetries.inc({ route }, request.dbRetries);
    if (status === 429) this.rateLimited.inc();
    const answer = request.answer as Envelope | undefined;
    if (status >= 400 && status < 500) {
      for (const cause of causesOf(status, answer?.causes ?? null)) this.refusals.inc({ cause });
    } else if (status < 300 && method === 'POST' && answer && answer.success === true) {
      for (const [kind, count] of rowsOf(answer.data)) this.rows.inc({ kind }, count);
    }
  }

  /** `GET /` answers the metrics in Prometheus's text format, behind `guard`. */
  router(guard: RequestHandler): Router {
    const router = Router();
    router.get('/', guard, async (_req, res) => {
      res.setHeader('Content-Type', this.registry.contentType);
      res.send(await this.registry.metrics());
    });
    return router;
  }
}

const KIND_OF_STATUS: Record<number, string> = {
  400: 'invalid',
  401: 'authentication',
  403: 'not_allowed',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
};

/** `deploymentCommits[3].commitSha` → `deploymentCommits[].commitSha`: one series per field. */
function causesOf(status: number, causes: FieldCause[] | null): string[] {
  if (!causes || causes.length === 0) return [KIND_OF_STATUS[status] ?? `status_${status}`];
  return [...new Set(causes.map((cause) => cause.field.replace(/\[\d+\]/g, '[]').slice(0, 100)))];
}

/** Rows an ingestion answer says it wrote, by DevLake table. */
function rowsOf(data: unknown): [string, number][] {
  if (!data || typeof data !== 'object') return [];
  const d = data as Record<string, unknown>;
  const out: [string, number][] = [];
  if (typeof d.deploymentId === 'string') out.push(['cicd_deployments', 1]);
  if (Array.isArray(d.commitIds)) out.push(['cicd_deployment_commits', d.commitIds.length]);
  if (typeof d.issueId === 'string') out.push(['issues', 1]);
  if (typeof d.incidentId === 'string') out.push(['incidents', 1]);
  if (typeof d.pullRequestId === 'string') out.push(['pull_requests', 1]);
  return out;
}
