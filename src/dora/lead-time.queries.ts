import type { DataSource, EntityManager } from 'typeorm';
import { dateOf } from '../db/columns';
import { queryNamed } from '../db/escape-query';
import { DEPLOYMENT_SUMMARY_TABLE } from '../deployments/deployment-summary';
import {
  attributeChanges,
  branchOf,
  type AttributableChange,
  type AttributableDeployment,
  type Attribution,
} from './lead-time.attribution';

type Row = Record<string, unknown>;
type Runner = DataSource | EntityManager;

/** The scope ids lead time reads: deployments' `cicd_scope_id`, pull requests' `base_repo_id`. */
export interface LeadTimeScope {
  cicdScopes: string[];
  repos: string[];
}

/** A merged pull request and its deployment, when it has one. */
export interface ChangeAttribution {
  id: string;
  repo: string;
  created: Date;
  merged: Date;
  attribution: Attribution | null;
}

/** IN lists stay well under SQLite's and MySQL's parameter limits. */
const BATCH = 500;

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** What DevLake's DORA counts as a deployment: a SUCCESS row in PRODUCTION. */
const COUNTED = { environment: 'PRODUCTION', result: 'SUCCESS' };
const COUNTED_ROW = 'c.cicd_scope_id IN (:...scopes) AND c.environment = :environment AND c.result = :result';

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A deployment's branch from the smallest and largest ref of its rows: one branch, or none. */
export function branchOfRefs(low: unknown, high: unknown): string | null {
  const a = branchOf(low === null || low === undefined ? null : String(low));
  const b = branchOf(high === null || high === undefined ? null : String(high));
  return a === b ? a : null;
}

const SUMMARY_COLUMNS = `s.cicd_deployment_id AS id, s.cicd_scope_id AS scope, s.finished_date AS finished,
  s.started_date AS started, s.ref_low AS ref_low, s.ref_high AS ref_high`;

function summaryOf(row: Row): AttributableDeployment {
  return {
    id: String(row.id),
    scope: String(row.scope),
    time: dateOf(row.finished) as Date,
    started: dateOf(row.started) as Date,
    branch: branchOfRefs(row.ref_low, row.ref_high),
  };
}

const PR_COLUMNS = `p.id AS id, p.base_repo_id AS repo, p.base_ref AS base_ref, p.created_date AS created,
  p.merged_date AS merged, p.merge_commit_sha AS sha`;

interface PullRequestFacts {
  id: string;
  repo: string;
  branch: string | null;
  created: Date;
  merged: Date;
  sha: string | null;
}

function pullRequestOf(row: Row): PullRequestFacts {
  return {
    id: String(row.id),
    repo: String(row.repo),
    branch: branchOf(row.base_ref === null || row.base_ref === undefined ? null : String(row.base_ref)),
    created: dateOf(row.created) as Date,
    merged: dateOf(row.merged) as Date,
    sha: row.sha === null || row.sha === undefined || row.sha === '' ? null : String(row.sha),
  };
}

/**
 * Loads the facts the attribution rules need (docs/dora.md "Lead time for changes") with queries
 * whose size follows the window, and hands them to `attributeChanges`. The database filters and
 * groups; the rules run in memory in one ordered pass, so SQLite and MariaDB agree.
 */
export class LeadTimeQueries {
  constructor(private readonly db: Runner) {}

  /**
   * Runs independent queries side by side on a DataSource (each takes a pooled connection), one
   * after another in a transaction: its one connection takes one query at a time.
   */
  private async together<T extends readonly unknown[]>(tasks: { [K in keyof T]: () => Promise<T[K]> }): Promise<T> {
    if ('driver' in this.db) return (await Promise.all(tasks.map((task) => task()))) as unknown as T;
    const out: unknown[] = [];
    for (const task of tasks) out.push(await task());
    return out as unknown as T;
  }

  private async select(sql: string, parameters: Record<string, unknown>): Promise<Row[]> {
    return queryNamed(this.db, sql, parameters);
  }

  /**
   * Counted deployments whose time is at or after `since`: their start, time and branch, from
   * the deployment summary (one index range on (scope, time)).
   */
  async deploymentsSince(scopes: string[], since: Date): Promise<AttributableDeployment[]> {
    if (scopes.length === 0) return [];
    const rows = await this.select(
      `SELECT ${SUMMARY_COLUMNS} FROM ${DEPLOYMENT_SUMMARY_TABLE} s
        WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :since`,
      { scopes, since },
    );
    return rows.map(summaryOf);
  }

  /** Times (and facts) of given counted deployments, whatever their time. */
  private async deploymentsById(scopes: string[], ids: string[]): Promise<AttributableDeployment[]> {
    const out: AttributableDeployment[] = [];
    for (const batch of batches(ids)) {
      const rows = await this.select(
        `SELECT ${SUMMARY_COLUMNS} FROM ${DEPLOYMENT_SUMMARY_TABLE} s
          WHERE s.cicd_deployment_id IN (:...ids) AND s.cicd_scope_id IN (:...scopes)`,
        { ids: batch, scopes },
      );
      out.push(...rows.map(summaryOf));
    }
    return out;
  }

  /** Counted deployments (ids) with a row for each merge commit, optionally only rows before `before`. */
  private async exactByCommit(scopes: string[], shas: string[], before?: Date): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const batch of batches(shas)) {
      const rows = await this.select(
        `SELECT DISTINCT c.commit_sha AS sha, c.cicd_deployment_id AS deployment
           FROM cicd_deployment_commits c
          WHERE c.commit_sha IN (:...shas) AND ${COUNTED_ROW}${before ? ' AND c.finished_date < :before' : ''}`,
        { shas: batch, scopes, ...COUNTED, before },
      );
      for (const row of rows) push(out, String(row.sha), String(row.deployment));
    }
    return out;
  }

  /** Deployments (ids) named for each pull request, by either side. */
  private async linksOf(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const batch of batches(ids)) {
      const rows = await this.select(
        `SELECT DISTINCT l.pull_request_id AS id, l.cicd_deployment_id AS deployment
           FROM _tool_webhook_pull_request_deployments l WHERE l.pull_request_id IN (:...ids)`,
        { ids: batch },
      );
      for (const row of rows) push(out, String(row.id), String(row.deployment));
    }
    return out;
  }

  /**
   * The attribution of given merged pull requests, whatever their time: for `project_pr_metrics`.
   * Reads the counted deployments from the earliest merge on, so a fresh pull request is cheap.
   */
  async ofPullRequests(scope: LeadTimeScope, ids: string[]): Promise<ChangeAttribution[]> {
    const prs = (await this.pullRequestsById(ids)).map(pullRequestOf);
    if (prs.length === 0) return [];
    const earliest = new Date(Math.min(...prs.map((p) => p.merged.getTime())));
    const [deployments, exact, links] = await this.together([
      () => this.deploymentsSince(scope.cicdScopes, earliest),
      () => this.exactByCommit(scope.cicdScopes, [...new Set(prs.flatMap((p) => (p.sha ? [p.sha] : [])))]),
      () => this.linksOf(prs.map((p) => p.id)),
    ]);
    const changes: AttributableChange[] = prs.map((p) => ({
      ...p,
      exact: p.sha ? (exact.get(p.sha) ?? []) : [],
      linked: links.get(p.id) ?? [],
      timeRule: true,
    }));
    const attributed = attributeChanges(changes, deployments);
    return prs.map((p) => ({ ...p, attribution: attributed.get(p.id) ?? null }));
  }

  /**
   * Every merged pull request of the scope that is merged in `[from, to)` or may be deployed at or
   * after `from`, with its attribution. `to` null means no end. `known`, when given, are the
   * counted deployments whose time is at or after `from` (the caller read them already). In
   * steps whose size follows the window, not the history, each one statement:
   *
   * 1. the counted deployments whose time is at or after `from` (the deployment summary);
   * 2. per repository and ref, the latest start of a counted deployment before `from`: a pull
   *    request merged before it is shipped by one of those (time rule), so only later merges are
   *    read (`idx_webhook_pr_repo_merged`);
   * 3. the scope's pull requests whose merge commit a counted row at or after `from` names, with
   *    that row's deployment (one join: the merge-commit candidates in the window, and the older
   *    pull requests they ship); and those a link names for a deployment of step 1;
   * 4. the links of the pull requests read; for the pull requests merged before `from`, their
   *    merge commits' deployments before `from`, which come first when they finished after the merge;
   * 5. the rules, in memory.
   *
   * Not seen: a merge older than the bound of step 2 into a branch first deployed in the window.
   */
  async since(
    scope: LeadTimeScope,
    from: Date,
    to: Date | null,
    known?: AttributableDeployment[],
  ): Promise<ChangeAttribution[]> {
    if (scope.cicdScopes.length === 0 || scope.repos.length === 0) return [];
    // No end: the latest date every engine stores (MySQL datetime ends in 9999).
    const until = to ?? new Date(Date.UTC(9999, 11, 31));
    const window = { scopes: scope.cicdScopes, repos: scope.repos, ...COUNTED, from, until };
    const [deployments, bounds, byCommit, byLink] = await this.together([
      () => (known ? Promise.resolve(known) : this.deploymentsSince(scope.cicdScopes, from)),
      () =>
        this.select(
          `SELECT c.cicd_scope_id AS scope, c.ref_name AS ref, MAX(COALESCE(c.started_date, c.finished_date)) AS started
           FROM cicd_deployment_commits c
          WHERE ${COUNTED_ROW} AND c.finished_date < :from
          GROUP BY c.cicd_scope_id, c.ref_name`,
          { scopes: scope.cicdScopes, ...COUNTED, from },
        ),
      () =>
        this.select(
          // Driven from the window's counted rows into (base_repo_id, merge_commit_sha): a condition on
          // p.merged_date here made MariaDB walk every pull request of the repository instead.
          `SELECT p.id AS id, c.commit_sha AS sha, c.cicd_deployment_id AS deployment,
                p.merged_date AS merged, p.created_date AS created
           FROM cicd_deployment_commits c
           JOIN pull_requests p ON p.merge_commit_sha = c.commit_sha
          WHERE ${COUNTED_ROW} AND c.finished_date >= :from AND p.base_repo_id IN (:...repos)`,
          window,
        ),
      () =>
        this.select(
          `SELECT ${PR_COLUMNS} FROM ${DEPLOYMENT_SUMMARY_TABLE} s
           JOIN _tool_webhook_pull_request_deployments l ON l.cicd_deployment_id = s.cicd_deployment_id
           JOIN pull_requests p ON p.id = l.pull_request_id
          WHERE s.cicd_scope_id IN (:...scopes) AND s.finished_date >= :from
            AND p.base_repo_id IN (:...repos) AND p.merged_date < :until AND p.created_date IS NOT NULL`,
          window,
        ),
    ]);

    // Step 2: the latest start before `from` per repository, for each branch and for refs naming none.
    const latest = new Map<string, { any: number; branches: Map<string, number> }>();
    for (const row of bounds) {
      const key = String(row.scope);
      const entry = latest.get(key) ?? { any: -Infinity, branches: new Map<string, number>() };
      const started = (dateOf(row.started) as Date).getTime();
      const branch = branchOf(row.ref === null || row.ref === undefined ? null : String(row.ref));
      if (branch === null) entry.any = Math.max(entry.any, started);
      else entry.branches.set(branch, Math.max(entry.branches.get(branch) ?? -Infinity, started));
      latest.set(key, entry);
    }
    /** The latest start before `from` of a deployment that ships a merge on this branch. */
    const boundOf = (repo: string, branch: string | null): number => {
      const entry = latest.get(repo);
      if (!entry) return -Infinity;
      if (branch === null) return Math.max(entry.any, ...entry.branches.values());
      return Math.max(entry.any, entry.branches.get(branch) ?? -Infinity);
    };

    const prs = new Map<string, PullRequestFacts>();
    for (const repo of scope.repos) {
      // The lowest bound of the branches deployed before `from`: later merges are read, and each is
      // checked against its own branch's bound. (A merge before it into a branch first deployed in
      // the window is not read: such a branch is rare, and its merges that old are rarer.)
      const entry = latest.get(repo);
      const finite = entry ? [entry.any, ...entry.branches.values()].filter(Number.isFinite) : [];
      const lowest = finite.length > 0 ? Math.min(...finite) : -Infinity;
      const rows = await this.select(
        `SELECT ${PR_COLUMNS} FROM pull_requests p
          WHERE p.base_repo_id = :repo AND p.merged_date < :until AND p.created_date IS NOT NULL
                ${Number.isFinite(lowest) ? 'AND p.merged_date > :lowest' : 'AND p.merged_date IS NOT NULL'}`,
        { repo, until, lowest: Number.isFinite(lowest) ? new Date(lowest) : undefined },
      );
      for (const row of rows) prs.set(String(row.id), pullRequestOf(row));
    }
    // Merge commits deployed in the window: (sha, deployment) pairs, and the older pull requests.
    const inWindow = new Map<string, string[]>();
    const pairs = new Set<string>();
    const olderIds = new Set<string>();
    for (const row of byCommit) {
      const merged = dateOf(row.merged);
      if (!merged || merged.getTime() >= until.getTime() || row.created === null || row.created === undefined) continue;
      const id = String(row.id);
      if (!prs.has(id)) olderIds.add(id);
      const sha = String(row.sha);
      const pair = JSON.stringify([sha, String(row.deployment)]);
      if (!pairs.has(pair)) {
        pairs.add(pair);
        push(inWindow, sha, String(row.deployment));
      }
    }
    for (const row of byLink) if (!prs.has(String(row.id))) prs.set(String(row.id), pullRequestOf(row));
    // The older pull requests whose merge commit is deployed in the window: few, read by id.
    for (const row of await this.pullRequestsById([...olderIds].filter((id) => !prs.has(id)))) {
      prs.set(String(row.id), pullRequestOf(row));
    }

    // Step 4: links, and merge commits deployed before the window.
    const all = [...prs.values()];
    const early = all.filter((p) => p.merged.getTime() < from.getTime());
    const shas = (list: PullRequestFacts[]) => [...new Set(list.flatMap((p) => (p.sha ? [p.sha] : [])))];
    const [before, links] = await this.together([
      () => this.exactByCommit(scope.cicdScopes, shas(early), from),
      () => this.linksOfScope(scope.repos, all),
    ]);
    const knownIds = new Set(deployments.map((d) => d.id));
    const missing = new Set<string>();
    for (const p of early) {
      for (const id of [...((p.sha && before.get(p.sha)) || []), ...(links.get(p.id) ?? [])]) {
        if (!knownIds.has(id)) missing.add(id);
      }
    }
    const earlier = await this.deploymentsById(scope.cicdScopes, [...missing]);

    const changes: AttributableChange[] = all.map((p) => ({
      ...p,
      exact: p.sha ? [...(inWindow.get(p.sha) ?? []), ...(before.get(p.sha) ?? [])] : [],
      linked: links.get(p.id) ?? [],
      timeRule: p.merged.getTime() > boundOf(p.repo, p.branch),
    }));
    // The time rule picks among deployments of step 1 only: earlier ones are behind each bound.
    const attributed = attributeChanges(changes, deployments, earlier);
    return all.map((p) => ({ ...p, attribution: attributed.get(p.id) ?? null }));
  }

  private async pullRequestsById(ids: string[]): Promise<Row[]> {
    const out: Row[] = [];
    for (const batch of batches(ids)) {
      out.push(
        ...(await this.select(
          `SELECT ${PR_COLUMNS} FROM pull_requests p
            WHERE p.id IN (:...ids) AND p.merged_date IS NOT NULL AND p.created_date IS NOT NULL`,
          { ids: batch },
        )),
      );
    }
    return out;
  }

  /**
   * The links of the given pull requests. Links are few next to pull requests (only senders that
   * name them write them), so every link of the scope's repositories is read in one join and
   * filtered here, rather than asking for the pull requests 500 at a time.
   */
  private async linksOfScope(repos: string[], prs: PullRequestFacts[]): Promise<Map<string, string[]>> {
    const wanted = new Set(prs.map((p) => p.id));
    const out = new Map<string, string[]>();
    if (wanted.size === 0) return out;
    const rows = await this.select(
      `SELECT DISTINCT l.pull_request_id AS id, l.cicd_deployment_id AS deployment
         FROM _tool_webhook_pull_request_deployments l
         JOIN pull_requests p ON p.id = l.pull_request_id
        WHERE p.base_repo_id IN (:...repos)`,
      { repos },
    );
    for (const row of rows) if (wanted.has(String(row.id))) push(out, String(row.id), String(row.deployment));
    return out;
  }
}
