import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { PullRequestDto } from './pull-request.dto';

/** Pull request ingestion (docs/devlake-compatibility.md §2, §7), relative to a connection's prefix. */
export function createPullRequestRouter(context: PluginContext): Router {
  const { services, guards, readBody, resolveConnection } = context;
  const router = Router({ mergeParams: true });

  router.post('/pull_requests', resolveConnection, guards.ingestion, ...readBody, async (req, res) => {
    const receivedAt = new Date();
    const body = await validateBody(PullRequestDto, req.body);
    const saved = await services.pullRequests.save(connectionOf(res), body, undefined, rawDataOf(eventIdOf(res)));
    res.json(successEnvelope({ ...saved, ...datesRead(req.body, body, receivedAt) }));
  });

  return router;
}
