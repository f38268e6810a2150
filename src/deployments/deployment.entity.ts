import { Entity } from 'typeorm';
import { DateTime3, DevLakeCommonColumns, Double, LongText, Varchar, VarcharKey } from '../db/columns';

/** DevLake's `cicd_deployments` (docs/devlake-compatibility.md §5): one row per deployment. */
@Entity({ name: 'cicd_deployments' })
export class CicdDeployment extends DevLakeCommonColumns {
  /** `webhook:<cid>:<caller's id>`: ids never collide across connections (docs/devlake-compatibility.md §9). */
  @VarcharKey('id')
  id!: string;

  @Varchar('cicd_scope_id')
  cicdScopeId!: string;

  @LongText('name')
  name!: string | null;

  @LongText('display_title')
  displayTitle!: string | null;

  @LongText('url')
  url!: string | null;

  @Varchar('result', 100)
  result!: string | null;

  @Varchar('status', 100)
  status!: string | null;

  @Varchar('original_status', 100)
  originalStatus!: string | null;

  @Varchar('original_result', 100)
  originalResult!: string | null;

  @Varchar('environment')
  environment!: string | null;

  @Varchar('original_environment')
  originalEnvironment!: string | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('queued_date')
  queuedDate!: Date | null;

  @DateTime3('started_date')
  startedDate!: Date | null;

  @DateTime3('finished_date')
  finishedDate!: Date | null;

  @Double('duration_sec')
  durationSec!: number | null;

  @Double('queued_duration_sec')
  queuedDurationSec!: number | null;

  @Varchar('subtask_name')
  subtaskName!: string | null;
}

/** DevLake's `cicd_deployment_commits`: one row per (deployment, repo, commit). */
@Entity({ name: 'cicd_deployment_commits' })
export class CicdDeploymentCommit extends DevLakeCommonColumns {
  /** `webhook:<cid>:<deploymentId>:<md5hex(repoUrl)[0:16]>:<sha>` (docs/devlake-compatibility.md §5). */
  @VarcharKey('id')
  id!: string;

  @VarcharKey('commit_sha')
  commitSha!: string;

  @Varchar('cicd_scope_id')
  cicdScopeId!: string;

  @Varchar('cicd_deployment_id')
  cicdDeploymentId!: string;

  @Varchar('name')
  name!: string | null;

  @LongText('display_title')
  displayTitle!: string | null;

  @LongText('url')
  url!: string | null;

  @Varchar('result', 100)
  result!: string | null;

  @Varchar('status', 100)
  status!: string | null;

  @Varchar('original_status', 100)
  originalStatus!: string | null;

  @Varchar('original_result', 100)
  originalResult!: string | null;

  @Varchar('environment')
  environment!: string | null;

  @Varchar('original_environment')
  originalEnvironment!: string | null;

  @DateTime3('created_date', false)
  createdDate!: Date;

  @DateTime3('queued_date')
  queuedDate!: Date | null;

  @DateTime3('started_date')
  startedDate!: Date | null;

  @DateTime3('finished_date')
  finishedDate!: Date | null;

  @Double('duration_sec')
  durationSec!: number | null;

  @Double('queued_duration_sec')
  queuedDurationSec!: number | null;

  @LongText('commit_msg')
  commitMsg!: string | null;

  @Varchar('ref_name')
  refName!: string | null;

  @Varchar('repo_id')
  repoId!: string | null;

  @Varchar('repo_url', 500)
  repoUrl!: string | null;

  @Varchar('prev_success_deployment_commit_id')
  prevSuccessDeploymentCommitId!: string | null;

  @Varchar('subtask_name')
  subtaskName!: string | null;
}
