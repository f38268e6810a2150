import type { DataSource, EntityManager } from 'typeorm';
import { existingIds, tableRows, upsertRowExisted, upsertRows } from '../db/upsert';
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
import { writeDeploymentSummaries } from './deployment-summary';
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

/** One deployment ready to be written: its rows and the pull requests it names. */
export interface DeploymentWrite {
  rows: DeploymentRows;
  pullRequestKeys: number[];
}

/** A deployment's rows for a dry run's answer, by DevLake table. */
export function deploymentTables(dataSource: DataSource, write: DeploymentWrite): Record<string, unknown[]> {
  return {
    ...tableRows(dataSource, CicdDeployment, [write.rows.deployment]),
    ...tableRows(dataSource, CicdDeploymentCommit, write.rows.commits),
    ...tableRows(dataSource, PullRequestDeploymentLink, linksOf(write)),
  };
}

function linksOf(write: DeploymentWrite): Partial<PullRequestDeploymentLink>[] {
  const scopeId = write.rows.deployment.cicdScopeId as string;
  return [...new Set(write.pullRequestKeys)].map((key) => ({
    pullRequestId: `${scopeId}:${key}`,
    cicdDeploymentId: write.rows.deployment.id as string,
    namedBy: 'deployment' as const,
  }));
}

/** Ids per DELETE of stale rows: a deployment's commit ids are listed too, so keep it well under the limits. */
const IDS_PER_DELETE = 2_000;

/** Writes deployments into DevLake's deployment tables (docs/devlake-compatibility.md §5). */
export class DeploymentService {
  private readonly prMetrics: ProjectPrMetricsService;

  constructor(readonly dataSource: DataSource) {
    this.prMetrics = new ProjectPrMetricsService(dataSource);
  }

  /** Validates nothing more than `record` does, and writes nothing: the answer and the rows of a dry run. */
  plan(
    connectionId: number,
    dto: DeploymentDto,
    receivedAt = new Date(),
    raw?: RawDataRef,
  ): { recorded: RecordedDeployment; write: DeploymentWrite } {
    const write = {
      rows: buildDeploymentRows(connectionId, dto, receivedAt, raw),
      pullRequestKeys: dto.pullRequestKeys ?? [],
    };
    return { recorded: recordedOf(write), write };
  }

  /**
   * Stores one deployment and replaces its commit set, in one transaction: a re-post updates
   * the rows in place (`created_at` kept, `updated_at` moved) and removes the commits it no
   * longer lists. This is the hot path: a deployment seen for the first time is BEGIN, its row,
   * its commit rows (one statement for up to 500), COMMIT; a re-post adds the removal of
   * commits and pull request links it no longer lists. `raw` names the delivery that wrote the
   * rows (DevLake's `_raw_data_table` / `_raw_data_id`).
   */
  async record(
    connectionId: number,
    dto: DeploymentDto,
    receivedAt = new Date(),
    raw?: RawDataRef,
  ): Promise<RecordedDeployment> {
    const { recorded, write } = this.plan(connectionId, dto, receivedAt, raw);
    await withTransaction(this.dataSource, async (manager) => {
      const existed = await upsertRowExisted(manager, CicdDeployment, write.rows.deployment);
      await this.writeDependants(manager, [write], existed ? new Set([recorded.deploymentId]) : new Set());
    });
    await this.afterWrite(connectionId, [write]);
    return recorded;
  }

  /**
   * Stores many deployments of one connection in one transaction with multi-row statements
   * (the batch route and the import command). The same rows as `record` for each; a deployment
   * listed twice must not be in the same call (the caller splits there).
   */
  async recordMany(connectionId: number, writes: DeploymentWrite[]): Promise<RecordedDeployment[]> {
    if (writes.length === 0) return [];
    await withTransaction(this.dataSource, async (manager) => {
      const ids = writes.map((write) => write.rows.deployment.id as string);
      const existing = await existingIds(manager, CicdDeployment, ids);
      await upsertRows(
        manager,
        CicdDeployment,
        writes.map((write) => write.rows.deployment),
      );
      await this.writeDependants(manager, writes, existing);
    });
    await this.afterWrite(connectionId, writes);
    return writes.map(recordedOf);
  }

  /** Commits and pull request links; for deployments that existed, the ones no longer listed go. */
  private async writeDependants(
    manager: EntityManager,
    writes: DeploymentWrite[],
    existing: Set<string>,
  ): Promise<void> {
    const updated = writes.filter((write) => existing.has(write.rows.deployment.id as string));
    for (const group of groupsOf(updated, (write) => 1 + write.rows.commits.length, IDS_PER_DELETE)) {
      const deploymentIds = group.map((write) => write.rows.deployment.id as string);
      const commitIds = group.flatMap((write) => write.rows.commits.map((row) => row.id as string));
      // A commit row's id starts with its deployment's, so one NOT IN over the group's commits
      // is each deployment's own list.
      await manager.query(
        dialectOf(manager).sql(
          `DELETE FROM cicd_deployment_commits WHERE cicd_deployment_id IN (${placeholders(deploymentIds)}) AND id NOT IN (${placeholders(commitIds)})`,
        ),
        [...deploymentIds, ...commitIds],
      );
      // The pull requests it names (docs/dora.md): the payload is the whole list, so it replaces it.
      await manager.query(
        dialectOf(manager).sql(
          `DELETE FROM _tool_webhook_pull_request_deployments WHERE cicd_deployment_id IN (${placeholders(deploymentIds)}) AND named_by = 'deployment'`,
        ),
        deploymentIds,
      );
    }
    await upsertRows(
      manager,
      CicdDeploymentCommit,
      writes.flatMap((write) => write.rows.commits),
    );
    const links = writes.flatMap(linksOf);
    if (links.length > 0) await upsertRows(manager, PullRequestDeploymentLink, links, []);
    // DORA's per-deployment summary, in the same transaction as the rows it is computed from:
    // after this write, each deployment's commit rows are exactly the ones listed.
    await writeDeploymentSummaries(
      manager,
      writes.map((write) => write.rows.deployment.id as string),
      writes.flatMap((write) => write.rows.commits),
      existing,
    );
  }

  /** DevLake's project_pr_metrics, when the connection is in a project: from the earliest start. */
  private async afterWrite(connectionId: number, writes: DeploymentWrite[]): Promise<void> {
    const starts = writes.flatMap((write) =>
      write.rows.commits.map((row) => ((row.startedDate ?? row.finishedDate) as Date).getTime()),
    );
    await this.prMetrics.afterDeployment(
      scopeIdOf(connectionId),
      writes.map((write) => write.rows.deployment.id as string),
      new Date(Math.min(...starts)),
    );
  }
}

function recordedOf(write: DeploymentWrite): RecordedDeployment {
  return {
    deploymentId: write.rows.deployment.id as string,
    id: write.rows.id,
    commitIds: write.rows.commits.map((row) => row.id as string),
  };
}

function placeholders(values: unknown[]): string {
  return values.map(() => '?').join(', ');
}

/** Splits items into consecutive groups whose summed weight stays under `limit` (a heavier item is alone). */
function groupsOf<T>(items: T[], weight: (item: T) => number, limit: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const w = weight(item);
    if (current.length > 0 && total + w > limit) {
      groups.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += w;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
