import type { DataSource, EntityManager } from 'typeorm';

type Escape = (
  sql: string,
  parameters: Record<string, unknown>,
  nativeParameters: Record<string, unknown>,
) => [string, unknown[]];

/**
 * Turns `:name` parameters into the driver's placeholders and values. TypeORM 0.3 requires a
 * third argument (native parameters, used as they are) that 1.x no longer takes; passing an
 * empty one works on both.
 */
export function escapeQuery(
  dataSource: DataSource,
  sql: string,
  parameters: Record<string, unknown>,
): [string, unknown[]] {
  const escape = dataSource.driver.escapeQueryWithParameters.bind(dataSource.driver) as Escape;
  return escape(sql, parameters, {});
}

/**
 * Runs a statement written with `:name` parameters on a DataSource or in a transaction (its
 * EntityManager), and answers its rows.
 */
export async function queryNamed<T = Record<string, unknown>>(
  db: DataSource | EntityManager,
  sql: string,
  parameters: Record<string, unknown>,
): Promise<T[]> {
  const [text, values] = escapeQuery('driver' in db ? db : db.connection, sql, parameters);
  return (await db.query(text, values)) as T[];
}
