import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, commonColumns, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

/**
 * Lead time attribution (docs/dora.md): DevLake's `project_pr_metrics`, which its DORA dashboard
 * reads for lead time and which we keep current; our table of explicit pull request ↔ deployment
 * links; and an index to read a repository's pull requests by merge time.
 */
export const LEAD_TIME_TABLES: TableSpec[] = [
  {
    name: 'project_pr_metrics',
    columns: [
      col.key('id'),
      col.key('project_name', 100),
      ...commonColumns(),
      col.longtext('first_commit_sha'),
      col.bigint('pr_coding_time'),
      col.longtext('first_review_id'),
      col.bigint('pr_pickup_time'),
      col.bigint('pr_review_time'),
      col.longtext('deployment_commit_id'),
      col.bigint('pr_deploy_time'),
      col.bigint('pr_cycle_time'),
      col.datetime3('first_commit_authored_date'),
      col.datetime3('first_comment_date'),
      col.datetime3('pr_created_date'),
      col.datetime3('pr_merged_date'),
      col.datetime3('pr_deployed_date'),
    ],
    indexes: [{ name: 'idx_project_pr_metrics__raw_data_params', columns: ['_raw_data_params'] }],
  },
  {
    name: '_tool_webhook_pull_request_deployments',
    columns: [
      col.key('pull_request_id'),
      col.key('cicd_deployment_id'),
      // 'pull_request' or 'deployment': which payload named the other, so each re-post replaces its own.
      col.key('named_by', 20),
    ],
    indexes: [{ name: 'idx_webhook_pr_deployments_deployment', columns: ['cicd_deployment_id'] }],
  },
  {
    name: 'pull_requests',
    columns: [],
    indexes: [{ name: 'idx_webhook_pr_repo_merged', columns: ['base_repo_id', 'merged_date'] }],
  },
];

export class LeadTimeAttribution1764340000001 implements MigrationInterface {
  name = 'LeadTimeAttribution1764340000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, LEAD_TIME_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
