import express, { type RequestHandler } from 'express';
import { InputError } from './errors';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isMultipart(contentType: string | undefined): boolean {
  return /^multipart\/form-data/i.test(contentType ?? '');
}

/**
 * Reads the body as JSON whatever the Content-Type says (docs/payloads.md): DevLake ignores the
 * header, and DevLake's documented `curl -d` sends `application/x-www-form-urlencoded`. Only multipart
 * is refused. An empty body is `{}`. Invalid JSON, or JSON that is not an object, is a 400
 * (DevLake answers 500 there).
 *
 * The parsed object replaces `req.body`; over-limit bodies become a 413 in the error handler.
 */
export function readJsonBody(limitBytes: number): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: limitBytes });
  const parse: RequestHandler = (req, _res, next) => {
    if (isMultipart(req.headers['content-type'])) {
      next(new InputError('multipart/form-data is not accepted: send the body as JSON'));
      return;
    }
    const buffer: unknown = req.body;
    let text = '';
    if (Buffer.isBuffer(buffer)) {
      try {
        // Fatal: a lenient decoder turns each bad byte into U+FFFD, so two different ids sent
        // in a broken encoding would be stored as the same one.
        text = UTF8.decode(buffer).replace(/^\uFEFF/, '');
      } catch {
        next(new InputError('the body is not valid UTF-8: send JSON encoded as UTF-8'));
        return;
      }
    }
    if (text.trim() === '') {
      req.body = {};
      next();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      next(new InputError(`the body is not valid JSON: ${(error as Error).message}`));
      return;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      next(new InputError('the body must be a JSON object'));
      return;
    }
    req.body = parsed;
    next();
  };
  return [raw, parse];
}
