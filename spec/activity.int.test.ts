import { hashApiKey } from '../src/auth/api-key.service';
import { ApiKey } from '../src/auth/api-key.entity';
import { CicdDeployment } from '../src/deployments/deployment.entity';
import { BoardIssue, Incident, Issue } from '../src/issues/issue.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const SECRET = 'activity-secret';
const ADMIN: [string, string] = ['admin', 'admin-pass'];

const T1 = new Date('2026-03-01T10:00:00.000Z');
const T2 = new Date('2026-03-02T10:00:00.000Z');
const T3 = new Date('2026-03-03T10:00:00.000Z');
const T4 = new Date('2026-03-04T10:00:00.000Z');

/** Rows as the ingestion services write them (contract §5, §6), put straight into the tables. */
async function seedRows(server: TestServer, cid: number, other: number): Promise<void> {
  const { dataSource } = server.db;
  const deployment = (id: string, scope: string, updatedAt: Date, environment: string, result: string) =>
    dataSource.getRepository(CicdDeployment).save(
      dataSource.getRepository(CicdDeployment).create({
        id,
        cicdScopeId: scope,
        name: `deploy ${id}`,
        environment,
        result,
        createdAt: updatedAt,
        updatedAt,
        finishedDate: updatedAt,
      }),
    );
  await deployment(`webhook:${cid}:d1`, `webhook:${cid}`, T1, 'PRODUCTION', 'SUCCESS');
  await deployment(`webhook:${cid}:d2`, `webhook:${cid}`, T3, 'STAGING', 'FAILURE');
  await deployment(`webhook:${other}:d9`, `webhook:${other}`, T4, 'PRODUCTION', 'SUCCESS');

  const issue = (id: string, key: string, type: string, status: string, updatedAt: Date) =>
    dataSource
      .getRepository(Issue)
      .save(dataSource.getRepository(Issue).create({ id, issueKey: key, title: `t ${key}`, type, status, updatedAt }));
  await issue(`webhook:${cid}:BUG-1`, 'BUG-1', 'BUG', 'TODO', T2);
  await issue(`webhook:${cid}:INC-1`, 'INC-1', 'INCIDENT', 'DONE', T4);
  await issue(`webhook:${other}:BUG-9`, 'BUG-9', 'BUG', 'TODO', T4);
  // BUG-1 has its board row; INC-1 is found by its id prefix alone.
  await dataSource
    .getRepository(BoardIssue)
    .save({ boardId: `webhook:${cid}`, issueId: `webhook:${cid}:BUG-1`, createdAt: T2, updatedAt: T2 });
  await dataSource.getRepository(Incident).save(
    dataSource.getRepository(Incident).create({
      id: `webhook:${cid}:INC-1`,
      incidentKey: 'INC-1',
      status: 'DONE',
      scopeId: `webhook:${cid}`,
      table: 'boards',
      updatedAt: T4,
    }),
  );
}

describe('activity API: what each connection received (issue 7)', () => {
  let server: TestServer;
  let cid: number;
  let other: number;
  let empty: number;

  beforeAll(async () => {
    server = await startTestServer({ encryptionSecret: SECRET, basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
    cid = (await createConnection(server, 'shop', ADMIN)).id;
    other = (await createConnection(server, 'other', ADMIN)).id;
    empty = (await createConnection(server, 'empty', ADMIN)).id;
    await seedRows(server, cid, other);
  });
  afterAll(async () => server.close());

  it("counts a connection's deployments, issues (by board or id prefix) and incidents, and its last data", async () => {
    const res = await server.request.get(`${BASE}/connections/${cid}/activity`).auth(...ADMIN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ connectionId: cid, deployments: 2, issues: 2, incidents: 1 });
    expect(res.body.lastDataAt).toBe(T4.toISOString());
  });

  it('lists the latest deployments and issues newest first, with the ids the caller sent', async () => {
    const res = await server.request.get(`${BASE}/connections/${cid}/activity`).auth(...ADMIN);
    expect(res.body.latestDeployments).toEqual([
      expect.objectContaining({ id: 'd2', environment: 'STAGING', result: 'FAILURE', receivedAt: T3.toISOString() }),
      expect.objectContaining({ id: 'd1', environment: 'PRODUCTION', result: 'SUCCESS', receivedAt: T1.toISOString() }),
    ]);
    expect(res.body.latestIssues).toEqual([
      expect.objectContaining({ issueKey: 'INC-1', status: 'DONE', incident: true, receivedAt: T4.toISOString() }),
      expect.objectContaining({ issueKey: 'BUG-1', status: 'TODO', incident: false, receivedAt: T2.toISOString() }),
    ]);
  });

  it('honours limit and answers 400 naming limit when it is not a whole number from 1 to 100', async () => {
    const one = await server.request.get(`${BASE}/connections/${cid}/activity?limit=1`).auth(...ADMIN);
    expect(one.body.latestDeployments.map((d: { id: string }) => d.id)).toEqual(['d2']);
    expect(one.body.deployments).toBe(2);
    for (const bad of ['0', '101', 'x', '1.5']) {
      const res = await server.request.get(`${BASE}/connections/${cid}/activity?limit=${bad}`).auth(...ADMIN);
      expect(res.status).toBe(400);
      expect(res.body.causes.map((c: { field: string }) => c.field)).toContain('limit');
    }
  });

  it('summarises every connection, with zeros and no last data for one that received nothing', async () => {
    const res = await server.request.get(`${BASE}/activity`).auth(...ADMIN);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.connections.map((c: { id: number }) => [c.id, c]));
    expect(byId.get(cid)).toMatchObject({ name: 'shop', deployments: 2, issues: 2, incidents: 1 });
    expect(byId.get(other)).toMatchObject({ name: 'other', deployments: 1, issues: 1, incidents: 0 });
    expect(byId.get(empty)).toMatchObject({ deployments: 0, issues: 0, incidents: 0, lastDataAt: null });
    expect((byId.get(cid) as { createdAt: string }).createdAt).toEqual(expect.any(String));
  });

  it('answers 404 for an unknown connection and 400 for an id that is not a number', async () => {
    expect((await server.request.get(`${BASE}/connections/99999/activity`).auth(...ADMIN)).status).toBe(404);
    expect((await server.request.get(`${BASE}/connections/abc/activity`).auth(...ADMIN)).status).toBe(400);
  });

  it('is an admin route: 401 without credentials, 403 with a connection key', async () => {
    const { key } = await createConnection(server, 'guarded', ADMIN);
    expect((await server.request.get(`${BASE}/activity`)).status).toBe(401);
    expect((await server.request.get(`${BASE}/connections/${cid}/activity`)).status).toBe(401);
    expect((await server.request.get(`${BASE}/activity`).set('Authorization', `Bearer ${key}`)).status).toBe(403);
    expect((await server.request.post(`${BASE}/connections/${cid}/rotate-key`)).status).toBe(401);
  });

  it('rotates a connection key: the new key is shown once, only its hash is stored, the old one is gone', async () => {
    const { id, key: oldKey } = await createConnection(server, 'rotating', ADMIN);
    const res = await server.request.post(`${BASE}/connections/${id}/rotate-key`).auth(...ADMIN);
    expect(res.status).toBe(200);
    const newKey: string = res.body.apiKey.apiKey;
    expect(newKey).toMatch(/^[A-Za-z0-9]{128}$/);
    expect(newKey).not.toBe(oldKey);
    expect(res.body).toMatchObject({ id, name: 'rotating', apiKey: { name: `webhook-${id}` } });
    const stored = await server.db.dataSource.getRepository(ApiKey).findBy({ extra: `connectionId:${id}` });
    expect(stored.map((k) => k.apiKey)).toEqual([hashApiKey(SECRET, newKey)]);
    const again = await server.request.get(`${BASE}/connections/${id}`).auth(...ADMIN);
    expect(again.body.apiKey.apiKey).toBeUndefined();
  });

  it('gives a connection that has no key (made by an older DevLake) a new one on rotate', async () => {
    const { id } = await createConnection(server, 'keyless', ADMIN);
    await server.db.dataSource.getRepository(ApiKey).delete({ extra: `connectionId:${id}` });
    const res = await server.request.post(`${BASE}/connections/${id}/rotate-key`).auth(...ADMIN);
    expect(res.status).toBe(200);
    const stored = await server.db.dataSource.getRepository(ApiKey).findOneByOrFail({ extra: `connectionId:${id}` });
    expect(stored).toMatchObject({ name: `webhook-${id}`, type: 'plugin:webhook' });
    expect(stored.apiKey).toBe(hashApiKey(SECRET, res.body.apiKey.apiKey));
  });
});

describe('activity list: pages and search by name', () => {
  let server: TestServer;
  /** 12 connections, `team-00` … `team-11`; every third has one deployment. */
  const ids: number[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    for (let n = 0; n < 12; n += 1) ids.push((await createConnection(server, `team-${String(n).padStart(2, '0')}`)).id);
    await createConnection(server, 'Billing_API');
    for (const [k, id] of ids.entries()) {
      if (k % 3 !== 0) continue;
      const res = await server.request
        .post(`${BASE}/connections/${id}/deployments`)
        .send({ id: `d${k}`, commitSha: 'a'.repeat(40), repoUrl: 'https://github.com/acme/app' });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => server.close());

  const list = (query: string) => server.request.get(`${BASE}/activity?${query}`);

  it('answers one page in id order with the total, and the next page from the offset', async () => {
    const first = await list('limit=5');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ total: 13, limit: 5, offset: 0, search: null });
    expect(first.body.connections.map((c: { id: number }) => c.id)).toEqual(ids.slice(0, 5));
    const second = await list('limit=5&offset=5');
    expect(second.body.connections.map((c: { id: number }) => c.id)).toEqual(ids.slice(5, 10));
    const last = await list('limit=5&offset=10');
    expect(last.body.connections.map((c: { name: string }) => c.name)).toEqual(['team-10', 'team-11', 'Billing_API']);
  });

  it('counts each connection of the page from its own rows', async () => {
    const res = await list('limit=12');
    const deployments = res.body.connections.map((c: { deployments: number }) => c.deployments);
    expect(deployments).toEqual(ids.map((_, k) => (k % 3 === 0 ? 1 : 0)));
    expect(res.body.connections[0].lastDataAt).toEqual(expect.any(String));
    expect(res.body.connections[1].lastDataAt).toBeNull();
  });

  it('finds connections whose name contains the search text, ignoring case, with their total', async () => {
    const res = await list('search=TEAM-1&limit=2');
    expect(res.body).toMatchObject({ total: 2, search: 'TEAM-1' });
    expect(res.body.connections.map((c: { name: string }) => c.name)).toEqual(['team-10', 'team-11']);
  });

  it('takes % and _ in the search text literally', async () => {
    expect((await list('search=%25')).body.total).toBe(0);
    const underscore = await list('search=_');
    expect(underscore.body.connections.map((c: { name: string }) => c.name)).toEqual(['Billing_API']);
  });

  it('answers 400 naming limit, offset or search when they are out of range', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['offset=-1', 'offset'],
      ['offset=x', 'offset'],
      [`search=${'a'.repeat(101)}`, 'search'],
    ]) {
      const res = await list(query);
      expect(res.status).toBe(400);
      expect(res.body.causes.map((c: { field: string }) => c.field)).toContain(field);
    }
  });
});
