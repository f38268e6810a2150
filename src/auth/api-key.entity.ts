import { Column, Entity } from 'typeorm';
import { bigintAsNumber, DateTime3, Varchar } from '../db/columns';

/**
 * DevLake's `_devlake_api_keys` (docs/devlake-compatibility.md §8). `api_key` holds only
 * HMAC-SHA256(ENCRYPTION_SECRET, key) in lowercase hex, never the key.
 */
@Entity({ name: '_devlake_api_keys' })
export class ApiKey {
  @Column({
    name: 'id',
    type: 'bigint',
    unsigned: true,
    primary: true,
    generated: 'increment',
    transformer: bigintAsNumber,
  })
  id!: number;

  @DateTime3('created_at')
  createdAt!: Date | null;

  @DateTime3('updated_at')
  updatedAt!: Date | null;

  @Varchar('creator')
  creator!: string | null;

  @Varchar('creator_email')
  creatorEmail!: string | null;

  @Varchar('updater')
  updater!: string | null;

  @Varchar('updater_email')
  updaterEmail!: string | null;

  @Varchar('name')
  name!: string;

  @Varchar('api_key')
  apiKey!: string;

  @DateTime3('expired_at')
  expiredAt!: Date | null;

  @Varchar('allowed_path')
  allowedPath!: string;

  @Varchar('type')
  type!: string;

  @Varchar('extra')
  extra!: string | null;
}

/** Ours: when each key was last used, kept apart so DevLake's table stays DevLake's. */
@Entity({ name: '_tool_webhook_api_key_usage' })
export class ApiKeyUsage {
  @Column({ name: 'api_key_id', type: 'bigint', primary: true, transformer: bigintAsNumber })
  apiKeyId!: number;

  @DateTime3('last_used_at')
  lastUsedAt!: Date | null;
}

/** Ours: key/value settings of the plugin (`encryption_secret` when none was configured). */
@Entity({ name: '_tool_webhook_settings' })
export class WebhookSetting {
  @Column({ name: 'name', type: 'varchar', length: 100, primary: true })
  name!: string;

  @Column({ name: 'value', type: 'text', nullable: true })
  value!: string | null;

  @DateTime3('created_at')
  createdAt!: Date | null;
}
