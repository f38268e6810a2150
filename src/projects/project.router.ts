import { Router } from 'express';
import type { PluginContext } from '../context';
import { parseDoraQuery } from '../dora/dora.dto';

/**
 * Projects (docs/devlake-compatibility.md §8), mounted at `/projects`: admin routes answering bare JSON like
 * the connections API. Linking happens through the connections API (`projectName`).
 */
export function createProjectRouter(context: PluginContext): Router {
  const { services, guards } = context;
  const router = Router({ mergeParams: true });

  router.get('/', guards.admin, async (_req, res) => {
    res.json(await services.projects.listWithConnections());
  });

  router.get('/:projectName/dora', guards.admin, async (req, res) => {
    const query = parseDoraQuery(req.query as Record<string, unknown>);
    res.json(await services.dora.forProject(String(req.params.projectName), query));
  });

  return router;
}
