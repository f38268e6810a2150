import type { DataSource } from 'typeorm';

/** Writes pull requests (contract §7). Filled in by issue 8. */
export class PullRequestService {
  constructor(readonly dataSource: DataSource) {}
}
