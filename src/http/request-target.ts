import type { Request, RequestHandler } from 'express';
import { InputError } from './errors';

/** RFC 3986's unreserved characters: a client never needs to percent-encode them. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

function refuse(reason: string): InputError {
  return new InputError(`the request path is not accepted: ${reason}`, [{ field: 'path', message: reason }]);
}

/**
 * The one path the router serves for a request-target, as a key's `allowedPath` is matched
 * against it: percent-decoded (except `/` and `%` inside a segment), without query string,
 * without a trailing slash.
 *
 * Express routes on the raw path, so a target is refused (InputError, 400) whenever its decoded
 * form could name something else than what the router serves: an absolute-form or `*` target,
 * a fragment, dot segments (`.`, `..`, also encoded), empty segments (`//`), an encoded `/` or
 * control characters, malformed `%` escapes, and percent-encoded letters, digits or
 * `-._~` (which the router would not recognise as the route's own words). Path parameters may
 * still hold any other encoded character (spaces, `#`, `?`, accents, and `/` or `%`, which stay
 * encoded in the canonical path so that its segments are the router's).
 */
export function canonicalPath(target: string): string {
  if (!target.startsWith('/')) {
    throw refuse('the request-target must be a path starting with "/" (absolute-form targets are not served)');
  }
  if (target.includes('#')) throw refuse('the request-target must not hold a fragment ("#")');
  const query = target.indexOf('?');
  const raw = query < 0 ? target : target.slice(0, query);
  if (raw.includes('\\')) throw refuse('"\\" is not a path separator');
  if (raw === '/') return '/';
  const segments = raw.slice(1).split('/');
  // One trailing slash is the same route for the router: the canonical form has none.
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  const decoded = segments.map((segment) => {
    if (segment === '') throw refuse('empty path segment ("//")');
    for (const match of segment.matchAll(/%([0-9A-Fa-f]{2})/g)) {
      if (UNRESERVED.test(String.fromCharCode(parseInt(match[1], 16)))) {
        throw refuse(`"${match[0]}" encodes a character that must be sent as it is`);
      }
    }
    let text: string;
    try {
      text = decodeURIComponent(segment);
    } catch {
      throw refuse('malformed percent-encoding');
    }
    if (text === '.' || text === '..') throw refuse('dot segments ("." and "..") are not resolved');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(text)) throw refuse('an encoded control character');
    // A "/" inside one segment (an issue key `A%2FB`) stays encoded, as does "%": the canonical
    // path keeps the router's segments, so a rule cannot mistake it for a separator.
    return text.replace(/%/g, '%25').replace(/\//g, '%2F');
  });
  return `/${decoded.join('/')}`;
}

/**
 * Refuses, before any route runs, a request-target whose canonical path would not be the one
 * the router serves (see `canonicalPath`).
 */
export const checkRequestTarget: RequestHandler = (req: Request, _res, next) => {
  canonicalPath(req.originalUrl ?? req.url);
  next();
};
