import { withTransaction } from '../src/db/transaction';
import { leadTimeFigures, leadTimeRows, rebuildLeadTimes } from '../src/dora/lead-time.store';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

type Row = Record<string, unknown>;

const BASE = '/api/plugins/webhook';
const REPO = 'https://git.example.com/shop';
const DAY_MS = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00Z');

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** The rows as comparable text: dates as ISO, numbers as numbers, whatever the driver returns. */
function normalised(rows: Row[]): string[] {
  return rows.map((row) =>
    JSON.stringify(
      Object.entries(row).map(([key, value]) => [
        key,
        value instanceof Date
          ? value.toISOString()
          : typeof value === 'string' && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d/.test(value)
            ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`).toISOString()
            : key === 'lead_time_minutes' && value !== null
              ? Number(value)
              : value,
      ]),
    ),
  );
}

/** What a rebuild from the pull requests and deployments gives, without keeping it. */
async function rebuilt(server: TestServer): Promise<string[]> {
  let rows: Row[] = [];
  const rollback = new Error('rollback');
  await withTransaction(server.db.dataSource, async (manager) => {
    await rebuildLeadTimes(manager);
    rows = await leadTimeRows(manager);
    throw rollback;
  }).catch((error: unknown) => {
    if (error !== rollback) throw error;
  });
  return normalised(rows);
}

/**
 * DORA's lead time reads each pull request's stored attribution, kept current in the background
 * as pull requests and deployments arrive. Posts arrive in any order, concurrently, and are
 * re-posted with other dates, results, branches, commits and links: after each burst the stored
 * rows must be exactly what a rebuild from DevLake's rows gives.
 */
describe('stored lead times, kept current under every kind of write', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('equals a rebuild after bursts of new, back-dated, re-posted and relinked deployments and pull requests', async () => {
    const { id: cid } = await createConnection(server, 'lead-times');
    const random = generator(20_261_130);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const shas = Array.from({ length: 10 }, (_, i) => `${i}`.repeat(7).padEnd(40, 'a'));
    const branches = ['refs/heads/main', 'refs/heads/main', 'refs/heads/release', 'v1.2.0'];
    const deploymentIds: string[] = [];
    const prKeys: number[] = [];
    const at = (days = 20) => new Date(START + Math.floor(random() * days * DAY_MS)).toISOString();

    const postDeployment = (id: string) => {
      const finished = at();
      const started = new Date(Date.parse(finished) - Math.floor(random() * 3 * DAY_MS)).toISOString();
      const commits = Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({
        repoUrl: REPO,
        commitSha: pick(shas),
        refName: pick(branches),
      }));
      const unique = commits.filter((c, i) => commits.findIndex((o) => o.commitSha === c.commitSha) === i);
      return server.request.post(`${BASE}/connections/${cid}/deployments`).send({
        id,
        environment: random() < 0.85 ? 'PRODUCTION' : 'STAGING',
        result: random() < 0.8 ? 'SUCCESS' : 'FAILURE',
        startedDate: started,
        finishedDate: finished,
        pull_request_keys: random() < 0.3 && prKeys.length > 0 ? [pick(prKeys)] : undefined,
        deploymentCommits: unique,
      });
    };
    const postPullRequest = (key: number) => {
      // Mostly merged before most deployments, so that every rule gets its turn.
      const created = at(10);
      const merged = random() < 0.85 ? new Date(Date.parse(created) + Math.floor(random() * 2 * DAY_MS)) : null;
      return server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({
        id: `pr${key}`,
        displayTitle: `change ${key}`,
        pullRequestKey: key,
        status: merged ? 'MERGED' : 'OPEN',
        createdDate: created,
        mergedDate: merged?.toISOString(),
        mergeCommitSha: random() < 0.8 ? pick(shas) : undefined,
        baseRef: pick(['main', 'main', 'release', 'refs/heads/release']),
        deployment_id: random() < 0.3 && deploymentIds.length > 0 ? pick(deploymentIds) : undefined,
      });
    };

    for (let burst = 0; burst < 8; burst += 1) {
      const posts: Promise<{ status: number; body: unknown }>[] = [];
      for (let n = 0; n < 10; n += 1) {
        const kind = random();
        if (kind < 0.3) {
          const id = `d${deploymentIds.length}`;
          deploymentIds.push(id);
          posts.push(postDeployment(id));
        } else if (kind < 0.5 && deploymentIds.length > 0) {
          // A re-post: other dates, result, environment, commits and branch.
          posts.push(postDeployment(pick(deploymentIds)));
        } else if (kind < 0.8 || prKeys.length === 0) {
          const key = prKeys.length + 1;
          prKeys.push(key);
          posts.push(postPullRequest(key));
        } else {
          // A pull request posted again: merged later, another merge commit, another link.
          posts.push(postPullRequest(pick(prKeys)));
        }
      }
      // The same key twice in one burst may arrive in either order: each answer must still be 200.
      for (const res of await Promise.all(posts)) expect(res.status).toBe(200);
      await server.plugin.settled();
      const stored = normalised(await leadTimeRows(server.db.dataSource));
      expect(stored).toEqual(await rebuilt(server));
    }
    // One merged after every deployment: it waits for one.
    const late = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({
      id: 'late',
      displayTitle: 'late change',
      pullRequestKey: 999,
      status: 'MERGED',
      createdDate: '2026-04-10T00:00:00Z',
      mergedDate: '2026-04-11T00:00:00Z',
      baseRef: 'main',
    });
    expect(late.status).toBe(200);
    await server.plugin.settled();
    expect(normalised(await leadTimeRows(server.db.dataSource))).toEqual(await rebuilt(server));
    // The scenario exercised every rule, and a pull request waits.
    const rows = await leadTimeRows(server.db.dataSource);
    // DORA's figures from the rows, for windows of every width: counts, and the lower median
    // (found by the database from counts per bucket of minutes, then per minute).
    for (const days of [1, 3, 7, 12, 30]) {
      const from = new Date(START + 2 * DAY_MS);
      const to = new Date(from.getTime() + days * DAY_MS);
      const inWindow = (value: unknown) => {
        if (value === null || value === undefined) return false;
        const time = new Date(value instanceof Date ? value : `${String(value).replace(' ', 'T')}Z`).getTime();
        return time >= from.getTime() && time < to.getTime();
      };
      const deployed = rows.filter((row) => inWindow(row.deployed_date));
      const minutes = deployed.map((row) => Number(row.lead_time_minutes)).sort((a, b) => a - b);
      const merged = rows.filter((row) => inWindow(row.merged_date));
      expect(await leadTimeFigures(server.db.dataSource, [`webhook:${cid}`], from, to)).toEqual({
        changes: deployed.length,
        medianMinutes: minutes.length > 0 ? minutes[Math.floor((minutes.length - 1) / 2)] : null,
        byRule: {
          link: deployed.filter((row) => row.attributed_by === 'link').length,
          mergeCommit: deployed.filter((row) => row.attributed_by === 'mergeCommit').length,
          time: deployed.filter((row) => row.attributed_by === 'time').length,
        },
        mergedPullRequests: merged.length,
        withLeadTime: merged.filter((row) => row.deployed_date !== null).length,
      });
    }
    const rules = new Set(rows.map((row) => row.attributed_by));
    expect(rules).toEqual(new Set(['link', 'mergeCommit', 'time', null]));
  });

  it('attributes a pull request waiting on a branch when that branch is first deployed, after other branches were', async () => {
    const { id: cid } = await createConnection(server, 'first-release');
    const post = async (path: string, body: object) => {
      const res = await server.request.post(`${BASE}/connections/${cid}/${path}`).send(body);
      expect(res.status).toBe(200);
    };
    await post('pull_requests', {
      id: 'r1',
      displayTitle: 'release fix',
      pullRequestKey: 1,
      status: 'MERGED',
      createdDate: '2026-03-01T00:00:00Z',
      mergedDate: '2026-03-01T12:00:00Z',
      baseRef: 'release',
    });
    // main ships for days: none of these takes a change merged into release.
    for (let day = 2; day <= 5; day += 1) {
      await post('deployments', {
        id: `main-${day}`,
        startedDate: `2026-03-0${day}T09:00:00Z`,
        finishedDate: `2026-03-0${day}T10:00:00Z`,
        deploymentCommits: [{ repoUrl: REPO, commitSha: `${day}`.repeat(40), refName: 'refs/heads/main' }],
      });
    }
    await server.plugin.settled();
    const waiting = (await leadTimeRows(server.db.dataSource)).find((row) =>
      String(row.pull_request_id).endsWith(':1'),
    );
    expect(waiting?.attributed_by ?? null).toBeNull();
    // release's first deployment takes it by the time rule, though the merge is older than
    // every deployment before it.
    await post('deployments', {
      id: 'release-1',
      startedDate: '2026-03-06T09:00:00Z',
      finishedDate: '2026-03-06T10:00:00Z',
      deploymentCommits: [{ repoUrl: REPO, commitSha: '9'.repeat(40), refName: 'refs/heads/release' }],
    });
    await server.plugin.settled();
    const row = (await leadTimeRows(server.db.dataSource)).find(
      (r) => String(r.repo_id) === `webhook:${cid}` && String(r.pull_request_id).endsWith(':1'),
    );
    expect(row).toMatchObject({ cicd_deployment_id: `webhook:${cid}:release-1`, attributed_by: 'time' });
    expect(normalised(await leadTimeRows(server.db.dataSource))).toEqual(await rebuilt(server));
  });

  it("answers DORA with a write's lead time at once: the read waits for the background refresh", async () => {
    const { id: cid } = await createConnection(server, 'read-your-writes');
    const sha = 'f'.repeat(40);
    const pr = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({
      id: 'pr1',
      displayTitle: 'change 1',
      pullRequestKey: 1,
      status: 'MERGED',
      createdDate: '2026-03-02T10:00:00Z',
      mergedDate: '2026-03-03T10:00:00Z',
      mergeCommitSha: sha,
    });
    expect(pr.status).toBe(200);
    const deployment = await server.request.post(`${BASE}/connections/${cid}/deployments`).send({
      id: 'd1',
      startedDate: '2026-03-04T09:00:00Z',
      finishedDate: '2026-03-04T10:00:00Z',
      deploymentCommits: [{ repoUrl: REPO, commitSha: sha }],
    });
    expect(deployment.status).toBe(200);
    const dora = await server.request.get(
      `${BASE}/connections/${cid}/dora?from=2026-03-02T00:00:00Z&to=2026-03-16T00:00:00Z`,
    );
    expect(dora.status).toBe(200);
    // Two days from creation to the deployment.
    expect(dora.body.leadTimeForChanges).toMatchObject({
      changes: 1,
      medianMinutes: 2880,
      byRule: { link: 0, mergeCommit: 1, time: 0 },
    });
  });
});
