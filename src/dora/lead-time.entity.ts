import { Entity } from 'typeorm';
import { BigInt, DateTime3, DevLakeCommonColumns, LongText, VarcharKey } from '../db/columns';

/**
 * DevLake's `project_pr_metrics`: one row per merged pull request of a project, which DevLake's
 * DORA dashboard reads for lead time. DevLake fills it after a pipeline run, from the git graph;
 * we keep it current as pull requests and deployments arrive and as connections are linked,
 * with the attribution of docs/dora.md. Review and coding columns stay empty: the webhook
 * receives neither comments nor commits of a pull request.
 */
@Entity({ name: 'project_pr_metrics' })
export class ProjectPrMetric extends DevLakeCommonColumns {
  /** `pull_requests.id`. */
  @VarcharKey('id')
  id!: string;

  @VarcharKey('project_name', 100)
  projectName!: string;

  @LongText('first_commit_sha')
  firstCommitSha!: string | null;

  @BigInt('pr_coding_time')
  prCodingTime!: number | null;

  @LongText('first_review_id')
  firstReviewId!: string | null;

  @BigInt('pr_pickup_time')
  prPickupTime!: number | null;

  @BigInt('pr_review_time')
  prReviewTime!: number | null;

  /** `cicd_deployment_commits.id` of the row that shipped it. */
  @LongText('deployment_commit_id')
  deploymentCommitId!: string | null;

  @BigInt('pr_deploy_time')
  prDeployTime!: number | null;

  /** The lead time the dashboard reads, in minutes. */
  @BigInt('pr_cycle_time')
  prCycleTime!: number | null;

  @DateTime3('first_commit_authored_date')
  firstCommitAuthoredDate!: Date | null;

  @DateTime3('first_comment_date')
  firstCommentDate!: Date | null;

  @DateTime3('pr_created_date')
  prCreatedDate!: Date | null;

  @DateTime3('pr_merged_date')
  prMergedDate!: Date | null;

  @DateTime3('pr_deployed_date')
  prDeployedDate!: Date | null;
}

/**
 * Ours: a deployment and a pull request it shipped, as a sender named them: a pull request's
 * `deploymentId`, or a deployment's `pullRequestKeys`. Kept apart so DevLake's tables stay
 * DevLake's.
 */
@Entity({ name: '_tool_webhook_pull_request_deployments' })
export class PullRequestDeploymentLink {
  /** `webhook:<cid>:<pullRequestKey>`. */
  @VarcharKey('pull_request_id')
  pullRequestId!: string;

  /** `webhook:<cid>:<deployment id>`, the `cicd_deployments.id` it names. */
  @VarcharKey('cicd_deployment_id')
  cicdDeploymentId!: string;

  /** `pull_request` or `deployment`: the payload that named the other. */
  @VarcharKey('named_by', 20)
  namedBy!: 'pull_request' | 'deployment';
}
