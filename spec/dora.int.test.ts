import { CicdDeploymentCommit } from '../src/deployments/deployment.entity';
import { rebuildDeploymentSummaries } from '../src/deployments/deployment-summary';
import { withTransaction } from '../src/db/transaction';
import { rebuildLeadTimes } from '../src/dora/lead-time.store';
import { Incident, IncidentDeploymentLink } from '../src/issues/issue.entity';
import { PullRequest } from '../src/pull-requests/pull-request.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const WINDOW = 'from=2026-03-02T00:00:00Z&to=2026-03-16T00:00:00Z';
const REPO = 'https://git.example.com/shop';

/** The worked example of dora-metrics.md, as a sender posts it. */
const EXAMPLE_DEPLOYMENTS = [
  { id: 'd1', finishedDate: '2026-03-02T10:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a1' },
  { id: 'd2', finishedDate: '2026-03-03T10:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a2' },
  { id: 'd3', finishedDate: '2026-03-03T15:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a3' },
  { id: 'd4', finishedDate: '2026-03-05T09:00:00Z', environment: 'PRODUCTION', result: 'FAILURE', sha: 'a4' },
  { id: 'd5', finishedDate: '2026-03-10T12:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a5' },
  { id: 'd6', finishedDate: '2026-03-11T08:00:00Z', environment: 'STAGING', result: 'SUCCESS', sha: 'a6' },
];
const EXAMPLE_INCIDENTS = [
  { issueKey: 'i1', createdDate: '2026-03-03T16:00:00Z', resolutionDate: '2026-03-03T18:00:00Z' },
  {
    issueKey: 'i2',
    createdDate: '2026-03-10T13:00:00Z',
    resolutionDate: '2026-03-10T14:30:00Z',
    deploymentId: 'd2',
  },
];
const EXAMPLE_PULL_REQUESTS = [
  { key: 1, createdDate: '2026-03-01T10:00:00Z', mergedDate: '2026-03-02T08:00:00Z', sha: 'a1' },
  { key: 2, createdDate: '2026-03-09T09:00:00Z', mergedDate: '2026-03-10T09:00:00Z', sha: 'a5' },
  { key: 3, createdDate: '2026-03-04T00:00:00Z', mergedDate: '2026-03-04T10:00:00Z', sha: 'a4' },
];

/** The example's table (dora-metrics.md "Worked example"), in the answer's shape. */
const EXAMPLE_METRICS_2023 = {
  from: '2026-03-02T00:00:00.000Z',
  to: '2026-03-16T00:00:00.000Z',
  benchmark: '2023',
  deploymentFrequency: {
    deployments: 4,
    deploymentDays: 3,
    medianDaysPerWeek: 1,
    // March is not whole in the window: 3 deployment days in 14, scaled to a month (30.4375 days).
    medianDaysPerMonth: 6.52,
    medianDaysPerSixMonths: 39.13,
    wholeUnits: { weeks: 2, months: 0, sixMonths: 0 },
    scaled: ['month', 'sixMonths'],
    level: 'high',
    note: null,
  },
  // pr1 → d1 and pr2 → d5 by their merge commits; pr3 (its merge commit only went out in the
  // failed d4) → d5, the first successful production deployment that started after its merge:
  // 03-04 00:00 → 03-10 12:00 = 9360 minutes. Lower median of [1440, 1620, 9360].
  leadTimeForChanges: {
    changes: 3,
    medianMinutes: 1620,
    level: 'high',
    byRule: { link: 0, mergeCommit: 2, time: 1 },
    coverage: { mergedPullRequests: 3, withLeadTime: 3, withoutLeadTime: 0 },
  },
  changeFailureRate: { deployments: 4, failedDeployments: 2, rate: 0.5, level: 'low' },
  recoveryTime: { incidents: 2, medianMinutes: 180, level: 'high' },
  weekly: [
    { weekStart: '2026-03-02', deployments: 3, deploymentDays: 2, incidents: 1 },
    { weekStart: '2026-03-09', deployments: 1, deploymentDays: 1, incidents: 1 },
  ],
};

async function postOk(server: TestServer, path: string, body: object): Promise<void> {
  const res = await server.request.post(`${BASE}${path}`).send(body);
  if (res.status !== 200) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Direct rows for the boundary cases: one commit row per sha, DevLake's columns. */
async function insertDeployment(
  server: TestServer,
  cid: number,
  id: string,
  commits: { sha: string; finished: string }[],
  environment = 'PRODUCTION',
  result = 'SUCCESS',
): Promise<void> {
  await server.db.dataSource.getRepository(CicdDeploymentCommit).insert(
    commits.map((commit) => ({
      id: `webhook:${cid}:${id}:0000000000000000:${commit.sha}`,
      commitSha: commit.sha,
      cicdScopeId: `webhook:${cid}`,
      cicdDeploymentId: `webhook:${cid}:${id}`,
      environment,
      result,
      createdDate: new Date(commit.finished),
      finishedDate: new Date(commit.finished),
      repoUrl: REPO,
    })),
  );
  // Rows written behind the plugin's back, as DevLake writes them: the summary is rebuilt.
  await rebuildDeploymentSummaries(server.db.dataSource);
}

async function insertIncident(
  server: TestServer,
  cid: number,
  key: string,
  created: string,
  resolved: string | null,
  deploymentId?: string,
): Promise<void> {
  const id = `webhook:${cid}:${key}`;
  await server.db.dataSource.getRepository(Incident).insert({
    id,
    incidentKey: key,
    table: 'boards',
    scopeId: `webhook:${cid}`,
    createdDate: new Date(created),
    resolutionDate: resolved ? new Date(resolved) : null,
  });
  if (deploymentId) {
    await server.db.dataSource
      .getRepository(IncidentDeploymentLink)
      .insert({ issueId: id, deploymentKey: deploymentId, cicdDeploymentId: `webhook:${cid}:${deploymentId}` });
  }
}

async function insertPullRequest(
  server: TestServer,
  cid: number,
  key: number,
  created: string,
  merged: string,
  sha: string,
): Promise<void> {
  await server.db.dataSource.getRepository(PullRequest).insert({
    id: `webhook:${cid}:${key}`,
    baseRepoId: `webhook:${cid}`,
    pullRequestKey: key,
    createdDate: new Date(created),
    mergedDate: new Date(merged),
    mergeCommitSha: sha,
  });
  // A row written behind the plugin's back (as DevLake's own plugins do) counts once the derived
  // tables are rebuilt, which is what `npm run rebuild-summary` does.
  await withTransaction(server.db.dataSource, (manager) => rebuildLeadTimes(manager));
}

describe('DORA metrics on request (dora-metrics.md, issue 8)', () => {
  let server: TestServer;
  let shop: { id: number; key: string };

  beforeAll(async () => {
    server = await startTestServer();
    shop = await createConnection(server, 'shop');
    for (const d of EXAMPLE_DEPLOYMENTS) {
      await postOk(server, `/connections/${shop.id}/deployments`, {
        id: d.id,
        result: d.result,
        environment: d.environment,
        startedDate: d.finishedDate,
        finishedDate: d.finishedDate,
        deploymentCommits: [{ repoUrl: REPO, commitSha: d.sha }],
      });
    }
    for (const i of EXAMPLE_INCIDENTS) {
      await postOk(server, `/connections/${shop.id}/issues`, {
        ...i,
        title: `incident ${i.issueKey}`,
        type: 'INCIDENT',
        status: 'DONE',
        originalStatus: 'Resolved',
      });
    }
    for (const pr of EXAMPLE_PULL_REQUESTS) {
      await postOk(server, `/connections/${shop.id}/pull_requests`, {
        id: `pr${pr.key}`,
        displayTitle: `change ${pr.key}`,
        pullRequestKey: pr.key,
        status: 'MERGED',
        createdDate: pr.createdDate,
        mergedDate: pr.mergedDate,
        mergeCommitSha: pr.sha,
      });
    }
  });
  afterAll(async () => server.close());

  it('gives the worked example’s table for data posted through the webhook routes', async () => {
    const res = await server.request.get(`${BASE}/connections/${shop.id}/dora?${WINDOW}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scope: { connectionId: shop.id }, ...EXAMPLE_METRICS_2023 });
  });

  it('answers the same in the by-name and short addressing forms', async () => {
    const byName = await server.request.get(`${BASE}/connections/by-name/shop/dora?${WINDOW}`);
    const short = await server.request.get(`${BASE}/${shop.id}/dora?${WINDOW}`);
    expect(byName.body).toEqual({ scope: { connectionId: shop.id }, ...EXAMPLE_METRICS_2023 });
    expect(short.body).toEqual(byName.body);
  });

  it('applies the 2021 benchmark: monthly deployment days make "high", time to restore is the incidents’ lead time', async () => {
    const res = await server.request.get(`${BASE}/connections/${shop.id}/dora?${WINDOW}&benchmark=2021`);
    expect(res.status).toBe(200);
    expect(res.body.benchmark).toBe('2021');
    expect(res.body.deploymentFrequency.level).toBe('high');
    expect(res.body.leadTimeForChanges).toMatchObject({ changes: 3, medianMinutes: 1620, level: 'high' });
    expect(res.body.changeFailureRate.level).toBe('low');
    // i1 took 120 minutes, i2 90: the lower median is 90.
    expect(res.body.recoveryTime).toEqual({ incidents: 2, medianMinutes: 90, level: 'high' });
  });

  it('answers null values and null levels for a window without data, with a zero for every week', async () => {
    const res = await server.request.get(
      `${BASE}/connections/${shop.id}/dora?from=2025-01-06T00:00:00Z&to=2025-01-20T00:00:00Z`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      deploymentFrequency: { deployments: 0, deploymentDays: 0, medianDaysPerWeek: null, level: null },
      leadTimeForChanges: { changes: 0, medianMinutes: null, level: null },
      changeFailureRate: { deployments: 0, failedDeployments: 0, rate: null, level: null },
      recoveryTime: { incidents: 0, medianMinutes: null, level: null },
      weekly: [
        { weekStart: '2025-01-06', deployments: 0, deploymentDays: 0, incidents: 0 },
        { weekStart: '2025-01-13', deployments: 0, deploymentDays: 0, incidents: 0 },
      ],
    });
  });

  it('counts a deployment with several commits once, at the latest finish of its rows', async () => {
    const { id } = await createConnection(server, 'multi-commit');
    await insertDeployment(server, id, 'big', [
      { sha: 'c1', finished: '2026-03-02T23:00:00Z' },
      { sha: 'c2', finished: '2026-03-03T01:00:00Z' },
      { sha: 'c3', finished: '2026-03-02T22:00:00Z' },
    ]);
    // Merged before the first row finished; deployed when the last one did.
    await insertPullRequest(server, id, 1, '2026-03-02T01:00:00Z', '2026-03-02T02:00:00Z', 'c3');
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.deploymentFrequency).toMatchObject({ deployments: 1, deploymentDays: 1 });
    expect(res.body.weekly[0]).toEqual({ weekStart: '2026-03-02', deployments: 1, deploymentDays: 1, incidents: 0 });
    expect(res.body.leadTimeForChanges).toMatchObject({ changes: 1, medianMinutes: 1440, level: 'high' });
  });

  it('excludes STAGING and FAILURE deployments from every metric and from the incident rule', async () => {
    const { id } = await createConnection(server, 'excluded');
    await insertDeployment(server, id, 'ok', [{ sha: 'e1', finished: '2026-03-02T10:00:00Z' }]);
    await insertDeployment(server, id, 'staging', [{ sha: 'e2', finished: '2026-03-04T10:00:00Z' }], 'STAGING');
    await insertDeployment(
      server,
      id,
      'failed',
      [{ sha: 'e3', finished: '2026-03-05T10:00:00Z' }],
      'PRODUCTION',
      'FAILURE',
    );
    // Latest counted deployment before it is "ok", not the later staging or failed ones.
    await insertIncident(server, id, 'inc', '2026-03-06T00:00:00Z', '2026-03-06T10:00:00Z');
    await insertPullRequest(server, id, 1, '2026-03-04T00:00:00Z', '2026-03-04T09:00:00Z', 'e2');
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.deploymentFrequency).toMatchObject({ deployments: 1, deploymentDays: 1 });
    expect(res.body.changeFailureRate).toEqual({ deployments: 1, failedDeployments: 1, rate: 1, level: 'low' });
    // 2026-03-02T10:00 → 2026-03-06T10:00.
    expect(res.body.recoveryTime).toEqual({ incidents: 1, medianMinutes: 5760, level: 'medium' });
    expect(res.body.leadTimeForChanges.changes).toBe(0);
  });

  it('links incidents created before any deployment to none, but still counts them per week', async () => {
    const { id } = await createConnection(server, 'incidents-first');
    await insertIncident(server, id, 'early', '2026-03-02T08:00:00Z', '2026-03-02T09:00:00Z');
    await insertIncident(server, id, 'same-instant', '2026-03-03T10:00:00Z', '2026-03-03T11:00:00Z');
    await insertDeployment(server, id, 'first', [{ sha: 'f1', finished: '2026-03-03T10:00:00Z' }]);
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.changeFailureRate).toEqual({ deployments: 1, failedDeployments: 0, rate: 0, level: 'elite' });
    expect(res.body.recoveryTime).toEqual({ incidents: 0, medianMinutes: null, level: null });
    expect(res.body.weekly[0].incidents).toBe(2);
  });

  it('falls back to the time rule when the named deployment is not a counted one, but not when it is before the window', async () => {
    const { id } = await createConnection(server, 'named-links');
    await insertDeployment(server, id, 'before', [{ sha: 'n0', finished: '2026-02-20T10:00:00Z' }]);
    await insertDeployment(server, id, 'good', [{ sha: 'n1', finished: '2026-03-02T10:00:00Z' }]);
    await insertDeployment(
      server,
      id,
      'bad',
      [{ sha: 'n2', finished: '2026-03-03T10:00:00Z' }],
      'PRODUCTION',
      'FAILURE',
    );
    await insertDeployment(server, id, 'later', [{ sha: 'n3', finished: '2026-03-09T10:00:00Z' }]);
    // Names a failed deployment: DevLake's rule links it to "good".
    await insertIncident(server, id, 'names-failed', '2026-03-04T00:00:00Z', '2026-03-04T10:00:00Z', 'bad');
    // Names an unknown deployment: the time rule again ("good").
    await insertIncident(server, id, 'names-unknown', '2026-03-05T00:00:00Z', null, 'nope');
    // Names a counted deployment before the window: linked there, so not to "later".
    await insertIncident(server, id, 'names-old', '2026-03-10T00:00:00Z', '2026-03-10T01:00:00Z', 'before');
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.changeFailureRate).toMatchObject({ deployments: 2, failedDeployments: 1, rate: 0.5 });
    // Only names-failed is resolved: 2026-03-02T10:00 → 2026-03-04T10:00.
    expect(res.body.recoveryTime).toEqual({ incidents: 1, medianMinutes: 2880, level: 'medium' });
  });

  it('counts an incident created after the window against the last deployment in the window', async () => {
    const { id } = await createConnection(server, 'late-incident');
    await insertDeployment(server, id, 'last', [{ sha: 'l1', finished: '2026-03-15T10:00:00Z' }]);
    await insertIncident(server, id, 'after', '2026-03-17T00:00:00Z', null);
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.changeFailureRate).toMatchObject({ deployments: 1, failedDeployments: 1 });
    expect(res.body.weekly.map((w: { incidents: number }) => w.incidents)).toEqual([0, 0]);
  });

  it('takes lead time from the first deployment after the merge: a redeploy in the window does not count a change shipped before it', async () => {
    const { id } = await createConnection(server, 'redeploy');
    await insertDeployment(server, id, 'v1', [{ sha: 'r1', finished: '2026-02-25T10:00:00Z' }]);
    await insertDeployment(server, id, 'v1-again', [{ sha: 'r1', finished: '2026-03-03T10:00:00Z' }]);
    await insertDeployment(server, id, 'v2-early', [{ sha: 'r2', finished: '2026-03-04T10:00:00Z' }]);
    await insertDeployment(server, id, 'v2', [{ sha: 'r2', finished: '2026-03-05T10:00:00Z' }]);
    await insertPullRequest(server, id, 1, '2026-02-24T10:00:00Z', '2026-02-25T09:00:00Z', 'r1');
    // Merged after v2-early already carried the commit: deployed by v2, 2 days after creation.
    await insertPullRequest(server, id, 2, '2026-03-03T10:00:00Z', '2026-03-04T12:00:00Z', 'r2');
    const res = await server.request.get(`${BASE}/connections/${id}/dora?${WINDOW}`);
    expect(res.body.leadTimeForChanges).toMatchObject({ changes: 1, medianMinutes: 2880, level: 'high' });
  });

  it('keeps connections apart: another connection’s rows never count', async () => {
    const { id } = await createConnection(server, 'neighbour');
    await insertDeployment(server, id, 'd1', [{ sha: 'a1', finished: '2026-03-02T09:00:00Z' }]);
    await insertIncident(server, id, 'i9', '2026-03-02T09:30:00Z', '2026-03-02T09:45:00Z');
    const res = await server.request.get(`${BASE}/connections/${shop.id}/dora?${WINDOW}`);
    expect(res.body).toEqual({ scope: { connectionId: shop.id }, ...EXAMPLE_METRICS_2023 });
  });

  it.each([
    ['from', 'from=last-week'],
    ['to', 'to=2026-03-16T00:00:00%2B25:00'],
    ['benchmark', 'benchmark=2019'],
    ['to', 'from=2026-03-16&to=2026-03-02'],
  ])('answers 400 in the envelope naming %s (%s)', async (field, query) => {
    const res = await server.request.get(`${BASE}/connections/${shop.id}/dora?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, data: null });
    expect(res.body.causes.map((c: { field: string }) => c.field)).toEqual([field]);
  });

  it("refuses a connection's own key (it only posts data) and answers 404 for an unknown connection", async () => {
    const res = await server.request
      .get(`${BASE}/connections/${shop.id}/dora?${WINDOW}`)
      .set('Authorization', `Bearer ${shop.key}`);
    expect(res.status).toBe(403);
    expect((await server.request.get(`${BASE}/connections/99999/dora`)).status).toBe(404);
  });
});
