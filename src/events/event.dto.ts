import { DateField, EnumField, NumberField } from '../http/fields';

export const MAX_PAGE_SIZE = 200;
export const MAX_BULK_REPLAY = 500;
const OUTCOMES = ['ACCEPTED', 'REFUSED', 'FAILED'] as const;

/** Query of `GET X/events`. */
export class EventQueryDto {
  /** `accepted` (2xx), `refused` (4xx) or `failed` (5xx). */
  @EnumField(OUTCOMES)
  outcome?: string;

  /** Received at or after this time. */
  @DateField()
  since?: Date;

  /** Received before this time. */
  @DateField()
  until?: Date;

  @NumberField({ integer: true, min: 1 })
  page?: number;

  @NumberField({ integer: true, min: 1, max: MAX_PAGE_SIZE })
  pageSize?: number;
}

/** Body of `POST X/events/replay`: the refused deliveries received in a time range. */
export class BulkReplayDto {
  @DateField()
  since?: Date;

  @DateField()
  until?: Date;

  /** At most this many deliveries, oldest first. */
  @NumberField({ integer: true, min: 1, max: MAX_BULK_REPLAY })
  limit?: number;
}
