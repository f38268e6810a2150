import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Envelope } from './envelope';

/** What the plugin learns about one request while it runs, for its log line, metrics and event. */
export interface RequestContext {
  /** Sent back in `X-Request-Id` and in error envelopes. */
  id: string;
  startedAt: number;
  /** The mount template of the router that answered (e.g. `/connections/by-name/:connectionName`). */
  base: string;
  /** The matched route's own template (e.g. `/deployments`), once a route matched. */
  route: string | undefined;
  /** The JSON the plugin answered with. */
  answer: unknown;
  /** Milliseconds spent in database transactions for this request. */
  dbMs: number;
  /** Transactions rolled back by the database (deadlock, serialization failure) and run again. */
  dbRetries: number;
}

export const REQUEST_ID_HEADER = 'X-Request-Id';
const CONTEXT = 'webhookRequest';
const storage = new AsyncLocalStorage<RequestContext>();

/** A sender's own request id is reused when it is short and plain, so a CI log matches ours. */
const SENT_ID = /^[\w.:-]{8,64}$/;
const processPrefix = randomBytes(4).toString('hex');
let counter = 0;

function newRequestId(req: Request): string {
  const sent = req.headers['x-request-id'];
  if (typeof sent === 'string' && SENT_ID.test(sent)) return sent;
  counter = (counter + 1) % 0x100000000;
  return `${processPrefix}-${counter.toString(16).padStart(8, '0')}`;
}

/**
 * The request's context, created on first use: a request id (sent back in a header) and a
 * capture of the JSON answer, which the request log and the event log both read.
 */
export function requestContextOf(req: Request, res: Response): RequestContext {
  const known = res.locals[CONTEXT] as RequestContext | undefined;
  if (known) return known;
  const context: RequestContext = {
    id: newRequestId(req),
    startedAt: performance.now(),
    base: '',
    route: undefined,
    answer: undefined,
    dbMs: 0,
    dbRetries: 0,
  };
  res.locals[CONTEXT] = context;
  if (!res.headersSent) res.setHeader(REQUEST_ID_HEADER, context.id);
  const json = res.json.bind(res);
  res.json = (body: unknown) => {
    context.answer = body;
    // Express keeps the matched route on the request; read it at answer time, where it is the
    // route that answered (an error thrown by a route's own middleware included).
    const route = (req as Request & { route?: { path?: unknown } }).route?.path;
    if (typeof route === 'string') context.route = route;
    return json(body);
  };
  return context;
}

/** The context of a request, when one was started. */
export function existingRequestContext(res: Response): RequestContext | undefined {
  return res.locals[CONTEXT] as RequestContext | undefined;
}

/** Runs the rest of the request inside its context, so database time can be counted. */
export function runInContext(context: RequestContext, next: () => void): void {
  storage.run(context, next);
}

/** Names the mount template of the routers that follow, for logs and metrics (never a value). */
export function routeBase(template: string): RequestHandler {
  return (req, res, next) => {
    const context = existingRequestContext(res);
    if (context) context.base = template;
    next();
  };
}

/** The route template of a finished request: its mount plus its route, or `(unmatched)`. */
export function routeTemplateOf(context: RequestContext): string {
  if (context.route === undefined) return context.base ? `${context.base}/(unmatched)` : '(unmatched)';
  const joined = `${context.base}${context.route === '/' ? '' : context.route}`;
  return joined || '/';
}

/** Adds database time to the current request, if any (called by `withTransaction`). */
export function addDatabaseTime(ms: number): void {
  const context = storage.getStore();
  if (context) context.dbMs += ms;
}

/** The error envelope of an answer, when it was one. */
export function errorAnswerOf(context: RequestContext | undefined): Envelope | undefined {
  const answer = context?.answer as Envelope | undefined;
  return answer && typeof answer === 'object' && answer.success === false ? answer : undefined;
}

/** Counts a transaction the database rolled back and `withTransaction` ran again. */
export function addDatabaseRetry(): void {
  const context = storage.getStore();
  if (context) context.dbRetries += 1;
}

/**
 * Runs `work` outside any request's context: background work a request starts (a timer) would
 * otherwise count its database time and retries against that request.
 */
export function outsideRequest<T>(work: () => T): T {
  return storage.exit(work);
}
