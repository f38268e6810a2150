import type { FieldCause } from './errors';

/**
 * DevLake's answer envelope (docs/devlake-compatibility.md §4). Ingestion answers carry it on success and every
 * error carries it; scripts check `success`.
 */
export interface Envelope<T = unknown> {
  code: number;
  success: boolean;
  message: string;
  causes: FieldCause[] | null;
  data: T | null;
  /** On errors: the request's id, also in the `X-Request-Id` header and the server's log line. */
  requestId?: string;
}

export function successEnvelope<T>(data: T | null = null): Envelope<T> {
  return { code: 0, success: true, message: 'success', causes: null, data };
}

/** DevLake's error answers leave `code` at 0: the HTTP status tells the error. */
export function errorEnvelope(
  _status: number,
  message: string,
  causes: FieldCause[] | null,
  requestId?: string,
): Envelope<null> {
  const envelope: Envelope<null> = { code: 0, success: false, message, causes, data: null };
  if (requestId !== undefined) envelope.requestId = requestId;
  return envelope;
}
