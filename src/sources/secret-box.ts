import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts a signing secret with the plugin's secret (`ENCRYPTION_SECRET`, or the one the
 * plugin generated and keeps, the same that hashes API keys): AES-256-GCM, a fresh nonce per
 * value, stored as `v1:<nonce>:<tag>:<ciphertext>` in base64url. Unlike an API key, a signing
 * secret must be read back to compute the HMAC a source sends, so it is encrypted, not hashed.
 */
const VERSION = 'v1';

function keyOf(secret: string): Buffer {
  // A domain label keeps this key apart from the API keys' HMAC key derived from the same secret.
  return createHash('sha256').update(`devlake-webhook source signing secrets\0${secret.trim()}`).digest();
}

export function sealSecret(secret: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), nonce);
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, nonce, cipher.getAuthTag(), sealed]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join(':');
}

/** The plaintext, or undefined when the value was sealed with another secret (or altered). */
export function openSecret(secret: string, sealed: string): string | undefined {
  const [version, nonce, tag, body] = sealed.split(':');
  if (version !== VERSION || !nonce || !tag || body === undefined) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
