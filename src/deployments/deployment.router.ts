import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { isDryRun } from '../http/dry-run';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { DeploymentDto } from './deployment.dto';
import { deploymentTables } from './deployment.service';

/**
 * `POST X/deployments` (docs/devlake-compatibility.md §2, §5), relative to a connection prefix: the plugin mounts it
 * under the three addressing forms. Answers the stored ids, so a CI log shows what was written;
 * with `?dryRun=true`, the rows it would write, writing nothing.
 */
export function createDeploymentRouter(context: PluginContext): Router {
  const router = Router({ mergeParams: true });
  router.post(
    '/deployments',
    context.resolveConnection,
    context.guards.ingestion,
    ...context.readBody,
    async (req, res) => {
      // An unsent finish time is the time the request arrived (docs/devlake-compatibility.md §5), taken once here.
      const receivedAt = new Date();
      const dryRun = isDryRun(req);
      const body = await validateBody(DeploymentDto, req.body);
      const deployments = context.services.deployments;
      if (dryRun) {
        const { recorded, write } = deployments.plan(connectionOf(res).id, body, receivedAt);
        const rows = deploymentTables(deployments.dataSource, write);
        res.json(successEnvelope({ ...recorded, ...datesRead(req.body, body, receivedAt), dryRun, rows }));
        return;
      }
      const recorded = await deployments.record(connectionOf(res).id, body, receivedAt, rawDataOf(eventIdOf(res)));
      res.status(200).json(successEnvelope({ ...recorded, ...datesRead(req.body, body, receivedAt) }));
    },
  );
  return router;
}
