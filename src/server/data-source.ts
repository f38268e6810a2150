import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { webhookEntities } from '../entities';
import { webhookMigrations } from '../migrations';
import type { DatabaseConfig } from './config';

/**
 * The standalone server's DataSource. Hosts build their own; the points that matter for any
 * host are `timezone: 'Z'` and utf8mb4 on MySQL, and WAL with a busy timeout on SQLite
 * (PostgreSQL's `timestamptz` needs nothing: times are exchanged with their offset).
 */
export function createDataSource(
  database: DatabaseConfig,
  options: { poolSize?: number; timeoutMs?: number } = {},
): DataSource {
  const common = {
    entities: [...webhookEntities],
    migrations: [...webhookMigrations],
    migrationsRun: false,
    logging: false as const,
  };
  if (database.type === 'sqlite') {
    if (database.file !== ':memory:') mkdirSync(path.dirname(database.file), { recursive: true });
    return new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: database.file,
      enableWAL: true,
      timeout: options.timeoutMs ?? 10_000,
    });
  }
  if (database.type === 'postgres') {
    return new DataSource({
      ...common,
      type: 'postgres',
      url: database.url,
      connectTimeoutMS: options.timeoutMs ?? 10_000,
      poolSize: options.poolSize ?? 10,
      applicationName: 'devlake-webhook',
      extra: {
        // A pooled connection waited for longer than this fails (503) rather than queueing forever.
        connectionTimeoutMillis: options.timeoutMs ?? 10_000,
        // Keep idle connections a minute (mysql2's default) rather than pg's 10 s: a PostgreSQL
        // login (a server process and SCRAM) costs far more than a MySQL one under load.
        idleTimeoutMillis: 60_000,
        keepAlive: true,
      },
    });
  }
  return new DataSource({
    ...common,
    type: 'mysql',
    url: database.url,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    supportBigNumbers: true,
    connectTimeout: options.timeoutMs ?? 10_000,
    poolSize: options.poolSize ?? 10,
    // mysql2 otherwise captures a stack trace on every query, to graft onto a failed query's
    // error (a few per cent of the server's CPU under load, profiled); TypeORM's
    // QueryFailedError keeps a stack of its own.
    trace: false,
    extra: {
      // Fail fast with 503 when the pool is exhausted or the server is gone.
      queueLimit: 200,
      enableKeepAlive: true,
    },
  });
}
