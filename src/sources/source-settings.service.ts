import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ApiKeyService } from '../auth/api-key.service';
import { ENVIRONMENTS } from '../deployments/deployment.dto';
import { fieldError, InputError, type FieldCause } from '../http/errors';
import { insertMissingRows } from '../db/upsert';
import { openSecret, sealSecret } from './secret-box';
import { SourceDelivery, SourceSettingsRow } from './source.entity';

/** A connection's mapping settings for the native sources (docs/sources.md). */
export interface SourceSettings {
  /** Environment names as the tool sends them (any case) → DevLake's environment. */
  environments: Record<string, (typeof ENVIRONMENTS)[number]>;
  /** GitHub Actions workflows (by name or file path) whose completed runs are deployments. */
  workflows: string[];
  /** GitLab pipelines (by pipeline name or project path) whose finished runs are deployments. */
  pipelines: string[];
  /** The label that makes a GitHub or GitLab issue an incident. */
  incidentLabel: string;
}

export const DEFAULT_SOURCE_SETTINGS: SourceSettings = {
  environments: { production: 'PRODUCTION', prod: 'PRODUCTION', live: 'PRODUCTION' },
  workflows: [],
  pipelines: [],
  incidentLabel: 'incident',
};

/** How long the secret before a rotation keeps working, so the tool's settings can be updated. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 60 * 60 * 1000;
const MIN_SECRET_CHARS = 16;
const MAX_SECRET_CHARS = 512;
const MAX_NAMES = 100;

/** What an administrator may read back: never the secret. */
export interface SourceSettingsView {
  connectionId: number;
  signingSecretSet: boolean;
  signingSecretSetAt: Date | null;
  previousSecretValidUntil: Date | null;
  settings: SourceSettings;
}

function parseStored(text: string | null): SourceSettings {
  let stored: Partial<SourceSettings>;
  try {
    stored = text ? (JSON.parse(text) as Partial<SourceSettings>) : {};
  } catch {
    stored = {};
  }
  return { ...DEFAULT_SOURCE_SETTINGS, ...stored };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nameList(field: string, value: unknown, causes: FieldCause[]): string[] | undefined {
  if (
    !Array.isArray(value) ||
    value.some((item) => typeof item !== 'string' || item.trim() === '' || item.length > 255)
  ) {
    causes.push({ field, message: `${field} must be a list of names (non-empty strings of at most 255 characters)` });
    return undefined;
  }
  if (value.length > MAX_NAMES) {
    causes.push({ field, message: `${field} may list at most ${MAX_NAMES} names` });
    return undefined;
  }
  return [...new Set((value as string[]).map((name) => name.trim()))];
}

/**
 * Validates a settings change (only the fields sent change). Environment names are matched
 * without regard to case, so they are stored lower-case.
 */
export function validateSettingsChange(body: unknown): Partial<SourceSettings> {
  if (!isRecord(body)) throw new InputError('the body must be a JSON object');
  const causes: FieldCause[] = [];
  const change: Partial<SourceSettings> = {};
  if (body.environments !== undefined) {
    if (!isRecord(body.environments) || Object.keys(body.environments).length > MAX_NAMES) {
      causes.push({ field: 'environments', message: `environments must be an object of at most ${MAX_NAMES} names` });
    } else {
      const environments: SourceSettings['environments'] = {};
      for (const [name, target] of Object.entries(body.environments)) {
        const upper = typeof target === 'string' ? target.trim().toUpperCase() : '';
        if (!(ENVIRONMENTS as readonly string[]).includes(upper) || name.trim() === '' || name.length > 255) {
          causes.push({
            field: `environments.${name}`,
            message: `must be one of ${ENVIRONMENTS.join(', ')} (the environment name, at most 255 characters)`,
          });
        } else environments[name.trim().toLowerCase()] = upper as (typeof ENVIRONMENTS)[number];
      }
      change.environments = environments;
    }
  }
  for (const field of ['workflows', 'pipelines'] as const) {
    if (body[field] !== undefined) {
      const names = nameList(field, body[field], causes);
      if (names) change[field] = names;
    }
  }
  if (body.incidentLabel !== undefined) {
    if (typeof body.incidentLabel !== 'string' || body.incidentLabel.trim() === '' || body.incidentLabel.length > 255) {
      causes.push({ field: 'incidentLabel', message: 'incidentLabel must be a label name (1 to 255 characters)' });
    } else change.incidentLabel = body.incidentLabel.trim();
  }
  if (causes.length > 0) {
    throw new InputError(`invalid request: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`, causes);
  }
  return change;
}

/**
 * A connection's signing secret and source settings, and the deliveries already processed.
 * The secret is encrypted with the plugin's secret (`ApiKeyService.getSecret`) before it is
 * stored and decrypted only to check a delivery.
 */
export class SourceSettingsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly apiKeys: ApiKeyService,
  ) {}

  private async row(connectionId: number): Promise<SourceSettingsRow | null> {
    return this.dataSource.getRepository(SourceSettingsRow).findOneBy({ connectionId });
  }

  private async save(connectionId: number, changes: Partial<SourceSettingsRow>): Promise<SourceSettingsRow> {
    const repository = this.dataSource.getRepository(SourceSettingsRow);
    const existing = await repository.findOneBy({ connectionId });
    const row = repository.create({
      connectionId,
      signingSecret: null,
      previousSigningSecret: null,
      previousValidUntil: null,
      secretSetAt: null,
      settings: null,
      ...existing,
      ...changes,
      updatedAt: new Date(),
    });
    return repository.save(row);
  }

  async settingsOf(connectionId: number): Promise<SourceSettings> {
    return parseStored((await this.row(connectionId))?.settings ?? null);
  }

  async view(connectionId: number): Promise<SourceSettingsView> {
    const row = await this.row(connectionId);
    const previousValid = row?.previousValidUntil && row.previousValidUntil.getTime() > Date.now();
    return {
      connectionId,
      signingSecretSet: Boolean(row?.signingSecret),
      signingSecretSetAt: row?.secretSetAt ?? null,
      previousSecretValidUntil: previousValid ? row.previousValidUntil : null,
      settings: parseStored(row?.settings ?? null),
    };
  }

  async updateSettings(connectionId: number, change: Partial<SourceSettings>): Promise<SourceSettingsView> {
    const current = await this.settingsOf(connectionId);
    await this.save(connectionId, { settings: JSON.stringify({ ...current, ...change }) });
    return this.view(connectionId);
  }

  /**
   * Sets the signing secret: the one given (PagerDuty generates its own), or a new random one.
   * Answers the plaintext, to be shown once. The secret it replaces keeps working for
   * `PREVIOUS_SECRET_GRACE_MS` unless `dropPrevious`, so deliveries go on while the tool's
   * settings are updated.
   */
  async setSecret(connectionId: number, given?: string, dropPrevious = false): Promise<string> {
    if (given !== undefined && (given.length < MIN_SECRET_CHARS || given.length > MAX_SECRET_CHARS)) {
      throw fieldError('secret', `must be ${MIN_SECRET_CHARS} to ${MAX_SECRET_CHARS} characters`);
    }
    const plaintext = given ?? randomBytes(32).toString('base64url');
    const key = await this.apiKeys.getSecret();
    const existing = await this.row(connectionId);
    const now = new Date();
    await this.save(connectionId, {
      signingSecret: sealSecret(key, plaintext),
      secretSetAt: now,
      previousSigningSecret: dropPrevious ? null : (existing?.signingSecret ?? null),
      previousValidUntil:
        dropPrevious || !existing?.signingSecret ? null : new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS),
    });
    return plaintext;
  }

  /** The secrets a delivery may be signed with now: the current one, and the previous during its grace. */
  async secretsOf(connectionId: number): Promise<string[]> {
    const row = await this.row(connectionId);
    if (!row?.signingSecret) return [];
    const key = await this.apiKeys.getSecret();
    const sealed = [row.signingSecret];
    if (row.previousSigningSecret && row.previousValidUntil && row.previousValidUntil.getTime() > Date.now()) {
      sealed.push(row.previousSigningSecret);
    }
    return sealed.map((value) => openSecret(key, value)).filter((value): value is string => value !== undefined);
  }

  async alreadyProcessed(connectionId: number, source: string, deliveryId: string): Promise<boolean> {
    const found = await this.dataSource
      .getRepository(SourceDelivery)
      .findOneBy({ connectionId, source, deliveryId: deliveryId.slice(0, 191) });
    return found !== null;
  }

  /** Notes a delivery as processed, after its rows were written (a failed one may be retried). */
  async remember(connectionId: number, source: string, deliveryId: string): Promise<void> {
    await insertMissingRows(this.dataSource.manager, SourceDelivery, [
      { connectionId, source, deliveryId: deliveryId.slice(0, 191), receivedAt: new Date() },
    ]);
  }
}
