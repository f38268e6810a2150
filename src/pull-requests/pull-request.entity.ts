import { Column, Entity } from 'typeorm';
import { BigInt, DateTime3, DevLakeCommonColumns, LongText, Varchar, VarcharKey } from '../db/columns';

/** DevLake's `pull_requests` (docs/devlake-compatibility.md §7); `id = webhook:<cid>:<pullRequestKey>`. */
@Entity({ name: 'pull_requests' })
export class PullRequest extends DevLakeCommonColumns {
  @VarcharKey('id')
  id!: string;

  @Varchar('base_repo_id', 191)
  baseRepoId!: string | null;

  @Varchar('head_repo_id', 191)
  headRepoId!: string | null;

  @Varchar('status', 100)
  status!: string | null;

  @Varchar('original_status', 100)
  originalStatus!: string | null;

  @LongText('title')
  title!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('url')
  url!: string | null;

  @Varchar('author_name', 100)
  authorName!: string | null;

  @Varchar('author_id', 100)
  authorId!: string | null;

  @Varchar('merged_by_name', 100)
  mergedByName!: string | null;

  @Varchar('merged_by_id', 100)
  mergedById!: string | null;

  @Varchar('parent_pr_id', 100)
  parentPrId!: string | null;

  @BigInt('pull_request_key')
  pullRequestKey!: number | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('merged_date')
  mergedDate!: Date | null;

  @DateTime3('closed_date')
  closedDate!: Date | null;

  @Varchar('type', 100)
  type!: string | null;

  @Varchar('component', 100)
  component!: string | null;

  @Varchar('merge_commit_sha', 40)
  mergeCommitSha!: string | null;

  @Varchar('head_ref')
  headRef!: string | null;

  @Varchar('base_ref')
  baseRef!: string | null;

  @Varchar('base_commit_sha', 40)
  baseCommitSha!: string | null;

  @Varchar('head_commit_sha', 40)
  headCommitSha!: string | null;

  @BigInt('additions')
  additions!: number | null;

  @BigInt('deletions')
  deletions!: number | null;

  @Column({ name: 'is_draft', type: 'boolean', nullable: true })
  isDraft!: boolean | null;
}
