import { ConnectionsAndApiKeys1764300000000 } from './1764300000000-connections-and-api-keys';
import { Deployments1764300000001 } from './1764300000001-deployments';
import { IssuesAndIncidents1764300000002 } from './1764300000002-issues-and-incidents';
import { PullRequestsAndProjects1764300000003 } from './1764300000003-pull-requests-and-projects';
import { LeadTimeAttribution1764340000001 } from './1764340000001-lead-time-attribution';
import { RawWebhookEvents1764350000000 } from './1764350000000-raw-webhook-events';
import { SourceSettings1764360000000 } from './1764360000000-source-settings';
import { DeploymentSummaries1764380000001 } from './1764380000001-deployment-summaries';
import { DevLakeColumnTypes1764390000001 } from './1764390000001-devlake-column-types';
import { DevLakeDoraTables1764390000002 } from './1764390000002-devlake-dora-tables';
import { PullRequestLeadTimes1764400000001 } from './1764400000001-pull-request-lead-times';
import { DeploymentChainIndex1764410000001 } from './1764410000001-deployment-chain-index';

/** Every migration of the plugin, oldest first. Hosts add them to their DataSource. */
export const webhookMigrations = [
  ConnectionsAndApiKeys1764300000000,
  Deployments1764300000001,
  IssuesAndIncidents1764300000002,
  PullRequestsAndProjects1764300000003,
  LeadTimeAttribution1764340000001,
  RawWebhookEvents1764350000000,
  SourceSettings1764360000000,
  DeploymentSummaries1764380000001,
  DevLakeColumnTypes1764390000001,
  DevLakeDoraTables1764390000002,
  PullRequestLeadTimes1764400000001,
  DeploymentChainIndex1764410000001,
];
