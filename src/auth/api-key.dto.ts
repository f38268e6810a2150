import { DateField, NumberField, StringField } from '../http/fields';

/** Body of `POST /api-keys` (DevLake's core route; docs/devlake-compatibility.md §2). */
export class ApiKeyDto {
  @StringField({ required: true, max: 255 })
  name!: string;

  /** DevLake requires it; Config-UI always sends `devlake`, which is also the default here. */
  @StringField({ max: 40 })
  type?: string;

  /** The routes the key opens: a regular expression matched against the whole path. */
  @StringField({ required: true, max: 255 })
  allowedPath!: string;

  /** Absent or null: the key never expires. */
  @DateField()
  expiredAt?: Date;
}

/** Body of `PUT /api-keys/:apiKeyId`: renewing may also set a new expiry (null: none). */
export class ApiKeyRenewDto {
  @DateField()
  expiredAt?: Date;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Query of `GET /api-keys`. */
export class ApiKeyListQuery {
  @NumberField({ integer: true, min: 1 })
  page?: number;

  @NumberField({ integer: true, min: 1, max: MAX_PAGE_SIZE })
  pageSize?: number;
}
