import express, { type Express } from 'express';
import helmet from 'helmet';
import type { DataSource } from 'typeorm';
import { errorHandler, notFoundHandler } from '../http/error-handler';
import type { Logger } from '../logger';
import type { WebhookPlugin } from '../plugin';
import type { TrustProxy } from './config';
import { createSwaggerRouter, SWAGGER_PREFIX } from './swagger';

/** The prefixes under which DevLake serves the webhook (docs/devlake-compatibility.md §1). */
export const WEBHOOK_PREFIXES = ['/api/plugins/webhook', '/plugins/webhook'] as const;
export const API_KEY_PREFIXES = ['/api/rest/plugins/webhook', '/rest/plugins/webhook'] as const;
/** DevLake's core API-key routes: Basic or a key under `/api`, a Bearer key only under `/rest`. */
export const API_KEYS_PREFIXES = ['/api/api-keys', '/api-keys'] as const;
export const API_KEYS_API_KEY_PREFIXES = ['/api/rest/api-keys', '/rest/api-keys'] as const;

async function databaseAnswers(dataSource: DataSource, timeoutMs: number): Promise<boolean> {
  if (!dataSource.isInitialized) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dataSource.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('ping timed out')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The standalone server's Express app: one host of the plugin among others. It mounts the
 * plugin where DevLake has it, plus DevLake's ping.
 */
export function createApp(
  plugin: WebhookPlugin,
  dataSource: DataSource,
  logger: Logger,
  settings: { trustProxy?: TrustProxy } = {},
): Express {
  const app = express();
  app.disable('x-powered-by');
  // Off unless the operator says which proxies to believe: otherwise any client (a local
  // process too) could pick the address it is rate-limited and logged as.
  app.set('trust proxy', settings.trustProxy ?? false);
  app.use(helmet());

  for (const ping of ['/api/ping', '/ping']) {
    app.get(ping, async (_req, res) => {
      const ok = await databaseAnswers(dataSource, 2000);
      if (!ok) res.setHeader('Retry-After', '5');
      res.status(ok ? 200 : 503).json(ok ? { status: 'ok' } : { status: 'database unavailable' });
    });
  }

  // Swagger UI and the raw document, where DevLake serves them.
  app.use(SWAGGER_PREFIX, createSwaggerRouter(plugin.openapi));
  for (const prefix of WEBHOOK_PREFIXES) app.use(prefix, plugin.router);
  for (const prefix of API_KEY_PREFIXES) app.use(prefix, plugin.apiKeyRouter);
  for (const prefix of API_KEYS_PREFIXES) app.use(prefix, plugin.apiKeysRouter);
  for (const prefix of API_KEYS_API_KEY_PREFIXES) app.use(prefix, plugin.apiKeysApiKeyRouter);
  // Prometheus metrics, guarded like the admin API (a 404 when METRICS_DISABLED).
  app.use('/metrics', plugin.metricsRouter);
  // The admin page at `/`; it calls the API under the first WEBHOOK_PREFIX (its default).
  app.use('/', plugin.adminUiRouter);

  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
