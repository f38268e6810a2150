import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintAsNumber, DateTime3, LongText } from '../db/columns';

/**
 * Ours: a connection's settings for the native sources (docs/sources.md). The signing secrets
 * are stored encrypted (`secret-box.ts`), never in clear.
 */
@Entity({ name: '_tool_webhook_source_settings' })
export class SourceSettingsRow {
  @PrimaryColumn({ name: 'connection_id', type: 'bigint', transformer: bigintAsNumber })
  connectionId!: number;

  @LongText('signing_secret')
  signingSecret!: string | null;

  /** The secret before the last rotation, accepted until `previous_valid_until`. */
  @LongText('previous_signing_secret')
  previousSigningSecret!: string | null;

  @DateTime3('previous_valid_until')
  previousValidUntil!: Date | null;

  @DateTime3('secret_set_at')
  secretSetAt!: Date | null;

  /** JSON of `SourceSettings`. */
  @LongText('settings')
  settings!: string | null;

  @DateTime3('updated_at')
  updatedAt!: Date | null;
}

/** Ours: a source's delivery already processed for a connection; a redelivery of it is a no-op. */
@Entity({ name: '_tool_webhook_source_deliveries' })
export class SourceDelivery {
  @PrimaryColumn({ name: 'connection_id', type: 'bigint', transformer: bigintAsNumber })
  connectionId!: number;

  @PrimaryColumn({ name: 'source', type: 'varchar', length: 20 })
  source!: string;

  @PrimaryColumn({ name: 'delivery_id', type: 'varchar', length: 191 })
  deliveryId!: string;

  @Column({ name: 'received_at', type: Date, precision: 3 })
  receivedAt!: Date;
}
