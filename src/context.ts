import type { RequestHandler } from 'express';
import type { ApiKeyService } from './auth/api-key.service';
import type { Guards } from './auth/guards';
import type { ConnectionService } from './connections/connection.service';
import type { ResolvedOptions } from './options';
import type { ProjectService } from './projects/project.service';
import type { DeploymentService } from './deployments/deployment.service';
import type { IssueService } from './issues/issue.service';
import type { PullRequestService } from './pull-requests/pull-request.service';
import type { DoraService } from './dora/dora.service';
import type { ActivityService } from './activity/activity.service';
import type { EventLogService } from './events/event-log.service';
import type { SourceSettingsService } from './sources/source-settings.service';
import type { BatchService } from './batch/batch.service';
import type { DoraTablesRefresher } from './dora/devlake-dora-tables';

/** The services of the plugin: they take a DataSource and know nothing of Express. */
export interface WebhookServices {
  apiKeys: ApiKeyService;
  connections: ConnectionService;
  projects: ProjectService;
  deployments: DeploymentService;
  issues: IssueService;
  pullRequests: PullRequestService;
  dora: DoraService;
  activity: ActivityService;
  /** The raw event log of deliveries. */
  events: EventLogService;
  /** The native sources' signing secrets and settings, and their processed deliveries. */
  sources: SourceSettingsService;
  /** Many records at once (the batch route, the import command). */
  batch: BatchService;
  /** Keeps DevLake's DORA dashboard tables current, in the background, after each write. */
  devlakeDoraTables: DoraTablesRefresher;
}

/** What each resource's router factory receives. */
export interface PluginContext {
  options: ResolvedOptions;
  services: WebhookServices;
  guards: Guards;
  /** Reads the body as JSON whatever its Content-Type (docs/payloads.md). */
  readBody: RequestHandler[];
  /** Loads the connection named by `:connectionId` or `:connectionName`. */
  resolveConnection: RequestHandler;
}
