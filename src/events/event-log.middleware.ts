import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { principalOf, type Principal } from '../auth/guards';
import { errorAnswerOf, requestContextOf, type RequestContext } from '../http/request-context';
import type { Envelope } from '../http/envelope';
import { outcomeOf, type EventLogService } from './event-log.service';

const EVENT_ID = 'webhookEventId';
const REPLAY_OF = 'webhookReplayOf';
export const EVENT_ID_HEADER = 'X-Webhook-Event-Id';

/**
 * Headers worth keeping with a delivery: what it is and who sent it, and a source's own
 * delivery id. Nothing else is stored, so `Authorization`, cookies and a source's secret token
 * headers (`X-Gitlab-Token`...) never reach the log.
 */
const DELIVERY_ID_HEADERS = ['x-github-delivery', 'x-gitlab-event-uuid', 'x-delivery-id', 'x-event-id', 'x-request-id'];

/** The id of the event a request is recorded as, for services' `_raw_data_id`. */
export function eventIdOf(res: Response): number | undefined {
  return res.locals[EVENT_ID] as number | undefined;
}

/** Marks a request as the replay of an event (set by the replay before the stack runs). */
export function markReplay(res: Response, originalId: number): void {
  res.locals[REPLAY_OF] = originalId;
}

function clip(value: string | undefined | null, max: number): string | null {
  if (value === undefined || value === null) return null;
  return value.length <= max ? value : Array.from(value).slice(0, max).join('');
}

/** The connection a prefix names, without looking it up: the event is kept even when it is unknown. */
function addressedConnection(req: Request): { id: number | null; name: string | null } | undefined {
  const params = req.params as Record<string, string | undefined>;
  if (params.connectionName !== undefined) {
    return params.connectionName.length >= 1 && params.connectionName.length <= 100
      ? { id: null, name: params.connectionName }
      : undefined;
  }
  const id = params.connectionId;
  if (id !== undefined && /^[1-9]\d{0,15}$/.test(id)) return { id: Number(id), name: null };
  return undefined;
}

/** Who sent a delivery, by key id or user name: never a credential. */
export function senderOf(principal: Principal): string {
  switch (principal.kind) {
    case 'connection-key':
      return `connection-key:${principal.apiKey.id}:${principal.connectionId}`;
    case 'general-key':
      return `general-key:${principal.apiKey.id}`;
    case 'basic':
      return clip(`basic:${principal.username}`, 100) ?? 'basic';
    case 'signature':
      return `signature:${principal.source}`;
    default:
      return principal.kind;
  }
}

/** The connection a delivery's key was issued for, when it was sent with a connection's key. */
export function keyConnectionOf(sender: string | null): number | undefined {
  const match = /^connection-key:\d+:(\d+)$/.exec(sender ?? '');
  return match ? Number(match[1]) : undefined;
}

function deliveryIdOf(req: Request): string | null {
  for (const name of DELIVERY_ID_HEADERS) {
    const value = req.headers[name];
    if (typeof value === 'string' && value) return clip(value, 255);
  }
  return null;
}

/**
 * Records every POST that reaches it into the raw event log: mount it after authentication,
 * before the routes, on a router whose mount path names a connection (`:connectionId` or
 * `:connectionName`). Any ingestion route placed behind it (a new source's endpoint included)
 * is logged with its outcome. It reads the body itself (up to `limitBytes`), so a delivery
 * refused before its route read the body (an unknown connection, a key of another connection)
 * is kept whole and can be replayed; the routes' own body reading then finds it read.
 *
 * Logging never refuses a delivery: when the log cannot take an id, the delivery goes on
 * unlogged (and the problem is logged).
 */
export function eventRecorder(
  eventLog: EventLogService,
  limitBytes: number | ((req: Request) => number),
): RequestHandler {
  if (!eventLog.enabled) return (_req, _res, next) => next();
  const readers = new Map<number, RequestHandler>();
  const readerFor = (req: Request): RequestHandler => {
    const limit = typeof limitBytes === 'number' ? limitBytes : limitBytes(req);
    let reader = readers.get(limit);
    if (!reader) {
      reader = express.raw({ type: () => true, limit });
      readers.set(limit, reader);
    }
    return reader;
  };
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    // A dry run writes nothing, and is no delivery to keep or replay (a replay would write it).
    const dryRun = (req.query as Record<string, unknown>).dryRun;
    if (dryRun === 'true' || dryRun === '1') return next();
    const connection = addressedConnection(req);
    if (!connection) return next();
    const context = requestContextOf(req, res);
    const receivedAt = new Date();
    // Synchronous while the reserved block of ids lasts (nearly always): no promise per delivery.
    const reserved = eventLog.takeIdNow();
    if (reserved !== undefined) {
      record(req, res, next, connection, context, receivedAt, reserved);
      return;
    }
    return eventLog.nextId().then(
      (id) => record(req, res, next, connection, context, receivedAt, id),
      // `nextId` already logged why; the delivery goes on unlogged.
      () => next(),
    );
  };

  function record(
    req: Request,
    res: Response,
    next: NextFunction,
    connection: { id: number | null; name: string | null },
    context: RequestContext,
    receivedAt: Date,
    id: number,
  ): void {
    res.locals[EVENT_ID] = id;
    res.setHeader(EVENT_ID_HEADER, String(id));
    const path = clip((req.url ?? '').split('?')[0], 1000);
    const contentLength = Number(req.headers['content-length'] ?? NaN);

    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const status = res.statusCode;
      const error = errorAnswerOf(context);
      const answer = context.answer as Envelope | undefined;
      const body: unknown = req.body;
      const buffer = Buffer.isBuffer(body) ? body : (res.locals.webhookRawBody as Buffer | undefined);
      // A delivery whose signature did not verify came from someone who may not hold the
      // secret: it is recorded (so a wrong secret can be diagnosed) but its body is not kept,
      // so that nobody without credentials can store data on the server.
      const sender = principalOf(res);
      const unverified = sender.kind === 'signature' && status === 401;
      eventLog.record({
        id,
        connectionId: (res.locals.webhookConnection as { id?: number } | undefined)?.id ?? connection.id,
        connectionName: connection.name,
        method: req.method,
        route: clip(context.route ?? '(unmatched)', 255),
        path,
        requestId: context.id,
        sender: senderOf(sender),
        receivedAt,
        durationMs: Math.round(performance.now() - context.startedAt),
        status,
        outcome: outcomeOf(status),
        message: error ? clip(error.message, 2000) : null,
        causes: error?.causes ? JSON.stringify(error.causes) : null,
        written: !error && answer && answer.data !== undefined ? JSON.stringify(answer.data) : null,
        contentType: clip(req.headers['content-type'], 255),
        userAgent: clip(req.headers['user-agent'], 255),
        deliveryId: deliveryIdOf(req),
        bodyBytes: buffer ? buffer.length : Number.isFinite(contentLength) ? contentLength : null,
        body: unverified ? null : (buffer ?? null),
        replayOf: (res.locals[REPLAY_OF] as number | undefined) ?? null,
      });
    };
    res.once('finish', write);
    res.once('close', write);

    readerFor(req)(req, res, (error?: unknown) => {
      if (!error && Buffer.isBuffer(req.body)) res.locals.webhookRawBody = req.body;
      next(error);
    });
  }
}
