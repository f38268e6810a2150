import pino from 'pino';

/**
 * The logging surface the plugin needs. pino and most structured loggers fit it; a host passes
 * its own (`options.logger`).
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/**
 * Paths that may hold a secret in anything we log. Redaction is a safety net: the code never
 * passes keys, passwords or DB URLs to the logger in the first place.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'apiKey',
  'password',
  'secret',
  'encryptionSecret',
  'dbUrl',
];

export function createDefaultLogger(level = 'info'): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } });
}
