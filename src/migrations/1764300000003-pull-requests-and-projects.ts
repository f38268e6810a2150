import type { MigrationInterface, QueryRunner } from 'typeorm';
import { col, commonColumns, createMissing, dropCreated, type TableSpec } from '../db/table-spec';

export const PROJECT_TABLES: TableSpec[] = [
  {
    name: 'pull_requests',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.varchar('base_repo_id', 191),
      col.varchar('head_repo_id', 191),
      col.varchar('status', 100),
      col.varchar('original_status', 100),
      col.longtext('title'),
      col.longtext('description'),
      col.varchar('url'),
      col.varchar('author_name', 100),
      col.varchar('author_id', 100),
      col.varchar('merged_by_name', 100),
      col.varchar('merged_by_id', 100),
      col.varchar('parent_pr_id', 100),
      col.bigint('pull_request_key'),
      col.datetime3('created_date'),
      col.datetime3('merged_date'),
      col.datetime3('closed_date'),
      col.varchar('type', 100),
      col.varchar('component', 100),
      col.varchar('merge_commit_sha', 40),
      col.varchar('head_ref'),
      col.varchar('base_ref'),
      col.varchar('base_commit_sha', 40),
      col.varchar('head_commit_sha', 40),
      col.bigint('additions'),
      col.bigint('deletions'),
      col.bool('is_draft'),
    ],
    indexes: [
      { name: 'idx_pull_requests__raw_data_params', columns: ['_raw_data_params'] },
      { name: 'idx_pull_requests_base_repo_id', columns: ['base_repo_id'] },
      { name: 'idx_pull_requests_head_repo_id', columns: ['head_repo_id'] },
      { name: 'idx_pull_requests_parent_pr_id', columns: ['parent_pr_id'] },
      // Ours: lead time joins a scope's merged PRs to deployment commits by merge commit.
      { name: 'idx_webhook_pr_merge_commit', columns: ['base_repo_id', 'merge_commit_sha'] },
    ],
  },
  {
    name: 'projects',
    columns: [col.key('name'), col.longtext('description'), ...commonColumns()],
  },
  {
    name: 'project_mapping',
    columns: [col.key('project_name'), col.key('table'), col.key('row_id'), ...commonColumns()],
    indexes: [{ name: 'idx_project_mapping__raw_data_params', columns: ['_raw_data_params'] }],
  },
  {
    name: 'cicd_scopes',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.longtext('name'),
      col.longtext('description'),
      col.varchar('url'),
      col.datetime3('created_date'),
      col.datetime3('updated_date'),
    ],
    indexes: [{ name: 'idx_cicd_scopes__raw_data_params', columns: ['_raw_data_params'] }],
  },
  {
    name: 'repos',
    columns: [
      col.key('id'),
      ...commonColumns(),
      col.longtext('name'),
      col.longtext('url'),
      col.longtext('description'),
      col.varchar('owner_id'),
      col.varchar('language'),
      col.longtext('forked_from'),
      col.datetime3('created_date'),
      col.datetime3('updated_date'),
      col.bool('deleted'),
    ],
    indexes: [{ name: 'idx_repos__raw_data_params', columns: ['_raw_data_params'] }],
  },
];

export class PullRequestsAndProjects1764300000003 implements MigrationInterface {
  name = 'PullRequestsAndProjects1764300000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, PROJECT_TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}
