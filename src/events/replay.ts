import { randomBytes } from 'node:crypto';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { actAs } from '../auth/guards';
import type { WebhookConnection } from '../connections/connection.entity';
import { EVENT_ID_HEADER, markReplay } from './event-log.middleware';
import type { RawWebhookEvent } from './raw-event.entity';

/** A replay's answer, as a fresh post would have been answered, and the event that recorded it. */
export interface ReplayResult {
  status: number;
  body: unknown;
  eventId: number | null;
}

export type Replayer = (connection: WebhookConnection, event: RawWebhookEvent) => Promise<ReplayResult>;

const TOKEN_HEADER = 'x-webhook-replay-token';

/**
 * Replays stored deliveries through the very stack a delivery goes through (`ingest`: the
 * event recorder, the routes, their validation and services, the error mapping), in process:
 * the request is built from the stored body, path and content type, and addressed to the
 * connection by id, so that a delivery refused before its connection existed under the name
 * it was sent to is recovered once it does. The replay is recorded as an event of its own,
 * linked to the original. It runs as an administrator (the replay route checked that).
 */
export function createReplayer(ingest: Router, errorHandler: ErrorRequestHandler): Replayer {
  const pending = new Map<string, number>();
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    const token = req.headers[TOKEN_HEADER];
    const originalId = typeof token === 'string' ? pending.get(token) : undefined;
    if (originalId === undefined) {
      res.status(403).end();
      return;
    }
    delete req.headers[TOKEN_HEADER];
    actAs(res, { kind: 'host' });
    markReplay(res, originalId);
    next();
  });
  app.use('/connections/:connectionId', ingest);
  app.use(errorHandler);

  return async (connection, event) => {
    const token = randomBytes(16).toString('hex');
    pending.set(token, event.id);
    try {
      const headers: Record<string, string> = { [TOKEN_HEADER]: token };
      if (event.contentType) headers['content-type'] = event.contentType;
      if (event.userAgent) headers['user-agent'] = event.userAgent;
      if (event.deliveryId) headers['x-delivery-id'] = event.deliveryId;
      const answer = await dispatch(app, `/connections/${connection.id}${event.path ?? ''}`, headers, event.body);
      let body: unknown = null;
      try {
        body = answer.payload ? JSON.parse(answer.payload) : null;
      } catch {
        body = answer.payload;
      }
      const eventId = Number(answer.headers[EVENT_ID_HEADER.toLowerCase()]);
      return { status: answer.statusCode, body, eventId: Number.isFinite(eventId) && eventId > 0 ? eventId : null };
    } finally {
      pending.delete(token);
    }
  };
}

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  payload: string;
}

/**
 * Runs one POST through an Express app in process, without a network: a request built on an
 * unconnected socket, its body pushed as if it had arrived, and a response whose bytes are
 * collected instead of sent.
 */
function dispatch(
  app: (req: IncomingMessage, res: ServerResponse) => void,
  url: string,
  headers: Record<string, string>,
  body: Buffer | null,
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const socket = new Socket();
    const req = new IncomingMessage(socket);
    req.method = 'POST';
    req.url = url;
    const payload = body ? Buffer.from(body) : Buffer.alloc(0);
    req.headers = { ...headers, 'content-length': String(payload.length) };
    req.push(payload);
    req.push(null);
    // The whole message has arrived, as Node's HTTP parser marks it: body readers after the
    // first (the routes', behind the event recorder's) then see it read, whether they run at
    // once or a turn of the event loop later.
    req.complete = true;
    const res = new ServerResponse(req);
    const chunks: Buffer[] = [];
    const collect = (chunk: unknown, encoding?: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      chunks.push(
        Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8'),
      );
    };
    res.write = ((chunk: unknown, encoding?: unknown) => {
      collect(chunk, encoding);
      return true;
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, encoding?: unknown) => {
      collect(chunk, encoding);
      const headersOut = res.getHeaders() as Record<string, unknown>;
      resolve({ statusCode: res.statusCode, headers: headersOut, payload: Buffer.concat(chunks).toString('utf8') });
      // What listens for the end of the answer (the event recorder) hears it as usual.
      res.emit('finish');
      res.emit('close');
      socket.destroy();
      return res;
    }) as ServerResponse['end'];
    try {
      app(req, res);
    } catch (error) {
      reject(error);
    }
  });
}
