import { Column, Entity } from 'typeorm';
import { BigInt, DateTime3, DevLakeCommonColumns, Double, LongText, Varchar, VarcharKey } from '../db/columns';

/** DevLake's `boards`: one per connection, `id = webhook:<cid>`, named after the connection. */
@Entity({ name: 'boards' })
export class Board extends DevLakeCommonColumns {
  @VarcharKey('id')
  id!: string;

  @Varchar('name')
  name!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('url')
  url!: string | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @Varchar('type')
  type!: string | null;
}

@Entity({ name: 'board_issues' })
export class BoardIssue extends DevLakeCommonColumns {
  @VarcharKey('board_id')
  boardId!: string;

  @VarcharKey('issue_id')
  issueId!: string;
}

/** DevLake's `issues` (docs/devlake-compatibility.md §6). */
@Entity({ name: 'issues' })
export class Issue extends DevLakeCommonColumns {
  /** `webhook:<cid>:<issueKey>` */
  @VarcharKey('id')
  id!: string;

  @Varchar('url')
  url!: string | null;

  @Varchar('icon_url')
  iconUrl!: string | null;

  @Varchar('issue_key')
  issueKey!: string;

  @LongText('title')
  title!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('epic_key')
  epicKey!: string | null;

  @Varchar('type', 100)
  type!: string | null;

  @Varchar('original_type', 500)
  originalType!: string | null;

  @Varchar('status', 100)
  status!: string | null;

  @Varchar('original_status', 100)
  originalStatus!: string | null;

  @Double('story_point')
  storyPoint!: number | null;

  @DateTime3('resolution_date')
  resolutionDate!: Date | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('updated_date')
  updatedDate!: Date | null;

  @BigInt('lead_time_minutes')
  leadTimeMinutes!: number | null;

  @BigInt('original_estimate_minutes')
  originalEstimateMinutes!: number | null;

  @BigInt('time_spent_minutes')
  timeSpentMinutes!: number | null;

  @BigInt('time_remaining_minutes')
  timeRemainingMinutes!: number | null;

  @Varchar('creator_id')
  creatorId!: string | null;

  @Varchar('creator_name')
  creatorName!: string | null;

  @Varchar('assignee_id')
  assigneeId!: string | null;

  @Varchar('assignee_name')
  assigneeName!: string | null;

  @Varchar('parent_issue_id')
  parentIssueId!: string | null;

  @Varchar('priority')
  priority!: string | null;

  @Varchar('severity')
  severity!: string | null;

  @Varchar('urgency')
  urgency!: string | null;

  @Varchar('component')
  component!: string | null;

  @Varchar('original_project')
  originalProject!: string | null;

  @Column({ name: 'is_subtask', type: 'boolean', nullable: true })
  isSubtask!: boolean | null;

  @DateTime3('due_date')
  dueDate!: Date | null;

  @LongText('fix_versions')
  fixVersions!: string | null;
}

@Entity({ name: 'issue_assignees' })
export class IssueAssignee extends DevLakeCommonColumns {
  @VarcharKey('issue_id')
  issueId!: string;

  @VarcharKey('assignee_id')
  assigneeId!: string;

  @Varchar('assignee_name')
  assigneeName!: string | null;
}

/** DevLake's `incidents`: written for issues whose type is INCIDENT, same id as the issue. */
@Entity({ name: 'incidents' })
export class Incident extends DevLakeCommonColumns {
  @VarcharKey('id')
  id!: string;

  @Varchar('url')
  url!: string | null;

  @Varchar('incident_key')
  incidentKey!: string | null;

  @LongText('title')
  title!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('status', 100)
  status!: string | null;

  @Varchar('original_status', 100)
  originalStatus!: string | null;

  @DateTime3('resolution_date')
  resolutionDate!: Date | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('updated_date')
  updatedDate!: Date | null;

  @BigInt('lead_time_minutes')
  leadTimeMinutes!: number | null;

  @BigInt('original_estimate_minutes')
  originalEstimateMinutes!: number | null;

  @BigInt('time_spent_minutes')
  timeSpentMinutes!: number | null;

  @BigInt('time_remaining_minutes')
  timeRemainingMinutes!: number | null;

  @Varchar('creator_id')
  creatorId!: string | null;

  @Varchar('creator_name')
  creatorName!: string | null;

  @Varchar('parent_incident_id')
  parentIncidentId!: string | null;

  @Varchar('priority')
  priority!: string | null;

  @Varchar('severity')
  severity!: string | null;

  @Varchar('urgency')
  urgency!: string | null;

  @Varchar('component')
  component!: string | null;

  @Varchar('original_project')
  originalProject!: string | null;

  /** Always `boards` here: the scope is the connection's board. */
  @Varchar('table')
  table!: string | null;

  @Varchar('scope_id')
  scopeId!: string | null;

  @Varchar('assignee_id')
  assigneeId!: string | null;

  @Varchar('assignee_name')
  assigneeName!: string | null;
}

@Entity({ name: 'incident_assignees' })
export class IncidentAssignee extends DevLakeCommonColumns {
  @VarcharKey('incident_id')
  incidentId!: string;

  @VarcharKey('assignee_id')
  assigneeId!: string;

  @Varchar('assignee_name')
  assigneeName!: string | null;
}

/**
 * Ours: the deployment an incident names as its cause (`deploymentId` in the issue payload,
 * docs/dora.md). Kept apart so DevLake's `incidents` table stays DevLake's.
 */
@Entity({ name: '_tool_webhook_incident_deployments' })
export class IncidentDeploymentLink {
  /** The issue/incident id, `webhook:<cid>:<issueKey>`. */
  @VarcharKey('issue_id')
  issueId!: string;

  /** The deployment as the caller named it, kept as sent. */
  @Varchar('deployment_key')
  deploymentKey!: string;

  /** `webhook:<cid>:<deploymentKey>`, the `cicd_deployments.id` it points to. */
  @Varchar('cicd_deployment_id')
  cicdDeploymentId!: string;
}
