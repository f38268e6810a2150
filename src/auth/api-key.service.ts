import { LRUCache } from 'lru-cache';
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { RE2JS } from 're2js';
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, fieldError, NotFoundError } from '../http/errors';
import { withTransaction } from '../db/transaction';
import { ApiKey, ApiKeyUsage, WebhookSetting } from './api-key.entity';

/** DevLake's key alphabet and length (docs/devlake-compatibility.md §8). */
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_LENGTH = 128;
export const CONNECTION_KEY_TYPE = 'plugin:webhook';
const SECRET_SETTING = 'encryption_secret';
/** A general key's type when the request names none (DevLake's Config-UI sends `devlake`). */
export const GENERAL_KEY_TYPE = 'devlake';
/** How long a found key is reused without asking the database (see `findByPlaintext`). */
export const API_KEY_CACHE_MS = 1_000;
/** How often a key's `last used` time is written at most: once a minute per key is plenty. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/** 128 characters of [A-Za-z0-9] from the cryptographic generator, without modulo bias. */
export function generateApiKey(): string {
  let key = '';
  for (let i = 0; i < API_KEY_LENGTH; i += 1) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return key;
}

/** HMAC-SHA256(key = secret, message = apiKey), lowercase hex: exactly DevLake's stored form. */
export function hashApiKey(secret: string, apiKey: string): string {
  return createHmac('sha256', secret.trim()).update(apiKey).digest('hex');
}

/** The API-key row of a connection, as DevLake names and scopes it (docs/devlake-compatibility.md §8). */
export function connectionKeyFields(connectionId: number) {
  return {
    name: `webhook-${connectionId}`,
    type: CONNECTION_KEY_TYPE,
    allowedPath: `/plugins/webhook/connections/${connectionId}/.*`,
    extra: `connectionId:${connectionId}`,
  };
}

export interface IssuedKey {
  record: ApiKey;
  /** The plaintext, to be shown once and never stored. */
  plaintext: string;
}

export interface NewApiKey {
  name: string;
  type: string;
  allowedPath: string;
  expiredAt?: Date | null;
  extra?: string | null;
  creator?: string | null;
}

/**
 * Issues, rotates, finds and deletes API keys. Only the HMAC of a key is stored; the secret is
 * the configured ENCRYPTION_SECRET or one generated once and kept in the database.
 */
export class ApiKeyService {
  private secret: Promise<string> | undefined;
  /** When each key's use was last written, shared by every router of the plugin. */
  private readonly useWritten = new Map<number, number>();
  /** Keys found by hash, kept briefly (only valid ones: an unknown key is asked again). */
  private readonly recentKeys = new LRUCache<string, ApiKey>({ max: 1000, ttl: API_KEY_CACHE_MS });

  constructor(
    private readonly dataSource: DataSource,
    private readonly configuredSecret: string | undefined,
  ) {}

  /** The HMAC secret; generated and stored on first use when none was configured. */
  getSecret(): Promise<string> {
    if (!this.secret) {
      this.secret = this.configuredSecret ? Promise.resolve(this.configuredSecret) : this.loadOrCreateSecret();
      this.secret.catch(() => {
        this.secret = undefined;
      });
    }
    return this.secret;
  }

  private async loadOrCreateSecret(): Promise<string> {
    const settings = this.dataSource.getRepository(WebhookSetting);
    const existing = await settings.findOneBy({ name: SECRET_SETTING });
    if (existing?.value) return existing.value;
    const generated = randomBytes(32).toString('hex');
    // Two instances starting together may both try; the primary key lets one win, and both
    // then read the winner's value.
    await settings
      .createQueryBuilder()
      .insert()
      .values({ name: SECRET_SETTING, value: generated, createdAt: new Date() })
      .orIgnore()
      .updateEntity(false)
      .execute();
    const stored = await settings.findOneByOrFail({ name: SECRET_SETTING });
    return stored.value ?? generated;
  }

  async hash(plaintext: string): Promise<string> {
    return hashApiKey(await this.getSecret(), plaintext);
  }

  /** Creates a key; the plaintext is in the answer only. */
  async issue(fields: NewApiKey, manager: EntityManager = this.dataSource.manager): Promise<IssuedKey> {
    const plaintext = generateApiKey();
    const now = new Date();
    const record = manager.getRepository(ApiKey).create({
      name: fields.name,
      type: fields.type,
      allowedPath: fields.allowedPath,
      // DevLake's empty values, not NULL, for what nobody told us.
      extra: fields.extra ?? '',
      expiredAt: fields.expiredAt ?? null,
      creator: fields.creator ?? '',
      creatorEmail: '',
      updater: fields.creator ?? '',
      updaterEmail: '',
      apiKey: await this.hash(plaintext),
      createdAt: now,
      updatedAt: now,
    });
    const saved = await manager.getRepository(ApiKey).save(record);
    return { record: saved, plaintext };
  }

  /** Replaces a key's secret value: the old key stops working at once. */
  async rotate(id: number, updater: string | null = null, expiredAt?: Date | null): Promise<IssuedKey> {
    const repository = this.dataSource.getRepository(ApiKey);
    const record = await repository.findOneBy({ id });
    if (!record) throw new NotFoundError(`API key ${id} does not exist`);
    if (expiredAt && expiredAt.getTime() <= Date.now()) {
      throw fieldError('expiredAt', 'is in the past: the renewed key would never work');
    }
    const plaintext = generateApiKey();
    record.apiKey = await this.hash(plaintext);
    record.updatedAt = new Date();
    record.updater = updater ?? '';
    if (expiredAt !== undefined) record.expiredAt = expiredAt;
    await repository.save(record);
    // After the write, so that a lookup in between cannot keep the old key.
    this.recentKeys.clear();
    return { record, plaintext };
  }

  /**
   * Finds the key record for a presented plaintext key, by its hash (an indexed lookup). A
   * found key is reused for API_KEY_CACHE_MS: the lookup was one of the database round trips of
   * every POST. Renewing or deleting a key through this service forgets it at once;
   * a change made elsewhere (another instance, an UPDATE by hand) applies this late.
   */
  async findByPlaintext(plaintext: string): Promise<ApiKey | null> {
    const hash = await this.hash(plaintext);
    const hit = this.recentKeys.get(hash);
    if (hit) return hit;
    const key = await this.dataSource.getRepository(ApiKey).findOneBy({ apiKey: hash });
    if (key) this.recentKeys.set(hash, key);
    return key;
  }

  findConnectionKey(connectionId: number, manager: EntityManager = this.dataSource.manager): Promise<ApiKey | null> {
    const { type, extra } = connectionKeyFields(connectionId);
    return manager.getRepository(ApiKey).findOneBy({ type, extra });
  }

  async findConnectionKeys(connectionIds: number[]): Promise<Map<number, ApiKey>> {
    const out = new Map<number, ApiKey>();
    if (connectionIds.length === 0) return out;
    const rows = await this.dataSource
      .getRepository(ApiKey)
      .createQueryBuilder('k')
      .where('k.type = :type', { type: CONNECTION_KEY_TYPE })
      .andWhere('k.extra IN (:...extras)', { extras: connectionIds.map((id) => `connectionId:${id}`) })
      .getMany();
    for (const row of rows) out.set(Number(row.extra?.slice('connectionId:'.length)), row);
    return out;
  }

  async deleteConnectionKeys(connectionId: number, manager: EntityManager): Promise<void> {
    const { type, extra } = connectionKeyFields(connectionId);
    const keys = await manager.getRepository(ApiKey).findBy({ type, extra });
    if (keys.length === 0) return;
    await manager.getRepository(ApiKeyUsage).delete(keys.map((key) => key.id));
    await manager.getRepository(ApiKey).delete(keys.map((key) => key.id));
    this.recentKeys.clear();
  }

  async lastUsed(ids: number[]): Promise<Map<number, Date>> {
    const out = new Map<number, Date>();
    if (ids.length === 0) return out;
    const rows = await this.dataSource
      .getRepository(ApiKeyUsage)
      .createQueryBuilder('u')
      .where('u.api_key_id IN (:...ids)', { ids })
      .getMany();
    for (const row of rows) if (row.lastUsedAt) out.set(row.apiKeyId, row.lastUsedAt);
    return out;
  }

  /** Stores when a key was last used (an upsert into our own table). */
  async recordUse(apiKeyId: number, at: Date): Promise<void> {
    await this.dataSource
      .getRepository(ApiKeyUsage)
      .createQueryBuilder()
      .insert()
      .values({ apiKeyId, lastUsedAt: at })
      .orUpdate(['last_used_at'], ['api_key_id'])
      .updateEntity(false)
      .execute();
  }

  /**
   * Notes that a key authorised a request. Writes at most once a minute per key, so the hot
   * path costs no write; answers undefined when nothing was written.
   */
  noteUse(apiKeyId: number, now = Date.now()): Promise<void> | undefined {
    if (now - (this.useWritten.get(apiKeyId) ?? 0) < LAST_USED_WRITE_INTERVAL_MS) return undefined;
    this.useWritten.set(apiKeyId, now);
    return this.recordUse(apiKeyId, new Date(now));
  }

  /**
   * One page of DevLake's general keys (`type = 'devlake'`), newest first, and how many there
   * are, as DevLake's `GET /api-keys` lists them: so DevLake's Config-UI never offers to delete
   * a webhook connection's own key (it renews those from the connection).
   */
  async list(page: number, pageSize: number): Promise<{ keys: ApiKey[]; count: number }> {
    const [keys, count] = await this.dataSource.getRepository(ApiKey).findAndCount({
      where: { type: GENERAL_KEY_TYPE },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * pageSize,
      take: pageSize,
    });
    return { keys, count };
  }

  async get(id: number): Promise<ApiKey> {
    const record = await this.dataSource.getRepository(ApiKey).findOneBy({ id });
    if (!record) throw new NotFoundError(`API key ${id} does not exist`);
    return record;
  }

  /**
   * Creates a general key (`POST /api-keys`). Its rule must be a valid regular expression; the
   * names and the type of connections' keys are reserved, so that a general key can neither
   * pose as one nor block a connection's creation by taking its key's name.
   */
  async createGeneral(fields: NewApiKey): Promise<IssuedKey> {
    assertValidRule(fields.allowedPath);
    if (fields.type === CONNECTION_KEY_TYPE) {
      throw fieldError('type', `"${CONNECTION_KEY_TYPE}" is reserved for the keys of webhook connections`);
    }
    // Case and trailing spaces too: MySQL's collations compare `WEBHOOK-7 ` equal to `webhook-7`.
    if (/^webhook-\d+ *$/i.test(fields.name)) {
      throw fieldError('name', 'names like webhook-<id> are reserved for the keys of webhook connections');
    }
    if (fields.expiredAt && fields.expiredAt.getTime() <= Date.now()) {
      throw fieldError('expiredAt', 'is in the past: the key would never work');
    }
    await this.assertNameFree(fields.name);
    try {
      return await this.issue({ ...fields, extra: null });
    } catch (error) {
      // Two creates with the same name at once: the unique index decides; the loser gets the 409.
      await this.assertNameFree(fields.name);
      throw error;
    }
  }

  private async assertNameFree(name: string): Promise<void> {
    if (await this.dataSource.getRepository(ApiKey).findOneBy({ name })) {
      throw new ConflictError(`an API key named "${name}" already exists`, [
        { field: 'name', message: 'is already used by another API key' },
      ]);
    }
  }

  /**
   * Deletes a general key. A connection's key is refused: the connection would be left with
   * no key and no way to get one back; rotating it revokes it just as well.
   */
  async deleteGeneral(id: number): Promise<ApiKey> {
    const record = await this.get(id);
    if (record.type === CONNECTION_KEY_TYPE) {
      throw new ConflictError(
        `API key ${id} belongs to a webhook connection: renew it with PUT /api-keys/${id}, or delete the connection`,
      );
    }
    await withTransaction(this.dataSource, async (manager) => {
      await manager.getRepository(ApiKeyUsage).delete({ apiKeyId: id });
      await manager.getRepository(ApiKey).delete({ id });
    });
    this.recentKeys.clear();
    return record;
  }
}

/** A key rule must be a Go (RE2) regular expression, as DevLake reads it (see `ruleAllows`). */
export function assertValidRule(rule: string): void {
  try {
    RE2JS.compile(rule);
  } catch (error) {
    throw fieldError('allowedPath', `is not a valid Go (RE2) regular expression: ${(error as Error).message}`);
  }
}
