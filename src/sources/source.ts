import type { IncomingHttpHeaders } from 'node:http';
import { ENVIRONMENTS } from '../deployments/deployment.dto';
import type { SignatureScheme } from './signature';
import type { SourceSettings } from './source-settings.service';

/**
 * What a source's delivery becomes: a body for one of the generic routes' DTOs (validated by
 * the same `validateBody`, written by the same services), or an answer without writing.
 */
export type SourceAction =
  | { kind: 'deployment'; body: Record<string, unknown> }
  | {
      kind: 'pull-request';
      body: Record<string, unknown>;
      /** When the tool last changed it: an older delivery never undoes a close or a merge. */
      changedAt: string | undefined;
    }
  | {
      kind: 'issue';
      body: Record<string, unknown>;
      /** When the tool says this happened: an older delivery than the stored state is ignored. */
      changedAt: string | undefined;
    }
  | { kind: 'answer'; status: 200 | 202; message: string; data?: Record<string, unknown> };

/** A source: how it signs, how it names a delivery, and how its events become DTO bodies. */
export interface SourceTranslator {
  name: 'github' | 'gitlab' | 'pagerduty';
  /** Shown on the admin page and in answers. */
  title: string;
  scheme: SignatureScheme;
  /** The events to tick in the tool's webhook settings. */
  events: string[];
  /** The tool's id of the delivery, the same when it redelivers it. */
  deliveryIdOf(headers: IncomingHttpHeaders, body: Record<string, unknown>): string | undefined;
  translate(headers: IncomingHttpHeaders, body: Record<string, unknown>, settings: SourceSettings): SourceAction;
}

export function ignored(message: string): SourceAction {
  return { kind: 'answer', status: 202, message };
}

/** A tool's environment name → DevLake's, by the connection's table, then DevLake's own words. */
export function environmentOf(name: string | undefined, settings: SourceSettings): string {
  const sent = (name ?? '').trim();
  const mapped = settings.environments[sent.toLowerCase()];
  if (mapped) return mapped;
  const upper = sent.toUpperCase();
  if ((ENVIRONMENTS as readonly string[]).includes(upper)) return upper;
  // Anything else is not production: it must not count as a production deployment.
  return 'DEVELOPMENT';
}

/** Safe access into a JSON payload. */
export function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Drops undefined values, so the DTO sees only what the tool sent. */
export function defined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined && value !== null));
}
