import { InputError, UnavailableError, WebhookError } from '../http/errors';
import { DATABASE_ERROR_CODES, UNAVAILABLE_MESSAGE } from './dialect';

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
  if (code && DATABASE_ERROR_CODES.unavailable.has(code)) return true;
  return UNAVAILABLE_MESSAGE.test(messageOf(error));
}

/** The server reports a deadlock, lock timeout or serialization failure; the whole transaction can be retried. */
export function isRetryableConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && DATABASE_ERROR_CODES.retryable.has(code);
}

/** A unique key already holds the value (MySQL, SQLite and PostgreSQL alike). */
export function isDuplicateKey(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && DATABASE_ERROR_CODES.duplicate.has(code);
}

/** Turns a database error into a typed error when it has a meaning for the client. */
export function classifyDatabaseError(error: unknown): WebhookError | undefined {
  if (isUnavailable(error)) {
    return new UnavailableError('the database is unavailable; retry later');
  }
  const code = codeOf(error);
  if (code && DATABASE_ERROR_CODES.input.has(code)) {
    // The message names the column ("Data too long for column 'ref_name'"), never a value; the
    // answer names the request field, which is the column in camelCase (`refName`). PostgreSQL's
    // names no column, only the type ("value too long for type character varying(255)").
    const column = /column '([^']+)'/.exec(messageOf(error))?.[1];
    const field = column?.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
    return new InputError(
      field ? `${field}: the value does not fit DevLake's column` : 'a value does not fit its column',
      field ? [{ field, message: "the value does not fit DevLake's column" }] : null,
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
