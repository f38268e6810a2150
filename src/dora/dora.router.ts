import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { parseDoraQuery } from './dora.dto';

/**
 * `GET X/dora`: a connection's metrics, in the three addressing forms. Reading metrics is an
 * admin read, so it takes the admin guard: a connection's own key only posts data (docs/devlake-compatibility.md §8
 * "and nothing else"), while a general key whose `allowed_path` covers the path may read.
 * The answer is the bare report, as the admin API answers (no envelope).
 */
export function createDoraRouter(context: PluginContext): Router {
  const { services, guards, resolveConnection } = context;
  const router = Router({ mergeParams: true });

  router.get('/dora', guards.admin, resolveConnection, async (req, res) => {
    const query = parseDoraQuery(req.query as Record<string, unknown>);
    res.json(await services.dora.forConnection(connectionOf(res), query));
  });

  return router;
}
