import { Router, type Request, type Response } from 'express';
import type { PluginContext } from '../context';
import { connectionOf } from '../connections/resolve-connection';
import { successEnvelope } from '../http/envelope';
import { causesInSenderWords, datesRead } from '../http/sender-names';
import { validateBody } from '../http/validate-body';
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
    const body = await validateBody(IssueDto, req.body);
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
    const body = await validateBody(CloseIssueDto, req.body);
    res.json(
      successEnvelope(
        await services.issues.close(connectionOf(res), body.issueKey, undefined, rawDataOf(eventIdOf(res))),
      ),
    );
  });

  const closeByPath = async (req: Request, res: Response) => {
    const { issueKey } = req.params as Record<string, string>;
    res.json(
      successEnvelope(await services.issues.close(connectionOf(res), issueKey, undefined, rawDataOf(eventIdOf(res)))),
    );
  };
  router.post('/issue/:issueKey/close', ...ingestion, closeByPath);
  router.post('/issue/:boardKey/:issueKey/close', ...ingestion, closeByPath);

  return router;
}
