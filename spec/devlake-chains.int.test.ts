import { dateOf } from '../src/db/columns';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';
import { rebuildSummary } from '../src/server/rebuild-summary';

type Row = Record<string, unknown>;

/** A small deterministic generator, so a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Each successful row's `prev_success_deployment_commit_id` recomputed from the rows, as DevLake's
 * dora plugin walks them: per scope, repo and environment, SUCCESS rows with a finish in order of
 * finish then id; others keep ''. Answers the rows whose stored pointer differs.
 */
async function wrongPointers(server: TestServer): Promise<string[]> {
  const rows = await runSql(
    server.db.dataSource,
    `SELECT id, cicd_scope_id, repo_url, environment, result, finished_date,
            prev_success_deployment_commit_id AS prev
       FROM cicd_deployment_commits ORDER BY id`,
  );
  // The database's own order for ties (ids compare by its collation): read it once.
  const order = new Map(rows.map((row, index) => [String(row.id), index]));
  const chains = new Map<string, Row[]>();
  const wrong: string[] = [];
  for (const row of rows) {
    if (row.result !== 'SUCCESS' || row.finished_date === null) {
      if ((row.prev ?? '') !== '') wrong.push(`${String(row.id)} (not in a chain)`);
      continue;
    }
    const key = JSON.stringify([row.cicd_scope_id, row.repo_url, row.environment]);
    chains.set(key, [...(chains.get(key) ?? []), row]);
  }
  for (const chain of chains.values()) {
    chain.sort(
      (a, b) =>
        dateOf(a.finished_date)!.getTime() - dateOf(b.finished_date)!.getTime() ||
        order.get(String(a.id))! - order.get(String(b.id))!,
    );
    chain.forEach((row, i) => {
      const expected = i === 0 ? '' : String(chain[i - 1].id);
      if (String(row.prev ?? '') !== expected) wrong.push(String(row.id));
    });
  }
  return wrong;
}

/**
 * DevLake's DORA dashboard follows the chain of successful deployments per repo. Posts arrive
 * in any order and are re-posted with other finishes, results and commit sets: after each burst
 * the chain must be what DevLake's own walk over the rows would give.
 */
describe("DevLake's chain of successful deployments, kept current under every kind of write", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server.close());

  it('equals a recomputation from the rows after new, back-dated, re-posted, failed and shrunk deployments', async () => {
    const { id, key } = await createConnection(server, 'chains');
    const random = generator(20_260_301);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const repos = ['https://git.example.com/a', 'https://git.example.com/b', 'https://git.example.com/c'];
    const base = Date.UTC(2026, 2, 1);
    const sent: object[] = [];
    for (let burst = 0; burst < 6; burst += 1) {
      const posts = Array.from({ length: 12 }, () => {
        const commits = repos
          .filter(() => random() < 0.6)
          .map((repoUrl) => ({
            repoUrl,
            commitSha: Math.floor(random() * 1e9)
              .toString(16)
              .padStart(40, '0'),
          }));
        // Ties on purpose: finishes fall on whole hours, several deployments share one.
        const finished = new Date(base + Math.floor(random() * 40) * 3_600_000);
        return {
          id: `d-${Math.floor(random() * 25)}`,
          result: pick(['SUCCESS', 'SUCCESS', 'SUCCESS', 'FAILURE']),
          environment: pick(['PRODUCTION', 'PRODUCTION', 'STAGING']),
          startedDate: new Date(finished.getTime() - 600_000).toISOString(),
          finishedDate: finished.toISOString(),
          deploymentCommits: commits.length > 0 ? commits : [{ repoUrl: repos[0], commitSha: 'f'.repeat(40) }],
        };
      });
      // A burst posts concurrently, except that one deployment id is never in flight twice; and
      // it re-sends earlier bodies unchanged (a retried CI step), which must leave their rows' places.
      const byId = new Map<string, object>(posts.map((post) => [post.id, post]));
      for (const earlier of sent.slice(-6)) byId.set((earlier as { id: string }).id, earlier);
      sent.push(...posts);
      const answers = await Promise.all(
        [...byId.values()].map((body) =>
          server.request
            .post(`/api/plugins/webhook/connections/${id}/deployments`)
            .set('authorization', `Bearer ${key}`)
            .send(body),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      await server.plugin.settled();
      expect(await wrongPointers(server)).toEqual([]);
    }
    const counted = await runSql(
      server.db.dataSource,
      `SELECT COUNT(*) AS n FROM cicd_deployment_commits WHERE prev_success_deployment_commit_id <> ''`,
    );
    // The scenario did build chains (not only first rows).
    expect(Number(counted[0].n)).toBeGreaterThan(10);

    // Lost pointers (rows DevLake rewrote, a crash before a refresh): the rebuild command restores them.
    await runSql(server.db.dataSource, `UPDATE cicd_deployment_commits SET prev_success_deployment_commit_id = ''`);
    expect((await wrongPointers(server)).length).toBeGreaterThan(10);
    const output = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await rebuildSummary({ DB_URL: server.db.url });
    } finally {
      output.mockRestore();
    }
    expect(await wrongPointers(server)).toEqual([]);
  });
});
