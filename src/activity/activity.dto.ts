import { NumberField, StringField } from '../http/fields';
import { MAX_ACTIVITY_LIMIT, MAX_LIST_LIMIT } from './activity.service';

/** Query of `GET /connections/:connectionId/activity`. */
export class ActivityQueryDto {
  /** How many of the latest deployments and of the latest issues to list. */
  @NumberField({ integer: true, min: 1, max: MAX_ACTIVITY_LIMIT })
  limit?: number;
}

/** Query of `GET /activity`: a page of connections, optionally searched by name. */
export class ActivityListQueryDto {
  /** How many connections to list (default 100). */
  @NumberField({ integer: true, min: 1, max: MAX_LIST_LIMIT })
  limit?: number;

  /** How many connections to skip, in id order. */
  @NumberField({ integer: true, min: 0 })
  offset?: number;

  /** Lists only connections whose name contains this text (case-insensitive). */
  @StringField({ max: 100 })
  search?: string;
}
