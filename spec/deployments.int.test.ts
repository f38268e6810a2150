import { CicdDeployment, CicdDeploymentCommit } from '../src/deployments/deployment.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';

// The seed document's deployment commands (webhook-plugin-doc.txt, "Register a deployment"),
// bodies exactly as written there: curl -d sends them as application/x-www-form-urlencoded.
const SEED_CURL_BODY = `{
"commit_sha":"015e3d3b480e417aede5a1293bd61de9b0fd051d",
"repo_url":"https://github.com/apache/incubator-devlake/",
"environment":"PRODUCTION",
"start_time":"2020-01-01T12:00:00+00:00",
"end_time":"2020-01-02T12:00:00+00:00"
}`;
const SEED_SHA = '015e3d3b480e417aede5a1293bd61de9b0fd051d';
const SEED_REPO = 'https://github.com/apache/incubator-devlake/';
/** `echo -n 'https://github.com/apache/incubator-devlake/' | md5sum`, first 16 characters. */
const SEED_REPO_MD5_16 = 'c47dd68db2cd4548';

// The CircleCI example's body after the shell expanded it: `start_time` from
// `date '+%Y-%m-%dT%H:%M:%S%z'` (no colon in the offset), CircleCI's SSH repository URL, no end_time.
const CIRCLE_SHA = '9d4c2f0f1d6b0a4e8e5f3c2b1a0f9e8d7c6b5a49';
const CIRCLE_REPO = 'git@github.com:acme/shop.git';
const CIRCLE_START = '2026-11-28T10:00:00+0000';
const CIRCLE_BODY = `{
"commit_sha":"${CIRCLE_SHA}",
"repo_url":"${CIRCLE_REPO}",
"start_time":"${CIRCLE_START}"
}`;

const REPO_API = 'https://github.com/acme/api';
const REPO_WEB = 'https://gitlab.com/acme/web';
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const SHA_C = 'c'.repeat(40);

/** DevLake v1.0's documented form: three commits in two repos. */
const V1_PAYLOAD = {
  id: 'release-42',
  displayTitle: 'Release 42',
  result: 'SUCCESS',
  environment: 'staging',
  url: 'https://ci.example.com/builds/42',
  startedDate: '2026-03-01T10:00:00Z',
  finishedDate: '2026-03-01T10:05:30.500Z',
  deploymentCommits: [
    { repoUrl: REPO_API, commitSha: SHA_A, refName: 'main', commitMsg: 'fix login', repoId: 'api-1' },
    { repoUrl: REPO_API, commitSha: SHA_B, refName: 'main' },
    {
      repoUrl: REPO_WEB,
      commitSha: SHA_C,
      name: 'web rollout',
      displayTitle: 'web',
      result: 'failed',
      status: 'in_progress',
      startedDate: '2026-03-01T10:01:00Z',
      finishedDate: '2026-03-01T10:02:00Z',
      createdDate: '2026-03-01T09:59:00Z',
      url: 'https://ci.example.com/builds/42/web',
    },
  ],
};

function md5_16(text: string): string {
  // Known values, computed with md5sum, so the test does not re-implement the rule it checks.
  const known: Record<string, string> = {
    [REPO_API]: 'bc73a8e1292e0db5',
    [REPO_WEB]: 'cf17a7f40c8ba671',
  };
  return known[text];
}

describe('POST /deployments (contract §2, §3, §5, §9)', () => {
  let server: TestServer;
  let cid: number;
  let otherCid: number;

  const deployments = () => server.db.dataSource.getRepository(CicdDeployment);
  const commits = () => server.db.dataSource.getRepository(CicdDeploymentCommit);
  const commitsOf = (deploymentId: string) =>
    commits().find({ where: { cicdDeploymentId: deploymentId }, order: { id: 'ASC' } });
  const post = (body: unknown, connection: number | string = cid) =>
    server.request.post(`${BASE}/${connection}/deployments`).send(body as object);

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'ci')).id;
    otherCid = (await createConnection(server, 'other ci')).id;
  });
  afterAll(async () => server.close());

  it("stores the seed's curl body, sent as curl -d sends it, with the contract's ids and columns", async () => {
    const res = await server.request
      .post(`${BASE}/${cid}/deployments`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(SEED_CURL_BODY);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ code: 0, success: true, message: 'success', causes: null });
    const { deploymentId, id, commitIds } = res.body.data;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(deploymentId).toBe(`webhook:${cid}:${id}`);
    expect(commitIds).toEqual([`webhook:${cid}:${id}:${SEED_REPO_MD5_16}:${SEED_SHA}`]);

    const deployment = await deployments().findOneByOrFail({ id: deploymentId });
    expect(deployment).toMatchObject({
      cicdScopeId: `webhook:${cid}`,
      name: `deploy ${SEED_SHA} to PRODUCTION`,
      displayTitle: '',
      url: '',
      result: 'SUCCESS',
      originalResult: 'SUCCESS',
      status: 'DONE',
      originalStatus: 'DONE',
      environment: 'PRODUCTION',
      originalEnvironment: '',
      createdDate: new Date('2020-01-01T12:00:00Z'),
      startedDate: new Date('2020-01-01T12:00:00Z'),
      finishedDate: new Date('2020-01-02T12:00:00Z'),
      durationSec: 86400,
      queuedDate: null,
      queuedDurationSec: null,
      subtaskName: '',
    });
    expect(deployment.createdAt).toBeInstanceOf(Date);
    expect(deployment.updatedAt).toBeInstanceOf(Date);

    const [commit, ...more] = await commitsOf(deploymentId);
    expect(more).toEqual([]);
    expect(commit).toMatchObject({
      id: commitIds[0],
      commitSha: SEED_SHA,
      cicdScopeId: `webhook:${cid}`,
      cicdDeploymentId: deploymentId,
      name: `deployment for ${SEED_SHA}`,
      displayTitle: '',
      url: '',
      result: 'SUCCESS',
      originalResult: 'SUCCESS',
      status: 'DONE',
      originalStatus: 'DONE',
      environment: 'PRODUCTION',
      originalEnvironment: '',
      createdDate: new Date('2020-01-01T12:00:00Z'),
      startedDate: new Date('2020-01-01T12:00:00Z'),
      finishedDate: new Date('2020-01-02T12:00:00Z'),
      durationSec: 86400,
      queuedDate: null,
      queuedDurationSec: null,
      commitMsg: '',
      refName: '',
      repoId: '',
      repoUrl: SEED_REPO,
      prevSuccessDeploymentCommitId: '',
      subtaskName: '',
    });
  });

  it("reads the CircleCI example's %z start time and defaults the finish to the arrival time", async () => {
    const before = Date.now();
    const res = await server.request
      .post(`${BASE}/${cid}/deployments`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(CIRCLE_BODY);
    const after = Date.now();
    expect(res.status).toBe(200);
    const { deploymentId, commitIds } = res.body.data;
    expect(commitIds).toHaveLength(1);

    const deployment = await deployments().findOneByOrFail({ id: deploymentId });
    expect(deployment.startedDate).toEqual(new Date('2026-11-28T10:00:00Z'));
    expect(deployment.createdDate).toEqual(new Date('2026-11-28T10:00:00Z'));
    expect(deployment.environment).toBe('PRODUCTION');
    const finished = deployment.finishedDate!.getTime();
    expect(finished).toBeGreaterThanOrEqual(before - 1);
    expect(finished).toBeLessThanOrEqual(after + 1);
    expect(deployment.durationSec).toBe(Math.trunc((finished - Date.parse('2026-11-28T10:00:00Z')) / 1000));

    const [commit] = await commitsOf(deploymentId);
    expect(commit).toMatchObject({
      repoUrl: CIRCLE_REPO,
      commitSha: CIRCLE_SHA,
      finishedDate: deployment.finishedDate,
    });
  });

  it('updates the same deployment when the CircleCI body is retried, though its finish time moved', async () => {
    const first = await post(CIRCLE_BODY);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = await post(CIRCLE_BODY);
    expect(retry.body.data).toEqual(first.body.data);
    const rows = await deployments().findBy({
      cicdScopeId: `webhook:${cid}`,
      name: `deploy ${CIRCLE_SHA} to PRODUCTION`,
    });
    expect(rows).toHaveLength(1);
    expect(await commits().countBy({ commitSha: CIRCLE_SHA })).toBe(1);
  });

  it('makes another deployment for the same commit in another environment or at another start time', async () => {
    const base = { commit_sha: CIRCLE_SHA, repo_url: CIRCLE_REPO, start_time: CIRCLE_START };
    const original = (await post(base)).body.data.id;
    const staging = (await post({ ...base, environment: 'STAGING' })).body.data.id;
    const later = (await post({ ...base, start_time: '2026-11-28T11:00:00+0000' })).body.data.id;
    const sameInstant = (await post({ ...base, start_time: '2026-11-28T12:00:00+02:00' })).body.data.id;
    expect(new Set([original, staging, later]).size).toBe(3);
    expect(sameInstant).toBe(original);
  });

  it('stores a v1.0 payload with three commits in two repos, each commit with its own or inherited fields', async () => {
    const res = await post(V1_PAYLOAD);
    expect(res.status).toBe(200);
    const deploymentId = `webhook:${cid}:release-42`;
    const idOf = (repo: string, sha: string) => `${deploymentId}:${md5_16(repo)}:${sha}`;
    expect(res.body.data).toEqual({
      deploymentId,
      id: 'release-42',
      commitIds: [idOf(REPO_API, SHA_A), idOf(REPO_API, SHA_B), idOf(REPO_WEB, SHA_C)],
      // How each sent date was read, by the name it was sent under.
      dates: {
        startedDate: '2026-03-01T10:00:00.000Z',
        finishedDate: '2026-03-01T10:05:30.500Z',
        'deploymentCommits[2].createdDate': '2026-03-01T09:59:00.000Z',
        'deploymentCommits[2].startedDate': '2026-03-01T10:01:00.000Z',
        'deploymentCommits[2].finishedDate': '2026-03-01T10:02:00.000Z',
      },
      warnings: [],
    });

    expect(await deployments().findOneByOrFail({ id: deploymentId })).toMatchObject({
      cicdScopeId: `webhook:${cid}`,
      name: `deploy ${SHA_A},${SHA_B},${SHA_C} to STAGING`,
      displayTitle: 'Release 42',
      url: 'https://ci.example.com/builds/42',
      result: 'SUCCESS',
      originalResult: 'SUCCESS',
      status: 'DONE',
      environment: 'STAGING',
      originalEnvironment: '',
      createdDate: new Date('2026-03-01T10:00:00Z'),
      startedDate: new Date('2026-03-01T10:00:00Z'),
      finishedDate: new Date('2026-03-01T10:05:30.500Z'),
      durationSec: 330,
    });

    const rows = new Map((await commitsOf(deploymentId)).map((row) => [row.commitSha, row]));
    expect(rows.size).toBe(3);
    expect(rows.get(SHA_A)).toMatchObject({
      id: idOf(REPO_API, SHA_A),
      repoUrl: REPO_API,
      refName: 'main',
      commitMsg: 'fix login',
      repoId: 'api-1',
      name: `deployment for ${SHA_A}`,
      // A commit's own display title only, as DevLake stores it.
      displayTitle: '',
      url: 'https://ci.example.com/builds/42',
      result: 'SUCCESS',
      status: 'DONE',
      environment: 'STAGING',
      createdDate: new Date('2026-03-01T10:00:00Z'),
      startedDate: new Date('2026-03-01T10:00:00Z'),
      finishedDate: new Date('2026-03-01T10:05:30.500Z'),
      durationSec: 330,
    });
    expect(rows.get(SHA_B)).toMatchObject({ repoUrl: REPO_API, commitMsg: '', repoId: '', result: 'SUCCESS' });
    expect(rows.get(SHA_C)).toMatchObject({
      id: idOf(REPO_WEB, SHA_C),
      repoUrl: REPO_WEB,
      name: 'web rollout',
      displayTitle: 'web',
      url: 'https://ci.example.com/builds/42/web',
      result: 'FAILURE',
      originalResult: 'failed',
      // The word as sent, as DevLake stores it; every row's duration is the deployment's.
      status: 'in_progress',
      originalStatus: 'in_progress',
      createdDate: new Date('2026-03-01T09:59:00Z'),
      startedDate: new Date('2026-03-01T10:01:00Z'),
      finishedDate: new Date('2026-03-01T10:02:00Z'),
      durationSec: 330,
    });
  });

  it('reads keys in any case and in snake_case, the v1.0 and seed names mixed as real clients send them', async () => {
    const res = await post({
      PIPELINE_ID: 'mixed-1',
      Environment: 'testing',
      Start_Time: '2026-02-01T08:00:00+0100',
      END_TIME: '2026-02-01 07:30:00',
      deployment_commits: [{ COMMIT_SHA: SHA_A, repo_url: REPO_API, RefName: 'v1.2' }],
      unknownKey: 'ignored',
    });
    expect(res.status).toBe(200);
    const deployment = await deployments().findOneByOrFail({ id: `webhook:${cid}:mixed-1` });
    expect(deployment).toMatchObject({
      environment: 'TESTING',
      startedDate: new Date('2026-02-01T07:00:00Z'),
      finishedDate: new Date('2026-02-01T07:30:00Z'),
      durationSec: 1800,
    });
    const [commit] = await commitsOf(deployment.id);
    expect(commit).toMatchObject({ commitSha: SHA_A, repoUrl: REPO_API, refName: 'v1.2' });
  });

  it('accepts the real-world mix: snake_case commit items, a top-level start_time, no id, no finish time', async () => {
    const body = {
      start_time: '2026-11-28T09:00:00Z',
      deploymentCommits: [{ commit_sha: SHA_B, repo_url: REPO_WEB, ref_name: 'main' }],
    };
    const first = await post(body);
    const again = await post(body);
    expect(first.status).toBe(200);
    expect(again.body.data).toEqual(first.body.data);
    const [commit] = await commitsOf(first.body.data.deploymentId);
    expect(commit).toMatchObject({ commitSha: SHA_B, repoUrl: REPO_WEB, refName: 'main' });
  });

  it("applies DevLake's weak typing: a numeric id is that string, nulls are absent", async () => {
    const res = await post({ id: 123, name: null, createdDate: null, commitSha: SHA_C, repoUrl: REPO_WEB });
    expect(res.status).toBe(200);
    expect(res.body.data.deploymentId).toBe(`webhook:${cid}:123`);
    expect((await deployments().findOneByOrFail({ id: `webhook:${cid}:123` })).name).toBe(
      `deploy ${SHA_C} to PRODUCTION`,
    );
  });

  it('updates a re-posted deployment in place: same rows, created_at kept, updated_at moved', async () => {
    const body = { ...V1_PAYLOAD, id: 'retry-1' };
    await post(body);
    const deploymentId = `webhook:${cid}:retry-1`;
    const firstDeployment = await deployments().findOneByOrFail({ id: deploymentId });
    const firstCommits = await commitsOf(deploymentId);
    await new Promise((resolve) => setTimeout(resolve, 20));

    const res = await post({ ...body, displayTitle: 'Release 42, again' });
    expect(res.status).toBe(200);
    const secondDeployment = await deployments().findOneByOrFail({ id: deploymentId });
    const secondCommits = await commitsOf(deploymentId);
    expect(secondDeployment.displayTitle).toBe('Release 42, again');
    expect(secondDeployment.createdAt).toEqual(firstDeployment.createdAt);
    expect(secondDeployment.updatedAt!.getTime()).toBeGreaterThan(firstDeployment.updatedAt!.getTime());
    expect(secondCommits.map((row) => row.id)).toEqual(firstCommits.map((row) => row.id));
    secondCommits.forEach((row, index) => {
      expect(row.createdAt).toEqual(firstCommits[index].createdAt);
      expect(row.updatedAt!.getTime()).toBeGreaterThan(firstCommits[index].updatedAt!.getTime());
    });
    expect(await deployments().countBy({ id: deploymentId })).toBe(1);
  });

  it('replaces the commit set: a re-post with fewer commits removes the ones no longer listed', async () => {
    const deploymentId = `webhook:${cid}:shrink-1`;
    await post({ ...V1_PAYLOAD, id: 'shrink-1' });
    expect(await commits().countBy({ cicdDeploymentId: deploymentId })).toBe(3);
    const res = await post({ ...V1_PAYLOAD, id: 'shrink-1', deploymentCommits: [V1_PAYLOAD.deploymentCommits[1]] });
    expect(res.status).toBe(200);
    const rows = await commitsOf(deploymentId);
    expect(rows.map((row) => row.commitSha)).toEqual([SHA_B]);
    expect(res.body.data.commitIds).toEqual(rows.map((row) => row.id));
    // Another deployment's commits are untouched.
    expect(await commits().countBy({ cicdDeploymentId: `webhook:${cid}:release-42` })).toBe(3);
  });

  it("makes commit rows inherit the deployment's FAILURE unless they carry their own result", async () => {
    const res = await post({
      id: 'failed-1',
      result: 'FAILURE',
      deploymentCommits: [
        { repoUrl: REPO_API, commitSha: SHA_A },
        { repoUrl: REPO_WEB, commitSha: SHA_C, result: 'success' },
      ],
    });
    expect(res.status).toBe(200);
    const deploymentId = `webhook:${cid}:failed-1`;
    expect(await deployments().findOneByOrFail({ id: deploymentId })).toMatchObject({
      result: 'FAILURE',
      originalResult: 'FAILURE',
    });
    const rows = new Map((await commitsOf(deploymentId)).map((row) => [row.commitSha, row]));
    expect(rows.get(SHA_A)).toMatchObject({ result: 'FAILURE', originalResult: 'FAILURE' });
    expect(rows.get(SHA_C)).toMatchObject({ result: 'SUCCESS', originalResult: 'success' });
  });

  it.each([
    ['succeeded', 'SUCCESS'],
    ['Passed', 'SUCCESS'],
    ['ERROR', 'FAILURE'],
    ['cancelled', 'ABORT'],
    ['ABORTED', 'ABORT'],
    ['UNSTABLE', 'UNSTABLE'],
    ['unstable', 'UNSTABLE'],
  ])('never rejects a result: %s is stored as %s, the word kept in original_result', async (sent, stored) => {
    const id = `result-${sent}`;
    const res = await post({ id, result: sent, commitSha: SHA_A, repoUrl: REPO_API });
    expect(res.status).toBe(200);
    expect(await deployments().findOneByOrFail({ id: `webhook:${cid}:${id}` })).toMatchObject({
      result: stored,
      originalResult: sent,
    });
    const [commit] = await commitsOf(`webhook:${cid}:${id}`);
    expect(commit).toMatchObject({ result: stored, originalResult: sent });
  });

  it('keeps two connections posting the same id apart', async () => {
    const mine = await post({ id: '1', environment: 'PRODUCTION', commitSha: SHA_A, repoUrl: REPO_API });
    const theirs = await post({ id: '1', environment: 'STAGING', commitSha: SHA_A, repoUrl: REPO_API }, otherCid);
    expect(mine.body.data.deploymentId).toBe(`webhook:${cid}:1`);
    expect(theirs.body.data.deploymentId).toBe(`webhook:${otherCid}:1`);
    expect((await deployments().findOneByOrFail({ id: `webhook:${cid}:1` })).environment).toBe('PRODUCTION');
    expect(await deployments().findOneByOrFail({ id: `webhook:${otherCid}:1` })).toMatchObject({
      environment: 'STAGING',
      cicdScopeId: `webhook:${otherCid}`,
    });
    expect(await commits().countBy({ commitSha: SHA_A, cicdDeploymentId: `webhook:${otherCid}:1` })).toBe(1);
    expect(await commits().countBy({ commitSha: SHA_A, cicdDeploymentId: `webhook:${cid}:1` })).toBe(1);
  });

  it("writes rows that a DORA query finds by DevLake's column names", async () => {
    // DevLake's dashboards read these columns by name; a raw query proves the names, not the entity.
    await post({ id: 'dora-1', environment: 'PRODUCTION', commitSha: SHA_B, repoUrl: REPO_API }, otherCid);
    const rows = await runSql<{ n: number | string }[]>(
      server.db.dataSource,
      `SELECT COUNT(*) AS n FROM cicd_deployment_commits cdc
       WHERE cdc.cicd_scope_id = ? AND cdc.environment = 'PRODUCTION' AND cdc.result = 'SUCCESS'
         AND cdc.cicd_deployment_id = ? AND cdc.finished_date IS NOT NULL`,
      [`webhook:${otherCid}`, `webhook:${otherCid}:dora-1`],
    );
    expect(Number(rows[0].n)).toBe(1);
  });

  describe('addressing forms (contract §2)', () => {
    it.each([
      ['/:connectionId', () => `${BASE}/${cid}/deployments`],
      ['/connections/:connectionId', () => `${BASE}/connections/${cid}/deployments`],
      ['/connections/by-name/:connectionName', () => `${BASE}/connections/by-name/ci/deployments`],
      ['/plugins/webhook prefix', () => `/plugins/webhook/${cid}/deployments`],
    ])('stores a deployment posted to %s', async (_form, url) => {
      const id = `form-${_form}`;
      const res = await server.request.post(url()).send({ id, commitSha: SHA_A, repoUrl: REPO_API });
      expect(res.status).toBe(200);
      expect(res.body.data.deploymentId).toBe(`webhook:${cid}:${id}`);
      expect(await deployments().countBy({ id: `webhook:${cid}:${id}` })).toBe(1);
    });

    it("stores a deployment posted with the connection's API key in DevLake's /rest form", async () => {
      const { id: keyed, key } = await createConnection(server, 'keyed ci');
      const res = await server.request
        .post(`/api/rest/plugins/webhook/connections/${keyed}/deployments`)
        .set('Authorization', `Bearer ${key}`)
        .send({ id: 'rest-1', commitSha: SHA_A, repoUrl: REPO_API });
      expect(res.status).toBe(200);
      expect(res.body.data.deploymentId).toBe(`webhook:${keyed}:rest-1`);
    });
  });

  describe('accepted as DevLake accepts it', () => {
    it('stores a deployment that finishes before it starts, with a negative duration, and the answer says so', async () => {
      const res = await post({
        id: 'backwards',
        commitSha: SHA_A,
        repoUrl: REPO_API,
        startedDate: '2026-01-02T00:00:00Z',
        finishedDate: '2026-01-01T23:59:30Z',
      });
      expect(res.status).toBe(200);
      expect(res.body.data.warnings).toEqual([
        { field: 'finishedDate', message: expect.stringMatching(/before startedDate/) },
      ]);
      expect(await deployments().findOneByOrFail({ id: `webhook:${cid}:backwards` })).toMatchObject({
        durationSec: -30,
      });
      const commit = await post({
        id: 'backwards-commit',
        deploymentCommits: [
          {
            repoUrl: REPO_API,
            commitSha: SHA_A,
            startedDate: '2026-01-02T00:00:00Z',
            finishedDate: '2026-01-01T00:00:00Z',
          },
        ],
      });
      expect(commit.status).toBe(200);
      expect(commit.body.data.warnings.map((w: { field: string }) => w.field)).toEqual([
        'deploymentCommits[0].finishedDate',
      ]);
      expect(await commitsOf(`webhook:${cid}:backwards-commit`)).toHaveLength(1);
    });

    it('reads a single object where deploymentCommits expects a list as a list of one', async () => {
      const res = await post({ id: 'single', deploymentCommits: { repoUrl: REPO_API, commitSha: SHA_B } });
      expect(res.status).toBe(200);
      expect((await commitsOf(`webhook:${cid}:single`)).map((row) => row.commitSha)).toEqual([SHA_B]);
    });

    it('stores more than 1000 commits in one deployment (the body size limit is the limit)', async () => {
      const many = Array.from({ length: 1201 }, (_, i) => ({
        repoUrl: REPO_API,
        commitSha: i.toString(16).padStart(40, '0'),
      }));
      const res = await post({ id: 'many', deploymentCommits: many });
      expect(res.status).toBe(200);
      expect(await commits().countBy({ cicdDeploymentId: `webhook:${cid}:many` })).toBe(1201);
      // A re-post with fewer commits removes the others.
      expect((await post({ id: 'many', deploymentCommits: many.slice(0, 3) })).status).toBe(200);
      expect(await commits().countBy({ cicdDeploymentId: `webhook:${cid}:many` })).toBe(3);
    });

    it("takes the deployment row's status, original_status and original_result from the first commit, as DevLake does", async () => {
      const res = await post({
        id: 'first-commit',
        result: 'FAILURE',
        deploymentCommits: [
          { repoUrl: REPO_API, commitSha: SHA_A, status: 'Queued', result: 'passed' },
          { repoUrl: REPO_WEB, commitSha: SHA_B },
        ],
      });
      expect(res.status).toBe(200);
      expect(await deployments().findOneByOrFail({ id: `webhook:${cid}:first-commit` })).toMatchObject({
        result: 'FAILURE',
        status: 'Queued',
        originalStatus: 'Queued',
        originalResult: 'passed',
        originalEnvironment: '',
      });
    });
  });

  describe('rejections (contract §3, §4)', () => {
    const causesOf = (res: { body: { causes: { field: string; message: string }[] | null } }) =>
      (res.body.causes ?? []).map((cause) => cause.field);

    it('answers 400 naming deploymentCommits[1].commit_sha, as sent, when that commit has no sha, and writes nothing', async () => {
      const res = await post({
        id: 'bad-commit',
        deploymentCommits: [
          { repoUrl: REPO_API, commitSha: SHA_A },
          { repoUrl: REPO_API, commit_sha: '' },
        ],
      });
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
      expect(causesOf(res)).toEqual(['deploymentCommits[1].commit_sha']);
      expect(await deployments().countBy({ id: `webhook:${cid}:bad-commit` })).toBe(0);
    });

    it('answers 400 naming commitSha and repoUrl when no commit is sent in either form', async () => {
      const res = await post({ id: 'no-commit', environment: 'PRODUCTION' });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(['commitSha', 'repoUrl']);
      const onlySha = await post({ commit_sha: SHA_A, deploymentCommits: [] });
      expect(onlySha.status).toBe(400);
      // The body spells commit_sha in snake_case, so the missing field is named repo_url.
      expect(causesOf(onlySha)).toEqual(['repo_url']);
    });

    it('answers 400 naming start_time, as sent, when its offset does not exist', async () => {
      const res = await post({ commitSha: SHA_A, repoUrl: REPO_API, start_time: '2026-01-01T12:00:00+25:00' });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(['start_time']);
      expect(res.body.causes[0].message).toMatch(/^start_time has an invalid time-zone offset/);
    });

    it('answers 400 naming environment when it is not one of DevLake’s four', async () => {
      const res = await post({ commitSha: SHA_A, repoUrl: REPO_API, environment: 'QA' });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(['environment']);
      expect(res.body.causes[0].message).toContain('PRODUCTION, STAGING, TESTING, DEVELOPMENT');
    });

    it('answers 404 for an unknown connection, by id and by name', async () => {
      expect((await post({ commitSha: SHA_A, repoUrl: REPO_API }, 99999)).status).toBe(404);
      const byName = await server.request
        .post(`${BASE}/connections/by-name/nobody/deployments`)
        .send({ commitSha: SHA_A, repoUrl: REPO_API });
      expect(byName.status).toBe(404);
      expect(byName.body.success).toBe(false);
    });

    it.each([['abc'], ['1.5'], ['0'], ['-3']])('answers 400 for the connection id %s', async (connection) => {
      const res = await post({ commitSha: SHA_A, repoUrl: REPO_API }, connection);
      expect(res.status).toBe(400);
      expect(res.body.success).toBe(false);
    });

    it("answers 400 naming refName and name (not ref_name) when longer than DevLake's varchar(255)", async () => {
      const res = await post({
        id: 'long-ref',
        deploymentCommits: [{ repoUrl: REPO_API, commitSha: SHA_A, refName: 'r'.repeat(256), name: 'n'.repeat(256) }],
      });
      expect(res.status).toBe(400);
      expect(causesOf(res).sort()).toEqual(['deploymentCommits[0].name', 'deploymentCommits[0].refName']);
      const seed = await post({ commitSha: SHA_A, repoUrl: REPO_API, ref_name: 'r'.repeat(256) });
      // Named as the sender wrote it.
      expect(causesOf(seed)).toEqual(['ref_name']);
      expect(await deployments().countBy({ id: `webhook:${cid}:long-ref` })).toBe(0);
    });

    it("answers 400 naming each value longer than DevLake's column", async () => {
      const res = await post({
        id: 'long-values',
        result: 'R'.repeat(101),
        originalEnvironment: 'e'.repeat(256),
        deploymentCommits: [{ repoUrl: `https://example.com/${'r'.repeat(490)}`, commitSha: 's'.repeat(256) }],
      });
      expect(res.status).toBe(400);
      expect(causesOf(res).sort()).toEqual(
        ['deploymentCommits[0].commitSha', 'deploymentCommits[0].repoUrl', 'originalEnvironment', 'result'].sort(),
      );
    });

    it('answers 400 naming id when the stored id webhook:<cid>:<id> would exceed 255 characters', async () => {
      const fits = 255 - `webhook:${cid}:`.length;
      const res = await post({ id: 'i'.repeat(fits + 1), commitSha: SHA_A, repoUrl: REPO_API });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(['id']);
    });

    it("answers 400 naming the commit's sha when the commit row id would exceed 255 characters", async () => {
      const res = await post({
        id: 'x'.repeat(150),
        deploymentCommits: [
          { repoUrl: REPO_API, commitSha: SHA_A },
          { repoUrl: REPO_API, commitSha: 'f'.repeat(120) },
        ],
      });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(['deploymentCommits[1].commitSha']);
      expect(await deployments().countBy({ id: `webhook:${cid}:${'x'.repeat(150)}` })).toBe(0);
    });

    it('answers 400, not 500, for wrongly typed values', async () => {
      const res = await post({ deploymentCommits: 'abc', startedDate: { a: 1 }, environment: 3 });
      expect(res.status).toBe(400);
      expect(causesOf(res)).toEqual(expect.arrayContaining(['deploymentCommits', 'startedDate', 'environment']));
      const items = await post({ deploymentCommits: [42, null] });
      expect(items.status).toBe(400);
    });
  });
});

describe('POST /deployments behind Basic credentials, as the seed’s second curl command', () => {
  let server: TestServer;
  let cid: number;

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: 'username', password: 'password' } });
    cid = (await createConnection(server, 'ci', ['username', 'password'])).id;
  });
  afterAll(async () => server.close());

  it("stores the seed's body sent with -u 'username:password' and refuses it without", async () => {
    const send = () =>
      server.request.post(`${BASE}/${cid}/deployments`).set('Content-Type', 'application/x-www-form-urlencoded');
    expect((await send().send(SEED_CURL_BODY)).status).toBe(401);
    const res = await send().auth('username', 'password').send(SEED_CURL_BODY);
    expect(res.status).toBe(200);
    const rows = await server.db.dataSource.getRepository(CicdDeploymentCommit).findBy({ commitSha: SEED_SHA });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: `${res.body.data.deploymentId}:${SEED_REPO_MD5_16}:${SEED_SHA}`,
      repoUrl: SEED_REPO,
      environment: 'PRODUCTION',
      startedDate: new Date('2020-01-01T12:00:00Z'),
      finishedDate: new Date('2020-01-02T12:00:00Z'),
    });
  });
});
