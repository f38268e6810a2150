import { createHash } from 'node:crypto';

/** DevLake's `varchar(255)` id columns, in characters. */
export const ID_MAX_CHARS = 255;

/** Length as MySQL counts it for a utf8mb4 column: code points, so an emoji counts once. */
export function charCount(value: string): number {
  let count = 0;
  for (const _char of value) count += 1;
  return count;
}

/** `cicd_deployments.id`: the caller's id under the connection, so connections never collide (docs/devlake-compatibility.md §9). */
export function deploymentRowId(connectionId: number, deploymentId: string): string {
  return `webhook:${connectionId}:${deploymentId}`;
}

/** `md5hex(repoUrl)[0:16]` of the exact string sent, as DevLake computes it (docs/devlake-compatibility.md §5). */
export function repoUrlHash16(repoUrl: string): string {
  return createHash('md5').update(repoUrl, 'utf8').digest('hex').slice(0, 16);
}

/** `cicd_deployment_commits.id`: `webhook:<cid>:<deploymentId>:<md5hex(repoUrl)[0:16]>:<sha>` (docs/devlake-compatibility.md §5). */
export function commitRowId(connectionId: number, deploymentId: string, repoUrl: string, commitSha: string): string {
  return `webhook:${connectionId}:${deploymentId}:${repoUrlHash16(repoUrl)}:${commitSha}`;
}

/**
 * The id of a deployment sent without one (DevLake v0.14's form, and some real clients).
 *
 * The rule (also in the README, "Deployment ids"): the first 32 hex characters of the SHA-256
 * of the normalised environment, the start time (ISO 8601 in UTC, or empty when not sent) and
 * the sorted set of `repoUrl` + `commitSha` pairs. So:
 *
 * - a retried POST (same commits, environment, start time) updates the same deployment;
 * - the same commits deployed to another environment, or again at another start time, are a
 *   new deployment;
 * - the finish time is deliberately left out: it defaults to the time the request arrives
 *   (the CircleCI example in DevLake's documentation sends no `end_time`), so it would make every retry new;
 * - the start time is taken as an instant, so `+00:00`, `+0000` and `Z` give the same id;
 * - the connection is not part of it: the stored id is prefixed with it anyway.
 */
export function deriveDeploymentId(
  environment: string,
  startedDate: Date | undefined,
  commits: { repoUrl: string; commitSha: string }[],
): string {
  const pairs = commits.map((commit) => [commit.repoUrl, commit.commitSha]);
  pairs.sort(([urlA, shaA], [urlB, shaB]) => compare(urlA, urlB) || compare(shaA, shaB));
  const material = JSON.stringify([environment, startedDate ? startedDate.toISOString() : '', pairs]);
  return createHash('sha256').update(material, 'utf8').digest('hex').slice(0, 32);
}

/** Plain code-unit order: unlike localeCompare, the same on every machine and locale. */
function compare(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** CI words for DevLake's results; DORA counts only `SUCCESS` (docs/devlake-compatibility.md §5, §9). */
const RESULT_WORDS: Record<string, string> = {
  SUCCEEDED: 'SUCCESS',
  SUCCESSFUL: 'SUCCESS',
  PASSED: 'SUCCESS',
  FAILED: 'FAILURE',
  ERROR: 'FAILURE',
  ABORTED: 'ABORT',
  CANCELED: 'ABORT',
  CANCELLED: 'ABORT',
};

/**
 * A sent `result` as DevLake's `result` column holds it. Never rejects: Jenkins sends
 * `UNSTABLE`, and an unknown word is stored upper-cased (`original_result` keeps it as sent).
 */
export function normalizeResult(sent: string): string {
  const upper = sent.trim().toUpperCase();
  return RESULT_WORDS[upper] ?? upper;
}
