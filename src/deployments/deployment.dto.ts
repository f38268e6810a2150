import { DateField, EnumField, IntegerListField, NestedArrayField, StringField } from '../http/fields';

/** DevLake's environments (docs/devlake-compatibility.md §5); matched in any case, stored upper-case. */
export const ENVIRONMENTS = ['PRODUCTION', 'STAGING', 'TESTING', 'DEVELOPMENT'] as const;

/**
 * Sizes of DevLake's columns in characters (as src/migrations creates them, from DevLake's gorm
 * models): `varchar(255)` for ids, a commit's `name` and `ref_name`, `varchar(100)` for result
 * and status, `varchar(500)` for `repo_url`. Long text columns (the deployment's name, titles,
 * urls, messages) have no limit here.
 */
const VARCHAR = 255;
const STATUS = 100;
const REPO_URL = 500;

/** The most pull requests one deployment may name. */
export const MAX_PULL_REQUEST_KEYS = 1000;

/** One commit of a deployment: an item of `deploymentCommits[]` (docs/devlake-compatibility.md §5, v1.0 form). */
export class DeploymentCommitDto {
  @StringField({ required: true, max: REPO_URL })
  repoUrl!: string;

  @StringField({ required: true, max: VARCHAR })
  commitSha!: string;

  @StringField({ max: VARCHAR })
  refName?: string;

  @StringField()
  commitMsg?: string;

  @StringField({ max: VARCHAR })
  repoId?: string;

  @StringField()
  displayTitle?: string;

  @StringField({ max: VARCHAR })
  name?: string;

  /** Any word: never rejected, mapped like the deployment's (docs/devlake-compatibility.md §5). */
  @StringField({ max: STATUS })
  result?: string;

  @StringField({ max: STATUS })
  status?: string;

  @StringField()
  url?: string;

  @DateField({ aliases: ['create_time'] })
  createdDate?: Date;

  @DateField({ aliases: ['start_time'] })
  startedDate?: Date;

  @DateField({ aliases: ['end_time'] })
  finishedDate?: Date;
}

/**
 * A deployment in either payload form (docs/devlake-compatibility.md §5): DevLake v1.0's `deploymentCommits[]`, or
 * DevLake v0.14's single commit at the top level (`commit_sha`, `repo_url`, ...). Keys match in any
 * case and in snake_case; DevLake v0.14's names are aliases. Which commits a deployment has is
 * decided by the service (`commitsOf`), since it spans two fields.
 */
export class DeploymentDto {
  /** The caller's deployment id; absent in the one-commit form, then derived (see `deployment-ids.ts`). */
  @StringField({ max: VARCHAR, aliases: ['pipeline_id'] })
  id?: string;

  @StringField()
  displayTitle?: string;

  @StringField()
  name?: string;

  @StringField({ max: STATUS })
  result?: string;

  @EnumField(ENVIRONMENTS)
  environment?: string;

  @StringField({ max: VARCHAR })
  originalEnvironment?: string;

  @StringField()
  url?: string;

  @DateField({ aliases: ['create_time'] })
  createdDate?: Date;

  @DateField({ aliases: ['start_time'] })
  startedDate?: Date;

  @DateField({ aliases: ['end_time'] })
  finishedDate?: Date;

  /**
   * No count limit, as in DevLake: the body size limit is the limit. A single object is read as
   * a list of one, as DevLake's decoder does.
   */
  @NestedArrayField(() => DeploymentCommitDto)
  deploymentCommits?: DeploymentCommitDto[];

  /**
   * Ours: the pull requests (their `pullRequestKey`, in the same connection) this deployment
   * shipped. Lead time then takes this deployment for them (docs/dora.md). A re-post replaces
   * the list; an absent list removes it.
   */
  @IntegerListField({ max: MAX_PULL_REQUEST_KEYS })
  pullRequestKeys?: number[];

  // DevLake's v0.14-v0.21 form: one commit, at the top level.
  @StringField({ max: VARCHAR })
  commitSha?: string;

  @StringField({ max: REPO_URL })
  repoUrl?: string;

  @StringField({ max: VARCHAR })
  refName?: string;

  @StringField()
  commitMsg?: string;

  @StringField({ max: VARCHAR })
  repoId?: string;
}
