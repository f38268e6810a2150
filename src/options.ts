import type { RequestHandler } from 'express';
import type { DataSource } from 'typeorm';
import { createDefaultLogger, type Logger } from './logger';

/** Basic credentials for people and admin tools (DevLake's ADMIN_USER / ADMIN_PASS). */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** Rate limits. `false` turns them off. */
export interface RateLimitOptions {
  /** Window length in milliseconds. Default 60 000. */
  windowMs?: number;
  /** Requests per window for one API key or one Basic user. Default 6000 (100 a second). */
  perKey?: number;
  /** Requests per window for one client address without credentials. Default 6000. */
  perAddress?: number;
  /**
   * Wrong Basic passwords one user name may send from one address within
   * `failedPasswordWindowMs` before that user name is refused (429) from that address until the
   * window ends. Default 10.
   */
  failedPasswords?: number;
  /** Window of `failedPasswords`, in milliseconds. Default 900 000 (15 minutes). */
  failedPasswordWindowMs?: number;
}

/** The raw event log's retention. `false` (instead of these) turns the log off. */
export interface EventLogOptions {
  /** Events older than this many days are deleted. Default 30; 0 keeps them whatever their age. */
  retentionDays?: number;
  /** At most this many events are kept (the newest). Default 100 000; 0 for no limit. */
  retentionRows?: number;
  /** How often the background pruning runs, in milliseconds. Default 600 000 (10 min); 0 never. */
  pruneIntervalMs?: number;
}

/** Everything a host can set. Each option is documented with its default. */
export interface WebhookPluginOptions {
  /** The host's DataSource, with `webhookEntities` and `webhookMigrations` added. Required. */
  dataSource: DataSource;
  /**
   * DevLake's ENCRYPTION_SECRET: API keys are stored as HMAC-SHA256(secret, key). Set it to
   * DevLake's value to keep the keys a DevLake installation issued working. Default: a random
   * secret generated once and kept in `_tool_webhook_settings`, shared by every instance on the
   * same database.
   */
  encryptionSecret?: string;
  /** Largest accepted request body in bytes. Default 1 MiB (1 048 576). */
  bodyLimitBytes?: number;
  /**
   * Largest accepted body of the batch route (`POST X/batch`, many records in one request), in
   * bytes. Default 32 MiB (33 554 432).
   */
  batchBodyLimitBytes?: number;
  /**
   * Basic credentials. When set, every route requires them, except that ingestion routes also
   * accept the connection's API key. Default: none (admin routes are open: the standalone
   * server then listens on loopback only).
   */
  basicAuth?: BasicCredentials;
  /**
   * The host's own authentication for admin routes (a passport strategy, a session check...),
   * used instead of Basic. It must call `next()` for an authorised request and `next(err)` or
   * answer otherwise. Ingestion routes accept it too, besides the connection's API key. When
   * `basicAuth` is also set, a request carrying Basic credentials is checked against those
   * instead. Default: none.
   */
  adminAuthenticator?: RequestHandler;
  /**
   * Rate limits. Default `{ windowMs: 60000, perKey: 6000, perAddress: 6000, failedPasswords: 10,
   * failedPasswordWindowMs: 900000 }`.
   */
  rateLimit?: RateLimitOptions | false;
  /** Where the plugin logs. Default: a pino logger at `info` with secrets redacted. */
  logger?: Logger;
  /**
   * Longest time a request may wait on the database (a pooled connection, its statements)
   * before it answers 503 with Retry-After, in milliseconds. Default 10 000. The standalone
   * server also uses it as the connect timeout (and SQLite's busy timeout).
   */
  databaseTimeoutMs?: number;
  /**
   * The raw event log of deliveries (`_raw_webhook_events`): on by default with
   * `{ retentionDays: 30, retentionRows: 100000, pruneIntervalMs: 600000 }`; `false` turns it off.
   */
  eventLog?: EventLogOptions | false;
  /**
   * Collects Prometheus metrics, served by `plugin.metricsRouter`. Default true; `false` stops
   * collecting (the router then answers 404).
   */
  metrics?: boolean;
}

export interface ResolvedOptions {
  dataSource: DataSource;
  encryptionSecret: string | undefined;
  bodyLimitBytes: number;
  batchBodyLimitBytes: number;
  basicAuth: BasicCredentials | undefined;
  adminAuthenticator: RequestHandler | undefined;
  rateLimit: Required<RateLimitOptions> | false;
  logger: Logger;
  databaseTimeoutMs: number;
  eventLog: Required<EventLogOptions> | false;
  metrics: boolean;
}

/** Thrown at start-up for a setting that cannot work; the message names the setting. */
export class ConfigurationError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigurationError';
  }
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_BATCH_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT: Required<RateLimitOptions> = {
  windowMs: 60_000,
  perKey: 6000,
  perAddress: 6000,
  failedPasswords: 10,
  failedPasswordWindowMs: 900_000,
};
export const DEFAULT_EVENT_LOG: Required<EventLogOptions> = {
  retentionDays: 30,
  retentionRows: 100_000,
  pruneIntervalMs: 600_000,
};

/** The one defaults merge; bad settings fail here, naming the setting. */
export function resolveOptions(options: WebhookPluginOptions): ResolvedOptions {
  if (!options || !options.dataSource) {
    throw new ConfigurationError('dataSource', 'the plugin needs the host’s TypeORM DataSource');
  }
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  if (!Number.isInteger(bodyLimitBytes) || bodyLimitBytes < 1024) {
    throw new ConfigurationError('bodyLimitBytes', 'must be a whole number of bytes, at least 1024');
  }
  const batchBodyLimitBytes = options.batchBodyLimitBytes ?? DEFAULT_BATCH_BODY_LIMIT_BYTES;
  if (!Number.isInteger(batchBodyLimitBytes) || batchBodyLimitBytes < 1024) {
    throw new ConfigurationError('batchBodyLimitBytes', 'must be a whole number of bytes, at least 1024');
  }
  if (options.basicAuth && (!options.basicAuth.username || !options.basicAuth.password)) {
    throw new ConfigurationError('basicAuth', 'needs both a username and a password');
  }
  const secret = options.encryptionSecret?.trim();
  if (options.encryptionSecret !== undefined && !secret) {
    throw new ConfigurationError('encryptionSecret', 'must not be empty (omit it to have one generated)');
  }
  const given = Object.fromEntries(Object.entries(options.rateLimit || {}).filter(([, value]) => value !== undefined));
  const rateLimit = options.rateLimit === false ? false : { ...DEFAULT_RATE_LIMIT, ...given };
  if (rateLimit) {
    for (const [name, value] of Object.entries(rateLimit)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new ConfigurationError(`rateLimit.${name}`, 'must be a positive whole number');
      }
    }
  }
  const databaseTimeoutMs = options.databaseTimeoutMs ?? 10_000;
  if (!Number.isInteger(databaseTimeoutMs) || databaseTimeoutMs < 100) {
    throw new ConfigurationError('databaseTimeoutMs', 'must be a whole number of milliseconds, at least 100');
  }
  const givenLog = Object.fromEntries(
    Object.entries(options.eventLog || {}).filter(([, value]) => value !== undefined),
  );
  const eventLog = options.eventLog === false ? false : { ...DEFAULT_EVENT_LOG, ...givenLog };
  if (eventLog) {
    for (const [name, value] of Object.entries(eventLog)) {
      if (!Number.isInteger(value) || value < 0) {
        throw new ConfigurationError(`eventLog.${name}`, 'must be a whole number, 0 or more');
      }
    }
  }
  return {
    dataSource: options.dataSource,
    encryptionSecret: secret,
    bodyLimitBytes,
    batchBodyLimitBytes,
    basicAuth: options.basicAuth,
    adminAuthenticator: options.adminAuthenticator,
    rateLimit,
    logger: options.logger ?? createDefaultLogger(),
    databaseTimeoutMs,
    eventLog,
    metrics: options.metrics ?? true,
  };
}
