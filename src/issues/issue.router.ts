import { Router, type Request, type Response } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { causesInSenderWords, datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
import { isDryRun } from '../http/dry-run';
import { eventIdOf } from '../events/event-log.middleware';
import { rawDataOf } from '../events/event-log.service';
import { CloseIssueDto, IssueDto } from './issue.dto';

/**
 * Issue ingestion (docs/devlake-compatibility.md §2, §6), relative to a connection's prefix. Close exists in three
 * forms: DevLake v0.16's `/issue/:issueKey/close`, v0.14's `/issue/:boardKey/:issueKey/close`
 * (the board key is informational: the issue key alone is unique in a connection), and
 * `/issue/close` with the key in the body, for senders whose URL is fixed. Express decodes path
 * parameters, so `%2F` and `%20` in a key work.
 */
export function createIssueRouter(context: PluginContext): Router {
  const { services, guards, readBody, resolveConnection } = context;
  const router = Router({ mergeParams: true });
  const ingestion = [resolveConnection, guards.ingestion, ...readBody];

  router.post('/issues', ...ingestion, async (req, res) => {
    const receivedAt = new Date();
    const dryRun = isDryRun(req);
    const body = await validateBody(IssueDto, req.body);
    if (dryRun) {
      const write = services.issues.plan(connectionOf(res), body);
      const rows = services.issues.tables(write);
      res.json(successEnvelope({ ...write.ids, ...datesRead(req.body, body, receivedAt), dryRun, rows }));
      return;
    }
    const saved = await services.issues.save(connectionOf(res), body, undefined, rawDataOf(eventIdOf(res)));
    const dates = datesRead(req.body, body, receivedAt);
    // The service's warnings (resolved before created) and the unlikely dates, in one list.
    res.json(
      successEnvelope({
        ...saved,
        ...dates,
        warnings: [...causesInSenderWords(req.body, saved.warnings ?? []), ...dates.warnings],
      }),
    );
  });

  router.post('/issue/close', ...ingestion, async (req, res) => {
    const dryRun = isDryRun(req);
    const body = await validateBody(CloseIssueDto, req.body);
    await close(res, body.issueKey, dryRun);
  });

  const close = async (res: Response, issueKey: string, dryRun: boolean) => {
    if (dryRun) {
      const { ids, tables } = await services.issues.planClose(connectionOf(res), issueKey);
      res.json(successEnvelope({ ...ids, dryRun, rows: tables }));
      return;
    }
    res.json(
      successEnvelope(await services.issues.close(connectionOf(res), issueKey, undefined, rawDataOf(eventIdOf(res)))),
    );
  };
  const closeByPath = async (req: Request, res: Response) => {
    const { issueKey } = req.params as Record<string, string>;
    await close(res, issueKey, isDryRun(req));
  };
  router.post('/issue/:issueKey/close', ...ingestion, closeByPath);
  router.post('/issue/:boardKey/:issueKey/close', ...ingestion, closeByPath);

  return router;
}
