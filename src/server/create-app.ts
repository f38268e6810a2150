import express, { type Express } from 'express';
import helmet from 'helmet';
import type { DataSource } from 'typeorm';
import { errorHandler, notFoundHandler } from '../http/error-handler';
import type { Logger } from '../logger';
import type { WebhookPlugin } from '../plugin';
import type { TrustProxy } from './config';

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

  // Every route where DevLake has it, Swagger UI at /api/swagger, /metrics and the admin page at `/`.
  plugin.mount(app);

  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
