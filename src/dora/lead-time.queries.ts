import type { DataSource, EntityManager } from 'typeorm';
import { escapeQuery } from '../db/escape-query';
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
const IS_COUNTED = 'c.environment = :environment AND c.result = :result';

/** `datetime(3)` as the drivers return it: a Date from mysql2 (timezone 'Z'), UTC text from SQLite. */
export function dateOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** A deployment's branch from the smallest and largest ref of its rows: one branch, or none. */
function branchOfRefs(low: unknown, high: unknown): string | null {
  const a = branchOf(low === null || low === undefined ? null : String(low));
  const b = branchOf(high === null || high === undefined ? null : String(high));
  return a === b ? a : null;
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

  private async select(sql: string, parameters: Record<string, unknown>): Promise<Row[]> {
    const dataSource = 'driver' in this.db ? this.db : this.db.connection;
    const [text, values] = escapeQuery(dataSource, sql, parameters);
    return (await this.db.query(text, values)) as Row[];
  }

  /**
   * Counted deployments with a row that finished at or after `since`, grouped: their start, time
   * and branch. A deployment whose time is at or after `since` is complete here (its latest row
   * is); its start comes from its rows in range.
   */
  async deploymentsSince(scopes: string[], since: Date): Promise<AttributableDeployment[]> {
    if (scopes.length === 0) return [];
    const counted = (column: string) => `CASE WHEN ${IS_COUNTED} THEN ${column} END`;
    const rows = await this.select(
      `SELECT c.cicd_deployment_id AS id, MIN(c.cicd_scope_id) AS scope,
              MAX(${counted('c.finished_date')}) AS finished,
              MIN(${counted('COALESCE(c.started_date, c.finished_date)')}) AS started,
              MIN(${counted('c.ref_name')}) AS ref_low, MAX(${counted('c.ref_name')}) AS ref_high
         FROM cicd_deployment_commits c
        WHERE c.cicd_scope_id IN (:...scopes) AND c.finished_date >= :since
        GROUP BY c.cicd_deployment_id
       HAVING MAX(${counted('c.finished_date')}) IS NOT NULL`,
      { scopes, ...COUNTED, since },
    );
    return rows.map((row) => ({
      id: String(row.id),
      scope: String(row.scope),
      time: dateOf(row.finished) as Date,
      started: dateOf(row.started) as Date,
      branch: branchOfRefs(row.ref_low, row.ref_high),
    }));
  }

  /** Times (and facts) of given counted deployments, whatever their time. */
  private async deploymentsById(scopes: string[], ids: string[]): Promise<AttributableDeployment[]> {
    const out: AttributableDeployment[] = [];
    for (const batch of batches(ids)) {
      const rows = await this.select(
        `SELECT c.cicd_deployment_id AS id, MIN(c.cicd_scope_id) AS scope, MAX(c.finished_date) AS finished,
                MIN(COALESCE(c.started_date, c.finished_date)) AS started,
                MIN(c.ref_name) AS ref_low, MAX(c.ref_name) AS ref_high
           FROM cicd_deployment_commits c
          WHERE c.cicd_deployment_id IN (:...ids) AND ${COUNTED_ROW} AND c.finished_date IS NOT NULL
          GROUP BY c.cicd_deployment_id`,
        { ids: batch, scopes, ...COUNTED },
      );
      for (const row of rows) {
        out.push({
          id: String(row.id),
          scope: String(row.scope),
          time: dateOf(row.finished) as Date,
          started: dateOf(row.started) as Date,
          branch: branchOfRefs(row.ref_low, row.ref_high),
        });
      }
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
    const prs: PullRequestFacts[] = [];
    for (const batch of batches(ids)) {
      const rows = await this.select(
        `SELECT ${PR_COLUMNS} FROM pull_requests p
          WHERE p.id IN (:...ids) AND p.merged_date IS NOT NULL AND p.created_date IS NOT NULL`,
        { ids: batch },
      );
      prs.push(...rows.map(pullRequestOf));
    }
    if (prs.length === 0) return [];
    const earliest = new Date(Math.min(...prs.map((p) => p.merged.getTime())));
    const [deployments, exact, links] = await Promise.all([
      this.deploymentsSince(scope.cicdScopes, earliest),
      this.exactByCommit(scope.cicdScopes, [...new Set(prs.flatMap((p) => (p.sha ? [p.sha] : [])))]),
      this.linksOf(prs.map((p) => p.id)),
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
   * after `from`, with its attribution. `to` null means no end. In five steps whose size follows
   * the window, not the history:
   *
   * 1. the counted deployments with a row at or after `from`;
   * 2. per repository and ref, the latest start of a counted deployment before `from`: a pull
   *    request merged before it is shipped by one of those (time rule), so only later merges are
   *    read (`idx_webhook_pr_repo_merged`);
   * 3. older pull requests whose merge commit, or a link, names a deployment of step 1;
   * 4. for the pull requests merged before `from`: their merge commits' and links' deployments
   *    before `from`, which come first when they finished after the merge;
   * 5. the rules, in memory.
   *
   * Not seen: rows of one deployment that finish days apart across `from` (its start is read
   * from its rows at or after `from`).
   */
  async since(scope: LeadTimeScope, from: Date, to: Date | null): Promise<ChangeAttribution[]> {
    if (scope.cicdScopes.length === 0 || scope.repos.length === 0) return [];
    // No end: the latest date every engine stores (MySQL datetime ends in 9999).
    const until = to ?? new Date(Date.UTC(9999, 11, 31));
    const [deployments, bounds, older] = await Promise.all([
      this.deploymentsSince(scope.cicdScopes, from),
      this.select(
        `SELECT c.cicd_scope_id AS scope, c.ref_name AS ref, MAX(COALESCE(c.started_date, c.finished_date)) AS started
           FROM cicd_deployment_commits c
          WHERE ${COUNTED_ROW} AND c.finished_date < :from
          GROUP BY c.cicd_scope_id, c.ref_name`,
        { scopes: scope.cicdScopes, ...COUNTED, from },
      ),
      this.select(
        `SELECT ${PR_COLUMNS} FROM cicd_deployment_commits c
           JOIN pull_requests p ON p.merge_commit_sha = c.commit_sha
          WHERE ${COUNTED_ROW} AND c.finished_date >= :from
            AND p.base_repo_id IN (:...repos) AND p.merged_date < :until AND p.created_date IS NOT NULL
         UNION
         SELECT ${PR_COLUMNS} FROM _tool_webhook_pull_request_deployments l
           JOIN cicd_deployment_commits c ON c.cicd_deployment_id = l.cicd_deployment_id
           JOIN pull_requests p ON p.id = l.pull_request_id
          WHERE ${COUNTED_ROW} AND c.finished_date >= :from
            AND p.base_repo_id IN (:...repos) AND p.merged_date < :until AND p.created_date IS NOT NULL`,
        { scopes: scope.cicdScopes, repos: scope.repos, ...COUNTED, from, until },
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
    for (const row of older) if (!prs.has(String(row.id))) prs.set(String(row.id), pullRequestOf(row));

    // Step 3 and 4: merge commits and links, in and before the window.
    const all = [...prs.values()];
    const early = all.filter((p) => p.merged.getTime() < from.getTime());
    const shas = (list: PullRequestFacts[]) => [...new Set(list.flatMap((p) => (p.sha ? [p.sha] : [])))];
    const [inWindow, before, links] = await Promise.all([
      this.exactByCommitSince(scope.cicdScopes, shas(all), from),
      this.exactByCommit(scope.cicdScopes, shas(early), from),
      this.linksOf(all.map((p) => p.id)),
    ]);
    const known = new Set(deployments.map((d) => d.id));
    const missing = new Set<string>();
    for (const p of early) {
      for (const id of [...((p.sha && before.get(p.sha)) || []), ...(links.get(p.id) ?? [])]) {
        if (!known.has(id)) missing.add(id);
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

  /** Counted deployments (ids) with a row for each merge commit at or after `since`. */
  private async exactByCommitSince(scopes: string[], shas: string[], since: Date): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const batch of batches(shas)) {
      const rows = await this.select(
        `SELECT DISTINCT c.commit_sha AS sha, c.cicd_deployment_id AS deployment
           FROM cicd_deployment_commits c
          WHERE c.commit_sha IN (:...shas) AND ${COUNTED_ROW} AND c.finished_date >= :since`,
        { shas: batch, scopes, ...COUNTED, since },
      );
      for (const row of rows) push(out, String(row.sha), String(row.deployment));
    }
    return out;
  }
}
