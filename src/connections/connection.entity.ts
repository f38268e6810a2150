import { Column, Entity } from 'typeorm';
import { bigintAsNumber, DateTime3 } from '../db/columns';

/** DevLake's `_tool_webhook_connections` (docs/devlake-compatibility.md §8). A connection's project is read from `project_mapping`. */
@Entity({ name: '_tool_webhook_connections' })
export class WebhookConnection {
  @Column({
    name: 'id',
    type: 'bigint',
    unsigned: true,
    primary: true,
    generated: 'increment',
    transformer: bigintAsNumber,
  })
  id!: number;

  @Column({ name: 'name', type: 'varchar', length: 100, unique: true })
  name!: string;

  @DateTime3('created_at')
  createdAt!: Date | null;

  @DateTime3('updated_at')
  updatedAt!: Date | null;
}
