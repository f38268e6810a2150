import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time. Both sides are hashed first so that neither the
 * length nor the content of the expected value leaks through timing.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type PresentedCredentials =
  | { kind: 'none' }
  | { kind: 'bearer'; key: string }
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'malformed'; reason: string };

/** Reads the Authorization header without judging it. */
export function readAuthorization(header: string | undefined): PresentedCredentials {
  if (!header || header.trim() === '') return { kind: 'none' };
  // Trimmed, and `\s+` takes every space after the scheme: the credentials have none around them.
  const match = /^(\S+)\s+(.+)$/.exec(header.trim());
  if (!match) return { kind: 'malformed', reason: 'the Authorization header is not "<scheme> <credentials>"' };
  const scheme = match[1].toLowerCase();
  const value = match[2];
  if (scheme === 'bearer') {
    if (!/^[A-Za-z0-9]{1,512}$/.test(value)) return { kind: 'malformed', reason: 'the API key is malformed' };
    return { kind: 'bearer', key: value };
  }
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { kind: 'malformed', reason: 'the Basic credentials are malformed' };
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  // The scheme is not echoed: a sender that pasted a secret there would see it logged.
  return { kind: 'malformed', reason: 'the Authorization scheme is not supported; use Basic or Bearer' };
}
