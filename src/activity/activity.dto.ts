import { NumberField } from '../http/fields';
import { MAX_ACTIVITY_LIMIT } from './activity.service';

/** Query of `GET /connections/:connectionId/activity`. */
export class ActivityQueryDto {
  /** How many of the latest deployments and of the latest issues to list. */
  @NumberField({ integer: true, min: 1, max: MAX_ACTIVITY_LIMIT })
  limit?: number;
}
