import type { DataSource } from 'typeorm';

/** Computes the four DORA metrics (dora-metrics.md). Filled in by issue 8. */
export class DoraService {
  constructor(readonly dataSource: DataSource) {}
}
