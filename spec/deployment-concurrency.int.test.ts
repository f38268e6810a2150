import { DEPLOYMENT_SUMMARY_TABLE } from '../src/deployments/deployment-summary';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';
import { dateOf } from '../src/db/columns';

/** Transactions the database rolled back and the plugin ran again, from the request log lines. */
function retries(server: TestServer): number {
  return server.logger.lines
    .map((line) => Number(/"dbRetries":(\d+)/.exec(line)?.[1] ?? 0))
    .reduce((sum, count) => sum + count, 0);
}

/**
 * Many CI jobs deploy the same commits at once (one per service of a monorepo, say). Each POST
 * must land at once: a deadlock between them is retried by the server, but enough of them in a
 * row turn into 503s, and every one costs a rolled-back transaction.
 */
describe('concurrent deployments of the same commits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('all answer 200, each has its summary row, none had to be run again after a deadlock, and each repo chain is whole', async () => {
    const { id, key } = await createConnection(server, 'monorepo');
    const before = retries(server);
    const statuses: number[] = [];
    for (let round = 0; round < 3; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          server.request
            .post(`/api/plugins/webhook/connections/${id}/deployments`)
            .set('authorization', `Bearer ${key}`)
            .send({
              id: `round-${round}-service-${i}`,
              deploymentCommits: Array.from({ length: 200 }, (__, c) => ({
                repoUrl: `https://git.example.com/repo-${c}`,
                commitSha: `${c}`.padStart(40, 'a'),
              })),
            }),
        ),
      );
      statuses.push(...answers.map((answer) => answer.status));
    }
    expect(statuses).toEqual(statuses.map(() => 200));
    // The summary and DevLake's chains follow in the background, right after the commits.
    await server.plugin.settled();
    const summaries = await runSql(
      server.db.dataSource,
      `SELECT COUNT(*) AS n FROM ${DEPLOYMENT_SUMMARY_TABLE} WHERE cicd_scope_id = 'webhook:${id}'`,
    );
    expect(Number(summaries[0].n)).toBe(36);
    expect(retries(server) - before).toBe(0);

    // DevLake's chain of successful deployments per repo (what its DORA dashboard reads): each
    // row points at the one that finished before it, although the rows arrived all at once.
    const rows = await runSql(
      server.db.dataSource,
      `SELECT id, repo_url, finished_date, prev_success_deployment_commit_id AS prev
         FROM cicd_deployment_commits WHERE cicd_scope_id = 'webhook:${id}'`,
    );
    const byRepo = new Map<string, Record<string, unknown>[]>();
    for (const row of rows) byRepo.set(String(row.repo_url), [...(byRepo.get(String(row.repo_url)) ?? []), row]);
    expect(byRepo.size).toBe(200);
    const wrong: string[] = [];
    for (const chain of byRepo.values()) {
      chain.sort((a, b) => {
        const at = dateOf(a.finished_date)!.getTime();
        const bt = dateOf(b.finished_date)!.getTime();
        return at - bt || (String(a.id) < String(b.id) ? -1 : 1);
      });
      chain.forEach((row, i) => {
        const expected = i === 0 ? '' : String(chain[i - 1].id);
        if (String(row.prev ?? '') !== expected) wrong.push(String(row.id));
      });
    }
    expect(wrong).toEqual([]);
  });
});
