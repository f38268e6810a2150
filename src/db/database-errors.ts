import { InputError, UnavailableError, WebhookError } from '../http/errors';

/** Driver error codes that mean "the database is not there right now": the client should retry. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/** Errors where the stored value would not be what was sent: the client's mistake. */
const INPUT_CODES = new Set(['ER_DATA_TOO_LONG', 'ER_TRUNCATED_WRONG_VALUE', 'ER_WARN_DATA_OUT_OF_RANGE']);

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  // TypeORM wraps driver errors (QueryFailedError.driverError); look one level down too.
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current =
      (current as { driverError?: unknown; cause?: unknown }).driverError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the error says the connection pool or the server is gone or overloaded. */
export function isUnavailable(error: unknown): boolean {
  const code = codeOf(error);
  if (code && UNAVAILABLE_CODES.has(code)) return true;
  const message = messageOf(error);
  return /Pool is closed|Connection lost|connect ETIMEDOUT|Can't add new command when connection is in closed state|Query inactivity timeout|acquire.*timeout|database is locked/i.test(
    message,
  );
}

/** MySQL reports a deadlock or lock timeout; the whole transaction can be retried. */
export function isRetryableConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'SQLITE_BUSY';
}

/** Turns a database error into a typed error when it has a meaning for the client. */
export function classifyDatabaseError(error: unknown): WebhookError | undefined {
  if (isUnavailable(error)) {
    return new UnavailableError('the database is unavailable; retry later');
  }
  const code = codeOf(error);
  if (code && INPUT_CODES.has(code)) {
    // The message names the column ("Data too long for column 'title'"), never a value.
    const column = /column '([^']+)'/.exec(messageOf(error))?.[1];
    return new InputError(
      column ? `${column}: the value does not fit the column` : 'a value does not fit its column',
      column ? [{ field: column, message: 'the value does not fit the column' }] : null,
    );
  }
  return undefined;
}

/** Values MySQL and MariaDB quote in their messages (`Duplicate entry '<value>' for key ...`). */
function withoutValues(text: string): string {
  return text.replace(/\b(entry|value:?|string value:?) '(?:[^'\\]|\\.)*'/gi, "$1 '?'");
}

/**
 * An error as it may be logged: a database error keeps its statement (with `?` placeholders),
 * its code and its stack frames, never the parameter values or a message quoting one (the SQL
 * of an API-key lookup carries the key's HMAC). Other errors are logged as they are.
 */
export function loggableError(error: unknown): unknown {
  if (!error || typeof error !== 'object') return error;
  const e = error as { name?: string; message?: string; stack?: string; query?: unknown; parameters?: unknown };
  const driver = (error as { driverError?: unknown }).driverError;
  if (e.query === undefined && e.parameters === undefined && driver === undefined && !('sql' in error)) return error;
  const message = withoutValues(e.message ?? '');
  const frames = (e.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  return {
    type: e.name ?? 'Error',
    message,
    code: codeOf(error),
    query: typeof e.query === 'string' ? e.query : undefined,
    parameterCount: Array.isArray(e.parameters) ? e.parameters.length : undefined,
    stack: [`${e.name ?? 'Error'}: ${message}`, ...frames].join('\n'),
  };
}
