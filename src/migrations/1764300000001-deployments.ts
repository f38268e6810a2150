import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, commonColumns, createMissing, dropCreated, type ColumnSpec, type TableSpec } from '../db/table-spec';

/** Columns shared by `cicd_deployments` and `cicd_deployment_commits`, in DevLake's order. */
const deploymentColumns = (): ColumnSpec[] => [
  col.varchar('result', 100),
  col.varchar('status', 100),
  col.varchar('original_status', 100),
  col.varchar('original_result', 100),
  col.varchar('environment'),
  col.varchar('original_environment'),
  col.datetime3('created_date'),
  col.datetime3('queued_date'),
  col.datetime3('started_date'),
  col.datetime3('finished_date'),
  col.double('duration_sec'),
  col.double('queued_duration_sec'),
];

export const DEPLOYMENT_TABLES: TableSpec[] = [
  {
    name: 'cicd_deployments',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('cicd_scope_id'),
      col.longtext('name'),
      col.longtext('display_title'),
      col.longtext('url'),
      ...deploymentColumns(),
      col.varchar('subtask_name'),
    ],
    indexes: [
      { name: 'idx_cicd_deployments__raw_data_params', columns: ['_raw_data_params'] },
      { name: 'idx_cicd_deployments_cicd_scope_id', columns: ['cicd_scope_id'] },
    ],
  },
  {
    name: 'cicd_deployment_commits',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('cicd_scope_id'),
      col.varchar('cicd_deployment_id'),
      col.longtext('name'),
      col.longtext('display_title'),
      col.longtext('url'),
      ...deploymentColumns(),
      { ...col.key('commit_sha') },
      col.longtext('commit_msg'),
      col.longtext('ref_name'),
      col.varchar('repo_id'),
      col.varchar('repo_url', 500, { notNull: true }),
      col.varchar('prev_success_deployment_commit_id'),
      col.longtext('subtask_name'),
    ],
    indexes: [
      { name: 'idx_cicd_deployment_commits__raw_data_params', columns: ['_raw_data_params'] },
      { name: 'idx_cicd_deployment_commits_cicd_scope_id', columns: ['cicd_scope_id'] },
      { name: 'idx_cicd_deployment_commits_repo_url', columns: ['repo_url'] },
      // Ours: replacing a deployment's commit set, and the DORA scans (docs/dora.md).
      { name: 'idx_webhook_cdc_deployment', columns: ['cicd_deployment_id'] },
      { name: 'idx_webhook_cdc_dora', columns: ['cicd_scope_id', 'environment', 'result', 'finished_date'] },
      { name: 'idx_webhook_cdc_commit_sha', columns: ['commit_sha'] },
      // Ours: DORA groups a scope's rows by deployment; in this order MariaDB groups
      // straight off the index instead of sorting a temporary table on disk.
      {
        name: 'idx_webhook_cdc_scope_deployment',
        columns: ['cicd_scope_id', 'cicd_deployment_id', 'finished_date'],
      },
    ],
  },
];

export class Deployments1764300000001 implements MigrationInterface {
  name = 'Deployments1764300000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, DEPLOYMENT_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
