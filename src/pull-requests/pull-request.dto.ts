import { BooleanField, DateField, EnumField, NumberField, StringField } from '../http/fields';

export const PULL_REQUEST_STATUSES = ['OPEN', 'CLOSED', 'MERGED'] as const;

/**
 * Body of `POST X/pull_requests` (docs/devlake-compatibility.md §7, DevLake v1.0.3). Sizes are those of DevLake's
 * `pull_requests` columns (as the migrations in src/migrations create them); `title` and `description` are long text.
 */
export class PullRequestDto {
  /**
   * Required by DevLake, but not the stored id: that is `webhook:<cid>:<pullRequestKey>`, so a
   * re-post with the same key updates the same row whatever `id` says.
   */
  @StringField({ required: true, max: 255 })
  id!: string;

  /** Stored as `title`, as DevLake does. */
  @StringField({ required: true, aliases: ['title'] })
  displayTitle!: string;

  @NumberField({ required: true, integer: true, truncate: true })
  pullRequestKey!: number;

  @DateField({ required: true })
  createdDate!: Date;

  @EnumField(PULL_REQUEST_STATUSES)
  status?: (typeof PULL_REQUEST_STATUSES)[number];

  @StringField({ max: 100 })
  originalStatus?: string;

  @StringField()
  description?: string;

  @StringField({ max: 255 })
  url?: string;

  @StringField({ max: 100 })
  authorName?: string;

  @StringField({ max: 100 })
  authorId?: string;

  @StringField({ max: 100 })
  mergedByName?: string;

  @StringField({ max: 100 })
  mergedById?: string;

  @StringField({ max: 100 })
  parentPrId?: string;

  @DateField()
  mergedDate?: Date;

  @DateField()
  closedDate?: Date;

  @StringField({ max: 100 })
  type?: string;

  @StringField({ max: 100 })
  component?: string;

  /** Lead time (docs/dora.md) matches it against deployment commits' `commit_sha`. */
  @StringField({ max: 40 })
  mergeCommitSha?: string;

  @StringField({ max: 255 })
  headRef?: string;

  @StringField({ max: 255 })
  baseRef?: string;

  @StringField({ max: 40 })
  baseCommitSha?: string;

  @StringField({ max: 40 })
  headCommitSha?: string;

  @StringField({ max: 191 })
  headRepoId?: string;

  @NumberField({ integer: true, truncate: true })
  additions?: number;

  @NumberField({ integer: true, truncate: true })
  deletions?: number;

  @BooleanField()
  isDraft?: boolean;

  /**
   * Ours: the deployment (the caller's id, in the same connection) that shipped this pull request.
   * Lead time then takes it (docs/dora.md). A re-post without it removes the link.
   */
  @StringField({ max: 255 })
  deploymentId?: string;
}
