import { DEPLOYMENT_SUMMARY_TABLE, rebuildDeploymentSummaries } from '../src/deployments/deployment-summary';
import { createWebhookPlugin } from '../src/plugin';
import { dateOf, utcDatetimeText } from '../src/db/columns';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const REPO = 'https://github.com/acme/shop';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const SHA_C = 'c'.repeat(40);
const WINDOW = 'from=2026-03-02T00:00:00Z&to=2026-03-16T00:00:00Z';

type Row = Record<string, unknown>;

interface SummaryRow {
  id: string;
  scope: string | null;
  finished: string;
  started: string;
  refLow: string | null;
  refHigh: string | null;
}

const iso = (value: unknown) => (dateOf(value) as Date).toISOString();

/**
 * The summary as it should be, recomputed here from DevLake's rows by the definition
 * (docs/dora.md): per deployment id, its SUCCESS rows in PRODUCTION that have a finish; the
 * latest finish, the earliest start (or finish), the smallest and largest ref.
 */
async function recomputed(server: TestServer): Promise<SummaryRow[]> {
  const rows = (await runSql(
    server.db.dataSource,
    `SELECT cicd_deployment_id, cicd_scope_id, environment, result, started_date, finished_date, ref_name
       FROM cicd_deployment_commits`,
  )) as Row[];
  const byDeployment = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.environment !== 'PRODUCTION' || row.result !== 'SUCCESS' || row.finished_date === null) continue;
    const id = String(row.cicd_deployment_id);
    byDeployment.set(id, [...(byDeployment.get(id) ?? []), row]);
  }
  const out: SummaryRow[] = [];
  for (const [id, list] of byDeployment) {
    const finishes = list.map((r) => iso(r.finished_date)).sort();
    const starts = list.map((r) => iso(r.started_date ?? r.finished_date)).sort();
    const refs = list
      .map((r) => r.ref_name)
      .filter((r): r is string => typeof r === 'string')
      .sort();
    const scopes = list.map((r) => String(r.cicd_scope_id)).sort();
    out.push({
      id,
      scope: scopes[0],
      finished: finishes[finishes.length - 1],
      started: starts[0],
      refLow: refs[0] ?? null,
      refHigh: refs[refs.length - 1] ?? null,
    });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** The summary as stored once the background refresh has taken every write answered so far. */
async function stored(server: TestServer): Promise<SummaryRow[]> {
  await server.plugin.settled();
  const rows = (await runSql(server.db.dataSource, `SELECT * FROM ${DEPLOYMENT_SUMMARY_TABLE}`)) as Row[];
  return rows
    .map((row) => ({
      id: String(row.cicd_deployment_id),
      scope: row.cicd_scope_id === null ? null : String(row.cicd_scope_id),
      finished: iso(row.finished_date),
      started: iso(row.started_date),
      refLow: row.ref_low === null ? null : String(row.ref_low),
      refHigh: row.ref_high === null ? null : String(row.ref_high),
    }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

describe('deployment summary (one row per counted deployment, refreshed right after its rows)', () => {
  let server: TestServer;
  let cid: number;

  const post = (body: object, connection = cid) =>
    server.request.post(`${BASE}/connections/${connection}/deployments`).send(body);
  const expectConsistent = async () => expect(await stored(server)).toEqual(await recomputed(server));
  const deployments = async (connection = cid) =>
    (await server.request.get(`${BASE}/connections/${connection}/dora?${WINDOW}`)).body.deploymentFrequency
      .deployments as number;

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'shop')).id;
  });
  afterAll(() => server.close());

  it('writes a row for a new deployment with the times and refs of its counted commits', async () => {
    const res = await post({
      id: 'd1',
      startedDate: '2026-03-03T10:00:00Z',
      finishedDate: '2026-03-03T10:30:00Z',
      deploymentCommits: [
        { repoUrl: REPO, commitSha: SHA_A, refName: 'main' },
        { repoUrl: REPO, commitSha: SHA_B, refName: 'refs/heads/main', finishedDate: '2026-03-03T11:00:00Z' },
        // A failed commit of the deployment: not counted, so its later finish is not the time.
        { repoUrl: REPO, commitSha: SHA_C, refName: 'v9', result: 'FAILURE', finishedDate: '2026-03-03T12:00:00Z' },
      ],
    });
    expect(res.status).toBe(200);
    expect(await stored(server)).toEqual([
      {
        id: `webhook:${cid}:d1`,
        scope: `webhook:${cid}`,
        finished: '2026-03-03T11:00:00.000Z',
        started: '2026-03-03T10:00:00.000Z',
        refLow: 'main',
        refHigh: 'refs/heads/main',
      },
    ]);
    await expectConsistent();
  });

  it('takes the finish as the start of a deployment sent without a start', async () => {
    await post({ id: 'd2', finishedDate: '2026-03-04T09:00:00Z', commitSha: SHA_A, repoUrl: REPO });
    const row = (await stored(server)).find((r) => r.id === `webhook:${cid}:d2`);
    expect(row).toMatchObject({ started: '2026-03-04T09:00:00.000Z', finished: '2026-03-04T09:00:00.000Z' });
    await expectConsistent();
  });

  it('follows a re-post that moves the finish and replaces the commit set', async () => {
    await post({ id: 'd2', finishedDate: '2026-03-05T09:00:00Z', commitSha: SHA_B, repoUrl: REPO, refName: 'dev' });
    expect((await stored(server)).find((r) => r.id === `webhook:${cid}:d2`)).toMatchObject({
      finished: '2026-03-05T09:00:00.000Z',
      refLow: 'dev',
      refHigh: 'dev',
    });
    await expectConsistent();
  });

  it('removes the row when a re-post makes the deployment a failure, and restores it when it succeeds again', async () => {
    await post({ id: 'd3', finishedDate: '2026-03-06T09:00:00Z', commitSha: SHA_C, repoUrl: REPO });
    expect(await deployments()).toBe(3);
    await post({ id: 'd3', finishedDate: '2026-03-06T09:00:00Z', commitSha: SHA_C, repoUrl: REPO, result: 'FAILURE' });
    expect((await stored(server)).map((r) => r.id)).not.toContain(`webhook:${cid}:d3`);
    expect(await deployments()).toBe(2);
    await expectConsistent();
    await post({ id: 'd3', finishedDate: '2026-03-06T09:00:00Z', commitSha: SHA_C, repoUrl: REPO });
    expect(await deployments()).toBe(3);
    await expectConsistent();
  });

  it('keeps no row for a deployment to another environment, and removes it when a re-post moves it there', async () => {
    await post({
      id: 'd4',
      finishedDate: '2026-03-07T09:00:00Z',
      commitSha: SHA_A,
      repoUrl: REPO,
      environment: 'STAGING',
    });
    expect((await stored(server)).map((r) => r.id)).not.toContain(`webhook:${cid}:d4`);
    await post({
      id: 'd1',
      finishedDate: '2026-03-03T10:30:00Z',
      commitSha: SHA_A,
      repoUrl: REPO,
      environment: 'TESTING',
    });
    expect((await stored(server)).map((r) => r.id)).not.toContain(`webhook:${cid}:d1`);
    await expectConsistent();
  });

  it('is untouched by issue and incident writes', async () => {
    const before = await stored(server);
    const res = await server.request.post(`${BASE}/connections/${cid}/issues`).send({
      issueKey: 'INC-1',
      title: 'down',
      type: 'INCIDENT',
      status: 'DONE',
      originalStatus: 'resolved',
      createdDate: '2026-03-05T10:00:00Z',
      deploymentId: 'd2',
    });
    expect(res.body).toMatchObject({ success: true });
    expect(await stored(server)).toEqual(before);
    await expectConsistent();
  });

  it('stays equal to the recomputation when a connection is renamed, linked, moved, unlinked and deleted', async () => {
    const other = await createConnection(server, 'billing');
    await post({ id: 'b1', finishedDate: '2026-03-08T09:00:00Z', commitSha: SHA_A, repoUrl: REPO }, other.id);
    const before = await stored(server);
    const patch = (body: object) => server.request.patch(`${BASE}/connections/${other.id}`).send(body);
    expect((await patch({ name: 'billing-2' })).status).toBe(200);
    expect((await patch({ projectName: 'payments' })).status).toBe(200);
    const project = await server.request.get(`${BASE}/projects/payments/dora?${WINDOW}`);
    expect(project.body.deploymentFrequency.deployments).toBe(1);
    expect((await patch({ projectName: 'platform' })).status).toBe(200);
    expect(
      (await server.request.get(`${BASE}/projects/platform/dora?${WINDOW}`)).body.deploymentFrequency.deployments,
    ).toBe(1);
    expect(
      (await server.request.get(`${BASE}/projects/payments/dora?${WINDOW}`)).body.deploymentFrequency.deployments,
    ).toBe(0);
    expect((await patch({ projectName: null })).status).toBe(200);
    expect(await stored(server)).toEqual(before);
    // Deleting a webhook keeps the data it received (as DevLake does), so its summary stays too.
    expect((await server.request.delete(`${BASE}/connections/${other.id}`)).status).toBe(200);
    expect(await stored(server)).toEqual(before);
    await expectConsistent();
  });

  it('is rebuilt from rows that DevLake wrote, updated and deleted behind the plugin', async () => {
    const db = server.db.dataSource;
    const scope = `webhook:${cid}`;
    await runSql(
      db,
      `INSERT INTO cicd_deployment_commits (id, commit_sha, cicd_scope_id, cicd_deployment_id, environment, result, created_date, started_date, finished_date, repo_url, ref_name)
       VALUES (?, ?, ?, ?, 'PRODUCTION', 'SUCCESS', ?, ?, ?, ?, 'main')`,
      [
        `${scope}:x1:0:${SHA_A}`,
        SHA_A,
        scope,
        `${scope}:x1`,
        '2026-03-09 08:00:00.000',
        '2026-03-09 08:00:00.000',
        '2026-03-09 09:00:00.000',
        REPO,
      ],
    );
    await runSql(db, `UPDATE cicd_deployment_commits SET result = 'FAILURE' WHERE cicd_deployment_id = ?`, [
      `${scope}:d2`,
    ]);
    await runSql(db, `DELETE FROM cicd_deployment_commits WHERE cicd_deployment_id = ?`, [`${scope}:d3`]);
    expect(await stored(server)).not.toEqual(await recomputed(server));
    expect(await rebuildDeploymentSummaries(db)).toBe((await recomputed(server)).length);
    await expectConsistent();
    expect((await stored(server)).map((r) => r.id)).toContain(`webhook:${cid}:x1`);
    expect((await stored(server)).map((r) => r.id)).not.toContain(`webhook:${cid}:d2`);
    expect(await deployments()).toBe(1);
  });

  it('is caught up when a plugin starts, for the last hour, after a process stopped before its refresh (a crash)', async () => {
    const other = (await createConnection(server, 'crashed')).id;
    const recent = await post(
      { id: 'recent', finishedDate: '2026-03-10T09:00:00Z', commitSha: SHA_A, repoUrl: REPO },
      other,
    );
    const old = await post({ id: 'old', finishedDate: '2026-03-10T10:00:00Z', commitSha: SHA_B, repoUrl: REPO }, other);
    expect([recent.status, old.status]).toEqual([200, 200]);
    const ids = [recent.body.data.deploymentId as string, old.body.data.deploymentId as string];
    await server.plugin.settled();
    // What a process killed right after its commits leaves: the rows, no summary. One was
    // written two hours ago, beyond the catch-up.
    const db = server.db.dataSource;
    await runSql(db, `DELETE FROM ${DEPLOYMENT_SUMMARY_TABLE} WHERE cicd_deployment_id IN (?, ?)`, ids);
    await runSql(db, 'UPDATE cicd_deployments SET updated_at = ? WHERE id = ?', [
      utcDatetimeText(new Date(Date.now() - 2 * 60 * 60 * 1000)),
      ids[1],
    ]);
    expect((await stored(server)).map((r) => r.id)).not.toContain(ids[0]);

    const restarted = createWebhookPlugin({ dataSource: db });
    await restarted.verify();
    await restarted.settled();
    const after = (await stored(server)).map((r) => r.id);
    expect(after).toContain(ids[0]);
    expect(after).not.toContain(ids[1]);
    // The rest is what a rebuild computes, the older deployment aside.
    expect((await stored(server)).filter((row) => row.id !== ids[1])).toEqual(
      (await recomputed(server)).filter((row) => row.id !== ids[1]),
    );
  });
});
