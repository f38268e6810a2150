import { Router } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { isDryRun } from '../http/dry-run';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { PullRequestDto } from './pull-request.dto';

/** Pull request ingestion (docs/devlake-compatibility.md §2, §7), relative to a connection's prefix. */
export function createPullRequestRouter(context: PluginContext): Router {
  const { services, guards, readBody, resolveConnection } = context;
  const router = Router({ mergeParams: true });

  router.post('/pull_requests', resolveConnection, guards.ingestion, ...readBody, async (req, res) => {
    const receivedAt = new Date();
    const dryRun = isDryRun(req);
    const body = await validateBody(PullRequestDto, req.body);
    if (dryRun) {
      const write = services.pullRequests.plan(connectionOf(res), body);
      const rows = services.pullRequests.tables(write);
      res.json(successEnvelope({ ...write.ids, ...datesRead(req.body, body, receivedAt), dryRun, rows }));
      return;
    }
    const saved = await services.pullRequests.save(connectionOf(res), body, undefined, rawDataOf(eventIdOf(res)));
    res.json(successEnvelope({ ...saved, ...datesRead(req.body, body, receivedAt) }));
  });

  return router;
}
