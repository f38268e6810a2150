import { StringField } from '../http/fields';

/** Body of `POST /connections` and `PATCH /connections/:id` (docs/devlake-compatibility.md §2). */
export class ConnectionDto {
  @StringField({ required: true, max: 100 })
  name!: string;

  /** Links the connection to a DevLake project; created when missing. */
  @StringField({ max: 100 })
  projectName?: string;
}

/** PATCH may leave the name out (e.g. to change only the project). */
export class ConnectionPatchDto {
  @StringField({ max: 100 })
  name?: string;

  /** A project name links, `null` or `""` unlinks, absent leaves the link as it is. */
  @StringField({ max: 100 })
  projectName?: string;
}
