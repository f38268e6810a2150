import http from 'node:http';
import type { DataSource } from 'typeorm';
import { inParallel, send, type Answer } from './helpers/http-client';
import {
  countRows,
  createConnectionOn,
  openDatabase,
  startServer,
  WEBHOOK,
  type RunningServer,
} from './helpers/reliability';
import { createTestDatabase, ENGINE, type TestDatabase } from './helpers/test-db';

const DEPLOYMENT_POSTS = 200;
const ISSUE_POSTS = 100;
const IN_FLIGHT = 40;

const DEPLOYMENT = {
  id: 'release-42',
  result: 'SUCCESS',
  environment: 'PRODUCTION',
  startedDate: '2024-05-01T10:00:00Z',
  finishedDate: '2024-05-01T10:05:00Z',
  deploymentCommits: ['a', 'b', 'c'].map((repo, i) => ({
    repoUrl: `https://git.example.com/org/${repo}`,
    commitSha: `${i}`.repeat(40),
    refName: 'main',
  })),
};

const ISSUE = {
  issueKey: 'OPS-1',
  title: 'checkout is down',
  type: 'INCIDENT',
  status: 'TODO',
  originalStatus: 'open',
  createdDate: '2024-05-01T10:10:00Z',
};

/**
 * Issue 9, points 1 and 7: instances are stateless, so several of them on one database behave
 * as one. Two server processes share one database: MariaDB or PostgreSQL when TEST_DB_URL says so, else one
 * SQLite file in WAL mode (where the second process waits on SQLite's lock, SQLITE_BUSY).
 */
describe(`two server processes on one ${ENGINE === 'SQLite' ? 'SQLite (WAL) file' : ENGINE} database (issue 9, points 1 and 7)`, () => {
  let database: TestDatabase;
  let servers: RunningServer[] = [];
  let reader: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The first one migrates; the second starts on the migrated database, as a second instance would.
    servers = [await startServer({ DB_URL: database.url })];
    servers.push(await startServer({ DB_URL: database.url }));
    reader = await openDatabase(database.config);
  }, 120_000);

  afterAll(async () => {
    await reader?.destroy();
    for (const server of servers) expect(await server.stop()).toBe(0);
    await database.drop();
  });

  it('answers 200 to every concurrent re-post of one deployment and one issue, storing each exactly once', async () => {
    const { id: cid, key } = await createConnectionOn(servers[0], 'ci');
    const agents = servers.map(() => new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT / 2 }));
    const post = (index: number, path: string, body: unknown): Promise<Answer> => {
      const target = index % 2;
      return send(`${servers[target].url}${WEBHOOK}/connections/${cid}${path}`, {
        body,
        agent: agents[target],
        headers: { authorization: `Bearer ${key}` },
      });
    };

    const started = Date.now();
    const answers = await inParallel(DEPLOYMENT_POSTS + ISSUE_POSTS, IN_FLIGHT, (i) =>
      i % 3 === 2 && i / 3 < ISSUE_POSTS ? post(i, '/issues', ISSUE) : post(i, '/deployments', DEPLOYMENT),
    );
    const elapsed = Date.now() - started;
    for (const agent of agents) agent.destroy();

    const statuses = answers.map((answer) => answer.status);
    const summary = { sent: answers.length, ok: statuses.filter((s) => s === 200).length, elapsed };
    // The figures of the note (issue 9, "Done when").
    process.stdout.write(`concurrency: ${JSON.stringify(summary)}\n`);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(answers.every((answer) => answer.body?.success === true)).toBe(true);

    const deploymentId = `webhook:${cid}:release-42`;
    expect(await countRows(reader, 'SELECT COUNT(*) AS n FROM cicd_deployments')).toBe(1);
    expect(await countRows(reader, 'SELECT COUNT(*) AS n FROM cicd_deployments WHERE id = ?', [deploymentId])).toBe(1);
    expect(await countRows(reader, 'SELECT COUNT(*) AS n FROM cicd_deployment_commits')).toBe(3);
    expect(
      await countRows(reader, 'SELECT COUNT(*) AS n FROM cicd_deployment_commits WHERE cicd_deployment_id = ?', [
        deploymentId,
      ]),
    ).toBe(3);
    expect(await countRows(reader, 'SELECT COUNT(*) AS n FROM issues')).toBe(1);
    expect(await countRows(reader, 'SELECT COUNT(*) AS n FROM issues WHERE id = ?', [`webhook:${cid}:OPS-1`])).toBe(1);
    // Nothing either process logged was an unexpected error.
    for (const server of servers)
      expect(server.process.stdout() + server.process.stderr()).not.toMatch(/unexpected error/);
  });
});
