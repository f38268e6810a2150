import { Board } from '../src/issues/issue.entity';
import { CicdScope, Project, ProjectMapping, Repo } from '../src/projects/project.entity';
import { startTestServer, type TestServer } from './helpers/test-app';
import { dialectOf } from '../src/db/dialect';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const PROJECT = 'Team Shop';
const WINDOW = 'from=2026-03-02T00:00:00Z&to=2026-03-16T00:00:00Z';

/**
 * The joins DevLake's DORA dashboard makes (grafana/dashboards/DORA.json): deployments through
 * `cicd_scopes`, incidents through their own `table` (`boards`), pull requests through `repos`.
 * `TABLE` stands for the reserved column name `table`, quoted as the engine quotes it (backticks
 * in DevLake's MySQL dashboards, double quotes on PostgreSQL).
 */
const DASHBOARD_JOINS = {
  deployments: `SELECT COUNT(DISTINCT cdc.cicd_deployment_id) AS n FROM cicd_deployment_commits cdc
    JOIN project_mapping pm ON cdc.cicd_scope_id = pm.row_id AND pm.TABLE = 'cicd_scopes'
    WHERE pm.project_name = ? AND cdc.result = 'SUCCESS' AND cdc.environment = 'PRODUCTION'`,
  incidents: `SELECT COUNT(*) AS n FROM incidents i
    JOIN project_mapping pm ON i.scope_id = pm.row_id AND pm.TABLE = i.TABLE
    WHERE pm.project_name = ?`,
  pullRequests: `SELECT COUNT(*) AS n FROM pull_requests pr
    JOIN project_mapping pm ON pr.base_repo_id = pm.row_id AND pm.TABLE = 'repos'
    WHERE pm.project_name = ?`,
};

describe('projects (contract §8, issue 8)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  async function create(name: string, projectName?: string): Promise<{ id: number; key: string }> {
    const res = await server.request.post(`${BASE}/connections`).send({ name, projectName });
    expect(res.status).toBe(200);
    return { id: res.body.id, key: res.body.apiKey.apiKey };
  }

  async function post(cid: number, resource: string, body: object): Promise<void> {
    const res = await server.request.post(`${BASE}/connections/${cid}/${resource}`).send(body);
    expect(res.status).toBe(200);
  }

  /** A deployment, an incident after it and a pull request it ships, in the example's window. */
  async function postData(cid: number, suffix: string, day: number): Promise<void> {
    const finished = `2026-03-${String(day).padStart(2, '0')}T10:00:00Z`;
    await post(cid, 'deployments', {
      id: `deploy-${suffix}`,
      finishedDate: finished,
      deploymentCommits: [{ repoUrl: 'https://git.example.com/x', commitSha: `sha-${suffix}` }],
    });
    await post(cid, 'issues', {
      issueKey: `inc-${suffix}`,
      title: 'down',
      type: 'INCIDENT',
      status: 'DONE',
      originalStatus: 'Resolved',
      createdDate: `2026-03-${String(day).padStart(2, '0')}T11:00:00Z`,
      resolutionDate: `2026-03-${String(day).padStart(2, '0')}T12:00:00Z`,
    });
    await post(cid, 'pull_requests', {
      id: `pr-${suffix}`,
      displayTitle: 'change',
      pullRequestKey: day,
      createdDate: `2026-03-${String(day - 1).padStart(2, '0')}T10:00:00Z`,
      mergedDate: `2026-03-${String(day - 1).padStart(2, '0')}T12:00:00Z`,
      mergeCommitSha: `sha-${suffix}`,
    });
  }

  async function dashboardCounts(projectName: string) {
    const count = async (sql: string) => {
      const quoted = sql.replaceAll('TABLE', dialectOf(server.db.dataSource).quote('table'));
      return Number((await runSql<{ n: unknown }[]>(server.db.dataSource, quoted, [projectName]))[0].n);
    };
    return {
      deployments: await count(DASHBOARD_JOINS.deployments),
      incidents: await count(DASHBOARD_JOINS.incidents),
      pullRequests: await count(DASHBOARD_JOINS.pullRequests),
    };
  }

  it("writes DevLake's project_mapping, cicd_scopes and repos rows as soon as a connection is linked", async () => {
    const { id } = await create('shop-api', PROJECT);
    const scopeId = `webhook:${id}`;
    const mapping = await server.db.dataSource.getRepository(ProjectMapping).findBy({ rowId: scopeId });
    expect(mapping.map((m) => [m.projectName, m.table, m.rowId]).sort()).toEqual([
      [PROJECT, 'boards', scopeId],
      [PROJECT, 'cicd_scopes', scopeId],
      [PROJECT, 'repos', scopeId],
    ]);
    expect(await server.db.dataSource.getRepository(Project).findOneBy({ name: PROJECT })).not.toBeNull();
    expect(await server.db.dataSource.getRepository(CicdScope).findOneBy({ id: scopeId })).toMatchObject({
      name: 'shop-api',
    });
    expect(await server.db.dataSource.getRepository(Repo).findOneBy({ id: scopeId })).toMatchObject({
      name: 'shop-api',
    });
    expect(await server.db.dataSource.getRepository(Board).findOneBy({ id: scopeId })).toMatchObject({
      name: 'shop-api',
    });
  });

  it("lets DevLake's dashboard joins find the posted deployments, incidents and pull requests by project", async () => {
    const { id } = await create('shop-web', 'dashboard check');
    await postData(id, 'web', 4);
    expect(await dashboardCounts('dashboard check')).toEqual({ deployments: 1, incidents: 1, pullRequests: 1 });
  });

  it('lists projects with their connections', async () => {
    const res = await server.request.get(`${BASE}/projects`);
    expect(res.status).toBe(200);
    const shop = res.body.find((p: { name: string }) => p.name === PROJECT);
    expect(shop).toEqual({ name: PROJECT, connections: [{ id: expect.any(Number), name: 'shop-api' }] });
  });

  it('computes a project’s metrics over all its connections, and a connection unlinked leaves it', async () => {
    const a = await create('team-a', 'Platform');
    const b = await create('team-b', 'Platform');
    await postData(a.id, 'a', 3);
    await postData(b.id, 'b', 10);

    const both = await server.request.get(`${BASE}/projects/Platform/dora?${WINDOW}`);
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({
      scope: { projectName: 'Platform' },
      deploymentFrequency: { deployments: 2, deploymentDays: 2, medianDaysPerWeek: 1, level: 'high' },
      leadTimeForChanges: { changes: 2, medianMinutes: 1440, level: 'high' },
      changeFailureRate: { deployments: 2, failedDeployments: 2, rate: 1 },
      recoveryTime: { incidents: 2, medianMinutes: 120, level: 'high' },
    });
    expect(both.body.weekly).toEqual([
      { weekStart: '2026-03-02', deployments: 1, deploymentDays: 1, incidents: 1 },
      { weekStart: '2026-03-09', deployments: 1, deploymentDays: 1, incidents: 1 },
    ]);

    const unlinked = await server.request.patch(`${BASE}/connections/${b.id}`).send({ projectName: null });
    expect(unlinked.status).toBe(200);
    const onlyA = await server.request.get(`${BASE}/projects/Platform/dora?${WINDOW}`);
    expect(onlyA.body.deploymentFrequency.deployments).toBe(1);
    expect(onlyA.body.weekly.map((w: { incidents: number }) => w.incidents)).toEqual([1, 0]);
  });

  it('removes the mapping, cicd_scopes and repos rows on unlink, so the dashboards no longer see the data', async () => {
    const { id } = await create('leaving', 'Temporary');
    await postData(id, 'leaving', 5);
    expect(await dashboardCounts('Temporary')).toEqual({ deployments: 1, incidents: 1, pullRequests: 1 });

    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: '' });
    const scopeId = `webhook:${id}`;
    expect(await server.db.dataSource.getRepository(ProjectMapping).findBy({ rowId: scopeId })).toEqual([]);
    expect(await server.db.dataSource.getRepository(CicdScope).findOneBy({ id: scopeId })).toBeNull();
    expect(await server.db.dataSource.getRepository(Repo).findOneBy({ id: scopeId })).toBeNull();
    expect(await dashboardCounts('Temporary')).toEqual({ deployments: 0, incidents: 0, pullRequests: 0 });
    const listed = (await server.request.get(`${BASE}/projects`)).body.find(
      (p: { name: string }) => p.name === 'Temporary',
    );
    expect(listed).toEqual({ name: 'Temporary', connections: [] });
  });

  it('moves a connection from one project to another, and deleting it removes its mapping', async () => {
    const { id } = await create('mover', 'Old home');
    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: 'New home' });
    const mapping = await server.db.dataSource.getRepository(ProjectMapping).findBy({ rowId: `webhook:${id}` });
    expect(new Set(mapping.map((m) => m.projectName))).toEqual(new Set(['New home']));
    expect(mapping).toHaveLength(3);

    await server.request.delete(`${BASE}/connections/${id}`);
    expect(await server.db.dataSource.getRepository(ProjectMapping).findBy({ rowId: `webhook:${id}` })).toEqual([]);
  });

  it('keeps what DevLake or a user filled on an existing board when linking', async () => {
    const { id } = await create('described');
    await server.db.dataSource
      .getRepository(Board)
      .insert({ id: `webhook:${id}`, name: 'old', description: 'kept', url: 'https://board.example.com' });
    await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: 'Described' });
    expect(await server.db.dataSource.getRepository(Board).findOneBy({ id: `webhook:${id}` })).toMatchObject({
      name: 'described',
      description: 'kept',
      url: 'https://board.example.com',
    });
  });

  it('answers 404 for an unknown project and 400 naming a bad parameter', async () => {
    expect((await server.request.get(`${BASE}/projects/${encodeURIComponent('No such')}/dora`)).status).toBe(404);
    const bad = await server.request.get(`${BASE}/projects/${encodeURIComponent(PROJECT)}/dora?benchmark=2024`);
    expect(bad.status).toBe(400);
    expect(bad.body.causes).toEqual([{ field: 'benchmark', message: expect.any(String) }]);
  });

  it('answers nulls for a project whose connections have no data yet', async () => {
    const res = await server.request.get(`${BASE}/projects/${encodeURIComponent(PROJECT)}/dora?${WINDOW}`);
    expect(res.status).toBe(200);
    expect(res.body.scope).toEqual({ projectName: PROJECT });
    expect(res.body.deploymentFrequency.level).toBeNull();
    expect(res.body.changeFailureRate.rate).toBeNull();
  });

  it("refuses a connection's key on the projects routes (admin API)", async () => {
    const { key } = await create('keyed', PROJECT);
    const res = await server.request.get(`${BASE}/projects`).set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(403);
  });
});
