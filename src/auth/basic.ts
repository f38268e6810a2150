import type { Request, Response } from 'express';
import { Passport } from 'passport';
import { BasicStrategy } from 'passport-http';
import type { BasicCredentials } from '../options';
import { readAuthorization, secretsEqual } from './credentials';

export const REALM = 'devlake-webhook';

/** Checks a request's Basic credentials: the user name when they are right, null when wrong. */
export type BasicVerifier = (req: Request, res: Response) => Promise<string | null>;

/**
 * Basic authentication through passport-http, on a private Passport instance so that the
 * host's own passport setup (strategies, sessions) is never touched. No session: every request
 * carries its credentials, as DevLake's `curl -u` clients do.
 */
export function createBasicVerifier(credentials: BasicCredentials): BasicVerifier {
  const authenticator = new Passport();
  authenticator.use(
    new BasicStrategy({ realm: REALM, passReqToCallback: true }, (req, _username, _password, done) => {
      // passport-http splits the credentials at every ':', which would cut a password that holds
      // one (RFC 7617 allows it): read them again, split at the first ':' only.
      const presented = readAuthorization(req.headers.authorization);
      if (presented.kind !== 'basic') {
        done(null, false);
        return;
      }
      // Both compared, always, in constant time: timing tells nothing about either.
      const userOk = secretsEqual(presented.username, credentials.username);
      const passOk = secretsEqual(presented.password, credentials.password);
      done(null, userOk && passOk ? { username: presented.username } : false);
    }),
  );
  return (req, res) =>
    new Promise<string | null>((resolve, reject) => {
      const middleware = authenticator.authenticate(
        'basic',
        { session: false },
        (error: unknown, user: { username: string } | false | undefined) => {
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolve(user ? user.username : null);
        },
      ) as (req: Request, res: Response, next: (error?: unknown) => void) => void;
      middleware(req, res, (error?: unknown) => reject(error instanceof Error ? error : new Error(String(error))));
    });
}
