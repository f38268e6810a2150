import { Router, type RequestHandler } from 'express';
import { createActivityRouter } from './activity/activity.router';
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

/** What `createWebhookPlugin` hands the host. */
export interface WebhookPlugin {
  name: 'webhook';
  /** Add to the host DataSource's `entities` before `initialize()`. */
  entities: typeof webhookEntities;
  /** Add to the host DataSource's `migrations`, then run them. */
  migrations: typeof webhookMigrations;
  /**
   * The webhook routes, path-agnostic: mount where DevLake has them (`/api/plugins/webhook`,
   * `/plugins/webhook`). Basic credentials or API keys, as configured.
   */
  router: Router;
  /**
   * The same routes in DevLake's API-key form, where only `Authorization: Bearer <key>` is
   * accepted: mount at `/api/rest/plugins/webhook` and `/rest/plugins/webhook`.
   */
  apiKeyRouter: Router;
  /**
   * DevLake's core API-key routes (`GET/POST /`, `PUT/DELETE /:apiKeyId`), administration
   * routes: mount at `/api/api-keys` and `/api-keys` (DevLake's Config-UI renews a webhook's
   * key there).
   */
  apiKeysRouter: Router;
  /** The same routes where only a Bearer key is accepted: mount at `/api/rest/api-keys`, `/rest/api-keys`. */
  apiKeysApiKeyRouter: Router;
  /** The OpenAPI 3 document of the routes, for hosts to merge into their own. */
  openapi: OpenApiDocument;
  /**
   * The admin page (connections, keys, curl commands, what arrived), guarded like the admin
   * API. It calls the API at `/api/plugins/webhook`; a host that mounts `router` elsewhere
   * uses `createAdminUiRouter({ apiBase, postBase })` instead.
   */
  adminUiRouter: Router;
  createAdminUiRouter(options?: AdminUiOptions): Router;
  /**
   * Prometheus metrics (`GET /`, text format), guarded like the admin API: mount it where your
   * scraper looks, e.g. `/metrics`. Answers 404 when `metrics: false`.
   */
  metricsRouter: Router;
  /** Stops the event log's background pruning and writes its queued rows: call before closing the DataSource. */
  close(): Promise<void>;
  /** The services, for hosts that call them directly (e.g. from a queue consumer). */
  services: WebhookServices;
  /**
   * Checks, after the DataSource is initialised, that it can work: migrations ran, MySQL
   * speaks UTC, no host entity claims one of our tables with another shape. Throws a
   * ConfigurationError naming the problem. The routers also run it once, on first use.
   */
  verify(): Promise<void>;
}

function createServices(options: ResolvedOptions): WebhookServices {
  const { dataSource } = options;
  const apiKeys = new ApiKeyService(dataSource, options.encryptionSecret);
  const connections = new ConnectionService(dataSource, apiKeys);
  return {
    apiKeys,
    connections,
    activity: new ActivityService(dataSource, connections, apiKeys),
    projects: new ProjectService(dataSource),
    deployments: new DeploymentService(dataSource),
    issues: new IssueService(dataSource),
    pullRequests: new PullRequestService(dataSource),
    dora: new DoraService(dataSource),
    events: new EventLogService(dataSource, options.eventLog, options.logger),
    sources: new SourceSettingsService(dataSource, apiKeys),
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
 * app.use('/api/plugins/webhook', webhook.router);
 */
export function createWebhookPlugin(input: WebhookPluginOptions): WebhookPlugin {
  const options = resolveOptions(input);
  const services = createServices(options);
  const openapi = loadOpenApiDocument();
  let verified: Promise<void> | undefined;
  const verify = (): Promise<void> => {
    verified ??= verifyDataSource(options.dataSource)
      .then(() => services.events.startPruning())
      .catch((error: unknown) => {
        verified = undefined;
        throw error;
      });
    return verified;
  };
  const ensureVerified: RequestHandler = async (_req, _res, next) => {
    await verify();
    next();
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
    router.use(logRequests, checkRequestTarget, rateLimit, deadline);
    router.use(ensureVerified);
    router.use(routes);
    router.use(errorHandler(options.logger));
    return router;
  };

  const buildRouter = (requireApiKey: boolean): Router => {
    const context = contextFor(requireApiKey);
    const routes = Router();
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
    const ingest = Router({ mergeParams: true });
    // Credentials are checked before the connection is looked up: without them, a 401, never
    // a 404 that would tell which connections exist. Each route's guard then authorises.
    // GitHub, GitLab and PagerDuty cannot send credentials: their signature is checked on their
    // route, once the connection (its secret) is known.
    ingest.use(acceptSignedDeliveries);
    ingest.use(context.guards.authenticate);
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
    ingest.use(eventRecorder(services.events, options.bodyLimitBytes));
    for (const create of ingestionRouters) ingest.use(create(context));
    for (const prefix of ['/connections/by-name/:connectionName', '/connections/:connectionId', '/:connectionId']) {
      routes.use(prefix, routeBase(prefix), ingest);
    }
    return wrap(routes);
  };

  const buildApiKeysRouter = (requireApiKey: boolean): Router => wrap(createApiKeyRouter(contextFor(requireApiKey)));

  const adminUi = (uiOptions?: AdminUiOptions): Router =>
    createAdminUiRouter(createGuards(options, services.apiKeys, false).admin, options.logger, uiOptions);

  return {
    name: 'webhook',
    entities: webhookEntities,
    migrations: webhookMigrations,
    router: buildRouter(false),
    apiKeyRouter: buildRouter(true),
    apiKeysRouter: buildApiKeysRouter(false),
    apiKeysApiKeyRouter: buildApiKeysRouter(true),
    adminUiRouter: adminUi(),
    metricsRouter: wrap(metrics ? metrics.router(createGuards(options, services.apiKeys, false).admin) : Router()),
    close: () => services.events.close(),
    createAdminUiRouter: adminUi,
    openapi,
    services,
    verify,
  };
}
