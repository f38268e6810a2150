import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';
const LINKS = 'project_incident_deployment_relationships';

/**
 * DevLake's DORA tables follow writes in the background. When a refresh fails (here: its table is
 * briefly out of reach), the write it follows is already stored and answered; the refresh is
 * logged and tried again until it lands.
 */
describe("DevLake's DORA tables: a failed background refresh", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('does not fail the write, is logged, and is retried until the incident link is written', async () => {
    const { id } = await createConnection(server, 'pager');
    expect((await server.request.patch(`${BASE}/connections/${id}`).send({ projectName: 'shop' })).status).toBe(200);
    const deployed = await server.request.post(`${BASE}/connections/${id}/deployments`).send({
      id: 'release-1',
      finishedDate: '2026-03-02T10:00:00Z',
      deploymentCommits: [{ repoUrl: 'https://git.example.com/shop', commitSha: 'a'.repeat(40) }],
    });
    expect(deployed.status).toBe(200);
    await server.plugin.settled();

    await runSql(server.db.dataSource, `ALTER TABLE ${LINKS} RENAME TO ${LINKS}_away`);
    try {
      const incident = await server.request.post(`${BASE}/connections/${id}/issues`).send({
        issueKey: 'INC-1',
        title: 'checkout down',
        type: 'INCIDENT',
        status: 'TODO',
        originalStatus: 'triggered',
        createdDate: '2026-03-02T11:00:00Z',
      });
      // The incident itself is stored and acknowledged whatever happens to the dashboard's tables.
      expect(incident.status).toBe(200);
      const stored = await runSql(server.db.dataSource, `SELECT id FROM incidents WHERE id = 'webhook:${id}:INC-1'`);
      expect(stored).toHaveLength(1);
      // The refresh runs and fails at least once while the table is away.
      const deadline = Date.now() + 10_000;
      while (!server.logger.lines.some((line) => line.includes('refresh failed')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(server.logger.lines.some((line) => line.includes("DevLake's DORA tables: refresh failed"))).toBe(true);
    } finally {
      await runSql(server.db.dataSource, `ALTER TABLE ${LINKS}_away RENAME TO ${LINKS}`);
    }
    // The retry (every second) writes the link once the table is back.
    await server.plugin.settled();
    const links = await runSql(
      server.db.dataSource,
      `SELECT deployment_id FROM ${LINKS} WHERE id = 'webhook:${id}:INC-1'`,
    );
    expect(links.map((row) => String(row.deployment_id))).toEqual([`webhook:${id}:release-1`]);
  });
});
