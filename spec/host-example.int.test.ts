import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import supertest from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createWebhookPlugin, webhookEntities, webhookMigrations } from 'devlake-webhook';
import { mountEachPart, startHost } from '../examples/host';
import { createTestDatabase, type TestDatabase } from './helpers/test-db';

const ROOT = path.join(__dirname, '..');

function optionsFor(database: TestDatabase): DataSourceOptions {
  if (database.config.type === 'sqlite') return { type: 'better-sqlite3', database: database.config.file };
  if (database.config.type === 'postgres') return { type: 'postgres', url: database.url };
  return { type: 'mysql', url: database.url, timezone: 'Z', charset: 'utf8mb4_unicode_ci' };
}

describe("the README's host example", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  it('is the code the README shows, word for word', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(path.join(ROOT, 'examples/host.ts'), 'utf8');
    expect(readme).toContain(example.trim());
  });

  it('mounts the plugin in a minimal Express host that creates connections and takes the key', async () => {
    const { app, dataSource } = await startHost(optionsFor(database));
    try {
      const request = supertest(app);
      expect((await request.get('/api/plugins/webhook/connections')).status).toBe(401);
      const created = await request
        .post('/api/plugins/webhook/connections')
        .auth('admin', 's3cret')
        .send({ name: 'host' });
      expect(created.status).toBe(200);
      expect(created.body.apiKey.apiKey).toMatch(/^[A-Za-z0-9]{128}$/);
      const listed = await request.get('/api/plugins/webhook/connections').auth('admin', 's3cret');
      expect(listed.body.map((c: { name: string }) => c.name)).toEqual(['host']);
    } finally {
      await dataSource.destroy();
    }
  });

  /** Each route DevLake serves, checked on an app: the answer proves the right part is there. */
  async function expectEveryPart(app: express.Express, adminPage: string) {
    const request = supertest(app);
    const created = await request
      .post('/api/plugins/webhook/connections')
      .auth('admin', 's3cret')
      .send({ name: 'all' });
    expect(created.status).toBe(200);
    const { id } = created.body as { id: number };
    const key = created.body.apiKey.apiKey as string;
    const deployment = {
      id: 'd1',
      startedDate: '2026-03-02T10:00:00Z',
      finishedDate: '2026-03-02T10:05:00Z',
      deploymentCommits: [{ repoUrl: 'https://git.example/repo', commitSha: 'a'.repeat(40), refName: 'main' }],
    };
    for (const prefix of [
      '/api/plugins/webhook',
      '/plugins/webhook',
      '/api/rest/plugins/webhook',
      '/rest/plugins/webhook',
    ]) {
      const posted = await request
        .post(`${prefix}/${id}/deployments`)
        .set('Authorization', `Bearer ${key}`)
        .send(deployment);
      expect([prefix, posted.status, posted.body.success]).toEqual([prefix, 200, true]);
    }
    // The Bearer-only form refuses Basic credentials.
    expect((await request.get('/api/rest/plugins/webhook/connections').auth('admin', 's3cret')).status).toBe(401);
    for (const prefix of ['/api/api-keys', '/api-keys']) {
      const keys = await request.get(prefix).auth('admin', 's3cret');
      expect([prefix, keys.status]).toEqual([prefix, 200]);
    }
    for (const prefix of ['/api/rest/api-keys', '/rest/api-keys']) {
      expect([prefix, (await request.get(prefix).auth('admin', 's3cret')).status]).toEqual([prefix, 401]);
    }
    const doc = await request.get('/api/swagger/doc.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    expect((await request.get('/api/swagger/')).text).toContain('swagger-ui');
    expect((await request.get(`${adminPage}/`)).status).toBe(401);
    const page = await request.get(`${adminPage}/`).auth('admin', 's3cret');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/api/plugins/webhook');
  }

  it('mounts, in one call, ingestion at all four DevLake prefixes, the API-key routes, Swagger UI and the admin page', async () => {
    const { app, dataSource } = await startHost(optionsFor(database));
    try {
      await expectEveryPart(app, '/webhook');
    } finally {
      await dataSource.destroy();
    }
  });

  it('serves the same routes when the host mounts each part itself', async () => {
    const other = await createTestDatabase();
    const { dataSource, webhook } = await startHost(optionsFor(other));
    try {
      const app = express();
      mountEachPart(app, webhook);
      for (const [name, part] of Object.entries(webhook.parts)) {
        if (part.paths.length > 1) for (const path of part.paths.slice(1)) app.use(path, part.router);
        expect([name, part.paths.length]).toEqual([name, ['adminPage', 'swaggerUi', 'metrics'].includes(name) ? 1 : 2]);
      }
      await expectEveryPart(app, '/webhook');
    } finally {
      await dataSource.destroy();
      await other.drop();
    }
  });

  it('leaves out the admin page, Swagger UI and the API-key routes when mount() is told to', async () => {
    const other = await createTestDatabase();
    const { dataSource, webhook } = await startHost(optionsFor(other));
    try {
      const app = express();
      webhook.mount(app, { adminPage: false, swagger: false, apiKeys: false });
      const request = supertest(app);
      for (const path of ['/', '/api/swagger/doc.json', '/api/api-keys', '/api/rest/api-keys']) {
        expect([path, (await request.get(path).auth('admin', 's3cret')).status]).toEqual([path, 404]);
      }
      expect((await request.get('/api/plugins/webhook/connections').auth('admin', 's3cret')).status).toBe(200);
      expect(() => webhook.mount(express(), { adminPage: 'webhook' })).toThrow(/mount\.adminPage/);
    } finally {
      await dataSource.destroy();
      await other.drop();
    }
  });

  /** A host DataSource with the plugin's entities and migrations, initialised, and its plugin. */
  async function pluginOn(options: DataSourceOptions) {
    const dataSource = new DataSource({
      ...options,
      entities: [...webhookEntities],
      migrations: [...webhookMigrations],
    } as DataSourceOptions);
    const plugin = createWebhookPlugin({ dataSource });
    await dataSource.initialize();
    return { dataSource, plugin };
  }

  it('refuses, at verify(), a MySQL DataSource that does not speak UTC, naming the setting', async () => {
    const { timezone: _utc, ...withoutTimezone } = optionsFor(database) as DataSourceOptions & { timezone?: string };
    const { dataSource, plugin } = await pluginOn(withoutTimezone as DataSourceOptions);
    try {
      await dataSource.runMigrations();
      // SQLite stores the text given; PostgreSQL's timestamptz takes each time with its offset.
      if (database.config.type !== 'mysql') await expect(plugin.verify()).resolves.toBeUndefined();
      else await expect(plugin.verify()).rejects.toThrow(/dataSource\.timezone/);
    } finally {
      await dataSource.destroy();
    }
  });

  it('refuses, at verify(), a DataSource whose migrations have not run', async () => {
    const other = await createTestDatabase();
    const { dataSource, plugin } = await pluginOn(optionsFor(other));
    try {
      await expect(plugin.verify()).rejects.toThrow(/dataSource\.migrations/);
    } finally {
      await dataSource.destroy();
      await other.drop();
    }
  });
});
