import { createConnection, startTestServer, type TestServer } from './helpers/test-app';
import type { Response } from 'supertest';

const BASE = '/api/plugins/webhook';
const ADMIN: [string, string] = ['admin', 'limits-admin-pw'];
const PER_KEY = 5;
const PER_ADDRESS = 3;

const ISSUE = {
  issueKey: 'OPS-1',
  title: 'down',
  status: 'TODO',
  originalStatus: 'open',
  createdDate: '2024-05-01T10:00:00Z',
};

function expectRateLimited(res: Response, what: RegExp): void {
  expect(res.status).toBe(429);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
  expect(res.body).toEqual({
    code: 0,
    success: false,
    message: expect.stringMatching(what),
    causes: null,
    data: null,
    requestId: res.headers['x-request-id'],
  });
}

/** Issue 9, point 4: limits per API key, per Basic user, and per address without credentials. */
describe('rate limits (issue 9, point 4)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      basicAuth: { username: ADMIN[0], password: ADMIN[1] },
      rateLimit: { windowMs: 60_000, perKey: PER_KEY, perAddress: PER_ADDRESS },
    });
  });
  afterAll(async () => server.close());

  it('gives each API key its own budget of perKey requests, then answers 429 with Retry-After in the envelope', async () => {
    // Two connections: two Basic requests of the admin's budget.
    const first = await createConnection(server, 'first', ADMIN);
    const second = await createConnection(server, 'second', ADMIN);
    const postIssue = (connection: { id: number; key: string }) =>
      server.request
        .post(`${BASE}/connections/${connection.id}/issues`)
        .set('authorization', `Bearer ${connection.key}`)
        .send(ISSUE);

    for (let i = 0; i < PER_KEY; i += 1) expect((await postIssue(first)).status).toBe(200);
    const limited = await postIssue(first);
    expectRateLimited(limited, /API key/);
    expect(limited.text).not.toContain(first.key);
    // The other key's budget is untouched; the same key in DevLake's /rest form shares its budget.
    expect((await postIssue(second)).status).toBe(200);
    const restForm = await server.request
      .post(`/api/rest/plugins/webhook/connections/${first.id}/issues`)
      .set('authorization', `Bearer ${first.key}`)
      .send(ISSUE);
    expectRateLimited(restForm, /API key/);
  });

  it('gives the Basic user a budget of perKey requests', async () => {
    // This user already spent two requests creating connections above.
    const answers: number[] = [];
    for (let i = 0; i < PER_KEY; i += 1)
      answers.push((await server.request.get(`${BASE}/connections`).auth(...ADMIN)).status);
    expect(answers).toEqual([200, 200, 200, 429, 429]);
    expectRateLimited(await server.request.get(`${BASE}/connections`).auth(...ADMIN), /user/);
  });

  it('counts requests without credentials per address (perAddress), separately from the keys sent from it', async () => {
    const answers: number[] = [];
    for (let i = 0; i < PER_ADDRESS + 1; i += 1) answers.push((await server.request.get(`${BASE}/connections`)).status);
    expect(answers).toEqual([401, 401, 401, 429]);
    expectRateLimited(await server.request.post(`${BASE}/connections/1/issues`).send(ISSUE), /address/);
  });

  it('answers 429 naming the limit as a number, never the server source', async () => {
    const limited = await server.request.get(`${BASE}/connections`).auth(...ADMIN);
    expectRateLimited(limited, new RegExp(`at most ${PER_KEY} per 60 s`));
    expect(limited.body.message).not.toMatch(/=>|identify|req\)/);
  });

  it('can be turned off (rateLimit: false), as the tests of other routes do', async () => {
    const open = await startTestServer({ rateLimit: false });
    try {
      for (let i = 0; i < 130; i += 1) expect((await open.request.get(`${BASE}/connections`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });
});
