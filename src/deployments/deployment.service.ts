import type { DataSource, EntityManager } from 'typeorm';
import { NO_RAW_DATA } from '../db/columns';
import { existingIds, tableRows, upsertRowExisted, upsertRows } from '../db/upsert';
import { dialectOf } from '../db/dialect';
import {
  doraTablesRefresherOf,
  storedChainTouch,
  type ChainTouch,
  type DoraTablesRefresher,
} from '../dora/devlake-dora-tables';
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
import type { DeploymentCommitDto, DeploymentDto } from './deployment.dto';
import { CicdDeployment, CicdDeploymentCommit } from './deployment.entity';

/** What a POST stored, for the answer's `data`: a CI log shows what was written. */
export interface RecordedDeployment {
  /** `cicd_deployments.id`. */
  deploymentId: string;
  /** The caller's id, or the derived one when none was sent. */
  id: string;
  /** `cicd_deployment_commits.id` of each commit, in the order sent. */
  commitIds: string[];
  /** What was stored although it looks wrong (a finish before the start); absent when nothing. */
  warnings?: FieldCause[];
}

/** The rows one POST writes, built without touching the database (so they are unit-testable). */
export interface DeploymentRows {
  id: string;
  warnings: FieldCause[];
  deployment: Partial<CicdDeployment>;
  commits: Partial<CicdDeploymentCommit>[];
}

const DEFAULT_ENVIRONMENT = 'PRODUCTION';
const DEFAULT_RESULT = 'SUCCESS';
const DONE = 'DONE';

export interface SentCommit {
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
export function commitsOf(dto: DeploymentDto): SentCommit[] {
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

/**
 * Whole seconds, truncated toward zero as DevLake does (negative when the sender's finish
 * precedes its start); NULL when the start is unknown.
 */
function durationSec(started: Date | null, finished: Date): number | null {
  return started ? Math.trunc((finished.getTime() - started.getTime()) / 1000) || 0 : null;
}

const BEFORE_START = 'finishedDate is before startedDate: stored as sent, with a negative duration';

/**
 * Builds the rows of one deployment POST (docs/devlake-compatibility.md §5), or throws an InputError naming every
 * field that cannot be stored truthfully.
 *
 * Defaults: `finishedDate` is the time the request arrived (DevLake's rule); when the sender's
 * clock runs ahead so that an unsent finish would precede the sent start, the finish is the
 * start (duration 0). A sent finish before the sent start is stored as DevLake stores it
 * (negative `duration_sec`), and the answer's `warnings` say so: refusing it would lose the
 * deployment to a clock skew. `createdDate` is `startedDate`, else `finishedDate`.
 * `originalEnvironment` is what was sent (`''` when absent), as DevLake stores it.
 *
 * As DevLake: a commit's `display_title` is its own (`''` when absent), its `status` and
 * `original_status` are the word sent (default `DONE`), every row's `duration_sec` is the
 * deployment's, and the deployment row's `status`, `original_status` and `original_result` are
 * the first commit's. Commits inherit the deployment's result, dates and url unless they carry
 * their own (docs/devlake-compatibility.md §9: DevLake defaults commit rows to SUCCESS even when the deployment
 * failed).
 */
export function buildDeploymentRows(
  connectionId: number,
  dto: DeploymentDto,
  receivedAt: Date,
  raw?: RawDataRef,
): DeploymentRows {
  const sent = commitsOf(dto);
  const causes: FieldCause[] = [];
  const warnings: FieldCause[] = [];

  const environment = dto.environment ?? DEFAULT_ENVIRONMENT;
  const startedDate = dto.startedDate ?? null;
  let finishedDate = dto.finishedDate ?? receivedAt;
  if (startedDate && finishedDate < startedDate) {
    if (dto.finishedDate) warnings.push({ field: 'finishedDate', message: BEFORE_START });
    else finishedDate = startedDate;
  }
  const duration = durationSec(startedDate, finishedDate);
  const originalEnvironment = dto.originalEnvironment ?? '';
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
  const common = { createdAt: now, updatedAt: now, queuedDate: null, queuedDurationSec: null, ...NO_RAW_DATA, ...raw };
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
      warnings.push({
        field: fieldPath(path, field),
        message: commit.finishedDate
          ? BEFORE_START
          : "startedDate is after the deployment's finishedDate: stored as sent",
      });
    }
    const commitOriginalResult = commit.result ?? originalResult;
    const commitStatus = commit.status ?? DONE;
    commitRows.push({
      id: commitId,
      commitSha: commit.commitSha,
      cicdScopeId: scopeId,
      cicdDeploymentId: rowId,
      name: commit.name ?? `deployment for ${commit.commitSha}`,
      displayTitle: commit.displayTitle ?? '',
      url: commit.url ?? url,
      result: normalizeResult(commitOriginalResult),
      originalResult: commitOriginalResult,
      status: commitStatus,
      originalStatus: commitStatus,
      environment,
      originalEnvironment,
      createdDate: commit.createdDate ?? createdDate,
      startedDate: started,
      finishedDate: finished,
      durationSec: duration,
      commitMsg: commit.commitMsg ?? '',
      refName: commit.refName ?? '',
      repoId: commit.repoId ?? '',
      repoUrl: commit.repoUrl,
      prevSuccessDeploymentCommitId: '',
      subtaskName: '',
      // Spread last, not first: a literal that starts with a spread and then adds its own keys
      // takes V8 a slow path for every key (tens of microseconds per row, measured), and
      // `common` shares no key with the ones above.
      ...common,
    });
  }
  if (causes.length > 0) throw new InputError(summarizeCauses(causes), causes);

  const first = commitRows[0];
  const deployment: Partial<CicdDeployment> = {
    id: rowId,
    cicdScopeId: scopeId,
    name: dto.name ?? `deploy ${commits.map(({ commit }) => commit.commitSha).join(',')} to ${environment}`,
    displayTitle,
    url,
    result,
    originalResult: first.originalResult,
    status: first.status,
    originalStatus: first.originalStatus,
    environment,
    originalEnvironment,
    createdDate,
    startedDate,
    finishedDate,
    durationSec: duration,
    subtaskName: '',
    // Last, as in the commit rows above (no key in common).
    ...common,
  };
  return { id, warnings, deployment, commits: commitRows };
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
  private readonly doraTables: DoraTablesRefresher;

  constructor(readonly dataSource: DataSource) {
    this.doraTables = doraTablesRefresherOf(dataSource);
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
   * its commit rows (one statement for up to 500), COMMIT; a re-post adds one read of its commit
   * rows and links, and the removal of those it no longer lists, if any. Everything derived (the
   * DORA summary, DevLake's chains, lead times) follows in the background. `raw` names the
   * delivery that wrote the rows (DevLake's `_raw_data_table` / `_raw_data_id`).
   */
  async record(
    connectionId: number,
    dto: DeploymentDto,
    receivedAt = new Date(),
    raw?: RawDataRef,
  ): Promise<RecordedDeployment> {
    const { recorded, write } = this.plan(connectionId, dto, receivedAt, raw);
    const touched = await withTransaction(this.dataSource, async (manager) => {
      const existed = await upsertRowExisted(manager, CicdDeployment, write.rows.deployment);
      return this.writeDependants(manager, [write], existed ? new Set([recorded.deploymentId]) : new Set());
    });
    this.afterWrite(connectionId, [write], touched);
    return recorded;
  }

  /**
   * Stores many deployments of one connection in one transaction with multi-row statements
   * (the batch route and the import command). The same rows as `record` for each; a deployment
   * listed twice must not be in the same call (the caller splits there).
   */
  async recordMany(connectionId: number, writes: DeploymentWrite[]): Promise<RecordedDeployment[]> {
    if (writes.length === 0) return [];
    const touched = await withTransaction(this.dataSource, async (manager) => {
      const ids = writes.map((write) => write.rows.deployment.id as string);
      const existing = await existingIds(manager, CicdDeployment, ids);
      await upsertRows(
        manager,
        CicdDeployment,
        writes.map((write) => write.rows.deployment),
      );
      return this.writeDependants(manager, writes, existing);
    });
    this.afterWrite(connectionId, writes, touched);
    return writes.map(recordedOf);
  }

  /**
   * Commits and pull request links; for deployments that existed, the ones no longer listed go.
   * Answers the commit rows put and removed, whose chains DevLake's DORA tables rewalk.
   */
  private async writeDependants(
    manager: EntityManager,
    writes: DeploymentWrite[],
    existing: Set<string>,
  ): Promise<ChainTouch[]> {
    // The commit rows as DevLake's chain of successful deployments sees them: a row the write
    // leaves exactly as it was (a re-post) changes no chain, so only the others are touched.
    const written = new Map<string, ChainTouch>();
    for (const row of writes.flatMap((write) => write.rows.commits)) {
      const touch = {
        id: row.id as string,
        repoUrl: row.repoUrl ?? '',
        environment: row.environment ?? null,
        finishedDate: row.finishedDate ?? null,
        leftChains: row.result !== 'SUCCESS' || !row.finishedDate,
      };
      written.set(chainKey(row.id as string, row.result ?? null, touch), touch);
    }
    const unchanged = new Set<string>();
    const removed: ChainTouch[] = [];
    const updated = writes.filter((write) => existing.has(write.rows.deployment.id as string));
    for (const group of groupsOf(updated, (write) => 1 + write.rows.commits.length, IDS_PER_DELETE)) {
      const deploymentIds = group.map((write) => write.rows.deployment.id as string);
      // What the deployments had: their commit rows and the pull requests they named, in one
      // read (a re-post that changes neither then costs no other statement than its upserts).
      const marks = placeholders(deploymentIds);
      const before = (await manager.query(
        dialectOf(manager).sql(
          `SELECT 'commit' AS kind, id, result, repo_url, environment, finished_date, cicd_deployment_id
             FROM cicd_deployment_commits WHERE cicd_deployment_id IN (${marks})
           UNION ALL
           SELECT 'link', pull_request_id, NULL, NULL, NULL, NULL, cicd_deployment_id
             FROM _tool_webhook_pull_request_deployments
            WHERE cicd_deployment_id IN (${marks}) AND named_by = 'deployment'`,
        ),
        [...deploymentIds, ...deploymentIds],
      )) as {
        kind: 'commit' | 'link';
        id: string;
        result: string | null;
        repo_url: string | null;
        environment: string | null;
        finished_date: unknown;
        cicd_deployment_id: string;
      }[];
      const commitsBefore = before.filter((row) => row.kind === 'commit');
      for (const row of commitsBefore) {
        const touch = storedChainTouch(row);
        const key = chainKey(row.id, row.result, touch);
        if (written.has(key)) unchanged.add(key);
        else removed.push(touch);
      }
      // The commits the new payload no longer lists, by primary key: only those rows are locked
      // (a range over the deployment's rows would also lock the gaps concurrent inserts need),
      // and a re-post of the same commits deletes nothing.
      const listed = new Set(group.flatMap((write) => write.rows.commits.map((row) => row.id as string)));
      const stale = commitsBefore.filter((row) => !listed.has(row.id)).map((row) => row.id);
      for (let start = 0; start < stale.length; start += IDS_PER_DELETE) {
        const batch = stale.slice(start, start + IDS_PER_DELETE);
        await manager.query(
          dialectOf(manager).sql(`DELETE FROM cicd_deployment_commits WHERE id IN (${placeholders(batch)})`),
          batch,
        );
      }
      // The pull requests it names (docs/dora.md): the payload is the whole list, so it replaces
      // it; the links of a deployment that named one it no longer names are removed (the upsert
      // below puts back the ones still named).
      const named = new Set(group.flatMap((write) => linksOf(write).map(linkKey)));
      const dropped = before.filter(
        (row) =>
          row.kind === 'link' &&
          !named.has(linkKey({ pullRequestId: row.id, cicdDeploymentId: row.cicd_deployment_id })),
      );
      const droppedFrom = [...new Set(dropped.map((row) => row.cicd_deployment_id))];
      if (droppedFrom.length > 0) {
        await manager.query(
          dialectOf(manager).sql(
            `DELETE FROM _tool_webhook_pull_request_deployments WHERE cicd_deployment_id IN (${placeholders(droppedFrom)}) AND named_by = 'deployment'`,
          ),
          droppedFrom,
        );
      }
    }
    // The chain pointer is the background refresh's alone (a new row starts at ''): a re-post
    // that wrote it could put back a value read before a concurrent refresh moved it.
    await upsertRows(
      manager,
      CicdDeploymentCommit,
      writes.flatMap((write) => write.rows.commits),
      ['created_at', 'prev_success_deployment_commit_id'],
    );
    const links = writes.flatMap(linksOf);
    if (links.length > 0) await upsertRows(manager, PullRequestDeploymentLink, links, []);
    return [...[...written].filter(([key]) => !unchanged.has(key)).map(([, touch]) => touch), ...removed];
  }

  /**
   * Once committed, in the background: DORA's deployment summary, DevLake's chains and incident
   * links the write touched, the lead times of the pull requests it may ship and DevLake's
   * project_pr_metrics when the connection is in a project, from the earliest start.
   */
  private afterWrite(connectionId: number, writes: DeploymentWrite[], touched: ChainTouch[]): void {
    const starts = writes.flatMap((write) =>
      write.rows.commits.map((row) => ((row.startedDate ?? row.finishedDate) as Date).getTime()),
    );
    this.doraTables.afterDeployments(
      scopeIdOf(connectionId),
      touched,
      writes.map((write) => write.rows.deployment.id as string),
      starts.length > 0 ? new Date(Math.min(...starts)) : undefined,
    );
  }
}

/** A pull request link by what identifies it for one sender (`named_by` aside). */
function linkKey(link: { pullRequestId?: string; cicdDeploymentId?: string }): string {
  return JSON.stringify([link.pullRequestId, link.cicdDeploymentId]);
}

/** What places a commit row in DevLake's chain of successful deployments. */
function chainKey(id: string, result: string | null, touch: ChainTouch): string {
  return JSON.stringify([id, result, touch.repoUrl, touch.environment, touch.finishedDate?.getTime() ?? null]);
}

function recordedOf(write: DeploymentWrite): RecordedDeployment {
  return {
    deploymentId: write.rows.deployment.id as string,
    id: write.rows.id,
    commitIds: write.rows.commits.map((row) => row.id as string),
    ...(write.rows.warnings.length > 0 ? { warnings: write.rows.warnings } : {}),
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
