import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { causesInSenderWords, datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { DeploymentDto } from './deployment.dto';

/**
 * `POST X/deployments` (docs/devlake-compatibility.md §2, §5), relative to a connection prefix: the plugin mounts it
 * under the three addressing forms. Answers the stored ids, so a CI log shows what was written.
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
      const body = await validateBody(DeploymentDto, req.body);
      const recorded = await context.services.deployments.record(
        connectionOf(res).id,
        body,
        receivedAt,
        rawDataOf(eventIdOf(res)),
      );
      const dates = datesRead(req.body, body, receivedAt);
      // The service's warnings (a finish before the start) and the unlikely dates, in one list.
      const warnings = [...causesInSenderWords(req.body, recorded.warnings ?? []), ...dates.warnings];
      res.status(200).json(successEnvelope({ ...recorded, ...dates, warnings }));
    },
  );
  return router;
}
