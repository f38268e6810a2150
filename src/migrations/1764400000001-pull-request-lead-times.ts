import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEPLOYMENT_SUMMARY_TABLE } from '../deployments/deployment-summary';
import { col, createMissing, dropCreated, type TableSpec } from '../db/table-spec';
import { LEAD_TIME_TABLE, rebuildLeadTimes } from '../dora/lead-time.store';

/**
 * The lead time of each merged pull request, kept as data arrives (`lead-time.store.ts`), so
 * that DORA over a window counts and takes the median off an index range. The first index
 * covers what a window's lead time reads (counts by rule, the median by offset); the second
 * its coverage (merged in the window, deployed or not); the third finds the rows a deployment's
 * change may move. Also an index for the incidents' deployments by time (ties: greatest id), and
 * covering indexes for the incidents of a window.
 */
export const LEAD_TIME_TABLES: TableSpec[] = [
  {
    name: LEAD_TIME_TABLE,
    columns: [
      col.key('pull_request_id'),
      col.varchar('repo_id', 255, { notNull: true }),
      col.datetime3('created_date', { notNull: true }),
      col.datetime3('merged_date', { notNull: true }),
      col.varchar('cicd_deployment_id'),
      col.datetime3('deployed_date'),
      col.varchar('attributed_by', 16),
      col.bigint('lead_time_minutes'),
    ],
    indexes: [
      {
        name: 'idx_webhook_lead_times_repo_deployed',
        columns: ['repo_id', 'deployed_date', 'lead_time_minutes', 'attributed_by'],
      },
      { name: 'idx_webhook_lead_times_repo_merged', columns: ['repo_id', 'merged_date', 'deployed_date'] },
      { name: 'idx_webhook_lead_times_deployment', columns: ['cicd_deployment_id'] },
    ],
  },
  {
    // An incident's deployment by DevLake's time rule: the latest counted one strictly before it,
    // and for equal times the greatest id, read off this index by time.
    name: DEPLOYMENT_SUMMARY_TABLE,
    columns: [],
    indexes: [
      {
        name: 'idx_webhook_deployment_summaries_scope_finished_id',
        columns: ['cicd_scope_id', 'finished_date', 'cicd_deployment_id'],
      },
    ],
  },
  {
    // The incidents DORA reads for a window, found and read off the index alone: by creation,
    // and by resolution. Reading their rows cost a random read each once the table outgrew memory.
    name: 'incidents',
    columns: [],
    indexes: [
      {
        name: 'idx_webhook_incidents_scope_created_facts',
        columns: ['scope_id', 'created_date', 'resolution_date', 'lead_time_minutes'],
      },
      {
        name: 'idx_webhook_incidents_scope_resolved_facts',
        columns: ['scope_id', 'resolution_date', 'created_date', 'lead_time_minutes'],
      },
    ],
  },
];

export class PullRequestLeadTimes1764400000001 implements MigrationInterface {
  name = 'PullRequestLeadTimes1764400000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, LEAD_TIME_TABLES);
    // Pull requests stored before this migration get their rows now.
    await rebuildLeadTimes(queryRunner.manager);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
