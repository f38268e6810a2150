import { CicdDeployment } from '../src/deployments/deployment.entity';
import { RawWebhookEvent } from '../src/events/raw-event.entity';
import { createConnection, startTestServer, type TestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const AUTH: [string, string] = ['admin', 'event-log-secret-pass'];
const SHA = 'e'.repeat(40);
const REPO = 'https://github.com/acme/events';
const DEPLOYMENT = { id: 'deploy-1', commitSha: SHA, repoUrl: REPO, startedDate: '2026-03-01T10:00:00Z' };

describe('raw event log: every delivery recorded, looked at and replayed', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ basicAuth: { username: AUTH[0], password: AUTH[1] } });
  });
  afterAll(async () => server.close());

  it('records an accepted delivery with its body and ids, and stamps the rows it wrote with its id', async () => {
    const { id, key } = await createConnection(server, 'ci-accepted', AUTH);
    const res = await server.request
      .post(`${BASE}/connections/${id}/deployments`)
      .set('Authorization', `Bearer ${key}`)
      .set('User-Agent', 'curl/8.5')
      .set('X-GitHub-Delivery', 'delivery-77')
      .send(DEPLOYMENT);
    expect(res.status).toBe(200);
    const eventId = Number(res.headers['x-webhook-event-id']);
    expect(eventId).toBeGreaterThan(0);

    const shown = await server.request.get(`${BASE}/connections/${id}/events/${eventId}`).auth(...AUTH);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      id: eventId,
      connectionId: id,
      method: 'POST',
      route: '/deployments',
      path: '/deployments',
      status: 200,
      outcome: 'accepted',
      userAgent: 'curl/8.5',
      deliveryId: 'delivery-77',
      written: { deploymentId: `webhook:${id}:deploy-1` },
      replayOf: null,
    });
    expect(JSON.parse(shown.body.body as string)).toEqual(DEPLOYMENT);

    const row = await server.db.dataSource
      .getRepository(CicdDeployment)
      .findOneByOrFail({ id: `webhook:${id}:deploy-1` });
    expect(row.rawDataTable).toBe('_raw_webhook_events');
    expect(row.rawDataId).toBe(eventId);
  });

  it('records refused deliveries with their causes and lists them newest first, filtered by outcome', async () => {
    const { id, key } = await createConnection(server, 'ci-refused', AUTH);
    const post = (body: object) =>
      server.request.post(`${BASE}/${id}/deployments`).set('Authorization', `Bearer ${key}`).send(body);
    expect((await post({ id: 'no-commit' })).status).toBe(400);
    expect((await post(DEPLOYMENT)).status).toBe(200);
    expect((await post({ id: 'no-commit-2' })).status).toBe(400);

    const all = await server.request.get(`${BASE}/${id}/events`).auth(...AUTH);
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(3);
    expect(all.body.events.map((e: { outcome: string }) => e.outcome)).toEqual(['refused', 'accepted', 'refused']);
    expect(all.body.events[0].body).toBeUndefined();

    const refused = await server.request.get(`${BASE}/${id}/events?outcome=refused&pageSize=1&page=2`).auth(...AUTH);
    expect(refused.body.count).toBe(2);
    expect(refused.body.events).toHaveLength(1);
    expect(refused.body.events[0]).toMatchObject({ status: 400, outcome: 'refused' });
    expect(refused.body.events[0].causes).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'commitSha' })]),
    );
    expect(
      JSON.parse(
        (await server.request.get(`${BASE}/${id}/events/${refused.body.events[0].id}`).auth(...AUTH)).body.body,
      ),
    ).toEqual({ id: 'no-commit' });

    const none = await server.request
      .get(`${BASE}/${id}/events?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)
      .auth(...AUTH);
    expect(none.body.count).toBe(0);
  });

  it('answers 400 naming outcome when it is not a known outcome, and 404 for an event of another connection', async () => {
    const a = await createConnection(server, 'ci-a', AUTH);
    const b = await createConnection(server, 'ci-b', AUTH);
    const bad = await server.request.get(`${BASE}/${a.id}/events?outcome=lost`).auth(...AUTH);
    expect(bad.status).toBe(400);
    expect(bad.body.causes[0].field).toBe('outcome');
    const posted = await server.request
      .post(`${BASE}/${a.id}/deployments`)
      .set('Authorization', `Bearer ${a.key}`)
      .send(DEPLOYMENT);
    const other = await server.request
      .get(`${BASE}/${b.id}/events/${posted.headers['x-webhook-event-id']}`)
      .auth(...AUTH);
    expect(other.status).toBe(404);
    expect(other.body.success).toBe(false);
  });

  it('replays a delivery refused before its connection existed, once it does, and links the replay to it', async () => {
    const refused = await server.request
      .post(`${BASE}/connections/by-name/ci-later/deployments`)
      .auth(...AUTH)
      .send({ ...DEPLOYMENT, id: 'later-1' });
    expect(refused.status).toBe(404);
    const originalId = Number(refused.headers['x-webhook-event-id']);

    const { id } = await createConnection(server, 'ci-later', AUTH);
    const listed = await server.request.get(`${BASE}/connections/by-name/ci-later/events`).auth(...AUTH);
    expect(listed.body.events.map((e: { id: number }) => e.id)).toContain(originalId);

    const replay = await server.request.post(`${BASE}/connections/${id}/events/${originalId}/replay`).auth(...AUTH);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ success: true, data: { deploymentId: `webhook:${id}:later-1` } });
    const replayId = Number(replay.headers['x-webhook-event-id']);
    expect(replayId).not.toBe(originalId);

    const recorded = await server.request.get(`${BASE}/connections/${id}/events/${replayId}`).auth(...AUTH);
    expect(recorded.body).toMatchObject({ replayOf: originalId, outcome: 'accepted', connectionId: id });
    const row = await server.db.dataSource
      .getRepository(CicdDeployment)
      .findOneByOrFail({ id: `webhook:${id}:later-1` });
    expect(row.rawDataId).toBe(replayId);
  });

  it('replays the refused deliveries of a time range in bulk and counts what succeeded', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await server.request
      .post(`${BASE}/connections/by-name/ci-bulk/deployments`)
      .auth(...AUTH)
      .send({ ...DEPLOYMENT, id: 'bulk-1' });
    await server.request
      .post(`${BASE}/connections/by-name/ci-bulk/issues`)
      .auth(...AUTH)
      .send({ issueKey: 'X-1' });
    const { id } = await createConnection(server, 'ci-bulk', AUTH);
    const bulk = await server.request
      .post(`${BASE}/connections/${id}/events/replay`)
      .auth(...AUTH)
      .send({ since });
    expect(bulk.status).toBe(200);
    expect(bulk.body).toMatchObject({ replayed: 2, succeeded: 1, refused: 1, failed: 0 });
    // The recovered one is not replayed again; the one still refused is.
    const again = await server.request
      .post(`${BASE}/connections/${id}/events/replay`)
      .auth(...AUTH)
      .send({ since });
    expect(again.body).toMatchObject({ replayed: 1, succeeded: 0, refused: 1 });
  });

  it("never replays into a connection a delivery sent with another connection's key", async () => {
    const other = await createConnection(server, 'ci-other-key', AUTH);
    const planted = await server.request
      .post(`${BASE}/connections/by-name/ci-target/deployments`)
      .set('Authorization', `Bearer ${other.key}`)
      .send({ ...DEPLOYMENT, id: 'planted' });
    expect(planted.status).toBe(404);
    const eventId = planted.headers['x-webhook-event-id'];
    const { id } = await createConnection(server, 'ci-target', AUTH);
    const shown = await server.request.get(`${BASE}/connections/${id}/events/${eventId}`).auth(...AUTH);
    expect(shown.body.sender).toBe(`connection-key:${shown.body.sender.split(':')[1]}:${other.id}`);
    const replay = await server.request.post(`${BASE}/connections/${id}/events/${eventId}/replay`).auth(...AUTH);
    expect(replay.status).toBe(403);
    const bulk = await server.request
      .post(`${BASE}/connections/${id}/events/replay`)
      .auth(...AUTH)
      .send({});
    expect(bulk.body).toMatchObject({ replayed: 0, skipped: 1 });
    expect(await server.db.dataSource.getRepository(CicdDeployment).countBy({ id: `webhook:${id}:planted` })).toBe(0);
  });

  it("serves the admin page's deliveries module, which the page imports", async () => {
    const module = await server.request.get('/admin-ui/deliveries.js').auth(...AUTH);
    expect(module.status).toBe(200);
    expect(module.text).toContain('export async function loadDeliveries');
    expect((await server.request.get('/admin-ui/app.js').auth(...AUTH)).text).toContain("from './deliveries.js'");
  });

  it('never keeps credentials or a source secret in the event log, and never logs them', async () => {
    const { id, key } = await createConnection(server, 'ci-secret', AUTH);
    await server.request
      .post(`${BASE}/connections/${id}/deployments`)
      .set('Authorization', `Bearer ${key}`)
      .set('X-Gitlab-Token', 'gitlab-token-secret-value')
      .send(DEPLOYMENT);
    await server.request
      .post(`${BASE}/connections/${id}/deployments`)
      .auth(...AUTH)
      .send({ id: 'bad' });
    await server.plugin.services.events.flush();
    const rows = await server.db.dataSource.query('SELECT * FROM _raw_webhook_events');
    const dump = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
    for (const secret of [
      key,
      AUTH[1],
      Buffer.from(`${AUTH[0]}:${AUTH[1]}`).toString('base64'),
      'gitlab-token-secret-value',
    ]) {
      expect(dump).not.toContain(secret);
      expect(server.logger.lines.join('\n')).not.toContain(secret);
    }
  });
});

describe('raw event log retention and switch', () => {
  it('prunes beyond the row limit and past the age limit, newest kept', async () => {
    const server = await startTestServer({ eventLog: { retentionRows: 3, retentionDays: 30, pruneIntervalMs: 0 } });
    try {
      const { id, key } = await createConnection(server, 'ci-prune');
      for (let i = 0; i < 5; i += 1) {
        await server.request
          .post(`${BASE}/${id}/deployments`)
          .set('Authorization', `Bearer ${key}`)
          .send({ ...DEPLOYMENT, id: `p-${i}` });
      }
      expect(await server.plugin.services.events.prune()).toBe(2);
      const left = await server.request.get(`${BASE}/${id}/events`);
      expect(left.body.events.map((e: { written: { id: string } }) => e.written.id)).toEqual(['p-4', 'p-3', 'p-2']);
      const inAMonth = new Date(Date.now() + 31 * 86_400_000);
      expect(await server.plugin.services.events.prune(inAMonth)).toBe(3);
      expect(await server.db.dataSource.getRepository(RawWebhookEvent).count()).toBe(0);
    } finally {
      await server.plugin.close();
      await server.close();
    }
  });

  it('records nothing and stamps nothing when the event log is off', async () => {
    const server = await startTestServer({ eventLog: false });
    try {
      const { id, key } = await createConnection(server, 'ci-off');
      const res = await server.request
        .post(`${BASE}/${id}/deployments`)
        .set('Authorization', `Bearer ${key}`)
        .send(DEPLOYMENT);
      expect(res.status).toBe(200);
      expect(res.headers['x-webhook-event-id']).toBeUndefined();
      expect(await server.db.dataSource.getRepository(RawWebhookEvent).count()).toBe(0);
      const row = await server.db.dataSource
        .getRepository(CicdDeployment)
        .findOneByOrFail({ id: `webhook:${id}:deploy-1` });
      // As DevLake's webhook leaves them: empty, never a delivery's id.
      expect(row.rawDataId).toBe(0);
      expect(row.rawDataTable).toBe('');
      const listed = await server.request.get(`${BASE}/${id}/events`);
      expect(listed.body).toMatchObject({ enabled: false, count: 0 });
    } finally {
      await server.close();
    }
  });
});
