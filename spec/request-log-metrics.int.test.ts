import type { Logger } from '../src/logger';
import { createConnection, startTestServer } from './helpers/test-app';

const BASE = '/api/plugins/webhook';
const AUTH: [string, string] = ['admin', 'metrics-secret-pass'];
const DEPLOYMENT = { id: 'm-1', commitSha: 'f'.repeat(40), repoUrl: 'https://github.com/acme/metrics' };

/** Keeps each line with its level, so a test can say which level a request was logged at. */
function levelLogger(): Logger & { entries: { level: string; obj: Record<string, unknown>; msg?: string }[] } {
  const entries: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const at = (level: string) => (obj: object | string, msg?: string) =>
    entries.push({ level, obj: typeof obj === 'string' ? { text: obj } : (obj as Record<string, unknown>), msg });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('request logs: one line per request that explains a refusal', () => {
  it('logs a refusal at info with its route template, status, connection and causes, and a success at debug', async () => {
    const logger = levelLogger();
    const server = await startTestServer({ logger });
    try {
      const { id, key } = await createConnection(server, 'ci-logs');
      const bad = await server.request
        .post(`${BASE}/connections/by-name/ci-logs/deployments`)
        .set('Authorization', `Bearer ${key}`)
        .send({ id: 'x' });
      expect(bad.status).toBe(400);
      const good = await server.request
        .post(`${BASE}/${id}/deployments`)
        .set('Authorization', `Bearer ${key}`)
        .send(DEPLOYMENT);
      expect(good.status).toBe(200);

      const lines = logger.entries.filter((e) => e.msg === 'request');
      const refused = lines.find((e) => e.obj.status === 400);
      expect(refused).toMatchObject({
        level: 'info',
        obj: {
          method: 'POST',
          route: '/connections/by-name/:connectionName/deployments',
          connectionId: id,
          requestId: bad.headers['x-request-id'],
          causes: expect.arrayContaining([expect.objectContaining({ field: 'commitSha' })]),
        },
      });
      expect(typeof refused?.obj.durationMs).toBe('number');
      const accepted = lines.find((e) => e.obj.status === 200 && e.obj.route === '/:connectionId/deployments');
      expect(accepted?.level).toBe('debug');
      // The key never appears, in a route or anywhere else.
      expect(JSON.stringify(logger.entries)).not.toContain(key);
    } finally {
      await server.close();
    }
  });

  it('answers the request id in X-Request-Id and in the error envelope, reusing a sane one the sender gave', async () => {
    const server = await startTestServer();
    try {
      const res = await server.request.post(`${BASE}/connections/by-name/nobody/deployments`).send(DEPLOYMENT);
      expect(res.status).toBe(404);
      expect(res.headers['x-request-id']).toMatch(/\S{8,}/);
      expect(res.body.requestId).toBe(res.headers['x-request-id']);
      const sent = await server.request
        .post(`${BASE}/connections/by-name/nobody/deployments`)
        .set('X-Request-Id', 'ci-run-12345.step-4')
        .send(DEPLOYMENT);
      expect(sent.body.requestId).toBe('ci-run-12345.step-4');
    } finally {
      await server.close();
    }
  });
});

describe('Prometheus metrics at /metrics', () => {
  it('counts requests by route template and status, rows written by kind and refusals by cause', async () => {
    const server = await startTestServer({ basicAuth: { username: AUTH[0], password: AUTH[1] } });
    try {
      const { id, key } = await createConnection(server, 'ci-metrics', AUTH);
      await server.request.post(`${BASE}/${id}/deployments`).set('Authorization', `Bearer ${key}`).send(DEPLOYMENT);
      await server.request.post(`${BASE}/${id}/deployments`).set('Authorization', `Bearer ${key}`).send({ id: 'no' });
      await server.request.post(`${BASE}/${id}/deployments`).set('Authorization', 'Bearer not-a-key').send(DEPLOYMENT);

      expect((await server.request.get('/metrics')).status).toBe(401);
      const res = await server.request.get('/metrics').auth(...AUTH);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.text;
      expect(text).toContain(
        'webhook_http_requests_total{method="POST",route="/:connectionId/deployments",status="200"} 1',
      );
      expect(text).toContain(
        'webhook_http_requests_total{method="POST",route="/:connectionId/deployments",status="400"} 1',
      );
      expect(text).toContain('webhook_rows_written_total{kind="cicd_deployments"} 1');
      expect(text).toContain('webhook_rows_written_total{kind="cicd_deployment_commits"} 1');
      expect(text).toContain('webhook_refusals_total{cause="commitSha"} 1');
      // The wrong key, and the scrape without credentials above.
      expect(text).toContain('webhook_refusals_total{cause="authentication"} 2');
      expect(text).toMatch(/webhook_request_database_seconds_count\{route="\/:connectionId\/deployments"\} [1-9]/);
      expect(text).toMatch(/webhook_raw_events [1-9]/);
      expect(text).not.toContain(key);
    } finally {
      await server.close();
    }
  });

  it('counts rate-limited requests', async () => {
    const server = await startTestServer({
      basicAuth: { username: AUTH[0], password: AUTH[1] },
      rateLimit: { perAddress: 1, perKey: 100, windowMs: 60_000 },
    });
    try {
      await server.request.get(`${BASE}/connections`);
      const limited = await server.request.get(`${BASE}/connections`);
      expect(limited.status).toBe(429);
      // The scrape has its own budget: Basic users are counted per user, not per address.
      const res = await server.request.get('/metrics').auth(...AUTH);
      expect(res.status).toBe(200);
      expect(res.text).toContain('webhook_rate_limited_total 1');
    } finally {
      await server.close();
    }
  });

  it('serves no metrics when they are off', async () => {
    const server = await startTestServer({ metrics: false });
    try {
      expect((await server.request.get('/metrics')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
