import { ApiKey } from '../src/auth/api-key.entity';
import { hashApiKey, API_KEY_CACHE_MS } from '../src/auth/api-key.service';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const SECRET = 'api-keys-secret';
const ADMIN: [string, string] = ['admin', 'admin-pass'];
const SEED_DEPLOYMENT = {
  commit_sha: '015e3d3b480e417aede5a1293bd61de9b0fd051d',
  repo_url: 'https://github.com/apache/incubator-devlake/',
};
const IN_AN_HOUR = () => new Date(Date.now() + 3_600_000).toISOString();

describe("DevLake's core API-key routes (contract §2, §8)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ encryptionSecret: SECRET, basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
  });
  afterAll(async () => server.close());

  const post = (body: object) =>
    server.request
      .post('/api/api-keys')
      .auth(...ADMIN)
      .send(body);

  it('creates a general key: 201, the plaintext once, only its HMAC stored, the creator named', async () => {
    const res = await post({ name: 'created', type: 'devlake', allowedPath: '.*', expiredAt: null });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.any(Number),
      name: 'created',
      type: 'devlake',
      allowedPath: '.*',
      expiredAt: null,
      creator: 'admin',
      extra: '',
    });
    expect(res.body.apiKey).toMatch(/^[A-Za-z0-9]{128}$/);
    const stored = await server.db.dataSource.getRepository(ApiKey).findOneByOrFail({ id: res.body.id });
    expect(stored.apiKey).toBe(hashApiKey(SECRET, res.body.apiKey));
  });

  it('types a key devlake when the request names no type, as Config-UI does', async () => {
    const res = await post({ name: 'untyped', allowedPath: '/plugins/webhook/.*' });
    expect(res.status).toBe(201);
    expect(res.body.type).toBe('devlake');
  });

  it("lists DevLake's general keys only, newest first, as {apikeys, count}, paged, never showing a key", async () => {
    await createConnection(server, 'listed hook', ADMIN);
    for (const name of ['page-a', 'page-b', 'page-c']) await post({ name, allowedPath: '.*' });
    await post({ name: 'other-type', type: 'custom', allowedPath: '.*' });
    const all = await server.request.get('/api/api-keys').auth(...ADMIN);
    expect(all.status).toBe(200);
    expect(all.body.count).toBeGreaterThanOrEqual(3);
    expect(all.body.apikeys).toHaveLength(all.body.count);
    // A connection's own key is never listed, so DevLake's Config-UI never offers to delete it.
    expect(new Set(all.body.apikeys.map((k: { type: string }) => k.type))).toEqual(new Set(['devlake']));
    const names = all.body.apikeys.map((k: { name: string }) => k.name);
    expect(names.indexOf('page-c')).toBeLessThan(names.indexOf('page-b'));
    expect(names.indexOf('page-b')).toBeLessThan(names.indexOf('page-a'));
    for (const key of all.body.apikeys) expect(key.apiKey).toBeUndefined();

    const page2 = await server.request.get('/api/api-keys?page=2&pageSize=2').auth(...ADMIN);
    expect(page2.status).toBe(200);
    expect(page2.body.count).toBe(all.body.count);
    expect(page2.body.apikeys.map((k: { id: number }) => k.id)).toEqual(
      all.body.apikeys.slice(2, 4).map((k: { id: number }) => k.id),
    );
    const bad = await server.request.get('/api/api-keys?pageSize=0').auth(...ADMIN);
    expect(bad.status).toBe(400);
    expect(bad.body.causes).toEqual([expect.objectContaining({ field: 'pageSize' })]);
  });

  it('answers 409 for a name already taken', async () => {
    await post({ name: 'twice', allowedPath: '.*' });
    const res = await post({ name: 'twice', allowedPath: '.*' });
    expect(res.status).toBe(409);
    expect(res.body.causes).toEqual([expect.objectContaining({ field: 'name' })]);
  });

  it.each([
    ['name is missing', { allowedPath: '.*' }, 'name'],
    ['name is longer than 255 characters', { name: 'n'.repeat(256), allowedPath: '.*' }, 'name'],
    ['allowedPath is missing', { name: 'no-rule' }, 'allowedPath'],
    ['allowedPath is not a regular expression', { name: 'bad-rule', allowedPath: '/plugins/(webhook' }, 'allowedPath'],
    [
      'allowedPath is unbalanced so it would escape its anchors',
      { name: 'escape', allowedPath: 'x)|(.*' },
      'allowedPath',
    ],
    ['type is the connections’ plugin:webhook', { name: 'fake', allowedPath: '.*', type: 'plugin:webhook' }, 'type'],
    ['name is a connection key’s name', { name: 'webhook-99', allowedPath: '.*' }, 'name'],
    ['expiredAt is in the past', { name: 'old', allowedPath: '.*', expiredAt: '2020-01-01T00:00:00Z' }, 'expiredAt'],
    ['expiredAt is not a date', { name: 'notdate', allowedPath: '.*', expiredAt: 'tomorrow' }, 'expiredAt'],
  ])('answers 400 naming the field when %s', async (_rule, body, field) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.causes.length).toBeGreaterThan(0);
    expect(res.body.causes.map((cause: { field: string }) => cause.field)).toEqual(res.body.causes.map(() => field));
  });

  it("renews a connection's key with PUT: new key shown once, the old one refused at once", async () => {
    const hook = await createConnection(server, 'renewed hook', ADMIN);
    const shown = await server.request.get(`/api/plugins/webhook/connections/${hook.id}`).auth(...ADMIN);
    const keyId = shown.body.apiKey.id;
    const url = `/api/rest/plugins/webhook/connections/${hook.id}/deployments`;
    expect(
      (await server.request.post(url).set('Authorization', `Bearer ${hook.key}`).send(SEED_DEPLOYMENT)).status,
    ).toBe(200);

    const renewed = await server.request.put(`/api/api-keys/${keyId}`).auth(...ADMIN);
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({
      id: keyId,
      name: `webhook-${hook.id}`,
      type: 'plugin:webhook',
      updater: 'admin',
    });
    expect(renewed.body.apiKey).toMatch(/^[A-Za-z0-9]{128}$/);
    expect(renewed.body.apiKey).not.toBe(hook.key);

    const old = await server.request.post(url).set('Authorization', `Bearer ${hook.key}`).send(SEED_DEPLOYMENT);
    expect(old.status).toBe(401);
    const fresh = await server.request
      .post(url)
      .set('Authorization', `Bearer ${renewed.body.apiKey}`)
      .send(SEED_DEPLOYMENT);
    expect(fresh.status).toBe(200);
    const after = await server.request.get(`/api/plugins/webhook/connections/${hook.id}`).auth(...ADMIN);
    expect(after.body.apiKey.id).toBe(keyId);
    expect(after.body.apiKey.apiKey).toBeUndefined();
  });

  it('sets, keeps or removes the expiry when renewing', async () => {
    const created = await post({ name: 'expiring', allowedPath: '.*', expiredAt: IN_AN_HOUR() });
    const expiry = created.body.expiredAt;
    expect(expiry).toEqual(expect.any(String));
    const kept = await server.request.put(`/api/api-keys/${created.body.id}`).auth(...ADMIN);
    expect(kept.body.expiredAt).toBe(expiry);
    const removed = await server.request
      .put(`/api/api-keys/${created.body.id}`)
      .auth(...ADMIN)
      .send({ expiredAt: null });
    expect(removed.body.expiredAt).toBeNull();
    const past = await server.request
      .put(`/api/api-keys/${created.body.id}`)
      .auth(...ADMIN)
      .send({ expiredAt: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
  });

  it('refuses a key once its expiry has passed, on the admin API too', async () => {
    const created = await post({ name: 'short-lived', allowedPath: '.*', expiredAt: IN_AN_HOUR() });
    const key = created.body.apiKey;
    expect((await server.request.get('/api/api-keys').set('Authorization', `Bearer ${key}`)).status).toBe(200);
    await server.db.dataSource
      .getRepository(ApiKey)
      .update({ id: created.body.id }, { expiredAt: new Date(Date.now() - 1000) });
    // A change written straight into the database (not through the API) applies once the
    // briefly reused lookup runs out (API_KEY_CACHE_MS, issue 10).
    await new Promise((resolve) => setTimeout(resolve, API_KEY_CACHE_MS + 100));
    const res = await server.request.get('/api/api-keys').set('Authorization', `Bearer ${key}`);
    expect(res.status).toBe(401);
    expect(res.body.message).toContain('expired');
  });

  it('deletes a general key, which stops working; refuses to delete a connection key (409)', async () => {
    const created = await post({ name: 'to delete', allowedPath: '.*' });
    const deleted = await server.request.delete(`/api/api-keys/${created.body.id}`).auth(...ADMIN);
    expect(deleted.status).toBe(200);
    // DevLake's bare success envelope.
    expect(deleted.body).toEqual({ code: 0, success: true, message: 'success', causes: null, data: null });
    const used = await server.request.get('/api/api-keys').set('Authorization', `Bearer ${created.body.apiKey}`);
    expect(used.status).toBe(401);
    expect((await server.request.delete(`/api/api-keys/${created.body.id}`).auth(...ADMIN)).status).toBe(404);

    const hook = await createConnection(server, 'kept hook', ADMIN);
    const keyId = (await server.request.get(`/api/plugins/webhook/connections/${hook.id}`).auth(...ADMIN)).body.apiKey
      .id;
    const refused = await server.request.delete(`/api/api-keys/${keyId}`).auth(...ADMIN);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toContain('PUT');
  });

  it('answers 404 for an unknown key id and 400 for a malformed one', async () => {
    expect((await server.request.put('/api/api-keys/999999').auth(...ADMIN)).status).toBe(404);
    const bad = await server.request.put('/api/api-keys/abc').auth(...ADMIN);
    expect(bad.status).toBe(400);
    expect(bad.body.causes).toEqual([expect.objectContaining({ field: 'apiKeyId' })]);
  });

  it('serves the routes under /api-keys and, with a Bearer key only, under /api/rest/api-keys', async () => {
    expect((await server.request.get('/api-keys').auth(...ADMIN)).status).toBe(200);
    expect((await server.request.get('/api/api-keys')).status).toBe(401);
    expect((await server.request.get('/api/rest/api-keys').auth(...ADMIN)).status).toBe(401);
    const all = await post({ name: 'rest admin', allowedPath: '.*' });
    const viaRest = await server.request.get('/rest/api-keys').set('Authorization', `Bearer ${all.body.apiKey}`);
    expect(viaRest.status).toBe(200);
    expect(viaRest.body.apikeys.find((k: { name: string }) => k.name === 'rest admin').creator).toBe('admin');
    // A key created by a key names that key as its creator.
    const child = await server.request
      .post('/api/rest/api-keys')
      .set('Authorization', `Bearer ${all.body.apiKey}`)
      .send({ name: 'child', allowedPath: '/plugins/webhook/.*' });
    expect(child.status).toBe(201);
    expect(child.body.creator).toBe('rest admin');
  });

  it('shows when a general key was last used', async () => {
    const created = await post({ name: 'used key', allowedPath: '.*' });
    await server.request.get('/api/plugins/webhook/connections').set('Authorization', `Bearer ${created.body.apiKey}`);
    let lastUsedAt: unknown = null;
    for (let tries = 0; tries < 20 && !lastUsedAt; tries += 1) {
      const list = await server.request.get('/api/api-keys?pageSize=500').auth(...ADMIN);
      lastUsedAt = list.body.apikeys.find((k: { id: number }) => k.id === created.body.id).lastUsedAt;
      if (!lastUsedAt) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lastUsedAt).toEqual(expect.any(String));
  });
});
