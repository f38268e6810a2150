import { Router } from 'express';
import { principalName } from '../auth/guards';
import { presentConnection } from '../connections/connection.presenter';
import { connectionOf } from '../connections/resolve-connection';
import type { PluginContext } from '../context';
import { validateBody } from '../http/validate-body';
import { ActivityListQueryDto, ActivityQueryDto } from './activity.dto';

/**
 * What the admin page reads besides the connections API: what each connection received, and
 * the renewal of a connection's key (the same as DevLake's `PUT /api-keys/:id`, addressed by
 * connection so that a host need not mount the core API-key routes). Admin routes; bare JSON
 * like the connections API. Mounted at the plugin's root.
 */
export function createActivityRouter(context: PluginContext): Router {
  const { services, guards, resolveConnection } = context;
  const router = Router({ mergeParams: true });

  router.get('/activity', guards.admin, async (req, res) => {
    const query = await validateBody(ActivityListQueryDto, req.query);
    res.json(await services.activity.page(query));
  });

  router.get('/connections/:connectionId/activity', guards.admin, resolveConnection, async (req, res) => {
    const query = await validateBody(ActivityQueryDto, req.query);
    res.json(await services.activity.ofConnection(connectionOf(res), query.limit));
  });

  router.post('/connections/:connectionId/rotate-key', guards.admin, resolveConnection, async (_req, res) => {
    const connection = connectionOf(res);
    const issued = await services.activity.rotateKey(connection, principalName(res));
    res.json(presentConnection(connection, { apiKey: issued.record, plaintextKey: issued.plaintext }));
  });

  return router;
}
