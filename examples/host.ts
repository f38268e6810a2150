import express from 'express';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createWebhookPlugin, webhookEntities, webhookMigrations } from 'devlake-webhook';

export async function startHost(database: DataSourceOptions) {
  // Step 1: the plugin's entities and migrations go into your DataSource before initialize().
  const dataSource = new DataSource({
    ...database,
    entities: [...webhookEntities /*, your entities */],
    migrations: [...webhookMigrations /*, your migrations */],
  } as DataSourceOptions);
  const webhook = createWebhookPlugin({ dataSource, basicAuth: { username: 'admin', password: 's3cret' } });
  await dataSource.initialize();
  await dataSource.runMigrations();
  await webhook.verify(); // fails fast, naming the setting, on a DataSource the plugin cannot use

  // Step 2: mount the routers after, where DevLake has them.
  const app = express();
  app.use('/api/plugins/webhook', webhook.router);
  app.use('/api/rest/plugins/webhook', webhook.apiKeyRouter); // DevLake's Bearer-key form
  return { app, dataSource };
}
