import type { Router } from 'express';
import { ConfigurationError } from './options';

/**
 * Where DevLake serves each part (`metrics` is the standalone server's: DevLake has none). The `/api` forms are the addresses behind DevLake's
 * Config-UI (what its documentation's curl commands use); the others are its API server's own.
 */
export const DEVLAKE_PATHS = {
  pluginsWebhook: ['/api/plugins/webhook', '/plugins/webhook'],
  restPluginsWebhook: ['/api/rest/plugins/webhook', '/rest/plugins/webhook'],
  apiKeys: ['/api/api-keys', '/api-keys'],
  restApiKeys: ['/api/rest/api-keys', '/rest/api-keys'],
  adminPage: ['/'],
  swaggerUi: ['/api/swagger'],
  metrics: ['/metrics'],
} as const;

/** One router of the plugin and the paths DevLake serves it at. */
export interface WebhookPart {
  /** Where DevLake serves it (and where `mount()` puts it). */
  readonly paths: readonly string[];
  readonly router: Router;
}

/**
 * The plugin's routers, for a host that mounts them itself. Each is named after the path
 * DevLake serves it at, without the `/api` prefix: `pluginsWebhook` is `/api/plugins/webhook`.
 */
export interface WebhookParts {
  /**
   * The webhook API: ingestion (deployments, issues, incidents, pull requests, at
   * `/:connectionId`, `/connections/:connectionId` and `/connections/by-name/:name`), the
   * connections, projects, activity and DORA routes. Accepts Basic credentials (or the host's
   * `adminAuthenticator`) and API keys. DevLake: `/api/plugins/webhook`, `/plugins/webhook`.
   */
  pluginsWebhook: WebhookPart;
  /**
   * The same routes where only `Authorization: Bearer <api key>` is accepted, as DevLake's
   * API-key form. DevLake: `/api/rest/plugins/webhook`, `/rest/plugins/webhook`.
   */
  restPluginsWebhook: WebhookPart;
  /**
   * DevLake's API-key administration (`GET`/`POST /`, `PUT`/`DELETE /:apiKeyId`), where
   * DevLake's Config-UI renews a webhook's key. DevLake: `/api/api-keys`, `/api-keys`.
   */
  apiKeys: WebhookPart;
  /** The same routes where only a Bearer key is accepted. DevLake: `/api/rest/api-keys`, `/rest/api-keys`. */
  restApiKeys: WebhookPart;
  /**
   * The admin page (connections, keys, ready curl commands, what arrived, DORA), guarded like
   * the admin API. It calls the API at `/api/plugins/webhook`; a host that mounts
   * `pluginsWebhook` elsewhere builds the page with `adminPageFor({ apiBase, postBase })`.
   * Served at `/` by the standalone server.
   */
  adminPage: WebhookPart;
  /**
   * Swagger UI and the raw OpenAPI document (`doc.json`, `doc.yaml`), served from the package
   * (no CDN). DevLake: `/api/swagger`.
   */
  swaggerUi: WebhookPart;
  /**
   * Prometheus metrics (`GET /`, text format), guarded like the admin API; a 404 when the
   * plugin's `metrics` option is false. Served at `/metrics` by the standalone server.
   */
  metrics: WebhookPart;
}

/** Where `mount()` puts the parts that have no fixed place; each can be turned off. */
export interface MountOptions {
  /** Path of the admin page, or `false` to leave it out. Default `'/'`. */
  adminPage?: string | false;
  /** Path of Swagger UI and the raw document, or `false` to leave them out. Default `'/api/swagger'`. */
  swagger?: string | false;
  /** Path of the Prometheus metrics, or `false` to leave them out. Default `'/metrics'`. */
  metrics?: string | false;
  /**
   * Whether to mount DevLake's API-key administration routes (`/api/api-keys`,
   * `/api/rest/api-keys` and their `/api`-less forms). Default `true`.
   */
  apiKeys?: boolean;
}

/**
 * Anything with Express's `use(path, router)`: an Express 4 or 5 app or a Router. Kept
 * structural so the host's own Express typings decide, whichever major version they are.
 */
export interface MountTarget {
  use(path: string, router: Router): unknown;
}

function checkedPath(setting: string, value: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw new ConfigurationError(
      `mount.${setting}`,
      `must be a path starting with "/" or false, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Mounts the parts where DevLake has them; the admin page last, since `/` would come first otherwise. */
export function mountParts(app: MountTarget, parts: WebhookParts, options: MountOptions = {}): void {
  const adminPage = options.adminPage ?? DEVLAKE_PATHS.adminPage[0];
  const swagger = options.swagger ?? DEVLAKE_PATHS.swaggerUi[0];
  const metrics = options.metrics ?? DEVLAKE_PATHS.metrics[0];
  const chosen: [string[], Router][] = [];
  if (swagger !== false) chosen.push([[checkedPath('swagger', swagger)], parts.swaggerUi.router]);
  chosen.push([[...parts.pluginsWebhook.paths], parts.pluginsWebhook.router]);
  chosen.push([[...parts.restPluginsWebhook.paths], parts.restPluginsWebhook.router]);
  if (options.apiKeys !== false) {
    chosen.push([[...parts.apiKeys.paths], parts.apiKeys.router]);
    chosen.push([[...parts.restApiKeys.paths], parts.restApiKeys.router]);
  }
  if (metrics !== false) chosen.push([[checkedPath('metrics', metrics)], parts.metrics.router]);
  if (adminPage !== false) chosen.push([[checkedPath('adminPage', adminPage)], parts.adminPage.router]);
  for (const [paths, router] of chosen) for (const path of paths) app.use(path, router);
}
