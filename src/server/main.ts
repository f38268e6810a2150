import { createServer, type Server } from 'node:http';
import { createDefaultLogger } from '../logger';
import { ConfigurationError } from '../options';
import { loadConfig, describeDatabase, type ServerConfig } from './config';
import { missingDriver } from './driver';

/** Prints one line naming the setting and the cause, never a stack trace, and exits non-zero. */
function fail(message: string): never {
  process.stderr.write(`devlake-webhook: ${message}\n`);
  process.exit(1);
}

function authMode(config: ServerConfig): string {
  if (config.basicAuth) return 'Basic (ADMIN_USER) and API keys';
  if (config.allowUnauthenticated) return 'NONE: ALLOW_UNAUTHENTICATED=true, a proxy in front must authenticate';
  return 'open on loopback only (set ADMIN_USER and ADMIN_PASS to listen elsewhere)';
}

export async function main(): Promise<Server> {
  // Signals are taken from the first moment: a SIGTERM that arrives while the server is still
  // starting (opening the database, migrating) is kept and honoured as soon as it listens, so the
  // process always ends through the clean shutdown below (exit code 0), never killed half-way.
  let pendingSignal: string | undefined;
  let stop: (signal: string) => void = (signal) => {
    pendingSignal ??= signal;
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  let config: ServerConfig;
  try {
    config = loadConfig();
  } catch (error) {
    fail(error instanceof ConfigurationError ? error.message : String(error));
  }
  const driver = missingDriver(config.database);
  if (driver) {
    fail(
      `DB_URL: ${describeDatabase(config.database)} needs the ${driver} package, which is not installed: ` +
        `npm install ${driver} (with npx: npx -p devlake-webhook -p ${driver} devlake-webhook)`,
    );
  }
  // Loaded only once the settings are known good, so that a refusal (e.g. an open server on a
  // public address) is immediate and loads no database driver.
  const { createWebhookPlugin } = await import('../plugin');
  const { createApp } = await import('./create-app');
  const { createDataSource } = await import('./data-source');
  const logger = createDefaultLogger(config.logLevel);
  const dataSource = createDataSource(config.database, { timeoutMs: config.databaseTimeoutMs });
  const plugin = createWebhookPlugin({
    dataSource,
    encryptionSecret: config.encryptionSecret,
    basicAuth: config.basicAuth,
    bodyLimitBytes: config.bodyLimitBytes,
    batchBodyLimitBytes: config.batchBodyLimitBytes,
    rateLimit: config.rateLimit,
    databaseTimeoutMs: config.databaseTimeoutMs,
    eventLog: config.eventLog,
    metrics: config.metrics,
    logger,
  });
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await plugin.verify();
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    fail(`DB_URL: cannot use ${describeDatabase(config.database)}: ${cause.split('\n')[0]}`);
  }
  if (config.allowUnauthenticated && !config.basicAuth) {
    logger.warn('ALLOW_UNAUTHENTICATED=true: this server accepts every request; make sure a proxy authenticates them');
  }

  const app = createApp(plugin, dataSource, logger, { trustProxy: config.trustProxy });
  // Slow clients are cut off: headers within 10 s, a whole request within 30 s. Node
  // checks those limits every `connectionsCheckingInterval` (30 s by default, which would let
  // a slow client hold a socket three times longer than the limit says).
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 1_000 },
    app,
  );
  server.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch((error: NodeJS.ErrnoException) =>
    fail(`PORT: cannot listen on ${config.host}:${config.port}: ${error.code ?? error.message}`),
  );

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  // One plain, readable line for the person who ran `npm start`; the logs stay JSON.
  process.stdout.write(
    `devlake-webhook listening on http://${shownHost}:${port} (database: ${describeDatabase(config.database)}; auth: ${authMode(config)})\n`,
  );

  let stopping = false;
  stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: no new connections; finishing requests in flight`);
    const force = setTimeout(() => {
      logger.warn('shutdown timed out; closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    server.close(async () => {
      // The event log's last rows are written before the database goes.
      await plugin.close().catch(() => undefined);
      await dataSource.destroy().catch(() => undefined);
      logger.info('stopped');
      process.exit(0);
    });
    // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
    server.closeIdleConnections();
  };
  if (pendingSignal) stop(pendingSignal);
  return server;
}

if (require.main === module) {
  main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
}
