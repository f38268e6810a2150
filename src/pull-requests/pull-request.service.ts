import type { DataSource } from 'typeorm';
import type { WebhookConnection } from '../connections/connection.entity';
import { dialectOf } from '../db/dialect';
import { NO_RAW_DATA } from '../db/columns';
import { withTransaction } from '../db/transaction';
import { tableRows, upsertRows } from '../db/upsert';
import type { RawDataRef } from '../events/event-log.service';
import { scopeIdOf } from '../projects/project.service';
import { deploymentRowId } from '../deployments/deployment-ids';
import { PullRequestDeploymentLink } from '../dora/lead-time.entity';
import { doraTablesRefresherOf } from '../dora/devlake-dora-tables';
import type { PullRequestDto } from './pull-request.dto';
import { PullRequest } from './pull-request.entity';

/** `webhook:<cid>:<pullRequestKey>` (docs/devlake-compatibility.md §7). */
export function pullRequestIdOf(connectionId: number, pullRequestKey: number): string {
  return `${scopeIdOf(connectionId)}:${pullRequestKey}`;
}

/** Writes pull requests into DevLake's `pull_requests` (docs/devlake-compatibility.md §7). */
export class PullRequestService {
  constructor(readonly dataSource: DataSource) {}

  /**
   * The rows of a pull request POST, written nowhere (dry runs and batches build with it). Every
   * column is given, so a re-post replaces the row entirely (`created_at` kept), as DevLake's
   * webhook does; a field not sent is stored as DevLake stores it (`''`, 0, false), not NULL,
   * since DevLake's dashboards group on them.
   */
  plan(
    connection: WebhookConnection,
    input: PullRequestDto,
    now: Date = new Date(),
    raw?: RawDataRef,
  ): PullRequestWrite {
    const pullRequestId = pullRequestIdOf(connection.id, input.pullRequestKey);
    const row: Partial<PullRequest> = {
      id: pullRequestId,
      createdAt: now,
      updatedAt: now,
      ...NO_RAW_DATA,
      ...raw,
      // DevLake forces the base repo to the connection's repo, whatever the sender says.
      baseRepoId: scopeIdOf(connection.id),
      headRepoId: input.headRepoId ?? '',
      status: input.status ?? '',
      originalStatus: input.originalStatus ?? '',
      title: input.displayTitle,
      description: input.description ?? '',
      url: input.url ?? '',
      authorName: input.authorName ?? '',
      authorId: input.authorId ?? '',
      mergedByName: input.mergedByName ?? '',
      mergedById: input.mergedById ?? '',
      parentPrId: input.parentPrId ?? '',
      pullRequestKey: input.pullRequestKey,
      createdDate: input.createdDate,
      mergedDate: input.mergedDate ?? null,
      closedDate: input.closedDate ?? null,
      type: input.type ?? '',
      component: input.component ?? '',
      mergeCommitSha: input.mergeCommitSha ?? '',
      headRef: input.headRef ?? '',
      baseRef: input.baseRef ?? '',
      baseCommitSha: input.baseCommitSha ?? '',
      headCommitSha: input.headCommitSha ?? '',
      additions: input.additions ?? 0,
      deletions: input.deletions ?? 0,
      isDraft: input.isDraft ?? false,
    };
    const link: Partial<PullRequestDeploymentLink> | null =
      input.deploymentId === undefined
        ? null
        : {
            pullRequestId,
            cicdDeploymentId: deploymentRowId(connection.id, input.deploymentId),
            namedBy: 'pull_request',
          };
    return { ids: { pullRequestId }, row, link };
  }

  /** A planned pull request's rows for a dry run's answer, by DevLake table. */
  tables(write: PullRequestWrite): Record<string, unknown[]> {
    return {
      ...tableRows(this.dataSource, PullRequest, [write.row]),
      ...tableRows(this.dataSource, PullRequestDeploymentLink, write.link ? [write.link] : []),
    };
  }

  /**
   * Creates or replaces a pull request. Every column is written, so a re-post replaces the row
   * entirely (`created_at` kept), as DevLake's webhook does.
   */
  async save(
    connection: WebhookConnection,
    input: PullRequestDto,
    now: Date = new Date(),
    raw?: RawDataRef,
  ): Promise<{ pullRequestId: string }> {
    return (await this.saveMany(connection, [this.plan(connection, input, now, raw)]))[0];
  }

  /**
   * Stores pull requests of one connection in one transaction with multi-row statements. A pull
   * request listed twice must not be in the same call (the caller splits there).
   */
  async saveMany(connection: WebhookConnection, writes: PullRequestWrite[]): Promise<{ pullRequestId: string }[]> {
    if (writes.length === 0) return [];
    const ids = writes.map((write) => write.ids.pullRequestId);
    await withTransaction(this.dataSource, async (manager) => {
      await upsertRows(
        manager,
        PullRequest,
        writes.map((write) => write.row),
      );
      // The deployment it names (docs/dora.md); a re-post without one removes the link.
      for (let start = 0; start < ids.length; start += 500) {
        const slice = ids.slice(start, start + 500);
        await manager.query(
          dialectOf(manager).sql(
            `DELETE FROM _tool_webhook_pull_request_deployments WHERE pull_request_id IN (${slice.map(() => '?').join(', ')}) AND named_by = 'pull_request'`,
          ),
          slice,
        );
      }
      const links = writes.flatMap((write) => (write.link ? [write.link] : []));
      await upsertRows(manager, PullRequestDeploymentLink, links, []);
    });
    // Their lead times and DevLake's project_pr_metrics follow in the background.
    doraTablesRefresherOf(this.dataSource).afterPullRequests(scopeIdOf(connection.id), ids);
    return writes.map((write) => write.ids);
  }
}

/** The rows one pull request POST writes. */
export interface PullRequestWrite {
  ids: { pullRequestId: string };
  row: Partial<PullRequest>;
  link: Partial<PullRequestDeploymentLink> | null;
}
