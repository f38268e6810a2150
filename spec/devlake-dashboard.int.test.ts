import type { DataSource } from 'typeorm';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { ON_MYSQL, ON_POSTGRES } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const PROJECT = 'shop';
const FROM = '2026-03-02T00:00:00Z';
const TO = '2026-03-16T00:00:00Z';
const REPO = 'https://github.com/acme/shop';

/** The worked example of the DORA definitions: six deployments, two incidents, a window of two weeks. */
const DEPLOYMENTS = [
  { id: 'd1', finished: '2026-03-02T10:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a1' },
  { id: 'd2', finished: '2026-03-03T10:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a2' },
  { id: 'd3', finished: '2026-03-03T15:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a3' },
  { id: 'd4', finished: '2026-03-05T09:00:00Z', environment: 'PRODUCTION', result: 'FAILURE', sha: 'a4' },
  { id: 'd5', finished: '2026-03-10T12:00:00Z', environment: 'PRODUCTION', result: 'SUCCESS', sha: 'a5' },
  { id: 'd6', finished: '2026-03-11T08:00:00Z', environment: 'STAGING', result: 'SUCCESS', sha: 'a6' },
];
const INCIDENTS = [
  { issueKey: 'i1', createdDate: '2026-03-03T16:00:00Z', resolutionDate: '2026-03-03T18:00:00Z' },
  { issueKey: 'i2', createdDate: '2026-03-10T13:00:00Z', resolutionDate: '2026-03-10T14:30:00Z', deploymentId: 'd2' },
];

/**
 * The SQL of DevLake's Grafana DORA dashboard (its "Overall DORA Metrics" stat panels), written
 * from DevLake's dashboard for this test: MySQL as DevLake runs it, and the same queries with
 * SQLite's date functions. `${project}` and `$__timeFilter` are Grafana's; here they are bound.
 */
const dialect = ON_POSTGRES
  ? {
      date: (x: string) => `CAST(${x} AS date)`,
      weekStart: (x: string) => `CAST(date_trunc('week', ${x}) AS date)`,
      monthStart: (x: string) => `CAST(date_trunc('month', ${x}) AS date)`,
      daysBack: (t: string, k: string) => `(CAST(${t} AS timestamptz) - ${k} * INTERVAL '1 day')`,
      minutes: (a: string, b: string) => `CAST(FLOOR(EXTRACT(EPOCH FROM (${b} - ${a})) / 60) AS BIGINT)`,
    }
  : ON_MYSQL
    ? {
        date: (x: string) => `DATE(${x})`,
        weekStart: (x: string) => `DATE_SUB(${x}, INTERVAL WEEKDAY(${x}) DAY)`,
        monthStart: (x: string) => `DATE_FORMAT(${x}, '%Y-%m-01')`,
        daysBack: (t: string, k: string) => `DATE_SUB(${t}, INTERVAL ${k} DAY)`,
        minutes: (a: string, b: string) => `TIMESTAMPDIFF(MINUTE, ${a}, ${b})`,
      }
    : {
        date: (x: string) => `date(${x})`,
        weekStart: (x: string) => `date(${x}, '-' || ((CAST(strftime('%w', ${x}) AS INTEGER) + 6) % 7) || ' days')`,
        monthStart: (x: string) => `strftime('%Y-%m-01', ${x})`,
        daysBack: (t: string, k: string) => `datetime(${t}, '-' || ${k} || ' days')`,
        minutes: (a: string, b: string) =>
          `((CAST(strftime('%s', ${b}) AS INTEGER) - CAST(strftime('%s', ${a}) AS INTEGER)) / 60)`,
      };

/** The `table` column, quoted as the engine quotes (DevLake's MySQL SQL uses backticks). */
const TABLE_COLUMN = ON_POSTGRES ? '"table"' : '`table`';
const TABLE = `pm.${TABLE_COLUMN}`;

/** DevLake's `_deployments`: one row per deployment of the project, at its latest successful production row. */
const DEPLOYMENTS_CTE = `_deployments AS (
  SELECT cdc.cicd_deployment_id AS deployment_id, MAX(cdc.finished_date) AS deployment_finished_date
    FROM cicd_deployment_commits cdc
    JOIN project_mapping pm ON cdc.cicd_scope_id = pm.row_id AND ${TABLE} = 'cicd_scopes'
   WHERE pm.project_name IN (:project) AND cdc.result = 'SUCCESS' AND cdc.environment = 'PRODUCTION'
   GROUP BY cdc.cicd_deployment_id
  HAVING MAX(cdc.finished_date) BETWEEN :from AND :to)`;

const DEPLOYMENT_FREQUENCY = `
WITH RECURSIVE _k AS (SELECT 0 AS k UNION ALL SELECT k + 1 FROM _k WHERE k < 399),
_days AS (SELECT ${dialect.date(dialect.daysBack(':to', 'k'))} AS day FROM _k WHERE ${dialect.daysBack(':to', 'k')} > :from),
_production_deployment_days AS (
  SELECT cdc.cicd_deployment_id AS deployment_id, ${dialect.date('MAX(cdc.finished_date)')} AS day
    FROM cicd_deployment_commits cdc
    JOIN project_mapping pm ON cdc.cicd_scope_id = pm.row_id AND ${TABLE} = 'cicd_scopes'
   WHERE pm.project_name IN (:project) AND cdc.result = 'SUCCESS' AND cdc.environment = 'PRODUCTION'
   GROUP BY cdc.cicd_deployment_id),
_days_weekly AS (
  SELECT ${dialect.weekStart('d.day')} AS week, COUNT(DISTINCT p.day) AS days_deployed
    FROM _days d LEFT JOIN _production_deployment_days p ON p.day = d.day
   GROUP BY ${dialect.weekStart('d.day')}),
_days_monthly AS (
  SELECT ${dialect.monthStart('d.day')} AS month, COUNT(DISTINCT p.day) AS days_deployed
    FROM _days d LEFT JOIN _production_deployment_days p ON p.day = d.day
   GROUP BY ${dialect.monthStart('d.day')}),
_week_ranks AS (SELECT days_deployed, PERCENT_RANK() OVER (ORDER BY days_deployed) AS ranks FROM _days_weekly),
_month_ranks AS (SELECT days_deployed, PERCENT_RANK() OVER (ORDER BY days_deployed) AS ranks FROM _days_monthly)
SELECT (SELECT MAX(days_deployed) FROM _week_ranks WHERE ranks <= 0.5) AS median_week,
       (SELECT MAX(days_deployed) FROM _month_ranks WHERE ranks <= 0.5) AS median_month`;

const CHANGE_FAILURE_RATE = `
WITH ${DEPLOYMENTS_CTE},
_failure_caused_by_deployments AS (
  SELECT d.deployment_id, d.deployment_finished_date,
         COUNT(DISTINCT CASE WHEN i.id IS NOT NULL THEN d.deployment_id ELSE NULL END) AS has_incident
    FROM _deployments d
    LEFT JOIN project_incident_deployment_relationships pim ON d.deployment_id = pim.deployment_id
    LEFT JOIN incidents i ON pim.id = i.id
   GROUP BY d.deployment_id, d.deployment_finished_date)
SELECT CASE WHEN COUNT(deployment_id) IS NULL THEN NULL ELSE SUM(has_incident) * 1.0 / COUNT(deployment_id) END
       AS change_failure_rate,
       COUNT(deployment_id) AS deployments, SUM(has_incident) AS failed
  FROM _failure_caused_by_deployments`;

const RECOVERY_TIME_2023 = `
WITH ${DEPLOYMENTS_CTE},
_incidents_for_deployments AS (
  SELECT i.id AS incident_id, i.resolution_date AS incident_resolution_date,
         fd.deployment_id AS caused_by_deployment, fd.deployment_finished_date
    FROM incidents i
    LEFT JOIN project_incident_deployment_relationships pim ON i.id = pim.id
    JOIN _deployments fd ON pim.deployment_id = fd.deployment_id
   WHERE i.resolution_date BETWEEN :from AND :to),
_recovery_time_ranks AS (
  SELECT ${dialect.minutes('deployment_finished_date', 'incident_resolution_date')} AS recovery,
         PERCENT_RANK() OVER (ORDER BY ${dialect.minutes('deployment_finished_date', 'incident_resolution_date')}) AS ranks
    FROM _incidents_for_deployments)
SELECT MAX(recovery) AS median_recovery_time, (SELECT COUNT(*) FROM _recovery_time_ranks) AS incidents
  FROM _recovery_time_ranks WHERE ranks <= 0.5`;

const LEAD_TIME = `
WITH _pr_stats AS (
  SELECT DISTINCT pr.id, ppm.pr_cycle_time
    FROM pull_requests pr
    JOIN project_pr_metrics ppm ON ppm.id = pr.id
    JOIN project_mapping pm ON pr.base_repo_id = pm.row_id AND ${TABLE} = 'repos'
    JOIN cicd_deployment_commits cdc ON ppm.deployment_commit_id = cdc.id
   WHERE pm.project_name IN (:project) AND pr.merged_date IS NOT NULL AND ppm.pr_cycle_time IS NOT NULL
     AND cdc.finished_date BETWEEN :from AND :to),
_median_change_lead_time_ranks AS (SELECT *, PERCENT_RANK() OVER (ORDER BY pr_cycle_time) AS ranks FROM _pr_stats)
SELECT MAX(pr_cycle_time) AS median_change_lead_time, (SELECT COUNT(*) FROM _pr_stats) AS changes
  FROM _median_change_lead_time_ranks WHERE ranks <= 0.5`;

const TIME_TO_RESTORE_2021 = `
WITH _incidents AS (
  SELECT DISTINCT i.id, CAST(lead_time_minutes AS SIGNED) AS lead_time_minutes
    FROM incidents i
    JOIN project_mapping pm ON i.scope_id = pm.row_id AND ${TABLE} = i.${TABLE_COLUMN}
   WHERE pm.project_name IN (:project) AND i.resolution_date BETWEEN :from AND :to),
_median_mttr_ranks AS (SELECT *, PERCENT_RANK() OVER (ORDER BY lead_time_minutes) AS ranks FROM _incidents)
SELECT MAX(lead_time_minutes) AS median_time_to_resolve FROM _median_mttr_ranks WHERE ranks <= 0.5`.replace(
  'AS SIGNED',
  ON_MYSQL ? 'AS SIGNED' : ON_POSTGRES ? 'AS BIGINT' : 'AS INTEGER',
);

async function panel(
  dataSource: DataSource,
  sql: string,
  window: { from: string; to: string } = { from: FROM, to: TO },
): Promise<Record<string, unknown>> {
  const [text, values] = dataSource.driver.escapeQueryWithParameters(
    sql,
    // Grafana's time picker ends a range of whole days at its last millisecond (BETWEEN is
    // inclusive), which is the window [FROM, TO) that GET /dora takes.
    { project: PROJECT, from: new Date(window.from), to: new Date(Date.parse(window.to) - 1) },
  );
  const rows = (await dataSource.query(text, values)) as Record<string, unknown>[];
  return rows[0];
}

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));

describe("DevLake's DORA dashboard on our database, with no DevLake running", () => {
  let server: TestServer;
  let cid: number;
  // DevLake's tables follow each write in the background: wait for them before reading.
  const post = async (path: string, body: object) => {
    const res = await server.request.post(`${BASE}/${cid}${path}`).send(body);
    await server.plugin.settled();
    return res;
  };

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'shop-ci')).id;
    // Data first, link after: linking must fill the tables for what arrived before.
    for (const d of DEPLOYMENTS) {
      const res = await post('/deployments', {
        id: d.id,
        environment: d.environment,
        result: d.result,
        startedDate: new Date(Date.parse(d.finished) - 600_000).toISOString(),
        finishedDate: d.finished,
        deploymentCommits: [{ repoUrl: REPO, commitSha: d.sha }],
      });
      expect(res.status).toBe(200);
    }
    const patch = await server.request.patch(`${BASE}/connections/${cid}`).send({ projectName: PROJECT });
    expect(patch.status).toBe(200);
    for (const i of INCIDENTS) {
      const res = await post('/issues', {
        ...i,
        title: i.issueKey,
        type: 'INCIDENT',
        status: 'DONE',
        originalStatus: 'resolved',
      });
      expect(res.status).toBe(200);
    }
  });
  afterAll(() => server.close());

  const dora = async (benchmark = '2023') =>
    (await server.request.get(`${BASE}/projects/${PROJECT}/dora?from=${FROM}&to=${TO}&benchmark=${benchmark}`)).body;

  it("deployment frequency: the panel's weekly and monthly medians equal GET /dora's over whole weeks and months", async () => {
    // February 2027 starts on a Monday and has four weeks: every unit is whole, where DevLake's
    // dashboard and GET /dora count alike (at partial edges GET /dora counts whole units only).
    const window = { from: '2027-02-01T00:00:00Z', to: '2027-03-01T00:00:00Z' };
    for (const [n, day] of ['01', '02', '03', '09', '16', '17'].entries()) {
      const res = await post('/deployments', {
        id: `feb-${n}`,
        startedDate: `2027-02-${day}T09:00:00Z`,
        finishedDate: `2027-02-${day}T10:00:00Z`,
        deploymentCommits: [{ repoUrl: REPO, commitSha: `f${n}` }],
      });
      expect(res.status).toBe(200);
    }
    const row = await panel(server.db.dataSource, DEPLOYMENT_FREQUENCY, window);
    const ours = (
      await server.request.get(`${BASE}/projects/${PROJECT}/dora?from=${window.from}&to=${window.to}&benchmark=2023`)
    ).body.deploymentFrequency;
    // Weeks [3, 1, 2, 0] → lower median 1; the month: 6 deployment days.
    expect({ week: num(row.median_week), month: num(row.median_month) }).toEqual({ week: 1, month: 6 });
    expect({ week: ours.medianDaysPerWeek, month: ours.medianDaysPerMonth }).toEqual({ week: 1, month: 6 });
  });

  it("lead time for changes: the panel reads project_pr_metrics and equals GET /dora's", async () => {
    const prs = [
      { key: 1, created: '2026-03-01T10:00:00Z', merged: '2026-03-02T08:00:00Z', sha: 'a1' },
      { key: 2, created: '2026-03-09T09:00:00Z', merged: '2026-03-10T09:00:00Z', sha: 'a5' },
      { key: 3, created: '2026-03-04T00:00:00Z', merged: '2026-03-04T10:00:00Z', sha: 'a4' },
    ];
    for (const pr of prs) {
      const res = await post('/pull_requests', {
        id: `pr${pr.key}`,
        displayTitle: `pr${pr.key}`,
        pullRequestKey: pr.key,
        status: 'MERGED',
        createdDate: pr.created,
        mergedDate: pr.merged,
        mergeCommitSha: pr.sha,
      });
      expect(res.status).toBe(200);
    }
    const row = await panel(server.db.dataSource, LEAD_TIME);
    const ours = (await dora()).leadTimeForChanges;
    expect({ changes: num(row.changes), median: num(row.median_change_lead_time) }).toEqual({
      changes: ours.changes,
      median: ours.medianMinutes,
    });
    expect(ours.changes).toBeGreaterThan(0);
  });

  it("change failure rate: the panel reads project_incident_deployment_relationships and equals GET /dora's", async () => {
    const row = await panel(server.db.dataSource, CHANGE_FAILURE_RATE);
    const ours = (await dora()).changeFailureRate;
    expect({ deployments: num(row.deployments), failed: num(row.failed), rate: num(row.change_failure_rate) }).toEqual({
      deployments: 4,
      failed: 2,
      rate: 0.5,
    });
    expect({ deployments: ours.deployments, failed: ours.failedDeployments, rate: ours.rate }).toEqual({
      deployments: 4,
      failed: 2,
      rate: 0.5,
    });
  });

  it("failed deployment recovery time (2023) and time to restore (2021): the panels equal GET /dora's", async () => {
    const row = await panel(server.db.dataSource, RECOVERY_TIME_2023);
    expect({ median: num(row.median_recovery_time), incidents: num(row.incidents) }).toEqual({
      median: 180,
      incidents: 2,
    });
    expect((await dora('2023')).recoveryTime).toMatchObject({ medianMinutes: 180, incidents: 2 });
    const restore = await panel(server.db.dataSource, TIME_TO_RESTORE_2021);
    expect(num(restore.median_time_to_resolve)).toBe((await dora('2021')).recoveryTime.medianMinutes);
    expect(num(restore.median_time_to_resolve)).toBe(90);
  });

  it('links each incident as DevLake does: the named deployment, else the latest successful production one before it', async () => {
    const rows = await server.db.dataSource.query(
      'SELECT id, project_name, deployment_id, _raw_data_params, _raw_data_table FROM project_incident_deployment_relationships ORDER BY id',
    );
    expect(rows).toEqual([
      {
        id: `webhook:${cid}:i1`,
        project_name: PROJECT,
        deployment_id: `webhook:${cid}:d3`,
        _raw_data_params: '{"ProjectName":"shop"}',
        _raw_data_table: 'incidents',
      },
      {
        id: `webhook:${cid}:i2`,
        project_name: PROJECT,
        deployment_id: `webhook:${cid}:d2`,
        _raw_data_params: '{"ProjectName":"shop"}',
        _raw_data_table: 'incidents',
      },
    ]);
  });

  it('chains prev_success_deployment_commit_id per scope, repo and environment; failed rows keep empty', async () => {
    const rows: { id: string; prev: string }[] = await server.db.dataSource.query(
      'SELECT cicd_deployment_id AS id, prev_success_deployment_commit_id AS prev FROM cicd_deployment_commits ORDER BY finished_date',
    );
    const commitOf = (d: string) => `webhook:${cid}:${d}:`;
    const prev = Object.fromEntries(rows.map((r) => [r.id.split(':')[2], r.prev]));
    expect(prev.d1).toBe('');
    expect(prev.d2.startsWith(commitOf('d1'))).toBe(true);
    expect(prev.d3.startsWith(commitOf('d2'))).toBe(true);
    expect(prev.d4).toBe('');
    expect(prev.d5.startsWith(commitOf('d3'))).toBe(true);
    expect(prev.d6).toBe(''); // the first of the STAGING chain
  });

  it('keeps the links current as data arrives: a deployment posted late relinks the incidents after it', async () => {
    // d3b finishes between d3 and i1: i1 is now blamed on it, and the chain runs through it.
    const res = await post('/deployments', {
      id: 'd3b',
      startedDate: '2026-03-03T15:10:00Z',
      finishedDate: '2026-03-03T15:30:00Z',
      deploymentCommits: [{ repoUrl: REPO, commitSha: 'a3b' }],
    });
    expect(res.status).toBe(200);
    const link = await server.db.dataSource.query(
      `SELECT deployment_id FROM project_incident_deployment_relationships WHERE id = 'webhook:${cid}:i1'`,
    );
    expect(link).toEqual([{ deployment_id: `webhook:${cid}:d3b` }]);
    const [d5] = await server.db.dataSource.query(
      `SELECT prev_success_deployment_commit_id AS prev FROM cicd_deployment_commits WHERE cicd_deployment_id = 'webhook:${cid}:d5'`,
    );
    expect(d5.prev).toContain(`webhook:${cid}:d3b:`);
    // Made a failure by a re-post: i1 goes back to d3, and d5's predecessor is d3 again.
    await post('/deployments', {
      id: 'd3b',
      result: 'FAILURE',
      startedDate: '2026-03-03T15:10:00Z',
      finishedDate: '2026-03-03T15:30:00Z',
      deploymentCommits: [{ repoUrl: REPO, commitSha: 'a3b' }],
    });
    expect(
      await server.db.dataSource.query(
        `SELECT deployment_id FROM project_incident_deployment_relationships WHERE id = 'webhook:${cid}:i1'`,
      ),
    ).toEqual([{ deployment_id: `webhook:${cid}:d3` }]);
  });

  it('drops the links of a connection unlinked from the project, and makes them again when it is linked', async () => {
    const count = async () =>
      Number(
        (await server.db.dataSource.query('SELECT COUNT(*) AS n FROM project_incident_deployment_relationships'))[0].n,
      );
    expect(await count()).toBe(2);
    await server.request.patch(`${BASE}/connections/${cid}`).send({ name: 'shop-ci renamed' });
    expect(await count()).toBe(2);
    await server.request.patch(`${BASE}/connections/${cid}`).send({ projectName: null });
    expect(await count()).toBe(0);
    await server.request.patch(`${BASE}/connections/${cid}`).send({ projectName: PROJECT });
    expect(await count()).toBe(2);
  });

  it('an issue that stops being an incident loses its link', async () => {
    await post('/issues', { ...INCIDENTS[0], title: 'i1', type: 'BUG', status: 'DONE', originalStatus: 'x' });
    expect(
      await server.db.dataSource.query(
        `SELECT id FROM project_incident_deployment_relationships WHERE id = 'webhook:${cid}:i1'`,
      ),
    ).toEqual([]);
  });

  it("has DevLake's dora_benchmarks rows and calendar_months, which the Overall table and monthly charts read", async () => {
    const benchmarks = await server.db.dataSource.query(
      "SELECT metric, elite, low FROM dora_benchmarks WHERE dora_report = '2023' ORDER BY id",
    );
    expect(benchmarks).toEqual([
      { metric: 'Deployment frequency', elite: 'On-demand(elite)', low: 'Fewer than once per month(low)' },
      { metric: 'Lead time for changes', elite: 'Less than one day(elite)', low: 'More than one month(low)' },
      { metric: 'Change failure rate', elite: '0-5%(elite)', low: '> 15%(low)' },
      { metric: 'Failed deployment recovery time', elite: 'Less than one hour(elite)', low: 'More than one week(low)' },
    ]);
    expect(Number((await server.db.dataSource.query('SELECT COUNT(*) AS n FROM dora_benchmarks'))[0].n)).toBe(8);
    const months = await server.db.dataSource.query('SELECT month FROM calendar_months ORDER BY month_timestamp');
    expect(months).toHaveLength(144);
    const now = new Date();
    const current = `${String(now.getUTCFullYear() % 100).padStart(2, '0')}/${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(months[23]).toEqual({ month: current });
  });
});

describe('POST /projects/:projectName/deployments (DevLake route by project)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const deployment = { id: 'rel-1', deploymentCommits: [{ repoUrl: REPO, commitSha: 'abc' }] };

  it('answers 404 when the project does not exist, creating nothing', async () => {
    const res = await server.request.post(`${BASE}/projects/ghost/deployments`).send(deployment);
    expect(res.status).toBe(404);
    expect(res.body.success).toBe(false);
    expect((await server.request.get(`${BASE}/connections`)).body).toEqual([]);
  });

  it('stores the deployment in a connection <projectName>_deployments, created and linked on first use', async () => {
    const linked = await createConnection(server, 'existing');
    await server.request.patch(`${BASE}/connections/${linked.id}`).send({ projectName: 'web' });
    for (const prefix of ['/api/plugins/webhook', '/plugins/webhook']) {
      const res = await server.request.post(`${prefix}/projects/web/deployments`).send(deployment);
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
    }
    const connections = (await server.request.get(`${BASE}/connections`)).body as {
      id: number;
      name: string;
      projectName: string;
    }[];
    const created = connections.filter((c) => c.name === 'web_deployments');
    expect(created).toHaveLength(1);
    expect(created[0].projectName).toBe('web');
    const rows = await server.db.dataSource.query('SELECT id, cicd_scope_id FROM cicd_deployments');
    expect(rows).toEqual([{ id: `webhook:${created[0].id}:rel-1`, cicd_scope_id: `webhook:${created[0].id}` }]);
    // Finished when it arrived (no finishedDate): the project's metrics count it.
    expect((await server.request.get(`${BASE}/projects/web/dora`)).body.deploymentFrequency.deployments).toBe(1);
  });

  it('answers 409 when a connection of that name belongs to another project', async () => {
    const other = await createConnection(server, 'api_deployments');
    const x = await createConnection(server, 'api-ci');
    await server.request.patch(`${BASE}/connections/${x.id}`).send({ projectName: 'api' });
    await server.request.patch(`${BASE}/connections/${other.id}`).send({ projectName: 'elsewhere' });
    const res = await server.request.post(`${BASE}/projects/api/deployments`).send(deployment);
    expect(res.status).toBe(409);
    expect(res.body.causes).toEqual([expect.objectContaining({ field: 'projectName' })]);
  });

  it('answers 400 naming the field of a bad body, before looking the project up or creating anything', async () => {
    const res = await server.request.post(`${BASE}/projects/nowhere/deployments`).send({ id: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.causes.map((c: { field: string }) => c.field)).toEqual(['commitSha', 'repoUrl']);
  });

  it("refuses a connection's own key: it is an administration route, as in DevLake", async () => {
    const secured = await startTestServer({ basicAuth: { username: 'admin', password: 'pw' } });
    try {
      const hook = await createConnection(secured, 'keyed', ['admin', 'pw']);
      await secured.request.patch(`${BASE}/connections/${hook.id}`).auth('admin', 'pw').send({ projectName: 'p' });
      const byKey = await secured.request
        .post(`/api/rest/plugins/webhook/projects/p/deployments`)
        .set('Authorization', `Bearer ${hook.key}`)
        .send(deployment);
      expect(byKey.status).toBe(403);
      const byAdmin = await secured.request.post(`${BASE}/projects/p/deployments`).auth('admin', 'pw').send(deployment);
      expect(byAdmin.status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});
