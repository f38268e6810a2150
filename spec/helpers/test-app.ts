import type { Express } from 'express';
import supertest from 'supertest';
import type { Logger } from '../../src/logger';
import { createWebhookPlugin, type WebhookPlugin } from '../../src/plugin';
import type { WebhookPluginOptions } from '../../src/options';
import { createApp } from '../../src/server/create-app';
import { createMigratedDatabase, type MigratedDatabase } from './test-db';

/** A logger that keeps every line, so tests can assert what was (not) logged. */
export function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object | string, msg?: string) => {
    lines.push(typeof obj === 'string' ? obj : `${JSON.stringify(obj, Object.getOwnPropertyNames(obj))} ${msg ?? ''}`);
  };
  return { lines, debug: keep, info: keep, warn: keep, error: keep };
}

export interface TestServer {
  app: Express;
  plugin: WebhookPlugin;
  db: MigratedDatabase;
  request: ReturnType<typeof supertest>;
  logger: ReturnType<typeof captureLogger>;
  close(): Promise<void>;
}

/**
 * The standalone server's app on a fresh migrated database, as `npm start` builds it, with
 * options a test may override. Rate limits are off unless a test turns them on.
 */
export async function startTestServer(options: Partial<WebhookPluginOptions> = {}): Promise<TestServer> {
  const db = await createMigratedDatabase();
  const logger = captureLogger();
  const plugin = createWebhookPlugin({ dataSource: db.dataSource, logger, rateLimit: false, ...options });
  await plugin.verify();
  const app = createApp(plugin, db.dataSource, logger);
  const close = async () => {
    // As a host does: the event log's pending rows are written before the database goes.
    await plugin.close();
    await db.close();
  };
  return { app, plugin, db, logger, request: supertest(app), close };
}

/** Creates a connection through the API and returns its id and plaintext key. */
export async function createConnection(
  server: TestServer,
  name: string,
  auth?: [string, string],
): Promise<{ id: number; key: string }> {
  let call = server.request.post('/api/plugins/webhook/connections').send({ name });
  if (auth) call = call.auth(auth[0], auth[1]);
  const res = await call;
  if (res.status !== 200) throw new Error(`creating connection ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id as number, key: res.body.apiKey.apiKey as string };
}
