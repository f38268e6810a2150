/**
 * Typed errors of the plugin. They know nothing about HTTP: `error-handler.ts` is the one
 * place that maps them to a status and DevLake's envelope.
 */

/** One problem with one field of a request, as DevLake's `causes` lists it. */
export interface FieldCause {
  field: string;
  message: string;
}

export abstract class WebhookError extends Error {
  readonly causes: FieldCause[] | null;

  constructor(message: string, causes: FieldCause[] | null = null) {
    super(message);
    this.name = new.target.name;
    this.causes = causes;
  }
}

/** The request cannot be stored truthfully (400). */
export class InputError extends WebhookError {}

/** No credentials, or wrong ones (401). */
export class AuthenticationError extends WebhookError {}

/** Valid credentials used outside what they allow (403). */
export class NotAllowedError extends WebhookError {}

/** An unknown connection, issue, key or project (404). */
export class NotFoundError extends WebhookError {}

/** A unique name already taken (409). */
export class ConflictError extends WebhookError {}

/** A body over the configured limit (413). */
export class PayloadTooLargeError extends WebhookError {}

/** Too many requests from one key or address (429). */
export class RateLimitedError extends WebhookError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The database cannot be reached or timed out (503): the client should retry. */
export class UnavailableError extends WebhookError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 5,
  ) {
    super(message);
  }
}

/** Builds an InputError for a single field, the most common rejection. */
export function fieldError(field: string, message: string): InputError {
  return new InputError(`${field}: ${message}`, [{ field, message }]);
}
