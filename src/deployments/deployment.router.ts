import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { causesInSenderWords, datesRead } from '../http/sender-names';
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
      const connectionId = connectionOf(res).id;
      const dates = datesRead(req.body, body, receivedAt);
      if (dryRun) {
        const { recorded, write } = deployments.plan(connectionId, body, receivedAt);
        const rows = deploymentTables(deployments.dataSource, write);
        const warnings = [...causesInSenderWords(req.body, recorded.warnings ?? []), ...dates.warnings];
        res.json(successEnvelope({ ...recorded, ...dates, warnings, dryRun, rows }));
        return;
      }
      const recorded = await deployments.record(connectionId, body, receivedAt, rawDataOf(eventIdOf(res)));
      // The service's warnings (a finish before the start) and the unlikely dates, in one list.
      const warnings = [...causesInSenderWords(req.body, recorded.warnings ?? []), ...dates.warnings];
      res.status(200).json(successEnvelope({ ...recorded, ...dates, warnings }));
    },
  );
  return router;
}
