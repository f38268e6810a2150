import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';

/** Every table an ingestion route may write (the dry run must leave each as it was). */
const WRITTEN_TABLES = [
  'cicd_deployments',
  'cicd_deployment_commits',
  'issues',
  'boards',
  'board_issues',
  'issue_assignees',
  'incidents',
  'incident_assignees',
  'pull_requests',
  '_tool_webhook_incident_deployments',
  '_tool_webhook_pull_request_deployments',
];

const DEPLOYMENT = {
  id: 'deploy-1',
  startedDate: '2026-03-02T10:00:00Z',
  finishedDate: '2026-03-02T10:05:00Z',
  deploymentCommits: [{ commitSha: 'a'.repeat(40), repoUrl: 'https://git.example.com/shop', refName: 'main' }],
};
const INCIDENT = {
  issueKey: 'INC-1',
  title: 'Checkout down',
  type: 'INCIDENT',
  status: 'TODO',
  originalStatus: 'open',
  createdDate: '2026-03-02T11:00:00Z',
  assigneeId: 'ada',
  assigneeName: 'Ada',
};
const PULL_REQUEST = {
  id: 'pr-42',
  displayTitle: 'Add the checkout page',
  pullRequestKey: 42,
  createdDate: '2026-03-01T10:00:00Z',
  mergedDate: '2026-03-02T08:00:00Z',
  status: 'MERGED',
};

describe('?dryRun=true on ingestion routes: same validation and answer, rows in data, nothing written', () => {
  let server: TestServer;
  let cid: number;

  beforeAll(async () => {
    server = await startTestServer();
    ({ id: cid } = await createConnection(server, 'dry'));
  });
  afterAll(async () => server.close());

  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of WRITTEN_TABLES) {
      const [row] = (await runSql(server.db.dataSource, `SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }[];
      out[table] = Number(row.n);
    }
    return out;
  }

  it('a deployment dry run answers the ids a real post answers, with the rows, and writes nothing', async () => {
    const before = await counts();
    const dry = await server.request.post(`${BASE}/${cid}/deployments?dryRun=true`).send(DEPLOYMENT);
    expect(dry.status).toBe(200);
    expect(dry.body.data.dryRun).toBe(true);
    expect(dry.body.data.rows.cicd_deployments).toEqual([
      expect.objectContaining({ id: `webhook:${cid}:deploy-1`, result: 'SUCCESS', environment: 'PRODUCTION' }),
    ]);
    expect(dry.body.data.rows.cicd_deployment_commits).toEqual([
      expect.objectContaining({ commit_sha: 'a'.repeat(40), cicd_deployment_id: `webhook:${cid}:deploy-1` }),
    ]);
    expect(await counts()).toEqual(before);

    const real = await server.request.post(`${BASE}/${cid}/deployments`).send(DEPLOYMENT);
    const { dryRun: _dryRun, rows: _rows, ...answer } = dry.body.data;
    expect(real.body.data).toEqual(answer);
    expect((await counts()).cicd_deployment_commits).toBe(before.cicd_deployment_commits + 1);
  });

  it('an invalid body answers the same 400 with or without dryRun', async () => {
    const bad = { ...DEPLOYMENT, deploymentCommits: [{ repoUrl: 'https://git.example.com/shop' }] };
    const dry = await server.request.post(`${BASE}/${cid}/deployments?dryRun=true`).send(bad);
    const real = await server.request.post(`${BASE}/${cid}/deployments`).send(bad);
    expect(dry.status).toBe(400);
    // Each answer names its own request; everything else is the same.
    const { requestId: _dryId, ...dryAnswer } = dry.body;
    const { requestId: _realId, ...realAnswer } = real.body;
    expect(dryAnswer).toEqual(realAnswer);
  });

  it('an incident dry run lists the issue, board, incident and assignee rows and writes none of them', async () => {
    const before = await counts();
    const res = await server.request.post(`${BASE}/${cid}/issues?dryRun=true`).send(INCIDENT);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ issueId: `webhook:${cid}:INC-1`, incidentId: `webhook:${cid}:INC-1` });
    expect(Object.keys(res.body.data.rows).sort()).toEqual(
      ['board_issues', 'boards', 'incident_assignees', 'incidents', 'issue_assignees', 'issues'].sort(),
    );
    expect(await counts()).toEqual(before);
  });

  it('a close dry run of an unknown issue answers 404 as a real close does; of a known one, the changes', async () => {
    const missing = await server.request.post(`${BASE}/${cid}/issue/NOPE-1/close?dryRun=true`);
    expect(missing.status).toBe(404);

    await server.request.post(`${BASE}/${cid}/issues`).send(INCIDENT).expect(200);
    const before = await counts();
    const res = await server.request.post(`${BASE}/${cid}/issue/INC-1/close?dryRun=true`);
    expect(res.status).toBe(200);
    expect(res.body.data.rows.issues).toEqual([
      expect.objectContaining({ id: `webhook:${cid}:INC-1`, status: 'DONE' }),
    ]);
    expect(res.body.data.rows.incidents).toEqual([expect.objectContaining({ status: 'DONE' })]);
    expect(await counts()).toEqual(before);
    const [issue] = (await runSql(server.db.dataSource, 'SELECT status FROM issues WHERE id = ?', [
      `webhook:${cid}:INC-1`,
    ])) as { status: string }[];
    expect(issue.status).toBe('TODO');
  });

  it('a pull request dry run lists the pull_requests row and writes nothing', async () => {
    const before = await counts();
    const res = await server.request.post(`${BASE}/${cid}/pull_requests?dryRun=true`).send(PULL_REQUEST);
    expect(res.status).toBe(200);
    expect(res.body.data.rows.pull_requests).toEqual([
      expect.objectContaining({ id: `webhook:${cid}:42`, title: 'Add the checkout page' }),
    ]);
    expect(await counts()).toEqual(before);
  });

  it('a dry run is no delivery: the event log keeps the real post only', async () => {
    const events = async () => {
      await server.plugin.services.events.flush();
      const [row] = (await runSql(server.db.dataSource, 'SELECT COUNT(*) AS n FROM _raw_webhook_events')) as {
        n: number;
      }[];
      return Number(row.n);
    };
    const before = await events();
    await server.request.post(`${BASE}/${cid}/deployments?dryRun=true`).send(DEPLOYMENT).expect(200);
    await server.request.post(`${BASE}/${cid}/deployments`).send(DEPLOYMENT).expect(200);
    expect(await events()).toBe(before + 1);
  });

  it('answers 400 naming dryRun when it is neither true nor false, and writes nothing', async () => {
    const before = await counts();
    const res = await server.request.post(`${BASE}/${cid}/deployments?dryRun=maybe`).send(DEPLOYMENT);
    expect(res.status).toBe(400);
    expect(res.body.causes).toEqual([{ field: 'dryRun', message: 'dryRun must be true or false' }]);
    expect(await counts()).toEqual(before);
  });
});
