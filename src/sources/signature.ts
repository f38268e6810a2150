import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How a source signs its deliveries. The one verification mechanism below is parameterised by
 * it; each source only says which header and which form.
 * - `hmac-sha256`: the header holds HMAC-SHA256(secret, exact body bytes) in hex, behind
 *   `prefix` (GitHub: `sha256=`), possibly several comma-separated (PagerDuty: `v1=a,v1=b`
 *   while it rotates its secret).
 * - `token`: the header holds the secret itself (GitLab's `X-Gitlab-Token`).
 */
export type SignatureScheme =
  { kind: 'hmac-sha256'; header: string; prefix: string; several: boolean } | { kind: 'token'; header: string };

export type SignatureCheck = 'valid' | 'missing' | 'wrong';

/** Equal-length digests compared in constant time, so neither length nor content leaks. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/**
 * Checks a delivery against every secret the connection currently accepts (the current one and,
 * right after a rotation, the previous one). `raw` is the body exactly as received.
 */
export function checkSignature(
  scheme: SignatureScheme,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  secrets: string[],
): SignatureCheck {
  const sent = headerValue(headers, scheme.header);
  if (sent === undefined) return 'missing';
  let valid = false;
  if (scheme.kind === 'token') {
    for (const secret of secrets) valid = sameBytes(Buffer.from(sent, 'utf8'), Buffer.from(secret, 'utf8')) || valid;
    return valid ? 'valid' : 'wrong';
  }
  const signatures = (scheme.several ? sent.split(',') : [sent]).map((part) => part.trim());
  for (const secret of secrets) {
    const expected = Buffer.from(scheme.prefix + createHmac('sha256', secret).update(raw).digest('hex'), 'utf8');
    for (const signature of signatures) {
      // Hex is case-insensitive; the prefix is compared as sent.
      const normalised = signature.startsWith(scheme.prefix)
        ? scheme.prefix + signature.slice(scheme.prefix.length).toLowerCase()
        : signature;
      valid = sameBytes(Buffer.from(normalised, 'utf8'), expected) || valid;
    }
  }
  return valid ? 'valid' : 'wrong';
}

/** Signs a body as `scheme` does: for tests and for the admin page's curl example. */
export function signAs(scheme: SignatureScheme, secret: string, raw: Buffer | string): string {
  if (scheme.kind === 'token') return secret;
  return scheme.prefix + createHmac('sha256', secret).update(raw).digest('hex');
}
