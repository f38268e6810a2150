import type { DataSource } from 'typeorm';
import { upsertRows } from '../db/upsert';
import { dialectOf } from '../db/dialect';
import { withTransaction } from '../db/transaction';
import type { RawDataRef } from '../events/event-log.service';
import { InputError, type FieldCause } from '../http/errors';
import { summarizeCauses } from '../http/validate-body';
import { scopeIdOf } from '../projects/project.service';
import {
  charCount,
  commitRowId,
  deploymentRowId,
  deriveDeploymentId,
  ID_MAX_CHARS,
  normalizeResult,
} from './deployment-ids';
import { PullRequestDeploymentLink } from '../dora/lead-time.entity';
import { ProjectPrMetricsService } from '../dora/project-pr-metrics.service';
import type { DeploymentCommitDto, DeploymentDto } from './deployment.dto';
import { refreshDeploymentSummaries } from './deployment-summary';
import { CicdDeployment, CicdDeploymentCommit } from './deployment.entity';

/** What a POST stored, for the answer's `data`: a CI log shows what was written. */
export interface RecordedDeployment {
  /** `cicd_deployments.id`. */
  deploymentId: string;
  /** The caller's id, or the derived one when none was sent. */
  id: string;
  /** `cicd_deployment_commits.id` of each commit, in the order sent. */
  commitIds: string[];
}

/** The rows one POST writes, built without touching the database (so they are unit-testable). */
export interface DeploymentRows {
  id: string;
  deployment: Partial<CicdDeployment>;
  commits: Partial<CicdDeploymentCommit>[];
}

const DEFAULT_ENVIRONMENT = 'PRODUCTION';
const DEFAULT_RESULT = 'SUCCESS';
const DONE = 'DONE';

/** Rows per INSERT: far below SQLite's 32 766 and MySQL's 65 535 placeholders at ~31 columns. */
const ROWS_PER_STATEMENT = 250;

interface SentCommit {
  /** Where the commit's fields are in the body, for `causes` (`deploymentCommits[1]`, or top level). */
  path: string;
  commit: DeploymentCommitDto;
}

function fieldPath(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

/**
 * The commits of a deployment: `deploymentCommits[]` when it lists any (v1.0), else the
 * single commit at the top level. A body with both uses `deploymentCommits` and ignores the
 * top-level commit fields, as DevLake v1.0 does.
 */
function commitsOf(dto: DeploymentDto): SentCommit[] {
  if (dto.deploymentCommits && dto.deploymentCommits.length > 0) {
    return dto.deploymentCommits.map((commit, index) => ({ path: `deploymentCommits[${index}]`, commit }));
  }
  if (dto.commitSha !== undefined && dto.repoUrl !== undefined) {
    const { commitSha, repoUrl, refName, commitMsg, repoId } = dto;
    return [{ path: '', commit: { commitSha, repoUrl, refName, commitMsg, repoId } }];
  }
  // One cause per missing field, each saying what to send; the other form is offered once.
  const causes: FieldCause[] = [];
  if (dto.commitSha === undefined) {
    causes.push({
      field: 'commitSha',
      message:
        'commitSha is required: the sha of the commit deployed (to send several commits or repos, list them in deploymentCommits instead)',
    });
  }
  if (dto.repoUrl === undefined) {
    causes.push({ field: 'repoUrl', message: 'repoUrl is required: the URL of the repository of commitSha' });
  }
  throw new InputError(summarizeCauses(causes), causes);
}

/** Whole seconds, truncated as DevLake does; NULL when the start is unknown (docs/devlake-compatibility.md §5). */
function durationSec(started: Date | null, finished: Date): number | null {
  return started ? Math.trunc((finished.getTime() - started.getTime()) / 1000) : null;
}

/**
 * Builds the rows of one deployment POST (docs/devlake-compatibility.md §5), or throws an InputError naming every
 * field that cannot be stored truthfully.
 *
 * Defaults: `finishedDate` is the time the request arrived (DevLake's rule); when the sender's
 * clock runs ahead so that an unsent finish would precede the sent start, the finish is the
 * start (duration 0) rather than a rejection, since the sender did nothing wrong.
 * `createdDate` is `startedDate`, else `finishedDate`. `originalEnvironment` defaults to the
 * normalised environment, as DevLake stores it. Commits inherit the deployment's result, dates,
 * url and display title unless they carry their own (docs/devlake-compatibility.md §9: DevLake defaults commit
 * rows to SUCCESS even when the deployment failed).
 */
export function buildDeploymentRows(
  connectionId: number,
  dto: DeploymentDto,
  receivedAt: Date,
  raw?: RawDataRef,
): DeploymentRows {
  const sent = commitsOf(dto);
  const causes: FieldCause[] = [];

  const environment = dto.environment ?? DEFAULT_ENVIRONMENT;
  const startedDate = dto.startedDate ?? null;
  let finishedDate = dto.finishedDate ?? receivedAt;
  if (startedDate && finishedDate < startedDate) {
    if (dto.finishedDate) causes.push({ field: 'finishedDate', message: 'finishedDate is before startedDate' });
    else finishedDate = startedDate;
  }
  const createdDate = dto.createdDate ?? startedDate ?? finishedDate;
  const originalResult = dto.result ?? DEFAULT_RESULT;
  const result = normalizeResult(originalResult);
  const url = dto.url ?? '';
  const displayTitle = dto.displayTitle ?? '';

  // The same repo and commit listed twice is one row (its primary key); the last one wins.
  const unique = new Map<string, SentCommit>();
  for (const item of sent) unique.set(JSON.stringify([item.commit.repoUrl, item.commit.commitSha]), item);
  const commits = [...unique.values()];

  const id =
    dto.id ??
    deriveDeploymentId(
      environment,
      startedDate ?? undefined,
      commits.map(({ commit }) => commit),
    );
  const rowId = deploymentRowId(connectionId, id);
  if (charCount(rowId) > ID_MAX_CHARS) {
    causes.push({
      field: 'id',
      message: `id is too long: the stored id ${JSON.stringify(`webhook:${connectionId}:`)} + id exceeds ${ID_MAX_CHARS} characters`,
    });
  }

  const now = new Date();
  const scopeId = scopeIdOf(connectionId);
  const common = { createdAt: now, updatedAt: now, queuedDate: null, queuedDurationSec: null, ...raw };
  const commitRows: Partial<CicdDeploymentCommit>[] = [];
  for (const { path, commit } of commits) {
    const commitId = commitRowId(connectionId, id, commit.repoUrl, commit.commitSha);
    if (charCount(commitId) > ID_MAX_CHARS && charCount(rowId) <= ID_MAX_CHARS) {
      causes.push({
        field: fieldPath(path, 'commitSha'),
        message: `commitSha is too long for this deployment: the commit's stored id (webhook:<cid>:<id>:<16 hex>:<commitSha>) exceeds ${ID_MAX_CHARS} characters; send a shorter id or commitSha`,
      });
    }
    const started = commit.startedDate ?? startedDate;
    const finished = commit.finishedDate ?? finishedDate;
    if (path && started && finished < started) {
      const field = commit.finishedDate ? 'finishedDate' : 'startedDate';
      causes.push({
        field: fieldPath(path, field),
        message: commit.finishedDate
          ? 'finishedDate is before startedDate'
          : "startedDate is after the deployment's finishedDate",
      });
    }
    const commitOriginalResult = commit.result ?? originalResult;
    const commitStatus = commit.status ?? DONE;
    commitRows.push({
      ...common,
      id: commitId,
      commitSha: commit.commitSha,
      cicdScopeId: scopeId,
      cicdDeploymentId: rowId,
      name: commit.name ?? `deployment for ${commit.commitSha}`,
      displayTitle: commit.displayTitle ?? displayTitle,
      url: commit.url ?? url,
      result: normalizeResult(commitOriginalResult),
      originalResult: commitOriginalResult,
      status: commitStatus.trim().toUpperCase(),
      originalStatus: commitStatus,
      environment,
      originalEnvironment: dto.originalEnvironment ?? environment,
      createdDate: commit.createdDate ?? createdDate,
      startedDate: started,
      finishedDate: finished,
      durationSec: durationSec(started, finished),
      commitMsg: commit.commitMsg ?? '',
      refName: commit.refName ?? '',
      repoId: commit.repoId ?? '',
      repoUrl: commit.repoUrl,
      prevSuccessDeploymentCommitId: '',
      subtaskName: '',
    });
  }
  if (causes.length > 0) throw new InputError(summarizeCauses(causes), causes);

  const deployment: Partial<CicdDeployment> = {
    ...common,
    id: rowId,
    cicdScopeId: scopeId,
    name: dto.name ?? `deploy ${commits.map(({ commit }) => commit.commitSha).join(',')} to ${environment}`,
    displayTitle,
    url,
    result,
    originalResult,
    status: DONE,
    originalStatus: DONE,
    environment,
    originalEnvironment: dto.originalEnvironment ?? environment,
    createdDate,
    startedDate,
    finishedDate,
    durationSec: durationSec(startedDate, finishedDate),
    subtaskName: '',
  };
  return { id, deployment, commits: commitRows };
}

/** Writes deployments into DevLake's deployment tables (docs/devlake-compatibility.md §5). */
export class DeploymentService {
  private readonly prMetrics: ProjectPrMetricsService;

  constructor(readonly dataSource: DataSource) {
    this.prMetrics = new ProjectPrMetricsService(dataSource);
  }

  /**
   * Stores one deployment and replaces its commit set, in one transaction: a re-post updates
   * the rows in place (`created_at` kept, `updated_at` moved) and removes the commits it no
   * longer lists. Three statements for up to 250 commits: this is the hot path. `raw` names the
   * delivery that wrote the rows (DevLake's `_raw_data_table` / `_raw_data_id`).
   */
  async record(
    connectionId: number,
    dto: DeploymentDto,
    receivedAt = new Date(),
    raw?: RawDataRef,
  ): Promise<RecordedDeployment> {
    const rows = buildDeploymentRows(connectionId, dto, receivedAt, raw);
    const deploymentId = rows.deployment.id as string;
    const commitIds = rows.commits.map((row) => row.id as string);
    await withTransaction(this.dataSource, async (manager) => {
      await upsertRows(manager, CicdDeployment, [rows.deployment]);
      // Plain SQL: this runs on every POST, and the query builder's parsing cost more CPU than
      // the statement itself.
      await manager.query(
        dialectOf(manager).sql(
          `DELETE FROM cicd_deployment_commits WHERE cicd_deployment_id = ? AND id NOT IN (${commitIds.map(() => '?').join(', ')})`,
        ),
        [deploymentId, ...commitIds],
      );
      for (let start = 0; start < rows.commits.length; start += ROWS_PER_STATEMENT) {
        await upsertRows(manager, CicdDeploymentCommit, rows.commits.slice(start, start + ROWS_PER_STATEMENT));
      }
      // DORA's per-deployment summary, in the same transaction as the rows it is computed from.
      await refreshDeploymentSummaries(manager, [deploymentId]);
      // The pull requests it names (docs/dora.md): the payload is the whole list, so it replaces it.
      await manager.query(
        dialectOf(manager).sql(
          `DELETE FROM _tool_webhook_pull_request_deployments WHERE cicd_deployment_id = ? AND named_by = 'deployment'`,
        ),
        [deploymentId],
      );
      const keys = [...new Set(dto.pullRequestKeys ?? [])];
      if (keys.length > 0) {
        await upsertRows(
          manager,
          PullRequestDeploymentLink,
          keys.map((key) => ({
            pullRequestId: `${scopeIdOf(connectionId)}:${key}`,
            cicdDeploymentId: deploymentId,
            namedBy: 'deployment' as const,
          })),
          [],
        );
      }
    });
    // DevLake's project_pr_metrics, when the connection is in a project: from the deployment's start.
    const starts = rows.commits.map((row) => (row.startedDate ?? row.finishedDate) as Date);
    const since = new Date(Math.min(...starts.map((d) => d.getTime())));
    await this.prMetrics.afterDeployment(scopeIdOf(connectionId), deploymentId, since);
    return { deploymentId, id: rows.id, commitIds };
  }
}
