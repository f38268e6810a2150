import { createHmac } from 'node:crypto';
import { ApiKey } from '../src/auth/api-key.entity';
import { hashApiKey } from '../src/auth/api-key.service';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const SECRET = 'matrix-secret';
const ADMIN: [string, string] = ['admin', 'pa:ss word'];
const WRONG: [string, string] = ['admin', 'not the password'];
const SEED_DEPLOYMENT = {
  commit_sha: '015e3d3b480e417aede5a1293bd61de9b0fd051d',
  repo_url: 'https://github.com/apache/incubator-devlake/',
};
const WEBHOOK_PREFIXES = ['/api/plugins/webhook', '/plugins/webhook'];
const REST_PREFIXES = ['/api/rest/plugins/webhook', '/rest/plugins/webhook'];
const FORMS = ['by id (legacy)', 'by id', 'by name'] as const;

type Form = (typeof FORMS)[number];
type Credential =
  | 'no credentials'
  | 'Basic right'
  | 'Basic wrong'
  | 'own key'
  | "other connection's key"
  | 'general key, matching rule'
  | 'general key, non-matching rule'
  | 'rotated-away key'
  | 'expired key'
  | 'garbage header';

/** What a sender gets, by credential, on the Basic-or-key prefixes and on DevLake's `/rest` (Bearer only). */
const EXPECTED: Record<Credential, [number, number]> = {
  'no credentials': [401, 401],
  'Basic right': [200, 401],
  'Basic wrong': [401, 401],
  'own key': [200, 200],
  "other connection's key": [403, 403],
  'general key, matching rule': [200, 200],
  'general key, non-matching rule': [403, 403],
  'rotated-away key': [401, 401],
  'expired key': [401, 401],
  'garbage header': [401, 401],
};

describe('authentication of ingestion and admin routes (issue 5, contract §1, §8, §9)', () => {
  let server: TestServer;
  let own: { id: number; key: string };
  let other: { id: number; key: string };
  const secrets: string[] = [ADMIN[1], WRONG[1]];
  const headers = {} as Record<Credential, string | undefined>;

  const basic = ([user, pass]: [string, string]) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const bearer = (key: string) => `Bearer ${key}`;

  async function generalKey(
    name: string,
    allowedPath: string,
    expiredAt?: string,
  ): Promise<{ id: number; key: string }> {
    const res = await server.request
      .post('/api/api-keys')
      .auth(...ADMIN)
      .send({ name, allowedPath, type: 'devlake', expiredAt });
    expect(res.status).toBe(201);
    secrets.push(res.body.apiKey);
    return { id: res.body.id, key: res.body.apiKey };
  }

  beforeAll(async () => {
    server = await startTestServer({ encryptionSecret: SECRET, basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
    own = await createConnection(server, 'own hook', ADMIN);
    other = await createConnection(server, 'other hook', ADMIN);
    const rotated = await createConnection(server, 'rotated hook', ADMIN);
    const expired = await generalKey('soon expired', '.*', new Date(Date.now() + 3_600_000).toISOString());
    await server.db.dataSource
      .getRepository(ApiKey)
      .update({ id: expired.id }, { expiredAt: new Date(Date.now() - 1000) });
    const rotatedKeyId = (await server.request.get(`/api/plugins/webhook/connections/${rotated.id}`).auth(...ADMIN))
      .body.apiKey.id;
    const renewed = await server.request.put(`/api/api-keys/${rotatedKeyId}`).auth(...ADMIN);
    expect(renewed.status).toBe(200);
    secrets.push(own.key, other.key, rotated.key, renewed.body.apiKey);

    Object.assign(headers, {
      'no credentials': undefined,
      'Basic right': basic(ADMIN),
      'Basic wrong': basic(WRONG),
      'own key': bearer(own.key),
      "other connection's key": bearer(other.key),
      'general key, matching rule': bearer((await generalKey('ci', '/plugins/webhook/.*/deployments')).key),
      'general key, non-matching rule': bearer((await generalKey('issues only', '/plugins/webhook/.*/issues')).key),
      // The key the connection was created with, before `PUT /api-keys/:id` renewed it.
      'rotated-away key': bearer(rotated.key),
      'expired key': bearer(expired.key),
      'garbage header': 'Bearer !!not a key!!',
    } satisfies Record<Credential, string | undefined>);
  });
  afterAll(async () => server.close());

  function pathOf(prefix: string, form: Form): string {
    if (form === 'by id (legacy)') return `${prefix}/${own.id}/deployments`;
    if (form === 'by id') return `${prefix}/connections/${own.id}/deployments`;
    return `${prefix}/connections/by-name/${encodeURIComponent('own hook')}/deployments`;
  }

  const cases = (Object.keys(EXPECTED) as Credential[]).flatMap((credential) =>
    [...WEBHOOK_PREFIXES, ...REST_PREFIXES].flatMap((prefix) =>
      FORMS.map((form) => {
        const rest = REST_PREFIXES.includes(prefix);
        return { credential, prefix, form, status: EXPECTED[credential][rest ? 1 : 0] };
      }),
    ),
  );

  it.each(cases)(
    'answers $status to $credential on POST $prefix, connection addressed $form',
    async ({ credential, prefix, form, status }) => {
      let call = server.request.post(pathOf(prefix, form)).send(SEED_DEPLOYMENT);
      const header = headers[credential];
      if (header) call = call.set('Authorization', header);
      const res = await call;
      expect(res.status).toBe(status);
      expect(res.body.success).toBe(status === 200);
      if (status === 401) {
        expect(res.headers['www-authenticate']).toMatch(REST_PREFIXES.includes(prefix) ? /^Bearer/ : /Basic/);
        expect(res.body).toMatchObject({ code: 0, success: false, data: null });
      }
      if (status === 403) expect(res.body).toMatchObject({ code: 0, success: false, data: null });
    },
  );

  it('answers 401, not 404, for an unknown connection when no credentials are sent', async () => {
    const res = await server.request.post('/api/plugins/webhook/connections/by-name/nobody/deployments').send({});
    expect(res.status).toBe(401);
    const authorised = await server.request
      .post('/api/plugins/webhook/connections/by-name/nobody/deployments')
      .auth(...ADMIN)
      .send(SEED_DEPLOYMENT);
    expect(authorised.status).toBe(404);
  });

  it("accepts the seed's curl -u form and refuses the same request without it", async () => {
    const url = `/api/plugins/webhook/${own.id}/deployments`;
    const body = JSON.stringify({ ...SEED_DEPLOYMENT, environment: 'PRODUCTION' });
    const withU = await server.request
      .post(url)
      .auth(...ADMIN)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(body);
    expect(withU.status).toBe(200);
    const without = await server.request.post(url).set('Content-Type', 'application/x-www-form-urlencoded').send(body);
    expect(without.status).toBe(401);
  });

  it('refuses a connection key on the admin API (403) under every prefix, and Basic under /rest (401)', async () => {
    for (const prefix of [...WEBHOOK_PREFIXES, ...REST_PREFIXES]) {
      const list = await server.request.get(`${prefix}/connections`).set('Authorization', bearer(own.key));
      expect(list.status).toBe(403);
      const own1 = await server.request.get(`${prefix}/connections/${own.id}`).set('Authorization', bearer(own.key));
      expect(own1.status).toBe(403);
    }
    const keys = await server.request.get('/api/api-keys').set('Authorization', bearer(own.key));
    expect(keys.status).toBe(403);
    const rest = await server.request.get('/api/rest/plugins/webhook/connections').auth(...ADMIN);
    expect(rest.status).toBe(401);
  });

  it('opens the admin API to a general key whose anchored rule matches, and only to that', async () => {
    const all = await generalKey('everything', '.*');
    for (const prefix of [...WEBHOOK_PREFIXES, ...REST_PREFIXES]) {
      const res = await server.request.get(`${prefix}/connections`).set('Authorization', bearer(all.key));
      expect(res.status).toBe(200);
    }
    expect((await server.request.get('/api/api-keys').set('Authorization', bearer(all.key))).status).toBe(200);
    // Unanchored, DevLake would let `/plugins/webhook/connections` open `/x/plugins/webhook/connections/...`.
    const listOnly = await generalKey('list only', '/plugins/webhook/connections');
    const ok = await server.request
      .get('/api/rest/plugins/webhook/connections')
      .set('Authorization', bearer(listOnly.key));
    expect(ok.status).toBe(200);
    const one = await server.request
      .get(`/api/rest/plugins/webhook/connections/${own.id}`)
      .set('Authorization', bearer(listOnly.key));
    expect(one.status).toBe(403);
    const keys = await server.request.get('/api/api-keys').set('Authorization', bearer(listOnly.key));
    expect(keys.status).toBe(403);
  });

  it('works for Jenkins: a .* key lists connections, picks one by name, posts to /api + its endpoint', async () => {
    const jenkins = await generalKey('jenkins', '.*');
    const list = await server.request
      .get('/api/rest/plugins/webhook/connections')
      .set('Authorization', bearer(jenkins.key));
    expect(list.status).toBe(200);
    const hook = (list.body as { name: string; postPipelineDeployTaskEndpoint: string }[]).find(
      (c) => c.name === 'other hook',
    );
    expect(hook).toBeDefined();
    const res = await server.request
      .post(`/api${hook!.postPipelineDeployTaskEndpoint}`)
      .set('Authorization', bearer(jenkins.key))
      .send({ ...SEED_DEPLOYMENT, environment: 'PRODUCTION' });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
  });

  it("authorises with a connection's own key on /api/rest/.../connections/<id>/deployments, 403 on another", async () => {
    const mine = await server.request
      .post(`/api/rest/plugins/webhook/connections/${other.id}/deployments`)
      .set('Authorization', bearer(other.key))
      .send(SEED_DEPLOYMENT);
    expect(mine.status).toBe(200);
    const theirs = await server.request
      .post(`/api/rest/plugins/webhook/connections/${own.id}/deployments`)
      .set('Authorization', bearer(other.key))
      .send(SEED_DEPLOYMENT);
    expect(theirs.status).toBe(403);
  });

  it('stores only the HMAC-SHA256 of a key, which DevLake computes the same way', async () => {
    const rows = await server.db.dataSource.getRepository(ApiKey).find();
    const stored = rows.map((row) => row.apiKey);
    for (const key of [own.key, other.key]) {
      expect(stored).not.toContain(key);
      expect(stored.some((value) => value.includes(key.slice(0, 20)))).toBe(false);
      expect(stored).toContain(createHmac('sha256', SECRET).update(key).digest('hex'));
    }
  });

  it('accepts keys a DevLake installation issued with the same ENCRYPTION_SECRET', async () => {
    const repository = server.db.dataSource.getRepository(ApiKey);
    // As DevLake stores them: its own connection key and a general key of its Config-UI.
    const devlakeConnectionKey = 'DevLakeIssuedConnectionKey'.padEnd(128, 'x');
    const devlakeGeneralKey = 'DevLakeIssuedGeneralKey'.padEnd(128, 'y');
    const now = new Date();
    const row = (fields: Partial<ApiKey>) =>
      repository.create({
        createdAt: now,
        updatedAt: now,
        creator: 'admin',
        updater: 'admin',
        expiredAt: null,
        ...fields,
      });
    await repository.save([
      row({
        name: 'devlake-conn',
        apiKey: createHmac('sha256', SECRET).update(devlakeConnectionKey).digest('hex'),
        allowedPath: `/plugins/webhook/connections/${own.id}/.*`,
        type: 'plugin:webhook',
        extra: `connectionId:${own.id}`,
      }),
      row({
        name: 'devlake-general',
        apiKey: createHmac('sha256', SECRET).update(devlakeGeneralKey).digest('hex'),
        allowedPath: '.*',
        type: 'devlake',
        extra: null,
      }),
    ]);
    secrets.push(devlakeConnectionKey, devlakeGeneralKey);
    for (const key of [devlakeConnectionKey, devlakeGeneralKey]) {
      const res = await server.request
        .post(`/api/rest/plugins/webhook/connections/${own.id}/deployments`)
        .set('Authorization', bearer(key))
        .send(SEED_DEPLOYMENT);
      expect(res.status).toBe(200);
    }
    const wrongConnection = await server.request
      .post(`/api/rest/plugins/webhook/connections/${other.id}/deployments`)
      .set('Authorization', bearer(devlakeConnectionKey))
      .send(SEED_DEPLOYMENT);
    expect(wrongConnection.status).toBe(403);
    expect(hashApiKey(` ${SECRET}\n`, devlakeGeneralKey)).toBe(
      createHmac('sha256', SECRET).update(devlakeGeneralKey).digest('hex'),
    );
  });

  it("shows when a connection's key was last used, never the key", async () => {
    const before = await server.request.get(`/api/plugins/webhook/connections/${own.id}`).auth(...ADMIN);
    expect(before.body.apiKey.lastUsedAt).toEqual(expect.any(String));
    expect(before.body.apiKey).toMatchObject({ name: `webhook-${own.id}`, expiredAt: null });
    expect(before.body.apiKey.apiKey).toBeUndefined();
    expect(JSON.stringify(before.body)).not.toContain(own.key);
  });

  it('logs no key and no password after all the requests above, failures included', () => {
    const log = server.logger.lines.join('\n');
    // The refusals are logged for the operator (so the capture is not trivially empty)...
    expect(server.logger.lines.filter((line) => line.includes('request refused')).length).toBeGreaterThan(50);
    // ...without the credentials that were refused or accepted.
    for (const secret of secrets) expect(log).not.toContain(secret);
    expect(log).not.toContain(Buffer.from(`${ADMIN[0]}:${ADMIN[1]}`).toString('base64'));
  });
});
