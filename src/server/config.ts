import path from 'node:path';
import express from 'express';
import { ConfigurationError } from '../options';

/** How the standalone server is configured: environment variables, read here only. */
export interface ServerConfig {
  database: DatabaseConfig;
  port: number;
  host: string;
  basicAuth?: { username: string; password: string };
  /** Explicit opt-out of the secure default, for operators who authenticate in a proxy. */
  allowUnauthenticated: boolean;
  encryptionSecret?: string;
  bodyLimitBytes?: number;
  batchBodyLimitBytes?: number;
  logLevel: string;
  rateLimit:
    | {
        windowMs?: number;
        perKey?: number;
        perAddress?: number;
        failedPasswords?: number;
        failedPasswordWindowMs?: number;
      }
    | false;
  /**
   * Express's `trust proxy`: whose `X-Forwarded-For`/`-Proto` headers are believed. Default
   * `false`: the client is the socket's peer, so no local process can choose the address it
   * is limited and logged as.
   */
  trustProxy: TrustProxy;
  shutdownTimeoutMs: number;
  /** Longest wait on the database before a request answers 503 (also the connect timeout). */
  databaseTimeoutMs: number;
  /** The raw event log's retention, or false when EVENT_LOG_DISABLED. */
  eventLog: { retentionDays?: number; retentionRows?: number } | false;
  /** Serve Prometheus metrics at /metrics (unless METRICS_DISABLED). */
  metrics: boolean;
}

/** Express's `trust proxy` values: on/off, a number of hops, or addresses, subnets and names. */
export type TrustProxy = boolean | number | string;

/**
 * Reads `TRUST_PROXY` with Express's semantics: `true`/`false`, a number of proxy hops, or a
 * comma-separated list of addresses, subnets (CIDR) and the names `loopback`, `linklocal`,
 * `uniquelocal`.
 */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = (raw ?? '').trim();
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (value.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  try {
    // Express compiles the list when it is set: an address it cannot read throws here, at start.
    express().set('trust proxy', value);
  } catch (error) {
    throw new ConfigurationError(
      'TRUST_PROXY',
      `must be true, false, a number of hops, or addresses/subnets/loopback/linklocal/uniquelocal separated by commas (${(error as Error).message})`,
    );
  }
  return value;
}

export type DatabaseConfig =
  | { type: 'sqlite'; file: string }
  | { type: 'mysql' | 'postgres'; url: string; host: string; port: number; database: string; user: string };

export const DEFAULT_DB_URL = 'sqlite:./data/devlake-webhook.sqlite';

/**
 * Parses `DB_URL`: `sqlite:<file>`, `mysql://user:pass@host:port/db` (also `mariadb://`) or
 * `postgres://user:pass@host:port/db` (also `postgresql://`).
 */
export function parseDbUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file)
      throw new ConfigurationError('DB_URL', 'sqlite: needs a file path, e.g. sqlite:./data/devlake-webhook.sqlite');
    return { type: 'sqlite', file: file === ':memory:' ? file : path.resolve(file) };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigurationError(
      'DB_URL',
      'is not a URL; use sqlite:<file>, mysql://user:pass@host:3306/database or postgres://user:pass@host:5432/database',
    );
  }
  const postgres = url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:' && !postgres) {
    throw new ConfigurationError(
      'DB_URL',
      `the scheme "${url.protocol}" is not supported; use sqlite:, mysql:// or postgres://`,
    );
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) {
    throw new ConfigurationError(
      'DB_URL',
      postgres
        ? 'names no database, e.g. postgres://postgres@127.0.0.1:5432/devlake'
        : 'names no database, e.g. mysql://root@127.0.0.1:3306/devlake',
    );
  }
  return {
    type: postgres ? 'postgres' : 'mysql',
    url: postgres ? raw.replace(/^postgresql:/, 'postgres:') : raw.replace(/^mariadb:/, 'mysql:'),
    host: url.hostname,
    port: Number(url.port || (postgres ? 5432 : 3306)),
    database,
    user: decodeURIComponent(url.username),
  };
}

/** The database as it may be printed: never the password. */
export function describeDatabase(database: DatabaseConfig): string {
  if (database.type === 'sqlite') return `SQLite ${database.file}`;
  const engine = database.type === 'postgres' ? 'PostgreSQL' : 'MySQL';
  return `${engine} ${database.user ? `${database.user}@` : ''}${database.host}:${database.port}/${database.database}`;
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  throw new ConfigurationError(name, `must be true or false, got "${env[name]}"`);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Reads and checks every setting; a bad one throws a ConfigurationError naming it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const database = parseDbUrl(env.DB_URL || DEFAULT_DB_URL);
  const port = integer(env, 'PORT', 4000, 0, 65535) as number;
  const host = env.HOST || '127.0.0.1';
  const user = env.ADMIN_USER ?? '';
  const pass = env.ADMIN_PASS ?? '';
  if ((user === '') !== (pass === '')) {
    throw new ConfigurationError(user ? 'ADMIN_PASS' : 'ADMIN_USER', 'set both ADMIN_USER and ADMIN_PASS, or neither');
  }
  const allowUnauthenticated = flag(env, 'ALLOW_UNAUTHENTICATED');
  if (!user && !isLoopback(host) && !allowUnauthenticated) {
    throw new ConfigurationError(
      'HOST',
      `refusing to listen on ${host} without credentials: set ADMIN_USER and ADMIN_PASS, ` +
        'or ALLOW_UNAUTHENTICATED=true if a proxy in front authenticates every request',
    );
  }
  const rateLimitOff = flag(env, 'RATE_LIMIT_DISABLED');
  const eventLogOff = flag(env, 'EVENT_LOG_DISABLED');
  return {
    database,
    port,
    host,
    basicAuth: user ? { username: user, password: pass } : undefined,
    allowUnauthenticated,
    encryptionSecret: env.ENCRYPTION_SECRET?.trim() || undefined,
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', undefined, 1024, 100 * 1024 * 1024),
    batchBodyLimitBytes: integer(env, 'BATCH_BODY_LIMIT_BYTES', undefined, 1024, 1024 * 1024 * 1024),
    logLevel: env.LOG_LEVEL || 'info',
    rateLimit: rateLimitOff
      ? false
      : {
          windowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', undefined, 1000, 3_600_000),
          perKey: integer(env, 'RATE_LIMIT_PER_KEY', undefined, 1, 10_000_000),
          perAddress: integer(env, 'RATE_LIMIT_PER_ADDRESS', undefined, 1, 10_000_000),
          failedPasswords: integer(env, 'RATE_LIMIT_FAILED_PASSWORDS', undefined, 1, 10_000_000),
          failedPasswordWindowMs: integer(env, 'RATE_LIMIT_FAILED_PASSWORD_WINDOW_MS', undefined, 1000, 86_400_000),
        },
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000) as number,
    databaseTimeoutMs: integer(env, 'DB_TIMEOUT_MS', 10_000, 100, 600_000) as number,
    eventLog: eventLogOff
      ? false
      : {
          retentionDays: integer(env, 'EVENT_LOG_RETENTION_DAYS', undefined, 0, 36_500),
          retentionRows: integer(env, 'EVENT_LOG_RETENTION_ROWS', undefined, 0, 1_000_000_000),
        },
    metrics: !flag(env, 'METRICS_DISABLED'),
  };
}
