import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, createMissing, dropCreated, type TableSpec } from '../db/table-spec';
import { DEPLOYMENT_SUMMARY_TABLE, rebuildDeploymentSummaries } from '../deployments/deployment-summary';

/**
 * One row per deployment that DORA counts (docs/dora.md "Definitions"), kept with the
 * deployment's rows: DORA over a window then reads one short index range instead of grouping
 * every commit row of the window. Short indexed columns: InnoDB keys stay far below 3072 bytes.
 * Also indexes to find a scope's incidents resolved in a window without reading the others, and
 * to count a scope's deployments with their latest update (the admin page's list).
 */
export const DEPLOYMENT_SUMMARY_TABLES: TableSpec[] = [
  {
    name: DEPLOYMENT_SUMMARY_TABLE,
    columns: [
      col.key('cicd_deployment_id'),
      col.varchar('cicd_scope_id'),
      col.datetime3('finished_date', { notNull: true }),
      col.datetime3('started_date', { notNull: true }),
      col.longtext('ref_low'),
      col.longtext('ref_high'),
    ],
    indexes: [
      {
        name: 'idx_webhook_deployment_summaries_scope_finished',
        columns: ['cicd_scope_id', 'finished_date', 'started_date'],
      },
    ],
  },
  {
    // The admin page's counts: a scope's deployments and its latest `updated_at` off one index.
    name: 'cicd_deployments',
    columns: [],
    indexes: [{ name: 'idx_webhook_deployments_scope_updated', columns: ['cicd_scope_id', 'updated_at'] }],
  },
  {
    name: 'incidents',
    columns: [],
    indexes: [{ name: 'idx_webhook_incidents_scope_resolved', columns: ['scope_id', 'resolution_date'] }],
  },
];

export class DeploymentSummaries1764380000001 implements MigrationInterface {
  name = 'DeploymentSummaries1764380000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, DEPLOYMENT_SUMMARY_TABLES);
    // Deployments stored before this migration (by the plugin or by DevLake) get their rows now.
    await rebuildDeploymentSummaries(queryRunner.manager);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
