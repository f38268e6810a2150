import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Inserts rows or, when the primary key exists, overwrites every column except those listed in
 * `keep` (by default `created_at`, so a re-post keeps it and moves `updated_at`, contract §5).
 * One statement on both databases: `ON DUPLICATE KEY UPDATE` on MySQL, `ON CONFLICT DO UPDATE`
 * on SQLite.
 */
export async function upsertRows<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  rows: Partial<T>[],
  keep: string[] = ['created_at'],
): Promise<void> {
  if (rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  const conflict = metadata.primaryColumns.map((column) => column.databaseName);
  const overwrite = metadata.columns
    .map((column) => column.databaseName)
    .filter((name) => !conflict.includes(name) && !keep.includes(name));
  await manager
    .createQueryBuilder()
    .insert()
    .into(target)
    .values(rows as never)
    .orUpdate(overwrite, conflict)
    .updateEntity(false)
    .execute();
}
