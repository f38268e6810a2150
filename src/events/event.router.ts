import { Router, type RequestHandler } from 'express';
import type { Guards } from '../auth/guards';
import { connectionOf } from '../connections/resolve-connection';
import { NotAllowedError, NotFoundError, fieldError } from '../http/errors';
import { keyConnectionOf } from './event-log.middleware';
import type { RawWebhookEvent } from './raw-event.entity';
import type { WebhookConnection } from '../connections/connection.entity';
import { validateBody } from '../http/validate-body';
import { BulkReplayDto, EventQueryDto, MAX_BULK_REPLAY } from './event.dto';
import { viewOf, type EventLogService, type EventOutcome } from './event-log.service';
import type { Replayer } from './replay';

export interface EventRouterDeps {
  eventLog: EventLogService;
  guards: Guards;
  readBody: RequestHandler[];
  resolveConnection: RequestHandler;
  replay: Replayer;
}

const DEFAULT_PAGE_SIZE = 50;

function eventIdParam(raw: string | undefined): number {
  if (raw === undefined || !/^[1-9]\d{0,15}$/.test(raw)) throw fieldError('eventId', 'must be a positive whole number');
  return Number(raw);
}

/**
 * A delivery sent with the key of another connection (refused with 404 while the connection it
 * named did not exist) is never replayed into this one: the replay runs as an administrator,
 * and must not carry out what that key could not.
 */
function replayable(connection: WebhookConnection, event: RawWebhookEvent): boolean {
  const keyConnection = keyConnectionOf(event.sender);
  return keyConnection === undefined || keyConnection === connection.id;
}

/**
 * The raw event log of a connection, relative to a connection's prefix (admin routes, bare
 * JSON like the connections API): the deliveries it received, newest first; one with its body;
 * the replay of one, answered as a fresh post would be; and the replay of the refused ones in
 * a time range. A connection's events include those sent to its name before it existed.
 */
export function createEventRouter(deps: EventRouterDeps): Router {
  const { eventLog, guards, readBody, resolveConnection, replay } = deps;
  const router = Router({ mergeParams: true });
  const admin = [resolveConnection, guards.admin];

  router.get('/events', ...admin, async (req, res) => {
    const query = await validateBody(EventQueryDto, req.query);
    const connection = connectionOf(res);
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
    const found = await eventLog.list(connection, {
      outcome: query.outcome?.toLowerCase() as EventOutcome | undefined,
      since: query.since,
      until: query.until,
      page,
      pageSize,
    });
    res.json({ count: found.count, page, pageSize, enabled: eventLog.enabled, events: found.events });
  });

  router.post('/events/replay', ...admin, ...readBody, async (req, res) => {
    const body = await validateBody(BulkReplayDto, req.body);
    const connection = connectionOf(res);
    const events = await eventLog.refusedToReplay(connection, body, body.limit ?? MAX_BULK_REPLAY);
    const results = [];
    let skipped = 0;
    // One after another: a bulk replay must not crowd out the deliveries arriving meanwhile.
    for (const event of events) {
      if (!replayable(connection, event)) {
        skipped += 1;
        continue;
      }
      const answer = await replay(connection, event);
      results.push({ eventId: event.id, replayEventId: answer.eventId, status: answer.status });
    }
    const succeeded = results.filter((r) => r.status < 400).length;
    res.json({
      replayed: results.length,
      succeeded,
      refused: results.filter((r) => r.status >= 400 && r.status < 500).length,
      failed: results.filter((r) => r.status >= 500).length,
      skipped,
      results,
    });
  });

  router.get('/events/:eventId', ...admin, async (req, res) => {
    const eventId = eventIdParam((req.params as Record<string, string>).eventId);
    const event = await eventLog.get(connectionOf(res), eventId);
    if (!event) throw new NotFoundError(`no event ${eventId} in this connection's log`);
    res.json(viewOf(event, true));
  });

  router.post('/events/:eventId/replay', ...admin, async (req, res) => {
    const eventId = eventIdParam((req.params as Record<string, string>).eventId);
    const connection = connectionOf(res);
    const event = await eventLog.get(connection, eventId);
    if (!event) throw new NotFoundError(`no event ${eventId} in this connection's log`);
    if (!replayable(connection, event)) {
      throw new NotAllowedError(
        `event ${eventId} was sent with the API key of another connection; it is not replayed into this one`,
      );
    }
    const answer = await replay(connection, event);
    if (answer.eventId !== null) res.setHeader('X-Webhook-Event-Id', String(answer.eventId));
    res.setHeader('X-Webhook-Replay-Of', String(event.id));
    res.status(answer.status).json(answer.body);
  });

  return router;
}
