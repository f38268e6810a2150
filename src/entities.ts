import { ApiKey, ApiKeyUsage, WebhookSetting } from './auth/api-key.entity';
import { WebhookConnection } from './connections/connection.entity';
import { CicdDeployment, CicdDeploymentCommit } from './deployments/deployment.entity';
import { ProjectPrMetric, PullRequestDeploymentLink } from './dora/lead-time.entity';
import {
  Board,
  BoardIssue,
  Incident,
  IncidentAssignee,
  IncidentDeploymentLink,
  Issue,
  IssueAssignee,
} from './issues/issue.entity';
import { CicdScope, Project, ProjectMapping, Repo } from './projects/project.entity';
import { PullRequest } from './pull-requests/pull-request.entity';
import { RawEventIdBlock, RawWebhookEvent } from './events/raw-event.entity';
import { SourceDelivery, SourceSettingsRow } from './sources/source.entity';

/** Every entity of the plugin. Hosts add them to their DataSource before `initialize()`. */
export const webhookEntities = [
  WebhookConnection,
  ApiKey,
  ApiKeyUsage,
  WebhookSetting,
  CicdDeployment,
  CicdDeploymentCommit,
  Board,
  BoardIssue,
  Issue,
  IssueAssignee,
  Incident,
  IncidentAssignee,
  IncidentDeploymentLink,
  PullRequest,
  Project,
  ProjectMapping,
  CicdScope,
  Repo,
  ProjectPrMetric,
  PullRequestDeploymentLink,
  RawWebhookEvent,
  RawEventIdBlock,
  SourceSettingsRow,
  SourceDelivery,
];

export {
  WebhookConnection,
  ApiKey,
  ApiKeyUsage,
  WebhookSetting,
  CicdDeployment,
  CicdDeploymentCommit,
  Board,
  BoardIssue,
  Issue,
  IssueAssignee,
  Incident,
  IncidentAssignee,
  IncidentDeploymentLink,
  PullRequest,
  Project,
  ProjectMapping,
  CicdScope,
  Repo,
  ProjectPrMetric,
  PullRequestDeploymentLink,
  RawWebhookEvent,
  RawEventIdBlock,
  SourceSettingsRow,
  SourceDelivery,
};
