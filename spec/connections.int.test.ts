import { hashApiKey } from '../src/auth/api-key.service';
import { ApiKey } from '../src/auth/api-key.entity';
import { startTestServer, type TestServer } from './helpers/test-app';
import { runSql } from './helpers/test-db';

const BASE = '/api/plugins/webhook';

describe('connections API (contract §2, §8)', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ encryptionSecret: 'test-secret' });
  });
  afterAll(async () => server.close());

  it('creates a connection from a body sent without Content-Type, as curl -d does', async () => {
    const res = await server.request
      .post(`${BASE}/connections`)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{"name":"no-header"}');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'no-header', id: expect.any(Number) });
    expect(res.body.createdAt).toEqual(expect.any(String));
    expect(res.body.updatedAt).toEqual(expect.any(String));
  });

  it("answers with DevLake's endpoint strings, relative to /api", async () => {
    const res = await server.request.post(`${BASE}/connections`).send({ name: 'endpoints' });
    const id = res.body.id;
    expect(res.body.postIssuesEndpoint).toBe(`/rest/plugins/webhook/connections/${id}/issues`);
    expect(res.body.closeIssuesEndpoint).toBe(`/rest/plugins/webhook/connections/${id}/issue/:issueKey/close`);
    expect(res.body.postPipelineDeployTaskEndpoint).toBe(`/rest/plugins/webhook/connections/${id}/deployments`);
    expect(res.body.postPullRequestsEndpoint).toBe(`/rest/plugins/webhook/connections/${id}/pull_requests`);
  });

  it('returns a 128-character key once and stores only its HMAC-SHA256', async () => {
    const res = await server.request.post(`${BASE}/connections`).send({ name: 'keyed' });
    const id = res.body.id;
    const key: string = res.body.apiKey.apiKey;
    expect(key).toMatch(/^[A-Za-z0-9]{128}$/);
    expect(res.body.apiKey).toMatchObject({
      name: `webhook-${id}`,
      type: 'plugin:webhook',
      allowedPath: `/plugins/webhook/connections/${id}/.*`,
      extra: `connectionId:${id}`,
    });
    const stored = await server.db.dataSource.getRepository(ApiKey).findOneByOrFail({ name: `webhook-${id}` });
    expect(stored.apiKey).toBe(hashApiKey('test-secret', key));
    expect(stored.apiKey).not.toContain(key.slice(0, 16));

    const again = await server.request.get(`${BASE}/connections/${id}`);
    expect(again.status).toBe(200);
    expect(again.body.apiKey.name).toBe(`webhook-${id}`);
    expect(again.body.apiKey.apiKey).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain(key);
  });

  it('lists connections as a bare array, [] when empty is impossible here but never null', async () => {
    const res = await server.request.get(`${BASE}/connections`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
    expect(res.body.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['no-header', 'endpoints', 'keyed']),
    );
    for (const connection of res.body) expect(connection.apiKey?.apiKey).toBeUndefined();
  });

  it('gets, renames and deletes by id and by name', async () => {
    const created = await server.request.post(`${BASE}/connections`).send({ name: 'rename me' });
    const id = created.body.id;
    const byName = await server.request.get(`${BASE}/connections/by-name/${encodeURIComponent('rename me')}`);
    expect(byName.status).toBe(200);
    expect(byName.body.id).toBe(id);

    const renamed = await server.request.patch(`${BASE}/connections/${id}`).send({ name: 'renamed' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('renamed');
    expect((await server.request.get(`${BASE}/connections/by-name/renamed`)).body.id).toBe(id);
    expect((await server.request.get(`${BASE}/connections/by-name/${encodeURIComponent('rename me')}`)).status).toBe(
      404,
    );

    const renamedByName = await server.request
      .patch(`${BASE}/connections/by-name/renamed`)
      .send({ name: 'renamed twice' });
    expect(renamedByName.body.name).toBe('renamed twice');

    const deleted = await server.request.delete(`${BASE}/connections/by-name/${encodeURIComponent('renamed twice')}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.id).toBe(id);
    expect((await server.request.get(`${BASE}/connections/${id}`)).status).toBe(404);
  });

  it('renames the board, CI/CD scope and repo DevLake shows under the connection', async () => {
    const created = await server.request.post(`${BASE}/connections`).send({ name: 'before', projectName: 'shop' });
    const id = created.body.id;
    const issue = {
      issueKey: 'K-1',
      title: 't',
      status: 'TODO',
      originalStatus: 'open',
      createdDate: '2026-01-01T00:00:00Z',
    };
    await server.request.post(`${BASE}/${id}/issues`).send(issue).expect(200);
    await server.request.patch(`${BASE}/connections/${id}`).send({ name: 'after' }).expect(200);
    for (const table of ['boards', 'cicd_scopes', 'repos']) {
      const rows = await runSql(server.db.dataSource, `SELECT name FROM ${table} WHERE id = ?`, [`webhook:${id}`]);
      expect(rows).toEqual([{ name: 'after' }]);
    }
    // A later issue does not rename the board back or touch it otherwise.
    await server.request
      .post(`${BASE}/${id}/issues`)
      .send({ ...issue, issueKey: 'K-2' })
      .expect(200);
    expect(await runSql(server.db.dataSource, 'SELECT name FROM boards WHERE id = ?', [`webhook:${id}`])).toEqual([
      { name: 'after' },
    ]);
  });

  it("deletes the connection's API key with it", async () => {
    const created = await server.request.post(`${BASE}/connections`).send({ name: 'doomed' });
    const id = created.body.id;
    await server.request.delete(`${BASE}/connections/${id}`).expect(200);
    const keys = await server.db.dataSource.getRepository(ApiKey).findBy({ extra: `connectionId:${id}` });
    expect(keys).toHaveLength(0);
  });

  it('answers 409 naming the field when the name is taken, on create and on rename', async () => {
    await server.request.post(`${BASE}/connections`).send({ name: 'taken' }).expect(200);
    const dup = await server.request.post(`${BASE}/connections`).send({ name: 'taken' });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ success: false, causes: [{ field: 'name' }] });
    const other = await server.request.post(`${BASE}/connections`).send({ name: 'other' });
    const rename = await server.request.patch(`${BASE}/connections/${other.body.id}`).send({ name: 'taken' });
    expect(rename.status).toBe(409);
  });

  it.each([
    ['missing', {}],
    ['empty', { name: '' }],
    ['null', { name: null }],
    ['over 100 characters', { name: 'x'.repeat(101) }],
    ['an object', { name: { a: 1 } }],
  ])('answers 400 naming "name" when it is %s', async (_label, body) => {
    const res = await server.request.post(`${BASE}/connections`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.success).toBe(false);
    expect(res.body.causes.map((c: { field: string }) => c.field)).toContain('name');
  });

  it('accepts a name of exactly 100 characters, counting emoji as one', async () => {
    const name = '🚀'.repeat(100);
    const res = await server.request.post(`${BASE}/connections`).send({ name });
    expect(res.status).toBe(200);
    expect((await server.request.get(`${BASE}/connections/${res.body.id}`)).body.name).toBe(name);
  });

  it('answers 404 for an unknown id or name and 400 for a non-integer id', async () => {
    expect((await server.request.get(`${BASE}/connections/99999`)).status).toBe(404);
    expect((await server.request.get(`${BASE}/connections/by-name/nobody`)).status).toBe(404);
    for (const bad of ['abc', '-1', '0', '1.5']) {
      const res = await server.request.get(`${BASE}/connections/${bad}`);
      expect(res.status).toBe(400);
      expect(res.body.causes[0].field).toBe('connectionId');
    }
  });

  it('is served under every DevLake prefix that needs no key', async () => {
    for (const prefix of ['/api/plugins/webhook', '/plugins/webhook']) {
      const res = await server.request.get(`${prefix}/connections`);
      expect(res.status).toBe(200);
    }
  });
});
