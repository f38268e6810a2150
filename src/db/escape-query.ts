import type { DataSource } from 'typeorm';

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
