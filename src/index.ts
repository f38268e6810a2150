/**
 * devlake-webhook: a DevLake-compatible incoming webhook for Express hosts.
 * The public surface is small on purpose: the factory, its options, the entities and
 * migrations, and the typed errors a host may want to recognise.
 */
export { createWebhookPlugin, type WebhookPlugin } from './plugin';
export { type WebhookPluginOptions, type BasicCredentials, type RateLimitOptions, ConfigurationError } from './options';
export { webhookEntities } from './entities';
export * from './entities';
export { webhookMigrations } from './migrations';
export type { Logger } from './logger';
export {
  WebhookError,
  InputError,
  AuthenticationError,
  NotAllowedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitedError,
  UnavailableError,
  type FieldCause,
} from './http/errors';
export type { Envelope } from './http/envelope';
export { rebuildDeploymentSummaries } from './deployments/deployment-summary';
export { rebuildLeadTimes } from './dora/lead-time.store';
