import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import { ApiKeyService, connectionKeyFields, type IssuedKey } from '../auth/api-key.service';
import type { ApiKey } from '../auth/api-key.entity';
import { dialectOf } from '../db/dialect';
import { withTransaction } from '../db/transaction';
import { ConflictError, InputError, NotFoundError } from '../http/errors';
import { WebhookConnection } from './connection.entity';

/** How a request names a connection: by id (`/:connectionId`) or by name (`/by-name/:name`). */
export type ConnectionRef = { id: number } | { name: string };

export const MAX_CONNECTION_NAME = 100;

/**
 * How long an ingestion request may reuse a connection looked up by an earlier one: the lookup
 * was one of the database round trips of every POST (bench/RESULTS.md). A rename or delete
 * through this service clears the cache at once; a change made elsewhere (another instance,
 * DevLake itself) is seen up to this late.
 */
export const CONNECTION_CACHE_MS = 2_000;

function cacheKeyOf(ref: ConnectionRef): string {
  return 'id' in ref ? `id:${ref.id}` : `name:${ref.name}`;
}

/** Reads a `:connectionId` path parameter: a positive integer, or a 400 saying so. */
export function parseConnectionId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    throw new InputError(`connectionId must be a positive integer, got "${raw.slice(0, 40)}"`, [
      { field: 'connectionId', message: 'must be a positive integer' },
    ]);
  }
  return Number(raw);
}

function describe(ref: ConnectionRef): string {
  return 'id' in ref ? `id ${ref.id}` : `name "${ref.name}"`;
}

export interface ConnectionWithKey {
  connection: WebhookConnection;
  apiKey: ApiKey | null;
}

/** Webhook connections and the API key each one gets (docs/devlake-compatibility.md §2, §8). */
export class ConnectionService {
  /** Found connections only: an unknown one is asked again. */
  private readonly cached = new LRUCache<string, WebhookConnection>({ max: 1000, ttl: CONNECTION_CACHE_MS });

  constructor(
    private readonly dataSource: DataSource,
    private readonly apiKeys: ApiKeyService,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(WebhookConnection);
  }

  async list(): Promise<WebhookConnection[]> {
    return this.repository.find({ order: { id: 'ASC' } });
  }

  async find(ref: ConnectionRef): Promise<WebhookConnection | null> {
    if ('id' in ref) return this.repository.findOneBy({ id: ref.id });
    return this.repository.findOneBy({ name: ref.name });
  }

  /** The connection a request names, or a 404 that says which one was not found. */
  async get(ref: ConnectionRef): Promise<WebhookConnection> {
    const connection = await this.find(ref);
    if (!connection) throw new NotFoundError(`connection with ${describe(ref)} does not exist`);
    return connection;
  }

  /**
   * `get` for the ingestion path, reusing a lookup for up to CONNECTION_CACHE_MS; each caller
   * gets its own copy.
   */
  async getCached(ref: ConnectionRef): Promise<WebhookConnection> {
    const hit = this.peekCached(ref);
    if (hit) return hit;
    const connection = await this.get(ref);
    this.cached.set(cacheKeyOf(ref), Object.assign(new WebhookConnection(), connection));
    return connection;
  }

  /**
   * A copy of the connection when `getCached` would answer it from the cache, without a
   * promise: the ingestion path asks this first, on every request.
   */
  peekCached(ref: ConnectionRef): WebhookConnection | undefined {
    const hit = this.cached.get(cacheKeyOf(ref));
    return hit ? Object.assign(new WebhookConnection(), hit) : undefined;
  }

  private async assertNameFree(name: string, exceptId?: number): Promise<void> {
    const existing = await this.repository.findOneBy({ name });
    if (existing && existing.id !== exceptId) {
      throw new ConflictError(`a webhook connection named "${name}" already exists`, [
        { field: 'name', message: 'is already used by another connection' },
      ]);
    }
  }

  /** Creates a connection and its API key in one transaction; the key's plaintext is returned once. */
  async create(name: string, creator: string | null = null): Promise<ConnectionWithKey & { issued: IssuedKey }> {
    await this.assertNameFree(name);
    try {
      return await withTransaction(this.dataSource, async (manager) => {
        const now = new Date();
        const connection = await manager
          .getRepository(WebhookConnection)
          .save(manager.getRepository(WebhookConnection).create({ name, createdAt: now, updatedAt: now }));
        const issued = await this.apiKeys.issue({ ...connectionKeyFields(connection.id), creator }, manager);
        return { connection, apiKey: issued.record, issued };
      });
    } catch (error) {
      // Two creates with the same name at once: the unique index decides; the loser gets the 409.
      if (await this.repository.findOneBy({ name })) await this.assertNameFree(name);
      throw error;
    }
  }

  /**
   * Renames the connection and the rows DevLake shows under its name: the connection's board,
   * CI/CD scope and repo (`webhook:<cid>`), so dashboards follow the new name.
   */
  async rename(ref: ConnectionRef, name: string): Promise<WebhookConnection> {
    const connection = await this.get(ref);
    if (connection.name === name) return connection;
    await this.assertNameFree(name, connection.id);
    connection.name = name;
    connection.updatedAt = new Date();
    try {
      return await withTransaction(this.dataSource, async (manager) => {
        const saved = await manager.getRepository(WebhookConnection).save(connection);
        for (const table of ['boards', 'cicd_scopes', 'repos']) {
          await manager.query(dialectOf(manager).sql(`UPDATE ${table} SET name = ? WHERE id = ?`), [
            name,
            `webhook:${connection.id}`,
          ]);
        }
        return saved;
      });
    } catch (error) {
      await this.assertNameFree(name, connection.id);
      throw error;
    } finally {
      // After the write, so that a request in between cannot keep the old row cached.
      this.cached.clear();
    }
  }

  /**
   * Deletes the connection and its API key. The data it received stays, as in DevLake: deleting
   * a webhook does not rewrite history (the admin page says so before deleting).
   */
  async delete(
    ref: ConnectionRef,
    beforeDelete?: (connectionId: number, manager: import('typeorm').EntityManager) => Promise<void>,
  ): Promise<WebhookConnection> {
    const connection = await this.get(ref);
    await withTransaction(this.dataSource, async (manager) => {
      await this.apiKeys.deleteConnectionKeys(connection.id, manager);
      if (beforeDelete) await beforeDelete(connection.id, manager);
      await manager.getRepository(WebhookConnection).delete({ id: connection.id });
    });
    this.cached.clear();
    return connection;
  }
}
