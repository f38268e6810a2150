import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createMissing, dropCreated, type TableSpec } from '../db/table-spec';

/**
 * DevLake's chain of successful deployments is per repo: the background refresh reads a chain's
 * rows around the finishes a write touched (the row before, the rows at, the first after). By
 * repo then finish, each of those reads is one short index range; the scope's own index would
 * walk the other repos' rows in between.
 */
export const DEPLOYMENT_CHAIN_INDEX: TableSpec[] = [
  {
    name: 'cicd_deployment_commits',
    columns: [],
    indexes: [{ name: 'idx_webhook_cdc_repo_finished', columns: ['repo_url', 'finished_date'] }],
  },
];

export class DeploymentChainIndex1764410000001 implements MigrationInterface {
  name = 'DeploymentChainIndex1764410000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, DEPLOYMENT_CHAIN_INDEX);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
