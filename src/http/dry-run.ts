import type { Request } from 'express';
import { InputError } from './errors';

/**
 * `?dryRun=true` on an ingestion route: the same validation and the same answer, with the rows
 * that would be written, and nothing written. `true`/`1` turn it on, `false`/`0` or no value
 * leave it off; anything else is refused rather than taken for a real write.
 */
export function isDryRun(req: Request): boolean {
  const value = (req.query as Record<string, unknown>).dryRun;
  if (value === undefined) return false;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InputError('dryRun must be true or false', [{ field: 'dryRun', message: 'dryRun must be true or false' }]);
}
