import type { DataSource } from 'typeorm';

/** Writes issues and incidents (contract §6). Filled in by issue 4. */
export class IssueService {
  constructor(readonly dataSource: DataSource) {}
}
