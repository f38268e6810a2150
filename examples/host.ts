import express from 'express';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createWebhookPlugin, webhookEntities, webhookMigrations, type WebhookPlugin } from 'devlake-webhook';

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

  // Step 2: mount every route where DevLake has it, in one call, after initialize().
  const app = express();
  webhook.mount(app, { adminPage: '/webhook', swagger: '/api/swagger' });
  return { app, dataSource, webhook };
}

// Or mount the parts yourself: each is named after the path DevLake serves it at (`paths`).
export function mountEachPart(app: express.Express, webhook: WebhookPlugin) {
  const { pluginsWebhook, restPluginsWebhook, apiKeys, restApiKeys, adminPage, swaggerUi, metrics } = webhook.parts;
  app.use('/api/plugins/webhook', pluginsWebhook.router); // the API: Basic, your authenticator or a key
  app.use('/api/rest/plugins/webhook', restPluginsWebhook.router); // the same, Bearer keys only
  app.use('/api/api-keys', apiKeys.router); // DevLake's API-key administration
  app.use('/api/rest/api-keys', restApiKeys.router); // the same, Bearer keys only
  app.use('/api/swagger', swaggerUi.router); // Swagger UI, doc.json, doc.yaml
  app.use('/metrics', metrics.router); // Prometheus metrics, admin credentials
  app.use('/webhook', adminPage.router); // the admin page; it calls /api/plugins/webhook
  // Mounted the API elsewhere? Build the page with webhook.adminPageFor({ apiBase, postBase }).
}
