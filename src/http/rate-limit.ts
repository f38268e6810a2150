import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { readAuthorization } from '../auth/credentials';
import type { RateLimitOptions } from '../options';
import { RateLimitedError } from './errors';

/** Who a request is counted as: its API key, its Basic user, or its address. */
interface Identity {
  key: string;
  kind: 'key' | 'user' | 'address';
}

/**
 * Reads who a request claims to be, before the guards check it: the limit must also hold for
 * requests the guards will refuse. A key is counted by a hash, so the limiter's memory never
 * holds one. Basic users count as users only when Basic is configured: on a server without it,
 * any user name is accepted, and rotating names must not buy fresh budgets.
 */
function identify(req: Request, basicConfigured: boolean): Identity {
  const presented = readAuthorization(req.headers.authorization);
  if (presented.kind === 'bearer') {
    return { kind: 'key', key: `key:${createHash('sha256').update(presented.key).digest('hex')}` };
  }
  if (presented.kind === 'basic' && basicConfigured) return { kind: 'user', key: `user:${presented.username}` };
  return { kind: 'address', key: `address:${ipKeyGenerator(req.ip ?? 'unknown')}` };
}

function secondsUntil(resetTime: Date | undefined, windowMs: number): number {
  const ms = resetTime ? resetTime.getTime() - Date.now() : windowMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Answers through the one error handler: 429, Retry-After and DevLake's envelope. */
function refuse(what: (req: Request) => string, windowMs: number): Options['handler'] {
  return (req, _res, next, options) => {
    const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
    const retryAfter = secondsUntil(info?.resetTime, windowMs);
    next(
      new RateLimitedError(
        `too many requests ${what(req)}: at most ${String(options.limit)} per ${windowMs / 1000} s; retry after ${retryAfter} s`,
        retryAfter,
      ),
    );
  };
}

/**
 * The plugin's rate limits (issue 9): `perKey` requests per window for one API key or one
 * Basic user, `perAddress` for one client address without credentials. Counts are kept in
 * this process's memory: each instance behind a load balancer counts on its own.
 *
 * A second count stops guessing: requests that carry credentials but are refused with 401 are
 * counted per address too (`perAddress`), since every guessed key would otherwise start a
 * fresh budget of its own.
 */
export function createRateLimit(limits: Required<RateLimitOptions> | false, basicConfigured: boolean): RequestHandler {
  if (!limits) return (_req, _res, next) => next();
  const { windowMs, perKey, perAddress } = limits;

  const guessing = rateLimit({
    windowMs,
    limit: perAddress,
    standardHeaders: false,
    legacyHeaders: false,
    skip: (req) => identify(req, basicConfigured).kind === 'address',
    keyGenerator: (req) => `address:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    // Only refusals count: a sender with a valid key is never slowed by this count.
    skipSuccessfulRequests: true,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    handler: refuse(() => 'with wrong credentials from this address', windowMs),
  });

  const requests = rateLimit({
    windowMs,
    limit: (req) => (identify(req, basicConfigured).kind === 'address' ? perAddress : perKey),
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    keyGenerator: (req) => identify(req, basicConfigured).key,
    handler: refuse((req) => {
      const kind = identify(req, basicConfigured).kind;
      return kind === 'key' ? 'for this API key' : kind === 'user' ? 'for this user' : 'from this address';
    }, windowMs),
  });

  return (req, res, next) => {
    void guessing(req, res, (error?: unknown) => (error ? next(error) : void requests(req, res, next)));
  };
}
