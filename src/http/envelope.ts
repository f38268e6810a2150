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
}

export function successEnvelope<T>(data: T | null = null): Envelope<T> {
  return { code: 0, success: true, message: 'success', causes: null, data };
}

export function errorEnvelope(status: number, message: string, causes: FieldCause[] | null): Envelope<null> {
  return { code: status, success: false, message, causes, data: null };
}
