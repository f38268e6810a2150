import { DateField, EnumField, NumberField, StringField } from '../http/fields';

export const ISSUE_STATUSES = ['TODO', 'IN_PROGRESS', 'DONE'] as const;

/** DevLake's signed BIGINT minutes columns accept negatives, so we do too (DevLake does). */
const SIGNED_MINUTES = { integer: true, truncate: true, min: -Number.MAX_SAFE_INTEGER } as const;

/**
 * Body of `POST X/issues` (docs/devlake-compatibility.md §6): DevLake v1.0's camelCase form and DevLake v0.14's snake_case
 * form (`board_key`, `issue_key`...) are the same keys after normalisation. Sizes are those of
 * DevLake's columns (as the migrations in src/migrations create them); text columns (`title`,
 * `description`) have none.
 */
export class IssueDto {
  /** Unique within a connection; the id `webhook:<cid>:<issueKey>` must fit varchar(255), checked by the service. */
  @StringField({ required: true, max: 255 })
  issueKey!: string;

  @StringField({ required: true })
  title!: string;

  @EnumField(ISSUE_STATUSES, { required: true })
  status!: (typeof ISSUE_STATUSES)[number];

  @StringField({ required: true, max: 100 })
  originalStatus!: string;

  @DateField({ required: true })
  createdDate!: Date;

  /** DevLake v0.14's board/project key, stored as `original_project`. */
  @StringField({ max: 255 })
  boardKey?: string;

  @StringField({ max: 255 })
  url?: string;

  @StringField()
  description?: string;

  @StringField({ max: 255 })
  epicKey?: string;

  /** `original_type` keeps it as sent (varchar(500)); `type` holds it upper-cased (varchar(100)). */
  @StringField({ max: 100 })
  type?: string;

  @NumberField()
  storyPoint?: number;

  @DateField()
  resolutionDate?: Date;

  @DateField()
  updatedDate?: Date;

  /** DevLake's column is BIGINT UNSIGNED. */
  @NumberField({ integer: true, truncate: true, min: 0 })
  leadTimeMinutes?: number;

  @StringField({ max: 255 })
  parentIssueKey?: string;

  @StringField({ max: 255 })
  priority?: string;

  @NumberField(SIGNED_MINUTES)
  originalEstimateMinutes?: number;

  @NumberField(SIGNED_MINUTES)
  timeSpentMinutes?: number;

  @NumberField(SIGNED_MINUTES)
  timeRemainingMinutes?: number;

  @StringField({ max: 255 })
  creatorId?: string;

  @StringField({ max: 255 })
  creatorName?: string;

  @StringField({ max: 255 })
  assigneeId?: string;

  @StringField({ max: 255 })
  assigneeName?: string;

  @StringField({ max: 255 })
  severity?: string;

  /** `varchar(255)` in DevLake's `issues` and `incidents`. */
  @StringField({ max: 255 })
  component?: string;

  @StringField({ max: 255 })
  urgency?: string;

  /**
   * Ours (docs/dora.md): the caller's id of the deployment, in the same connection, that
   * caused this incident. Kept in `_tool_webhook_incident_deployments`.
   */
  @StringField({ max: 255 })
  deploymentId?: string;
}

/** Body of `POST X/issue/close`, for senders whose URL is fixed. */
export class CloseIssueDto {
  @StringField({ required: true, max: 255 })
  issueKey!: string;
}
