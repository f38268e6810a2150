import type { RequestHandler } from 'express';
import { AuthenticationError } from '../src/http/errors';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const SEED_DEPLOYMENT = {
  commit_sha: '015e3d3b480e417aede5a1293bd61de9b0fd051d',
  repo_url: 'https://github.com/apache/incubator-devlake/',
};
const HOST_USER_HEADER = 'x-host-session';
const HOST_SESSION = 'alice-session';

/** A host's own authentication, as a host would plug in its session check or passport strategy. */
const hostAuthenticator: RequestHandler = (req, res, next) => {
  if (req.headers[HOST_USER_HEADER] === HOST_SESSION) {
    next();
    return;
  }
  if (req.headers[HOST_USER_HEADER] === 'throw') {
    next(new AuthenticationError('the host refused this session'));
    return;
  }
  res.status(401).json({ host: 'please log in' });
};

describe('auth options for hosts (issue 5 §6)', () => {
  describe('with adminAuthenticator instead of Basic', () => {
    let server: TestServer;
    let hook: { id: number; key: string };

    beforeAll(async () => {
      server = await startTestServer({ encryptionSecret: 'host-secret', adminAuthenticator: hostAuthenticator });
      const res = await server.request
        .post('/api/plugins/webhook/connections')
        .set(HOST_USER_HEADER, HOST_SESSION)
        .send({ name: 'host hook' });
      expect(res.status).toBe(200);
      hook = { id: res.body.id, key: res.body.apiKey.apiKey };
    });
    afterAll(async () => server.close());

    it("lets the host's middleware decide on admin routes", async () => {
      const ok = await server.request.get('/api/plugins/webhook/connections').set(HOST_USER_HEADER, HOST_SESSION);
      expect(ok.status).toBe(200);
      const refused = await server.request.get('/api/plugins/webhook/connections');
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ host: 'please log in' });
      const viaError = await server.request.get('/api/api-keys').set(HOST_USER_HEADER, 'throw');
      expect(viaError.status).toBe(401);
      expect(viaError.body).toMatchObject({ success: false, message: 'the host refused this session' });
    });

    it('does not accept Basic in its place when no basicAuth is configured', async () => {
      const res = await server.request.get('/api/plugins/webhook/connections').auth('admin', 'admin');
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ host: 'please log in' });
    });

    it("still refuses a connection's key on admin routes and accepts it for ingestion", async () => {
      const admin = await server.request
        .get('/api/plugins/webhook/connections')
        .set('Authorization', `Bearer ${hook.key}`);
      expect(admin.status).toBe(403);
      const ingest = await server.request
        .post(`/api/plugins/webhook/${hook.id}/deployments`)
        .set('Authorization', `Bearer ${hook.key}`)
        .send(SEED_DEPLOYMENT);
      expect(ingest.status).toBe(200);
    });

    it("accepts the host's session for ingestion too, and answers the host's refusal without it", async () => {
      const url = `/api/plugins/webhook/connections/${hook.id}/deployments`;
      const withSession = await server.request.post(url).set(HOST_USER_HEADER, HOST_SESSION).send(SEED_DEPLOYMENT);
      expect(withSession.status).toBe(200);
      const without = await server.request.post(url).send(SEED_DEPLOYMENT);
      expect(without.status).toBe(401);
      expect(without.body).toEqual({ host: 'please log in' });
    });
  });

  describe('with nothing configured (the loopback-only default)', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ encryptionSecret: 'open-secret' });
    });
    afterAll(async () => server.close());

    it('is open without credentials but still checks a key that is sent', async () => {
      const a = await createConnection(server, 'open a');
      const b = await createConnection(server, 'open b');
      const url = `/api/plugins/webhook/${a.id}/deployments`;
      expect((await server.request.post(url).send(SEED_DEPLOYMENT)).status).toBe(200);
      const wrongKey = await server.request.post(url).set('Authorization', `Bearer ${b.key}`).send(SEED_DEPLOYMENT);
      expect(wrongKey.status).toBe(403);
      const garbage = await server.request.post(url).set('Authorization', 'Token abc').send(SEED_DEPLOYMENT);
      expect(garbage.status).toBe(401);
    });

    it('requires a Bearer key under /rest even so', async () => {
      const a = await createConnection(server, 'open rest');
      const url = `/rest/plugins/webhook/connections/${a.id}/deployments`;
      const without = await server.request.post(url).send(SEED_DEPLOYMENT);
      expect(without.status).toBe(401);
      expect(without.headers['www-authenticate']).toBe('Bearer realm="devlake-webhook"');
      expect(
        (await server.request.post(url).set('Authorization', `Bearer ${a.key}`).send(SEED_DEPLOYMENT)).status,
      ).toBe(200);
    });
  });

  it('accepts a password holding a colon, compared whole (passport-http alone would cut it)', async () => {
    const server = await startTestServer({ basicAuth: { username: 'ops', password: 'a:b:c' } });
    try {
      expect((await server.request.get('/api/plugins/webhook/connections').auth('ops', 'a:b:c')).status).toBe(200);
      expect((await server.request.get('/api/plugins/webhook/connections').auth('ops', 'a')).status).toBe(401);
      expect((await server.request.get('/api/plugins/webhook/connections').auth('ops', 'a:b')).status).toBe(401);
      const res = await server.request.get('/api/plugins/webhook/connections').auth('Ops', 'a:b:c');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('Basic realm="devlake-webhook"');
    } finally {
      await server.close();
    }
  });
});
