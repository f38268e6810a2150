import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { DevLakeDoraTables } from '../dora/devlake-dora-tables';
import { col, commonColumns, createMissing, CREATED, dropCreated, type TableSpec } from '../db/table-spec';
import { utcDatetimeText } from '../db/columns';

/**
 * The tables DevLake's Grafana DORA dashboard reads that DevLake's `dora` plugin and core
 * create: the incident → deployment links, the benchmark labels of the "Overall DORA Metrics"
 * table and the months that pad its monthly charts. Created only when absent: where DevLake's
 * own migrations made them, they are left exactly as they are.
 */
export const DORA_TABLES: TableSpec[] = [
  {
    name: 'project_incident_deployment_relationships',
    columns: [col.key('id'), col.key('project_name', 100), ...commonColumns(), col.longtext('deployment_id')],
    indexes: [
      {
        name: 'idx_project_incident_deployment_relationships__raw_data_params',
        columns: ['_raw_data_params'],
      },
    ],
  },
  {
    name: 'dora_benchmarks',
    columns: [
      col.ubigint('id', { primary: true, notNull: true, autoIncrement: true }),
      col.datetime3('created_at'),
      col.datetime3('updated_at'),
      col.varchar('metric'),
      col.varchar('low'),
      col.varchar('medium'),
      col.varchar('high'),
      col.varchar('elite'),
      col.varchar('dora_report', 20),
    ],
  },
  {
    name: 'calendar_months',
    columns: [col.key('month', 20), col.timestamp('month_timestamp')],
  },
];

/** DevLake's rows (its dora plugin's 2024-02-23 migration), in its order and with its ids. */
export const DORA_BENCHMARKS: [number, string, string, string, string, string, string][] = [
  // id, metric, low, medium, high, elite, dora_report
  [
    1,
    'Deployment frequency',
    'Fewer than once per six months(low)',
    'Between once per month and once every 6 months(medium)',
    'Between once per day and once per month(high)',
    'On-demand(elite)',
    '2021',
  ],
  [
    2,
    'Lead time for changes',
    'More than six months(low)',
    'Between one week and six months(medium)',
    'Less than one week(high)',
    'Less than one hour(elite)',
    '2021',
  ],
  [3, 'Change failure rate', '> 30%(low)', '21%-30%(medium)', '16%-20%(high)', '0-15%(elite)', '2021'],
  [
    4,
    'Time to restore service',
    'More than one week(low)',
    'Between one day and one week(medium)',
    'Less than one day(high)',
    'Less than one hour(elite)',
    '2021',
  ],
  [
    5,
    'Deployment frequency',
    'Fewer than once per month(low)',
    'Between once per week and once per month(medium)',
    'Between once per day and once per week(high)',
    'On-demand(elite)',
    '2023',
  ],
  [
    6,
    'Lead time for changes',
    'More than one month(low)',
    'Between one week and one month(medium)',
    'Between one day and one week(high)',
    'Less than one day(elite)',
    '2023',
  ],
  [7, 'Change failure rate', '> 15%(low)', '10%-15%(medium)', '5%-10%(high)', '0-5%(elite)', '2023'],
  [
    8,
    'Failed deployment recovery time',
    'More than one week(low)',
    'Between one day and one week(medium)',
    'Less than one day(high)',
    'Less than one hour(elite)',
    '2023',
  ],
];

/**
 * DevLake's `calendar_months` rows: `YY/MM` and the first instant of the month (UTC), from 23
 * months before the current month to 120 months after it, as its 2023-05-11 migration fills them.
 */
export function calendarMonths(now: Date): { month: string; timestamp: Date }[] {
  const out: { month: string; timestamp: Date }[] = [];
  for (let offset = -23; offset <= 120; offset += 1) {
    const timestamp = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
    const yy = String(timestamp.getUTCFullYear() % 100).padStart(2, '0');
    const mm = String(timestamp.getUTCMonth() + 1).padStart(2, '0');
    out.push({ month: `${yy}/${mm}`, timestamp });
  }
  return out;
}

export class DevLakeDoraTables1764390000002 implements MigrationInterface {
  name = 'DevLakeDoraTables1764390000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await createMissing(queryRunner, this.name, DORA_TABLES);
    const created = async (table: string) =>
      (
        (await queryRunner.query(
          dialectOf(queryRunner).sql(
            `SELECT object_name FROM ${CREATED} WHERE object_name = ? AND kind = 'table' AND migration = ?`,
          ),
          [table, this.name],
        )) as unknown[]
      ).length > 0;
    const now = new Date();
    if (await created('dora_benchmarks')) {
      for (const [id, metric, low, medium, high, elite, report] of DORA_BENCHMARKS) {
        await queryRunner.query(
          dialectOf(queryRunner).sql(
            'INSERT INTO dora_benchmarks (id, created_at, updated_at, metric, low, medium, high, elite, dora_report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          ),
          [id, now, now, metric, low, medium, high, elite, report].map((v) =>
            v instanceof Date ? timestampOf(queryRunner, v) : v,
          ),
        );
      }
    }
    if (await created('calendar_months')) {
      for (const { month, timestamp } of calendarMonths(now)) {
        await queryRunner.query(
          dialectOf(queryRunner).sql('INSERT INTO calendar_months (month, month_timestamp) VALUES (?, ?)'),
          [month, timestampOf(queryRunner, timestamp)],
        );
      }
    }
    // Data that arrived before this migration: links and chains as if it arrived now.
    await new DevLakeDoraTables().rebuildAll(queryRunner.manager);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await dropCreated(queryRunner, this.name);
  }
}

/** A UTC instant as the driver binds it: a Date for mysql2 (timezone 'Z') and pg, DevLake's text form for SQLite. */
function timestampOf(queryRunner: QueryRunner, value: Date): Date | string {
  if (dialectOf(queryRunner).engine !== 'sqlite') return value;
  return utcDatetimeText(value);
}
