import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { ADMIN_UI_PUBLIC_DIR } from '../src/admin-ui/admin-ui.router';
import { createWebhookPlugin } from '../src/plugin';
import { captureLogger, startTestServer, type TestServer } from './helpers/test-app';
import { createMigratedDatabase } from './helpers/test-db';

const ADMIN: [string, string] = ['admin', 'admin-pass'];

describe('admin page routes (issue 7)', () => {
  describe('on the standalone server with Basic credentials configured', () => {
    let server: TestServer;

    beforeAll(async () => {
      server = await startTestServer({ basicAuth: { username: ADMIN[0], password: ADMIN[1] } });
    });
    afterAll(async () => server.close());

    it('asks the browser for Basic credentials for the page and its assets', async () => {
      for (const url of ['/', '/admin-ui/app.js', '/admin-ui/app.css']) {
        const res = await server.request.get(url);
        expect({ url, status: res.status }).toEqual({ url, status: 401 });
        expect(res.headers['www-authenticate']).toMatch(/^Basic /);
      }
      const wrong = await server.request.get('/').auth('admin', 'nope');
      expect(wrong.status).toBe(401);
    });

    it('serves the page at / with the right credentials, pointing at the default API mount', async () => {
      const res = await server.request.get('/').auth(...ADMIN);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/html/);
      expect(res.text).toContain('data-api-base="/api/plugins/webhook"');
      expect(res.text).toContain('data-post-base="/api/rest/plugins/webhook"');
      const js = await server.request.get('/admin-ui/app.js').auth(...ADMIN);
      expect(js.status).toBe(200);
      expect(js.headers['content-type']).toMatch(/javascript/);
    });

    it("refuses a connection's key on the page, as on the admin API", async () => {
      const created = await server.request
        .post('/api/plugins/webhook/connections')
        .auth(...ADMIN)
        .send({ name: 'k' });
      const res = await server.request.get('/').set('Authorization', `Bearer ${created.body.apiKey.apiKey}`);
      expect(res.status).toBe(403);
    });

    it('sends a CSP without upgrade-insecure-requests, so the page works over plain http on a closed network', async () => {
      const res = await server.request.get('/').auth(...ADMIN);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('upgrade-insecure-requests');
    });

    it('leaves other paths to the rest of the app (ping, 404 in the envelope)', async () => {
      expect((await server.request.get('/api/ping')).status).toBe(200);
      const missing = await server.request.get('/no-such-page').auth(...ADMIN);
      expect(missing.status).toBe(404);
      expect(missing.body.success).toBe(false);
    });
  });

  it('loads every asset from its own server: no CDN, no absolute URL to another host', () => {
    for (const file of readdirSync(ADMIN_UI_PUBLIC_DIR)) {
      const text = readFileSync(path.join(ADMIN_UI_PUBLIC_DIR, file), 'utf8');
      // The only absolute URLs allowed are the SVG namespace and the sample repo in the curl payloads.
      const urls = (text.match(/https?:\/\/[^\s'"`)]+/g) ?? []).filter(
        (url) => !url.startsWith('http://www.w3.org/2000/svg') && !url.startsWith('https://github.com/apache/'),
      );
      expect({ file, urls }).toEqual({ file, urls: [] });
      expect(text).not.toMatch(/localStorage\.setItem|sessionStorage\.setItem|document\.cookie/);
    }
  });

  it('lets a host mount the page where it likes, with the API base it chose', async () => {
    const db = await createMigratedDatabase();
    try {
      const plugin = createWebhookPlugin({ dataSource: db.dataSource, logger: captureLogger(), rateLimit: false });
      const app = express();
      app.use('/tools/webhook-api', plugin.router);
      app.use('/tools/webhook', plugin.createAdminUiRouter({ apiBase: '/tools/webhook-api/', postBase: '/hooks' }));
      const request = supertest(app);

      const bare = await request.get('/tools/webhook?x=1');
      expect(bare.status).toBe(301);
      expect(bare.headers.location).toBe('/tools/webhook/?x=1');

      const page = await request.get('/tools/webhook/');
      expect(page.status).toBe(200);
      expect(page.text).toContain('data-api-base="/tools/webhook-api"');
      expect(page.text).toContain('data-post-base="/hooks"');
      expect(page.text).toContain('src="./admin-ui/app.js"');
      expect((await request.get('/tools/webhook/admin-ui/app.css')).status).toBe(200);
      expect((await request.get('/tools/webhook/admin-ui/missing.js')).status).toBe(404);
      expect((await request.get('/tools/webhook-api/activity')).body).toMatchObject({ connections: [], total: 0 });
    } finally {
      await db.close();
    }
  });
});
