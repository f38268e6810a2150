import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, commonColumns, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

const rawParamsIndex = (table: string) => ({ name: `idx_${table}__raw_data_params`, columns: ['_raw_data_params'] });

export const ISSUE_TABLES: TableSpec[] = [
  {
    name: 'boards',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('name'),
      col.longtext('description'),
      col.varchar('url'),
      col.datetime3('created_date'),
      col.varchar('type'),
    ],
    indexes: [rawParamsIndex('boards')],
  },
  {
    name: 'board_issues',
    columns: [col.key('board_id'), col.key('issue_id'), ...commonColumns()],
    indexes: [rawParamsIndex('board_issues')],
  },
  {
    name: 'issues',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('url'),
      col.varchar('icon_url'),
      col.varchar('issue_key'),
      col.longtext('title'),
      col.longtext('description'),
      col.varchar('epic_key'),
      col.varchar('type', 100),
      col.varchar('original_type', 500),
      col.varchar('status', 100),
      col.varchar('original_status', 100),
      col.double('story_point'),
      col.datetime3('resolution_date'),
      col.datetime3('created_date'),
      col.datetime3('updated_date'),
      col.ubigint('lead_time_minutes'),
      col.bigint('original_estimate_minutes'),
      col.bigint('time_spent_minutes'),
      col.bigint('time_remaining_minutes'),
      col.varchar('creator_id'),
      col.varchar('creator_name'),
      col.varchar('assignee_id'),
      col.varchar('assignee_name'),
      col.varchar('parent_issue_id'),
      col.varchar('priority'),
      col.varchar('severity'),
      col.varchar('urgency'),
      col.longtext('component'),
      col.varchar('original_project'),
      col.bool('is_subtask'),
      col.datetime3('due_date'),
      col.longtext('fix_versions'),
    ],
    indexes: [rawParamsIndex('issues')],
  },
  {
    name: 'issue_assignees',
    columns: [col.key('issue_id'), col.key('assignee_id'), col.varchar('assignee_name'), ...commonColumns()],
    indexes: [rawParamsIndex('issue_assignees')],
  },
  {
    name: 'incidents',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('url'),
      col.varchar('incident_key'),
      col.longtext('title'),
      col.longtext('description'),
      col.varchar('status', 100),
      col.varchar('original_status', 100),
      col.datetime3('resolution_date'),
      col.datetime3('created_date'),
      col.datetime3('updated_date'),
      col.ubigint('lead_time_minutes'),
      col.bigint('original_estimate_minutes'),
      col.bigint('time_spent_minutes'),
      col.bigint('time_remaining_minutes'),
      col.varchar('creator_id'),
      col.varchar('creator_name'),
      col.varchar('parent_incident_id'),
      col.varchar('priority'),
      col.varchar('severity'),
      col.varchar('urgency'),
      col.longtext('component'),
      col.varchar('original_project'),
      col.varchar('table'),
      col.varchar('scope_id'),
      col.varchar('assignee_id'),
      col.varchar('assignee_name'),
    ],
    indexes: [
      rawParamsIndex('incidents'),
      { name: 'idx_table_scope_id', columns: ['table', 'scope_id'] },
      // Ours: DevLake's incident → deployment rule scans a scope's incidents by creation time.
      { name: 'idx_webhook_incidents_scope_created', columns: ['scope_id', 'created_date'] },
    ],
  },
  {
    name: 'incident_assignees',
    columns: [col.key('incident_id'), col.key('assignee_id'), col.varchar('assignee_name'), ...commonColumns()],
    indexes: [rawParamsIndex('incident_assignees')],
  },
  {
    name: '_tool_webhook_incident_deployments',
    columns: [col.key('issue_id'), col.varchar('deployment_key'), col.varchar('cicd_deployment_id')],
    indexes: [{ name: 'idx_webhook_incident_deployments_deployment', columns: ['cicd_deployment_id'] }],
  },
];

export class IssuesAndIncidents1764300000002 implements MigrationInterface {
  name = 'IssuesAndIncidents1764300000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, ISSUE_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
