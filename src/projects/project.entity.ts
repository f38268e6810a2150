import { Column, Entity } from 'typeorm';
import { DateTime3, DevLakeCommonColumns, LongText, Varchar, VarcharKey } from '../db/columns';

/** DevLake's `projects`. */
@Entity({ name: 'projects' })
export class Project extends DevLakeCommonColumns {
  @VarcharKey('name')
  name!: string;

  @LongText('description')
  description!: string | null;
}

/**
 * DevLake's `project_mapping`: the only way DORA attributes rows to a project (docs/devlake-compatibility.md §8).
 * A linked connection has three rows: `cicd_scopes`, `boards`, `repos` → `webhook:<cid>`.
 */
@Entity({ name: 'project_mapping' })
export class ProjectMapping extends DevLakeCommonColumns {
  @VarcharKey('project_name')
  projectName!: string;

  @VarcharKey('table')
  table!: string;

  @VarcharKey('row_id')
  rowId!: string;
}

/** DevLake's `cicd_scopes`: one per connection, `webhook:<cid>`. */
@Entity({ name: 'cicd_scopes' })
export class CicdScope extends DevLakeCommonColumns {
  @VarcharKey('id')
  id!: string;

  @Varchar('name')
  name!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('url')
  url!: string | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('updated_date')
  updatedDate!: Date | null;
}

/** DevLake's `repos`: one per connection, `webhook:<cid>`, the base repo of its pull requests. */
@Entity({ name: 'repos' })
export class Repo extends DevLakeCommonColumns {
  @VarcharKey('id')
  id!: string;

  @LongText('name')
  name!: string | null;

  @LongText('url')
  url!: string | null;

  @LongText('description')
  description!: string | null;

  @Varchar('owner_id')
  ownerId!: string | null;

  @Varchar('language')
  language!: string | null;

  @LongText('forked_from')
  forkedFrom!: string | null;

  @DateTime3('created_date')
  createdDate!: Date | null;

  @DateTime3('updated_date')
  updatedDate!: Date | null;

  @Column({ name: 'deleted', type: 'boolean', nullable: true })
  deleted!: boolean | null;
}
