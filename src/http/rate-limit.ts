import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { LRUCache } from 'lru-cache';
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
  return { kind: 'address', key: `address:${addressOf(req)}` };
}

/** The address a client is counted as (IPv6 clients by their /56, as they get whole subnets). */
export function addressOf(req: Request): string {
  return ipKeyGenerator(req.ip ?? 'unknown');
}

function secondsUntil(resetTime: Date | undefined, windowMs: number): number {
  const ms = resetTime ? resetTime.getTime() - Date.now() : windowMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Answers through the one error handler: 429, Retry-After and DevLake's envelope. */
function refuse(what: (req: Request) => string, limit: (req: Request) => number, windowMs: number): Options['handler'] {
  return (req, _res, next) => {
    const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit;
    const retryAfter = secondsUntil(info?.resetTime, windowMs);
    next(
      new RateLimitedError(
        `too many requests ${what(req)}: at most ${limit(req)} per ${windowMs / 1000} s; retry after ${retryAfter} s`,
        retryAfter,
      ),
    );
  };
}

/**
 * The plugin's request limits: `perKey` requests per window for one API key or one Basic
 * user, `perAddress` for one client address without credentials. They keep one runaway sender
 * from starving the others; the defaults are far above what a pipeline burst or a history
 * backfill sends (hundreds of posts in seconds). Counts are kept in this process's memory:
 * each instance behind a load balancer counts on its own.
 *
 * Guessing is limited elsewhere (`createPasswordGuessLimit`): wrong passwords, per user name
 * and address. Wrong API keys are not counted against the address: 128 random characters
 * cannot be guessed, and counting them would let anyone behind the same NAT lock every CI
 * key out.
 */
export function createRateLimit(limits: Required<RateLimitOptions> | false, basicConfigured: boolean): RequestHandler {
  if (!limits) return (_req, _res, next) => next();
  const { windowMs, perKey, perAddress } = limits;
  const limitOf = (req: Request) => (identify(req, basicConfigured).kind === 'address' ? perAddress : perKey);

  return rateLimit({
    windowMs,
    limit: limitOf,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    keyGenerator: (req) => identify(req, basicConfigured).key,
    handler: refuse(
      (req) => {
        const kind = identify(req, basicConfigured).kind;
        return kind === 'key' ? 'for this API key' : kind === 'user' ? 'for this user' : 'from this address';
      },
      limitOf,
      windowMs,
    ),
  });
}

/** Counts wrong passwords per user name and address; see `passwordGuessLimitFor`. */
export interface PasswordGuessLimit {
  /** Seconds to wait when this user name from this address is locked, else 0. */
  lockedFor(username: string, address: string): number;
  /** Notes one wrong password. */
  failed(username: string, address: string): void;
  /** A right password clears the count. */
  succeeded(username: string, address: string): void;
}

const guessLimits = new WeakMap<object, PasswordGuessLimit>();

/**
 * The wrong-password limit of one plugin instance (shared by all its routers, the admin page
 * included, hence kept per `owner`): after `failedPasswords` wrong passwords for one user name
 * from one address within `failedPasswordWindowMs`, that user name is refused (429) from that
 * address until the window ends. Other addresses, other user names and API keys are untouched.
 * Undefined when limits are off.
 */
export function passwordGuessLimitFor(
  owner: object,
  limits: Required<RateLimitOptions> | false,
): PasswordGuessLimit | undefined {
  if (!limits) return undefined;
  const known = guessLimits.get(owner);
  if (known) return known;
  const { failedPasswords, failedPasswordWindowMs } = limits;
  // Bounded: a flood of made-up user names evicts the oldest counts, never grows the memory.
  const counts = new LRUCache<string, { failures: number; resetAt: number }>({ max: 10_000 });
  const keyOf = (username: string, address: string) =>
    `${createHash('sha256').update(username).digest('hex')}|${address}`;
  const current = (key: string) => {
    const entry = counts.get(key);
    if (entry && entry.resetAt <= Date.now()) {
      counts.delete(key);
      return undefined;
    }
    return entry;
  };
  const limit: PasswordGuessLimit = {
    lockedFor(username, address) {
      const entry = current(keyOf(username, address));
      if (!entry || entry.failures < failedPasswords) return 0;
      return Math.max(1, Math.ceil((entry.resetAt - Date.now()) / 1000));
    },
    failed(username, address) {
      const key = keyOf(username, address);
      const entry = current(key) ?? { failures: 0, resetAt: Date.now() + failedPasswordWindowMs };
      entry.failures += 1;
      counts.set(key, entry);
    },
    succeeded(username, address) {
      counts.delete(keyOf(username, address));
    },
  };
  guessLimits.set(owner, limit);
  return limit;
}
