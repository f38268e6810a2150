import { readFileSync } from 'node:fs';
import path from 'node:path';
import supertest from 'supertest';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createWebhookPlugin, webhookEntities, webhookMigrations } from 'devlake-webhook';
import { startHost } from '../examples/host';
import { createTestDatabase, type TestDatabase } from './helpers/test-db';

const ROOT = path.join(__dirname, '..');

function optionsFor(database: TestDatabase): DataSourceOptions {
  if (database.config.type === 'sqlite') return { type: 'better-sqlite3', database: database.config.file };
  if (database.config.type === 'postgres') return { type: 'postgres', url: database.url };
  return { type: 'mysql', url: database.url, timezone: 'Z', charset: 'utf8mb4_unicode_ci' };
}

describe("the README's host example (issue 2, point 2)", () => {
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
