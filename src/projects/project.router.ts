import { Router } from 'express';
import type { PluginContext } from '../context';
import { DeploymentDto } from '../deployments/deployment.dto';
import { commitsOf } from '../deployments/deployment.service';
import { parseDoraQuery } from '../dora/dora.dto';
import { successEnvelope } from '../http/envelope';
import { causesInSenderWords, datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { projectDeploymentsConnection } from './project-deployments';

/**
 * Projects (docs/devlake-compatibility.md §8), mounted at `/projects`: admin routes answering bare JSON like
 * the connections API. Linking happens through the connections API (`projectName`).
 */
export function createProjectRouter(context: PluginContext): Router {
  const { services, guards, readBody } = context;
  const router = Router({ mergeParams: true });

  router.get('/', guards.admin, async (_req, res) => {
    res.json(await services.projects.listWithConnections());
  });

  router.get('/:projectName/dora', guards.admin, async (req, res) => {
    const query = parseDoraQuery(req.query as Record<string, unknown>);
    res.json(await services.dora.forProject(String(req.params.projectName), query));
  });

  // DevLake's deployment route by project: the body is a deployment, stored in the project's
  // `<projectName>_deployments` connection (created and linked on first use).
  router.post('/:projectName/deployments', guards.admin, ...readBody, async (req, res) => {
    const receivedAt = new Date();
    const body = await validateBody(DeploymentDto, req.body);
    // A body without commits is refused before a connection is looked up or created.
    commitsOf(body);
    const connection = await projectDeploymentsConnection(services, String(req.params.projectName));
    const recorded = await services.deployments.record(connection.id, body, receivedAt);
    const dates = datesRead(req.body, body, receivedAt);
    const warnings = [...causesInSenderWords(req.body, recorded.warnings ?? []), ...dates.warnings];
    res.status(200).json(successEnvelope({ ...recorded, ...dates, warnings, connectionId: connection.id }));
  });

  return router;
}
