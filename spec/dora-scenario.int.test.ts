import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const FROM = Date.UTC(2026, 0, 5); // a Monday
const DAYS = 84;
const TO = FROM + DAYS * 86_400_000;
const REPO = 'https://git.example.com/scenario';

/** A small deterministic generator (mulberry32), so the scenario is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ScenarioPr {
  key: number;
  created: number;
  merged: number;
  sha: string;
}
interface ScenarioDeployment {
  id: string;
  started: number;
  finished: number;
  sha: string;
  environment: string;
  result: string;
}

/**
 * Twelve weeks of one team: pull requests merged at random times into main, production
 * deployments in batches every one to three working days (each naming only the head commit, as CI
 * senders do), a staging run before each and one production run in eight failing.
 */
function scenario(seed: number): { prs: ScenarioPr[]; deployments: ScenarioDeployment[] } {
  const next = random(seed);
  const prs: ScenarioPr[] = [];
  for (let key = 1; key <= 150; key += 1) {
    const merged = FROM + Math.floor(next() * (TO - FROM));
    const created = merged - Math.floor((1 + next() * 72) * 3_600_000);
    prs.push({ key, created, merged, sha: `m${key.toString(16).padStart(6, '0')}` });
  }
  prs.sort((a, b) => a.merged - b.merged);
  const deployments: ScenarioDeployment[] = [];
  for (let at = FROM + 14 * 3_600_000; at < TO + 5 * 86_400_000; at += Math.ceil(1 + next() * 2) * 86_400_000) {
    const started = at + Math.floor(next() * 4 * 3_600_000);
    const head = [...prs].reverse().find((pr) => pr.merged <= started);
    const sha = head ? head.sha : 'initial';
    const n = deployments.length;
    deployments.push({
      id: `stg-${n}`,
      started: started - 3_600_000,
      finished: started - 1_800_000,
      sha,
      environment: 'STAGING',
      result: 'SUCCESS',
    });
    deployments.push({
      id: `prod-${n}`,
      started,
      finished: started + 20 * 60_000,
      sha,
      environment: 'PRODUCTION',
      result: next() < 1 / 8 ? 'FAILURE' : 'SUCCESS',
    });
  }
  return { prs, deployments };
}

describe('lead time coverage on a seeded batched-deployment scenario', () => {
  let server: TestServer;
  let cid: number;
  const { prs, deployments } = scenario(17);

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'scenario')).id;
    for (const d of deployments) {
      const res = await server.request.post(`${BASE}/connections/${cid}/deployments`).send({
        id: d.id,
        environment: d.environment,
        result: d.result,
        startedDate: new Date(d.started).toISOString(),
        finishedDate: new Date(d.finished).toISOString(),
        deploymentCommits: [{ repoUrl: REPO, commitSha: d.sha, refName: 'refs/heads/main' }],
      });
      expect(res.status).toBe(200);
    }
    for (const pr of prs) {
      const res = await server.request.post(`${BASE}/connections/${cid}/pull_requests`).send({
        id: `pr${pr.key}`,
        displayTitle: `change ${pr.key}`,
        pullRequestKey: pr.key,
        status: 'MERGED',
        createdDate: new Date(pr.created).toISOString(),
        mergedDate: new Date(pr.merged).toISOString(),
        mergeCommitSha: pr.sha,
        baseRef: 'main',
      });
      expect(res.status).toBe(200);
    }
  }, 120_000);
  afterAll(async () => server.close());

  it('gives a lead time to at least 90% of the merged pull requests that have a later production deployment', async () => {
    const window = `from=${new Date(FROM).toISOString()}&to=${new Date(TO).toISOString()}`;
    const res = await server.request.get(`${BASE}/connections/${cid}/dora?${window}`);
    expect(res.status).toBe(200);
    const production = deployments.filter((d) => d.environment === 'PRODUCTION' && d.result === 'SUCCESS');
    const deployable = prs.filter((pr) => production.some((d) => d.started >= pr.merged));
    const { coverage, byRule } = res.body.leadTimeForChanges;
    expect(coverage.mergedPullRequests).toBe(prs.length);
    // Sanity of the scenario: batching leaves most merge commits undeployed by name.
    expect(byRule.mergeCommit).toBeLessThan(deployable.length / 2);
    expect(coverage.withLeadTime).toBeGreaterThanOrEqual(Math.ceil(0.9 * deployable.length));
    expect(coverage.withLeadTime).toBeLessThanOrEqual(deployable.length);
  });
});
