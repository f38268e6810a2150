import { Router, type RequestHandler } from 'express';
import { createActivityRouter } from './activity/activity.router';
import { BatchService } from './batch/batch.service';
import { ActivityService } from './activity/activity.service';
import { createAdminUiRouter, type AdminUiOptions } from './admin-ui/admin-ui.router';
import { createApiKeyRouter } from './auth/api-key.router';
import { ApiKeyService } from './auth/api-key.service';
import { createGuards } from './auth/guards';
import { createConnectionRouter } from './connections/connection.router';
import { ConnectionService } from './connections/connection.service';
import { resolveConnection } from './connections/resolve-connection';
import type { PluginContext, WebhookServices } from './context';
import { DeploymentService } from './deployments/deployment.service';
import { DoraService } from './dora/dora.service';
import { webhookEntities } from './entities';
import { databaseDeadline } from './http/database-deadline';
import { errorHandler } from './http/error-handler';
import { createRateLimit } from './http/rate-limit';
import { readJsonBody } from './http/read-body';
import { checkRequestTarget } from './http/request-target';
import { IssueService } from './issues/issue.service';
import { webhookMigrations } from './migrations';
import { loadOpenApiDocument, type OpenApiDocument } from './openapi';
import { resolveOptions, type ResolvedOptions, type WebhookPluginOptions } from './options';
import { createProjectRouter } from './projects/project.router';
import { ProjectService } from './projects/project.service';
import { PullRequestService } from './pull-requests/pull-request.service';
import { ingestionRouters } from './routes';
import { verifyDataSource } from './db/verify-data-source';
import { EventLogService } from './events/event-log.service';
import { eventRecorder } from './events/event-log.middleware';
import { createEventRouter } from './events/event.router';
import { createReplayer } from './events/replay';
import { routeBase } from './http/request-context';
import { requestLog } from './http/request-log';
import { WebhookMetrics } from './metrics/metrics';
import { SourceSettingsService } from './sources/source-settings.service';
import { acceptSignedDeliveries } from './sources/source.router';
import { createSourceAdminRouter } from './sources/source-admin.router';
import { forwardRejections } from './http/forward-rejections';
import { DEVLAKE_PATHS, mountParts, type MountOptions, type MountTarget, type WebhookParts } from './mount';
import { createSwaggerRouter } from './swagger-ui/swagger-ui.router';
import { series } from './http/series';
import { routeMatcherOf } from './http/route-shapes';
import { CATCH_UP_MS, doraTablesRefresherOf } from './dora/devlake-dora-tables';

/** The three addressing forms of the ingestion routes, in the order they are tried. */
const INGESTION_PREFIXES = ['/connections/by-name/:connectionName', '/connections/:connectionId', '/:connectionId'];

/** What `createWebhookPlugin` hands the host. */
export interface WebhookPlugin {
  name: 'webhook';
  /** Add to the host DataSource's `entities` before `initialize()`. */
  entities: typeof webhookEntities;
  /** Add to the host DataSource's `migrations`, then run them. */
  migrations: typeof webhookMigrations;
  /**
   * Mounts every route where DevLake has it, in one call: the webhook API at
   * `/api/plugins/webhook` and `/plugins/webhook`, its Bearer-only form at
   * `/api/rest/plugins/webhook` and `/rest/plugins/webhook`, DevLake's API-key routes
   * (`/api/api-keys`, `/api/rest/api-keys` and their `/api`-less forms), Swagger UI and the raw
   * document at `options.swagger` (default `/api/swagger`) and the admin page at
   * `options.adminPage` (default `/`). Call it after the DataSource is initialised, before the
   * host's own 404 handler.
   */
  mount(app: MountTarget, options?: MountOptions): void;
  /** The same routers one by one, named after where DevLake serves them, for hosts that mount them themselves. */
  parts: WebhookParts;
  /**
   * The admin page for a host that mounts `parts.pluginsWebhook` elsewhere: `apiBase` is where
   * the page finds the API, `postBase` what its curl commands post to.
   */
  adminPageFor(options: AdminUiOptions): Router;
  /** The OpenAPI 3 document of the routes, for hosts to merge into their own. */
  openapi: OpenApiDocument;
  /**
   * Prometheus metrics (`GET /`, text format), guarded like the admin API: the same router as
   * `parts.metrics.router`, which `mount()` puts at `/metrics`. Answers 404 when `metrics: false`.
   */
  metricsRouter: Router;
  /**
   * Finishes the background work (DevLake's DORA tables, the event log's queued rows) and stops
   * the event log's pruning: call before closing the DataSource.
   */
  close(): Promise<void>;
  /**
   * Resolves once DevLake's DORA dashboard tables (incident links, the previous-deployment
   * chain) reflect every write answered so far; they are refreshed in the background, a few
   * milliseconds after each write.
   */
  settled(): Promise<void>;
  /** The services, for hosts that call them directly (e.g. from a queue consumer). */
  services: WebhookServices;
  /**
   * Checks, after the DataSource is initialised, that it can work: migrations ran, MySQL
   * speaks UTC, no host entity claims one of our tables with another shape. Throws a
   * ConfigurationError naming the problem. The routers also run it once, on first use.
   */
  verify(): Promise<void>;
  /** @deprecated Use `parts.pluginsWebhook.router`. */
  router: Router;
  /** @deprecated Use `parts.restPluginsWebhook.router`. */
  apiKeyRouter: Router;
  /** @deprecated Use `parts.apiKeys.router`. */
  apiKeysRouter: Router;
  /** @deprecated Use `parts.restApiKeys.router`. */
  apiKeysApiKeyRouter: Router;
  /** @deprecated Use `parts.adminPage.router`. */
  adminUiRouter: Router;
  /** @deprecated Use `adminPageFor(options)`. */
  createAdminUiRouter(options?: AdminUiOptions): Router;
}

function createServices(options: ResolvedOptions): WebhookServices {
  const { dataSource } = options;
  const apiKeys = new ApiKeyService(dataSource, options.encryptionSecret);
  const connections = new ConnectionService(dataSource, apiKeys);
  const deployments = new DeploymentService(dataSource);
  const issues = new IssueService(dataSource);
  const pullRequests = new PullRequestService(dataSource);
  return {
    apiKeys,
    connections,
    activity: new ActivityService(dataSource, connections, apiKeys),
    projects: new ProjectService(dataSource),
    deployments,
    issues,
    pullRequests,
    dora: new DoraService(dataSource),
    events: new EventLogService(dataSource, options.eventLog, options.logger),
    sources: new SourceSettingsService(dataSource, apiKeys),
    batch: new BatchService({ deployments, issues, pullRequests }, options.logger),
    devlakeDoraTables: doraTablesRefresherOf(dataSource, options.logger),
  };
}

/**
 * Creates the webhook plugin. The host keeps control: the plugin never opens a database
 * connection, never reads the environment and never chooses its mount path.
 *
 * @example
 * const dataSource = new DataSource({ type: 'better-sqlite3', database: 'hook.sqlite',
 *   entities: [...webhookEntities], migrations: [...webhookMigrations] });
 * const webhook = createWebhookPlugin({ dataSource });
 * await dataSource.initialize(); await dataSource.runMigrations();
 * webhook.mount(app);
 */
export function createWebhookPlugin(input: WebhookPluginOptions): WebhookPlugin {
  const options = resolveOptions(input);
  const services = createServices(options);
  const openapi = loadOpenApiDocument();
  let verified: Promise<void> | undefined;
  /** Set once verification succeeded: from then on every request passes without waiting. */
  let verifiedOnce = false;
  const verify = (): Promise<void> => {
    verified ??= verifyDataSource(options.dataSource)
      .then(() => {
        services.events.startPruning();
        verifiedOnce = true;
        // What a previous process may have left undone in the derived tables (a crash between a
        // write's commit and its refresh), in the background; DORA reads wait for it.
        services.devlakeDoraTables.catchUp(new Date(Date.now() - CATCH_UP_MS)).catch((error: unknown) => {
          options.logger.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'DORA tables: the catch-up of recent writes failed; `npm run rebuild-summary` recomputes them',
          );
        });
      })
      .catch((error: unknown) => {
        verified = undefined;
        throw error;
      });
    return verified;
  };
  // Synchronous once verified: an await on every request would cost promises and a turn of the
  // microtask queue for nothing.
  const ensureVerified: RequestHandler = (_req, _res, next) => {
    if (verifiedOnce) {
      next();
      return;
    }
    return verify().then(() => next());
  };
  // One limiter for every router: a key's budget is the same whichever form it posts through.
  const rateLimit = createRateLimit(options.rateLimit, Boolean(options.basicAuth));
  const deadline = databaseDeadline(options.databaseTimeoutMs);
  const metrics = options.metrics ? new WebhookMetrics(services.events) : undefined;
  const logRequests = requestLog(options.logger, metrics);

  const contextFor = (requireApiKey: boolean): PluginContext => ({
    options,
    services,
    guards: createGuards(options, services.apiKeys, requireApiKey),
    readBody: readJsonBody(options.bodyLimitBytes),
    resolveConnection: resolveConnection(services.connections),
  });

  /** Every router of the plugin: limits and checks first, its routes, then the one error mapping. */
  const wrap = (routes: Router): Router => {
    const router = Router();
    // The request log first, so that refusals by the target check and the limits are logged
    // and counted too.
    router.use(series(logRequests, checkRequestTarget, rateLimit, deadline, ensureVerified));
    router.use(routes);
    router.use(errorHandler(options.logger));
    return forwardRejections(router);
  };

  const buildRouter = (requireApiKey: boolean): Router => {
    const context = contextFor(requireApiKey);
    const ingest = buildIngestionRouter(context);
    const routes = Router();

    // Deliveries are most of the traffic, and every router a request passes through costs it
    // CPU: a delivery that certainly is one (a numeric connection id or a name, then the exact
    // path of an ingestion route) goes straight to the ingestion routes, past the admin routers
    // it could never match. Anything else takes the usual order below.
    const isIngestion = routeMatcherOf(ingest);
    for (const prefix of INGESTION_PREFIXES) {
      const lane = series(routeBase(prefix), ingest);
      routes.use(prefix, (req, res, next) => {
        const id = (req.params as { connectionId?: string }).connectionId;
        if ((id === undefined || /^\d+$/.test(id)) && isIngestion(req.method, req.path)) lane(req, res, next);
        else next();
      });
    }

    routes.use(createActivityRouter(context));
    routes.use(
      '/connections',
      routeBase('/connections'),
      createSourceAdminRouter({
        connections: services.connections,
        settings: services.sources,
        guards: context.guards,
        readBody: context.readBody,
      }),
      createConnectionRouter(context),
    );
    routes.use('/projects', routeBase('/projects'), createProjectRouter(context));

    // Ingestion routes exist in three addressing forms (docs/devlake-compatibility.md §2). The by-name and
    // /connections forms come first; `/:connectionId` resolves per route, so it never
    // captures the admin paths above.
    for (const prefix of INGESTION_PREFIXES) routes.use(prefix, routeBase(prefix), ingest);
    return wrap(routes);
  };

  /** The ingestion routes, relative to a connection's prefix, behind the checks every delivery passes. */
  const buildIngestionRouter = (context: PluginContext): Router => {
    const ingest = Router({ mergeParams: true });
    // Credentials are checked before the connection is looked up: without them, a 401, never
    // a 404 that would tell which connections exist. Each route's guard then authorises.
    // GitHub, GitLab and PagerDuty cannot send credentials: their signature is checked on their
    // route, once the connection (its secret) is known.
    ingest.use(series(acceptSignedDeliveries, context.guards.authenticate));
    // The event log wraps ingestion: its routes first (they are not deliveries), then the
    // recorder, then every ingestion route, which it records whatever they answer.
    const replay = createReplayer(ingest, errorHandler(options.logger));
    ingest.use(
      createEventRouter({
        eventLog: services.events,
        guards: context.guards,
        readBody: context.readBody,
        resolveConnection: context.resolveConnection,
        replay,
      }),
    );
    // The batch route reads larger bodies than the others: the recorder reads each up to its own limit.
    ingest.use(
      eventRecorder(services.events, (req) =>
        /\/batch\/?$/.test(req.path) ? options.batchBodyLimitBytes : options.bodyLimitBytes,
      ),
    );
    for (const create of ingestionRouters) ingest.use(create(context));
    return ingest;
  };

  const buildApiKeysRouter = (requireApiKey: boolean): Router => wrap(createApiKeyRouter(contextFor(requireApiKey)));

  const adminUi = (uiOptions?: AdminUiOptions): Router =>
    forwardRejections(
      createAdminUiRouter(createGuards(options, services.apiKeys, false).admin, options.logger, uiOptions),
    );

  const parts: WebhookParts = {
    pluginsWebhook: { paths: DEVLAKE_PATHS.pluginsWebhook, router: buildRouter(false) },
    restPluginsWebhook: { paths: DEVLAKE_PATHS.restPluginsWebhook, router: buildRouter(true) },
    apiKeys: { paths: DEVLAKE_PATHS.apiKeys, router: buildApiKeysRouter(false) },
    restApiKeys: { paths: DEVLAKE_PATHS.restApiKeys, router: buildApiKeysRouter(true) },
    adminPage: { paths: DEVLAKE_PATHS.adminPage, router: adminUi() },
    swaggerUi: { paths: DEVLAKE_PATHS.swaggerUi, router: createSwaggerRouter(loadOpenApiDocument()) },
    metrics: {
      paths: DEVLAKE_PATHS.metrics,
      router: wrap(metrics ? metrics.router(createGuards(options, services.apiKeys, false).admin) : Router()),
    },
  };

  return {
    name: 'webhook',
    entities: webhookEntities,
    migrations: webhookMigrations,
    mount: (app, mountOptions) => mountParts(app, parts, mountOptions),
    parts,
    adminPageFor: adminUi,
    metricsRouter: parts.metrics.router,
    close: async () => {
      await services.devlakeDoraTables.close();
      await services.events.close();
    },
    settled: () => services.devlakeDoraTables.settled(),
    openapi,
    services,
    verify,
    router: parts.pluginsWebhook.router,
    apiKeyRouter: parts.restPluginsWebhook.router,
    apiKeysRouter: parts.apiKeys.router,
    apiKeysApiKeyRouter: parts.restApiKeys.router,
    adminUiRouter: parts.adminPage.router,
    createAdminUiRouter: adminUi,
  };
}
