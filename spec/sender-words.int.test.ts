import { CicdDeployment } from '../src/deployments/deployment.entity';
import { Issue } from '../src/issues/issue.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const SHA = '015e3d3b480e417aede5a1293bd61de9b0fd051d';
const REPO = 'https://github.com/acme/shop';
/** `date +%s` at 2020-01-01T12:00:00Z, and five minutes later. */
const START_SECONDS = 1577880000;
const END_SECONDS = 1577880300;

type Cause = { field: string; message: string };

describe('dates are read by documented rules and the answer shows how', () => {
  let server: TestServer;
  let cid: number;
  const post = (path: string, body: object) => server.request.post(`${BASE}/${cid}/${path}`).send(body);
  const deployment = (id: string) =>
    server.db.dataSource.getRepository(CicdDeployment).findOneByOrFail({ id: `webhook:${cid}:${id}` });

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'ci')).id;
  });
  afterAll(async () => server.close());

  it('reads epoch seconds from `date +%s` as seconds: 2020-01-01T12:00:00Z, duration 300 s', async () => {
    const res = await post('deployments', {
      id: 'epoch-seconds',
      commit_sha: SHA,
      repo_url: REPO,
      start_time: START_SECONDS,
      end_time: String(END_SECONDS),
    });
    expect(res.status).toBe(200);
    expect(res.body.data.dates).toEqual({
      start_time: '2020-01-01T12:00:00.000Z',
      end_time: '2020-01-01T12:05:00.000Z',
    });
    expect(res.body.data.warnings).toEqual([]);
    const row = await deployment('epoch-seconds');
    expect(row.startedDate?.toISOString()).toBe('2020-01-01T12:00:00.000Z');
    expect(row.durationSec).toBe(300);
  });

  it('reads epoch milliseconds as milliseconds', async () => {
    const res = await post('deployments', {
      id: 'epoch-ms',
      commitSha: SHA,
      repoUrl: REPO,
      startedDate: START_SECONDS * 1000,
      finishedDate: END_SECONDS * 1000,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.dates).toEqual({
      startedDate: '2020-01-01T12:00:00.000Z',
      finishedDate: '2020-01-01T12:05:00.000Z',
    });
    expect((await deployment('epoch-ms')).durationSec).toBe(300);
  });

  it('reads a date-time without an offset as UTC whether date and time are split by T or a space', async () => {
    const withT = await post('deployments', {
      id: 'no-offset-t',
      commit_sha: SHA,
      repo_url: REPO,
      start_time: '2020-01-01T12:00:00',
      end_time: '2020-01-01T12:05:00',
    });
    const withSpace = await post('deployments', {
      id: 'no-offset-space',
      commit_sha: SHA,
      repo_url: REPO,
      start_time: '2020-01-01 12:00:00',
      end_time: '2020-01-01 12:05:00',
    });
    expect([withT.status, withSpace.status]).toEqual([200, 200]);
    expect(withT.body.data.dates).toEqual(withSpace.body.data.dates);
    expect(withT.body.data.dates.start_time).toBe('2020-01-01T12:00:00.000Z');
    expect((await deployment('no-offset-t')).startedDate).toEqual((await deployment('no-offset-space')).startedDate);
  });

  it('accepts a comma before the fraction of a second', async () => {
    const res = await post('deployments', {
      id: 'comma',
      commit_sha: SHA,
      repo_url: REPO,
      start_time: '2020-01-01T12:00:00,5+08:00',
      end_time: '2020-01-01T12:05:00,25+08:00',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.dates).toEqual({
      start_time: '2020-01-01T04:00:00.500Z',
      end_time: '2020-01-01T04:05:00.250Z',
    });
  });

  it('stores a date before 2000 but warns about it in the answer, naming the field as sent', async () => {
    // Epoch seconds sent as if they were milliseconds' worth of a shell script gone wrong.
    const res = await post('deployments', {
      id: 'too-early',
      commit_sha: SHA,
      repo_url: REPO,
      start_time: 86_400,
      end_time: '2020-01-01T12:00:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.warnings).toEqual([
      {
        field: 'start_time',
        message: expect.stringMatching(/^start_time was read as 1970-01-02T00:00:00.000Z, before 2000/),
      },
    ]);
    expect((await deployment('too-early')).startedDate?.toISOString()).toBe('1970-01-02T00:00:00.000Z');
  });

  it('warns about a date more than a day after the request arrived', async () => {
    const nextWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();
    const res = await post('issues', {
      issueKey: 'FUT-1',
      title: 'from the future',
      status: 'TODO',
      originalStatus: 'open',
      createdDate: nextWeek,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.warnings.map((w: Cause) => w.field)).toEqual(['createdDate']);
    expect(res.body.data.warnings[0].message).toMatch(
      /^createdDate was read as .*, more than a day after this request/,
    );
  });

  it('warns about each nested date under its path as sent', async () => {
    const res = await post('deployments', {
      id: 'nested-warning',
      deployment_commits: [
        { repo_url: REPO, commit_sha: SHA, start_time: '2020-01-01T12:00:00Z', end_time: '2020-01-01T12:01:00Z' },
        {
          repo_url: REPO,
          commit_sha: 'f'.repeat(40),
          start_time: '1999-01-01T00:00:00Z',
          end_time: '2020-01-01T12:01:00Z',
        },
      ],
      start_time: '2020-01-01T12:00:00Z',
      end_time: '2020-01-01T12:05:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.warnings.map((w: Cause) => w.field)).toEqual(['deployment_commits[1].start_time']);
  });
});

describe('causes are named as the sender wrote the fields and say what to do', () => {
  let server: TestServer;
  let cid: number;
  const post = (path: string, body: object) => server.request.post(`${BASE}/${cid}/${path}`).send(body);

  beforeAll(async () => {
    server = await startTestServer();
    cid = (await createConnection(server, 'ci')).id;
  });
  afterAll(async () => server.close());

  it('names start_time, not startedDate, when start_time is not a date', async () => {
    const res = await post('deployments', { commit_sha: SHA, repo_url: REPO, start_time: 'yesterday' });
    expect(res.status).toBe(400);
    expect(res.body.causes).toEqual([
      { field: 'start_time', message: expect.stringMatching(/^start_time is not a date-time/) },
    ]);
    expect(res.body.message).toMatch(/^invalid request: start_time is not a date-time/);
    expect(JSON.stringify(res.body)).not.toContain('startedDate');
  });

  it('answers one cause named commit_sha, in snake_case, saying what to send, when a snake_case body leaves it out', async () => {
    const res = await post('deployments', { repo_url: REPO, environment: 'PRODUCTION' });
    expect(res.status).toBe(400);
    expect(res.body.causes).toEqual([
      {
        field: 'commit_sha',
        message:
          'commit_sha is required: the sha of the commit deployed (to send several commits or repos, list them in deployment_commits instead)',
      },
    ]);
    expect(res.body.message).toBe(`invalid request: ${res.body.causes[0].message}`);
    expect(JSON.stringify(res.body)).not.toMatch(/seed|commitSha|repoUrl|deploymentCommits/);
  });

  it('names the fields in camelCase when the body is camelCase, each said once', async () => {
    const res = await post('deployments', { environment: 'PRODUCTION', displayTitle: 'r1' });
    expect(res.status).toBe(400);
    expect(res.body.causes.map((c: Cause) => c.field)).toEqual(['commitSha', 'repoUrl']);
    expect(res.body.causes[1].message).toBe('repoUrl is required: the URL of the repository of commitSha');
    expect(res.body.message).toBe(
      'invalid request: commitSha is required: the sha of the commit deployed (to send several commits or repos, list them in deploymentCommits instead); repoUrl is required: the URL of the repository of commitSha',
    );
  });

  it('names a nested field by its path as sent, and both dates of an order warning as sent', async () => {
    const res = await post('deployments', {
      id: 'order',
      deployment_commits: [
        { repo_url: REPO, commit_sha: SHA, start_time: '2020-01-02T00:00:00Z', end_time: '2020-01-01T00:00:00Z' },
      ],
    });
    // Stored, as DevLake stores it; the answer says so in the sender's words.
    expect(res.status).toBe(200);
    expect(res.body.data.warnings).toContainEqual({
      field: 'deployment_commits[0].end_time',
      message: 'end_time is before start_time: stored as sent, with a negative duration',
    });
  });

  it('names an issue field as sent in any case', async () => {
    const res = await post('issues', {
      issue_key: 'K-1',
      title: 't',
      status: 'TODO',
      original_status: 'open',
      created_date: 'soon',
    });
    expect(res.status).toBe(400);
    expect(res.body.causes.map((c: Cause) => c.field)).toEqual(['created_date']);
    expect(await server.db.dataSource.getRepository(Issue).countBy({ issueKey: 'K-1' })).toBe(0);
  });
});
