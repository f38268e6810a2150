import { createApp } from '../src/server/create-app';
import { loadConfig, parseTrustProxy } from '../src/server/config';
import { DEFAULT_RATE_LIMIT } from '../src/options';
import { ConfigurationError } from '../src/options';
import supertest from 'supertest';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const ADMIN: [string, string] = ['admin', 'limits-admin-pw'];
const BASE = '/api/plugins/webhook';
const ISSUE = {
  issueKey: 'OPS-7',
  title: 'down',
  status: 'TODO',
  originalStatus: 'open',
  createdDate: '2024-05-01T10:00:00Z',
};
/** A pipeline burst or a history backfill: hundreds of posts within seconds. */
const BURST = 400;

/** Statuses of `count` requests sent `concurrency` at a time. */
async function statuses(count: number, concurrency: number, send: (i: number) => Promise<{ status: number }>) {
  const out: number[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = (await send(i)).status;
      }
    }),
  );
  return out;
}

describe('guessing limits stop password guessers, not users (default limits)', () => {
  let server: TestServer;
  let connection: { id: number; key: string };

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: ADMIN[0], password: ADMIN[1] }, rateLimit: {} });
    connection = await createConnection(server, 'limits hook', ADMIN);
  });
  afterAll(async () => server.close());

  it('answers 429 to wrong passwords against the admin page `/` after failedPasswords of them', async () => {
    const answers = await statuses(200, 1, () => server.request.get('/').auth('admin', 'guess'));
    const allowed = DEFAULT_RATE_LIMIT.failedPasswords;
    expect(answers.slice(0, allowed)).toEqual(new Array(allowed).fill(401));
    expect(answers.slice(allowed)).toEqual(new Array(200 - allowed).fill(429));
    const last = await server.request.get('/').auth('admin', 'guess');
    expect(last.status).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.body).toMatchObject({ code: 0, success: false, data: null });
    expect(last.body.message).toMatch(/wrong passwords/);
  });

  it('keeps the user name locked from that address on every route, the assets and the API included', async () => {
    expect((await server.request.get('/admin-ui/app.js').auth('admin', 'guess')).status).toBe(429);
    expect((await server.request.get(`${BASE}/connections`).auth(...ADMIN)).status).toBe(429);
    expect((await server.request.post('/api/api-keys').auth('admin', 'guess')).status).toBe(429);
  });

  it('counts per user name: another name from the same address is not locked by those guesses', async () => {
    expect((await server.request.get('/').auth('someone-else', 'guess')).status).toBe(401);
  });

  it('never refuses a valid API key because of wrong keys or passwords sent from the same address', async () => {
    const made = await statuses(150, 4, (i) =>
      server.request
        .post(`${BASE}/connections/${connection.id}/issues`)
        .set('authorization', `Bearer madeup${i}`)
        .send(ISSUE),
    );
    expect(new Set(made)).toEqual(new Set([401]));
    const valid = await server.request
      .post(`${BASE}/connections/${connection.id}/issues`)
      .set('authorization', `Bearer ${connection.key}`)
      .send(ISSUE);
    expect(valid.status).toBe(200);
  });

  it(`answers 200 to a burst of ${BURST} posts with one key`, async () => {
    const answers = await statuses(BURST, 8, (i) =>
      server.request
        .post(`${BASE}/connections/${connection.id}/issues`)
        .set('authorization', `Bearer ${connection.key}`)
        .send({ ...ISSUE, issueKey: `OPS-${i}` }),
    );
    expect(answers.filter((status) => status !== 200)).toEqual([]);
  });
});

describe('limits on an open loopback server (default limits)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: {} });
  });
  afterAll(async () => server.close());

  it(`answers 200 to a burst of ${BURST} posts without credentials`, async () => {
    const { id } = await createConnection(server, 'open hook');
    const answers = await statuses(BURST, 8, (i) =>
      server.request.post(`${BASE}/connections/${id}/issues`).send({ ...ISSUE, issueKey: `OPEN-${i}` }),
    );
    expect(answers.filter((status) => status !== 200)).toEqual([]);
  });
});

describe('TRUST_PROXY: X-Forwarded-For is believed only when the operator says so', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: ADMIN[0], password: ADMIN[1] }, rateLimit: {} });
  });
  afterAll(async () => server.close());

  async function guessFromForgedAddresses(app: ReturnType<typeof createApp>, user: string): Promise<number[]> {
    const request = supertest(app);
    return statuses(DEFAULT_RATE_LIMIT.failedPasswords + 1, 1, (i) =>
      request
        .get(`${BASE}/connections`)
        .auth(user, 'guess')
        .set('x-forwarded-for', `203.0.113.${i + 1}`),
    );
  }

  it('by default counts a loopback client by its own address, whatever X-Forwarded-For it sends', async () => {
    const answers = await guessFromForgedAddresses(server.app, 'forger');
    expect(answers[answers.length - 1]).toBe(429);
  });

  it('with TRUST_PROXY=loopback counts the address the proxy on loopback forwards', async () => {
    const behindProxy = createApp(server.plugin, server.db.dataSource, server.logger, { trustProxy: 'loopback' });
    const answers = await guessFromForgedAddresses(behindProxy, 'proxied');
    expect(answers).toEqual(new Array(answers.length).fill(401));
  });

  it("reads TRUST_PROXY with Express's semantics and refuses what Express cannot read, naming it", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(parseTrustProxy('true')).toBe(true);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
    expect(() => parseTrustProxy('not-an-address')).toThrow(ConfigurationError);
    expect(() => parseTrustProxy('not-an-address')).toThrow(/TRUST_PROXY/);
  });
});
