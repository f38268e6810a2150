import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const REPO = 'https://git.example.com/shop';

/** A one-commit deployment in DevLake v0.14's snake_case form. */
const deployment = (n: number) => ({
  id: `deploy-${n}`,
  commit_sha: n.toString(16).padStart(40, '0'),
  repo_url: REPO,
  start_time: '2026-03-02T10:00:00Z',
  end_time: '2026-03-02T10:05:00Z',
});
const ISSUE = {
  issueKey: 'INC-7',
  title: 'Checkout down',
  type: 'INCIDENT',
  status: 'TODO',
  originalStatus: 'open',
  createdDate: '2026-03-02T11:00:00Z',
};

describe('POST X/batch: many records, one result each, one bad record does not sink the rest', () => {
  let server: TestServer;
  let cid: number;

  beforeAll(async () => {
    server = await startTestServer({ batchBodyLimitBytes: 64 * 1024 });
    ({ id: cid } = await createConnection(server, 'batch'));
  });
  afterAll(async () => server.close());

  const count = async (table: string, where = '1 = 1', params: unknown[] = []) => {
    const [row] = (await runSql(server.db.dataSource, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, params)) as {
      n: number;
    }[];
    return Number(row.n);
  };

  it('writes the valid records of a JSON array and names the causes of the refused ones by index', async () => {
    const records = [
      deployment(1),
      { ...deployment(2), commit_sha: undefined },
      deployment(3),
      { kind: 'bogus' },
      ISSUE,
      { kind: 'close', issueKey: 'INC-7' },
      { kind: 'close', issueKey: 'NOPE-1' },
      {
        id: 'pr-1',
        displayTitle: 'Checkout',
        pullRequestKey: 5,
        createdDate: '2026-03-01T10:00:00Z',
      },
    ];
    const res = await server.request.post(`${BASE}/${cid}/batch`).send(records);
    expect(res.status).toBe(200);
    const { received, written, refused, results } = res.body.data;
    expect({ received, written, refused }).toEqual({ received: 8, written: 5, refused: 3 });
    expect(results.map((r: { status: number }) => r.status)).toEqual([200, 400, 200, 400, 200, 200, 404, 200]);
    expect(results[1].causes).toEqual([expect.objectContaining({ field: 'commit_sha' })]);
    expect(results[3].causes).toEqual([expect.objectContaining({ field: 'kind' })]);
    expect(results[0].ids).toMatchObject({ deploymentId: `webhook:${cid}:deploy-1` });
    expect(results[7]).toMatchObject({ kind: 'pull_request', ids: { pullRequestId: `webhook:${cid}:5` } });

    expect(await count('cicd_deployments', 'cicd_scope_id = ?', [`webhook:${cid}`])).toBe(2);
    expect(await count('cicd_deployment_commits', 'cicd_scope_id = ?', [`webhook:${cid}`])).toBe(2);
    // The issue, then its close, in the order sent.
    const [issue] = (await runSql(server.db.dataSource, 'SELECT status FROM issues WHERE id = ?', [
      `webhook:${cid}:INC-7`,
    ])) as { status: string }[];
    expect(issue.status).toBe('DONE');
  });

  it('reads NDJSON, answering a bad line by its line number while the others are written', async () => {
    const body = [JSON.stringify(deployment(10)), '{not json', '', JSON.stringify(deployment(11))].join('\n');
    const res = await server.request
      .post(`${BASE}/${cid}/batch`)
      .set('Content-Type', 'application/x-ndjson')
      .send(body);
    expect(res.status).toBe(200);
    expect(res.body.data.results).toEqual([
      expect.objectContaining({ index: 0, line: 1, status: 200 }),
      expect.objectContaining({ index: 1, line: 2, status: 400, message: expect.stringContaining('line 2') }),
      expect.objectContaining({ index: 2, line: 4, status: 200 }),
    ]);
    expect(
      await count('cicd_deployments', 'id IN (?, ?)', [`webhook:${cid}:deploy-10`, `webhook:${cid}:deploy-11`]),
    ).toBe(2);
  });

  it('a record the database refuses is answered alone; the rest of its transaction is written', async () => {
    // Valid for the DTO, too long for DevLake's varchar(255) ref_name column.
    const tooLong = { ...deployment(21), ref_name: 'r'.repeat(300) };
    const res = await server.request.post(`${BASE}/${cid}/batch`).send([deployment(20), tooLong, deployment(22)]);
    expect(res.status).toBe(200);
    const statuses = res.body.data.results.map((r: { status: number }) => r.status);
    expect(statuses[0]).toBe(200);
    expect(statuses[2]).toBe(200);
    expect(
      await count('cicd_deployments', 'id IN (?, ?)', [`webhook:${cid}:deploy-20`, `webhook:${cid}:deploy-22`]),
    ).toBe(2);
  });

  it('the same deployment twice in one batch is written in turn: the later commit set wins', async () => {
    const first = { id: 'twice', deploymentCommits: [{ commitSha: 'a'.repeat(40), repoUrl: REPO }] };
    const second = { id: 'twice', deploymentCommits: [{ commitSha: 'b'.repeat(40), repoUrl: REPO }] };
    await server.request.post(`${BASE}/${cid}/batch`).send([first, second]).expect(200);
    const rows = (await runSql(
      server.db.dataSource,
      'SELECT commit_sha FROM cicd_deployment_commits WHERE cicd_deployment_id = ?',
      [`webhook:${cid}:twice`],
    )) as { commit_sha: string }[];
    expect(rows.map((r) => r.commit_sha)).toEqual(['b'.repeat(40)]);
  });

  it('sent again, a batch writes nothing twice', async () => {
    const records = [deployment(30), deployment(31), ISSUE];
    await server.request.post(`${BASE}/${cid}/batch`).send(records).expect(200);
    const before = [await count('cicd_deployments'), await count('cicd_deployment_commits'), await count('issues')];
    await server.request.post(`${BASE}/${cid}/batch`).send(records).expect(200);
    expect([await count('cicd_deployments'), await count('cicd_deployment_commits'), await count('issues')]).toEqual(
      before,
    );
  });

  it('with ?dryRun=true checks every record and writes none', async () => {
    const before = await count('cicd_deployments');
    const res = await server.request
      .post(`${BASE}/${cid}/batch?dryRun=true`)
      .send([deployment(40), { ...deployment(41), repo_url: undefined }]);
    expect(res.body.data).toMatchObject({ dryRun: true, written: 1, refused: 1 });
    expect(await count('cicd_deployments')).toBe(before);
  });

  it('has its own body limit: over it answers 413', async () => {
    const records = Array.from({ length: 400 }, (_, n) => deployment(1000 + n));
    const res = await server.request.post(`${BASE}/${cid}/batch`).send(records);
    expect(res.status).toBe(413);
  });
});
