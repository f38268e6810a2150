/**
 * Which deployment shipped each merged pull request (docs/dora.md "Lead time for changes").
 * Pure: the service's queries hand over compact facts, this decides, so the rules are testable
 * alone and the same for `GET .../dora` and for `project_pr_metrics`.
 *
 * Rules, first that applies wins:
 * 1. `link`: a deployment the sender named (the pull request's `deploymentId`, or a deployment's
 *    `pullRequestKeys`), the earliest of them that finished at or after the merge;
 * 2. `mergeCommit`: the earliest deployment that finished after the merge with a row for the
 *    pull request's merge commit;
 * 3. `time`: the first deployment of the pull request's base repository (and branch, when both
 *    say one) that started at or after the merge. This assumes changes reach production in merge
 *    order on the deployed branch.
 * Every deployment here is a counted one: SUCCESS in PRODUCTION.
 */

export type AttributionRule = 'link' | 'mergeCommit' | 'time';

/** A counted deployment: its id, where and when it ran, and the branch its rows name. */
export interface AttributableDeployment {
  /** `cicd_deployments.id` (= `cicd_deployment_commits.cicd_deployment_id`). */
  id: string;
  /** `cicd_scope_id`: a pull request's `base_repo_id` names the same scope. */
  scope: string;
  /** The earliest start of its rows; their finish when they have no start. */
  started: Date;
  /** The latest finish of its rows: the deployment's time everywhere in DORA. */
  time: Date;
  /** The branch its rows deployed (normalised), or null when they name none, a tag, or several. */
  branch: string | null;
}

export interface AttributableChange {
  id: string;
  /** `base_repo_id`. */
  repo: string;
  /** `base_ref`, normalised; null when unknown. */
  branch: string | null;
  created: Date;
  merged: Date;
  /** Counted deployments (ids) with a row for the merge commit. */
  exact: string[];
  /** Counted deployments (ids) named explicitly, by either side. */
  linked: string[];
  /**
   * False when a deployment that is not in the list handed over (one before the window) is known
   * to come first for the time rule: then only a link or the merge commit can attribute it here.
   */
  timeRule: boolean;
}

export interface Attribution {
  changeId: string;
  deploymentId: string;
  /** The deployment's time. */
  deployed: Date;
  rule: AttributionRule;
}

const SHA = /^[0-9a-f]{7,40}$/i;
/** `v1.2`, `1.2.3`, `v2.0.0-rc.1`: a release tag, not a branch. */
const VERSION = /^v?\d+(\.\d+)+([-+][\w.-]*)?$/i;

/**
 * The branch a ref names, or null when it names none: `refs/heads/main`, `origin/main` and
 * `main` are the branch `main`; tags (`refs/tags/...`, version-like names), commit hashes, other
 * `refs/...` (merge requests, pulls) and empty refs name no branch, so they match every branch.
 */
export function branchOf(ref: string | null | undefined): string | null {
  let text = (ref ?? '').trim();
  if (text === '') return null;
  if (text.startsWith('refs/heads/')) text = text.slice('refs/heads/'.length);
  else if (text.startsWith('refs/remotes/')) text = text.slice('refs/remotes/'.length).replace(/^[^/]+\//, '');
  else if (text.startsWith('refs/')) return null;
  else if (text.startsWith('origin/')) text = text.slice('origin/'.length);
  if (text === '' || SHA.test(text) || VERSION.test(text)) return null;
  return text;
}

/** Earliest deployment time first, then id, so equal times choose the same one everywhere. */
function earlier(a: AttributableDeployment, b: AttributableDeployment | undefined): boolean {
  if (b === undefined) return true;
  const diff = a.time.getTime() - b.time.getTime();
  return diff < 0 || (diff === 0 && a.id < b.id);
}

/** For the time rule: earliest start first, then earliest time, then id. */
function startsBefore(a: AttributableDeployment, b: AttributableDeployment): number {
  return (
    a.started.getTime() - b.started.getTime() ||
    a.time.getTime() - b.time.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The first of `sorted` (by start) that started at or after `at`, by binary search. */
function firstStartingFrom(
  sorted: AttributableDeployment[] | undefined,
  at: number,
): AttributableDeployment | undefined {
  if (!sorted) return undefined;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid].started.getTime() < at) low = mid + 1;
    else high = mid;
  }
  return sorted[low];
}

/**
 * The deployment of each change that has one. `deployments` holds every counted deployment the
 * rules may pick; `namedOnly` more that only a link or merge commit may pick (those before a
 * window, behind every time bound); a link or merge commit naming one in neither is ignored. One pass over
 * the deployments to index them by repository and branch (sorted by start), then a binary search
 * per change: O((d + c) log d).
 */
export function attributeChanges(
  changes: AttributableChange[],
  deployments: AttributableDeployment[],
  namedOnly: AttributableDeployment[] = [],
): Map<string, Attribution> {
  const byId = new Map([...namedOnly, ...deployments].map((d) => [d.id, d]));
  // Per scope: all deployments, those naming no branch, and those of each branch.
  const all = new Map<string, AttributableDeployment[]>();
  const anyBranch = new Map<string, AttributableDeployment[]>();
  const byBranch = new Map<string, AttributableDeployment[]>();
  const push = (map: Map<string, AttributableDeployment[]>, key: string, d: AttributableDeployment) => {
    const list = map.get(key);
    if (list) list.push(d);
    else map.set(key, [d]);
  };
  for (const d of deployments) {
    push(all, d.scope, d);
    if (d.branch === null) push(anyBranch, d.scope, d);
    else push(byBranch, JSON.stringify([d.scope, d.branch]), d);
  }
  for (const map of [all, anyBranch, byBranch]) for (const list of map.values()) list.sort(startsBefore);

  const out = new Map<string, Attribution>();
  for (const change of changes) {
    const merged = change.merged.getTime();
    const pick = (ids: string[], accept: (d: AttributableDeployment) => boolean) => {
      let best: AttributableDeployment | undefined;
      for (const id of ids) {
        const d = byId.get(id);
        if (d && accept(d) && earlier(d, best)) best = d;
      }
      return best;
    };
    let rule: AttributionRule = 'link';
    let chosen = pick(change.linked, (d) => d.time.getTime() >= merged);
    if (!chosen) {
      rule = 'mergeCommit';
      chosen = pick(change.exact, (d) => d.time.getTime() > merged);
    }
    if (!chosen && change.timeRule) {
      rule = 'time';
      if (change.branch === null) {
        chosen = firstStartingFrom(all.get(change.repo), merged);
      } else {
        const sameBranch = firstStartingFrom(byBranch.get(JSON.stringify([change.repo, change.branch])), merged);
        const noBranch = firstStartingFrom(anyBranch.get(change.repo), merged);
        chosen = sameBranch && (!noBranch || startsBefore(sameBranch, noBranch) < 0) ? sameBranch : noBranch;
      }
    }
    if (chosen) out.set(change.id, { changeId: change.id, deploymentId: chosen.id, deployed: chosen.time, rule });
  }
  return out;
}
