import { dialectOf } from '../src/db/dialect';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const WINDOW = 'from=2026-03-02T00:00:00Z&to=2026-03-16T00:00:00Z';
const REPO = 'https://git.example.com/shop';

interface Deploy {
  id: string;
  started?: string;
  finished: string;
  sha: string;
  ref?: string;
  environment?: string;
  result?: string;
  pullRequestKeys?: number[];
}

interface Pr {
  key: number;
  created: string;
  merged?: string;
  sha?: string;
  baseRef?: string;
  deploymentId?: string;
}

async function postOk(server: TestServer, path: string, body: object): Promise<void> {
  const res = await server.request.post(`${BASE}${path}`).send(body);
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
}

async function deploy(server: TestServer, cid: number, d: Deploy): Promise<void> {
  await postOk(server, `/connections/${cid}/deployments`, {
    id: d.id,
    environment: d.environment ?? 'PRODUCTION',
    result: d.result ?? 'SUCCESS',
    startedDate: d.started,
    finishedDate: d.finished,
    pull_request_keys: d.pullRequestKeys,
    deploymentCommits: [{ repoUrl: REPO, commitSha: d.sha, refName: d.ref ?? 'refs/heads/main' }],
  });
}

async function pullRequest(server: TestServer, cid: number, pr: Pr): Promise<void> {
  await postOk(server, `/connections/${cid}/pull_requests`, {
    id: `pr${pr.key}`,
    displayTitle: `change ${pr.key}`,
    pullRequestKey: pr.key,
    status: pr.merged ? 'MERGED' : 'OPEN',
    createdDate: pr.created,
    mergedDate: pr.merged,
    mergeCommitSha: pr.sha,
    baseRef: pr.baseRef ?? 'main',
    deployment_id: pr.deploymentId,
  });
}

async function leadTime(server: TestServer, path: string, window = WINDOW) {
  const res = await server.request.get(`${BASE}${path}/dora?${window}`);
  expect(res.status).toBe(200);
  return res.body.leadTimeForChanges;
}

interface MetricRow {
  id: string;
  project_name: string;
  deployment_commit_id: string | null;
  pr_cycle_time: number | string | null;
  pr_deploy_time: number | string | null;
}

describe('lead time attribution (docs/dora.md "Lead time for changes")', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('exact match: a deployment carrying the merge commit wins over an earlier deployment of the branch', async () => {
    const { id } = await createConnection(server, 'exact');
    await deploy(server, id, { id: 'd1', finished: '2026-03-03T10:00:00Z', sha: 'other' });
    await deploy(server, id, { id: 'd2', finished: '2026-03-05T10:00:00Z', sha: 'm1' });
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T09:00:00Z',
      merged: '2026-03-02T10:00:00Z',
      sha: 'm1',
    });
    // 03-02 09:00 → 03-05 10:00 = 4380 minutes (d1, the time rule's pick, would give 1500).
    expect(await leadTime(server, `/connections/${id}`)).toMatchObject({
      changes: 1,
      medianMinutes: 4380,
      byRule: { link: 0, mergeCommit: 1, time: 0 },
    });
  });

  it('time rule, branch-aware: a batch deployment ships every earlier merge of its branch, not another branch’s', async () => {
    const { id } = await createConnection(server, 'batched');
    await deploy(server, id, {
      id: 'd1',
      started: '2026-03-02T12:00:00Z',
      finished: '2026-03-02T12:30:00Z',
      sha: 'h0',
    });
    await deploy(server, id, {
      id: 'rel',
      started: '2026-03-03T12:00:00Z',
      finished: '2026-03-03T12:30:00Z',
      sha: 'r1',
      ref: 'origin/release',
    });
    // The batch: its rows name only the last merge's commit.
    await deploy(server, id, {
      id: 'd2',
      started: '2026-03-04T12:00:00Z',
      finished: '2026-03-04T12:30:00Z',
      sha: 'h3',
    });
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T10:00:00Z',
      merged: '2026-03-02T13:00:00Z',
      sha: 'h1',
    });
    await pullRequest(server, id, {
      key: 2,
      created: '2026-03-03T09:00:00Z',
      merged: '2026-03-03T10:00:00Z',
      sha: 'h2',
    });
    await pullRequest(server, id, {
      key: 3,
      created: '2026-03-04T09:00:00Z',
      merged: '2026-03-04T11:00:00Z',
      sha: 'h3',
    });
    // Merged into release: shipped by "rel", not by d2.
    await pullRequest(server, id, {
      key: 4,
      created: '2026-03-03T08:00:00Z',
      merged: '2026-03-03T09:00:00Z',
      sha: 'r1x',
      baseRef: 'release',
    });
    // A merge during d1 (started 12:00) waits for d2.
    await pullRequest(server, id, {
      key: 5,
      created: '2026-03-02T11:00:00Z',
      merged: '2026-03-02T12:10:00Z',
      sha: 'h05',
    });
    const result = await leadTime(server, `/connections/${id}`);
    // pr1 03-02 10:00 → 03-04 12:30 = 3030; pr2 1650; pr3 210 (merge commit); pr4 → rel 270; pr5 2490.
    expect(result).toMatchObject({
      changes: 5,
      medianMinutes: 1650,
      byRule: { link: 0, mergeCommit: 1, time: 4 },
      coverage: { mergedPullRequests: 5, withLeadTime: 5, withoutLeadTime: 0 },
    });
  });

  it('explicit link: a pull request naming a deployment, and a deployment naming pull requests, win over both rules', async () => {
    const { id } = await createConnection(server, 'linked');
    await deploy(server, id, { id: 'd1', finished: '2026-03-03T10:00:00Z', sha: 'a1' });
    await deploy(server, id, { id: 'd2', finished: '2026-03-05T10:00:00Z', sha: 'x' });
    await deploy(server, id, { id: 'd3', finished: '2026-03-09T10:00:00Z', sha: 'y', pullRequestKeys: [2] });
    // Its merge commit is in d1, but it names d2.
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T10:00:00Z',
      merged: '2026-03-02T11:00:00Z',
      sha: 'a1',
      deploymentId: 'd2',
    });
    // The time rule would take d1; d3 names it.
    await pullRequest(server, id, {
      key: 2,
      created: '2026-03-02T10:00:00Z',
      merged: '2026-03-02T11:00:00Z',
      sha: 'b1',
    });
    const result = await leadTime(server, `/connections/${id}`);
    // pr1 03-02 10:00 → 03-05 10:00 = 4320; pr2 → 03-09 10:00 = 10080.
    expect(result).toMatchObject({ changes: 2, medianMinutes: 4320, byRule: { link: 2, mergeCommit: 0, time: 0 } });

    // A re-post without the key removes the deployment's link: pr2 falls back to the time rule (d1).
    await deploy(server, id, { id: 'd3', finished: '2026-03-09T10:00:00Z', sha: 'y' });
    expect(await leadTime(server, `/connections/${id}`)).toMatchObject({
      byRule: { link: 1, mergeCommit: 0, time: 1 },
      medianMinutes: 1440,
    });
  });

  it('no deployment yet: a merge after the last production deployment, or shipped only to staging or by a failed run, has no lead time and counts as uncovered', async () => {
    const { id } = await createConnection(server, 'waiting');
    await deploy(server, id, { id: 'd1', finished: '2026-03-03T10:00:00Z', sha: 'a1' });
    await deploy(server, id, { id: 'stg', finished: '2026-03-06T10:00:00Z', sha: 'b1', environment: 'STAGING' });
    await deploy(server, id, { id: 'bad', finished: '2026-03-07T10:00:00Z', sha: 'b1', result: 'FAILURE' });
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T10:00:00Z',
      merged: '2026-03-02T11:00:00Z',
      sha: 'a1',
    });
    await pullRequest(server, id, {
      key: 2,
      created: '2026-03-05T10:00:00Z',
      merged: '2026-03-05T11:00:00Z',
      sha: 'b1',
    });
    await pullRequest(server, id, { key: 3, created: '2026-03-05T10:00:00Z' });
    expect(await leadTime(server, `/connections/${id}`)).toMatchObject({
      changes: 1,
      coverage: { mergedPullRequests: 2, withLeadTime: 1, withoutLeadTime: 1 },
    });
    // Deployed after the window: covered (its lead time counts in a later window), not in this median.
    await deploy(server, id, { id: 'd2', finished: '2026-03-20T10:00:00Z', sha: 'c1' });
    expect(await leadTime(server, `/connections/${id}`)).toMatchObject({
      changes: 1,
      coverage: { mergedPullRequests: 2, withLeadTime: 2, withoutLeadTime: 0 },
    });
  });

  it('counts a merge before the window deployed in it, but not one shipped before the window', async () => {
    const { id } = await createConnection(server, 'across-edge');
    await deploy(server, id, { id: 'd0', finished: '2026-02-25T10:00:00Z', sha: 'z0' });
    await deploy(server, id, { id: 'd1', finished: '2026-03-03T10:00:00Z', sha: 'z9' });
    // Shipped by d0 (before the window).
    await pullRequest(server, id, {
      key: 1,
      created: '2026-02-24T10:00:00Z',
      merged: '2026-02-24T11:00:00Z',
      sha: 'z1',
    });
    // Merged after d0, before the window: shipped by d1 in it.
    await pullRequest(server, id, {
      key: 2,
      created: '2026-02-27T10:00:00Z',
      merged: '2026-02-27T11:00:00Z',
      sha: 'z2',
    });
    expect(await leadTime(server, `/connections/${id}`)).toMatchObject({
      changes: 1,
      medianMinutes: 4 * 1440,
      coverage: { mergedPullRequests: 0, withLeadTime: 0, withoutLeadTime: 0 },
    });
  });

  it('rejects pullRequestKeys that are not whole numbers, naming the field', async () => {
    const { id } = await createConnection(server, 'bad-keys');
    const res = await server.request.post(`${BASE}/connections/${id}/deployments`).send({
      id: 'd',
      pullRequestKeys: [1, 'two'],
      deploymentCommits: [{ repoUrl: REPO, commitSha: 'a' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.causes.map((c: { field: string }) => c.field)).toEqual(['pullRequestKeys']);
  });
});

describe("DevLake's project_pr_metrics, kept current", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  /** The rows once the background refresh has taken every write answered so far. */
  async function metrics(projectName: string): Promise<Map<string, MetricRow>> {
    await server.plugin.settled();
    const rows = await runSql<MetricRow[]>(
      server.db.dataSource,
      'SELECT id, project_name, deployment_commit_id, pr_cycle_time, pr_deploy_time FROM project_pr_metrics WHERE project_name = ?',
      [projectName],
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  /** What DevLake's dashboard computes: the lower median of pr_cycle_time of PRs deployed in the window. */
  async function dashboardLeadTime(projectName: string): Promise<number | null> {
    const [sql, parameters] = server.db.dataSource.driver.escapeQueryWithParameters(
      `SELECT DISTINCT pr.id, ppm.pr_cycle_time AS t FROM pull_requests pr
         JOIN project_mapping pm ON pr.base_repo_id = pm.row_id AND pm.${dialectOf(server.db.dataSource).quote('table')} = 'repos'
         JOIN project_pr_metrics ppm ON ppm.id = pr.id AND ppm.project_name = pm.project_name
         JOIN cicd_deployment_commits cdc ON ppm.deployment_commit_id = cdc.id
        WHERE pm.project_name = :projectName AND pr.merged_date IS NOT NULL AND ppm.pr_cycle_time IS NOT NULL
          AND cdc.finished_date >= :from AND cdc.finished_date < :to`,
      { projectName, from: new Date('2026-03-02T00:00:00Z'), to: new Date('2026-03-16T00:00:00Z') },
    );
    const rows: { t: number | string }[] = await server.db.dataSource.query(sql, parameters);
    const sorted = rows.map((r) => Number(r.t)).sort((a, b) => a - b);
    return sorted.length === 0 ? null : sorted[Math.floor((sorted.length - 1) / 2)];
  }

  it('writes a row per merged pull request as pull requests and deployments arrive, with the same attribution as /dora', async () => {
    const res = await server.request.post(`${BASE}/connections`).send({ name: 'web', projectName: 'Shop' });
    const id = res.body.id as number;
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T09:00:00Z',
      merged: '2026-03-02T10:00:00Z',
      sha: 'a1',
    });
    await pullRequest(server, id, { key: 2, created: '2026-03-05T09:00:00Z' });
    let rows = await metrics('Shop');
    // Merged, not yet deployed: a row without a deployment, cycle time so far (created → merged).
    expect([...rows.keys()]).toEqual([`webhook:${id}:1`]);
    expect(rows.get(`webhook:${id}:1`)).toMatchObject({ deployment_commit_id: null, pr_deploy_time: null });
    expect(Number(rows.get(`webhook:${id}:1`)?.pr_cycle_time)).toBe(60);

    // A batch deployment naming another commit: the time rule attributes pull request 1.
    await deploy(server, id, {
      id: 'd1',
      started: '2026-03-03T10:00:00Z',
      finished: '2026-03-03T10:30:00Z',
      sha: 'zz',
    });
    rows = await metrics('Shop');
    expect(rows.get(`webhook:${id}:1`)?.deployment_commit_id).toMatch(new RegExp(`^webhook:${id}:d1:[0-9a-f]{16}:zz$`));
    // 60 (created → merged) + 1470 (merged → deployed).
    expect(Number(rows.get(`webhook:${id}:1`)?.pr_cycle_time)).toBe(1530);
    expect(Number(rows.get(`webhook:${id}:1`)?.pr_deploy_time)).toBe(1470);

    // A later deployment with its merge commit takes it (exact match wins).
    await deploy(server, id, { id: 'd2', finished: '2026-03-04T10:00:00Z', sha: 'a1' });
    rows = await metrics('Shop');
    expect(rows.get(`webhook:${id}:1`)?.deployment_commit_id).toMatch(new RegExp(`^webhook:${id}:d2:[0-9a-f]{16}:a1$`));

    // d2 turns out failed: back to d1.
    await deploy(server, id, { id: 'd2', finished: '2026-03-04T10:00:00Z', sha: 'a1', result: 'FAILURE' });
    rows = await metrics('Shop');
    expect(rows.get(`webhook:${id}:1`)?.deployment_commit_id).toMatch(new RegExp(`^webhook:${id}:d1:`));

    // Pull request 2 merges later and is deployed: the dashboard's median matches /dora's.
    await pullRequest(server, id, {
      key: 2,
      created: '2026-03-05T09:00:00Z',
      merged: '2026-03-05T11:00:00Z',
      sha: 'b1',
    });
    await deploy(server, id, { id: 'd3', finished: '2026-03-06T11:00:00Z', sha: 'b1' });
    rows = await metrics('Shop');
    expect(Number(rows.get(`webhook:${id}:2`)?.pr_cycle_time)).toBe(1560);
    const dora = await leadTime(server, '/projects/Shop');
    expect(dora.changes).toBe(2);
    expect(await dashboardLeadTime('Shop')).toBe(dora.medianMinutes);
  });

  it('rebuilds rows when a connection is linked, moved to another project and unlinked', async () => {
    const { id } = await createConnection(server, 'api');
    await deploy(server, id, { id: 'd1', finished: '2026-03-03T10:00:00Z', sha: 'zz' });
    await pullRequest(server, id, {
      key: 7,
      created: '2026-03-02T09:00:00Z',
      merged: '2026-03-02T10:00:00Z',
      sha: 'q',
    });
    const pr = `webhook:${id}:7`;
    expect((await metrics('Backend')).size).toBe(0);

    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: 'Backend' }).expect(200);
    expect((await metrics('Backend')).get(pr)?.deployment_commit_id).toMatch(new RegExp(`^webhook:${id}:d1:`));

    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: 'Platform' }).expect(200);
    expect((await metrics('Backend')).has(pr)).toBe(false);
    expect((await metrics('Platform')).has(pr)).toBe(true);

    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: null }).expect(200);
    expect((await metrics('Platform')).has(pr)).toBe(false);
  });

  it('leaves the rows of other projects and of connections in no project alone', async () => {
    const { id } = await createConnection(server, 'loner');
    await pullRequest(server, id, {
      key: 1,
      created: '2026-03-02T09:00:00Z',
      merged: '2026-03-02T10:00:00Z',
      sha: 'l1',
    });
    const rows = await runSql<{ n: number | string }[]>(
      server.db.dataSource,
      'SELECT COUNT(*) AS n FROM project_pr_metrics WHERE id = ?',
      [`webhook:${id}:1`],
    );
    expect(Number(rows[0].n)).toBe(0);
    expect((await metrics('Shop')).size).toBe(2);
  });
});
