import type { DataSource } from 'typeorm';

/** Writes deployments into DevLake's deployment tables (contract §5). Filled in by issue 3. */
export class DeploymentService {
  constructor(readonly dataSource: DataSource) {}
}
