import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Answer } from './http-client';

/** A test app listening on a loopback port, for requests supertest cannot send as they are. */
export interface Listening {
  origin: string;
  /**
   * Sends `target` byte for byte as the request-target (absolute-form, fragments...): supertest
   * would parse and rebuild it. `body` is sent as JSON, `rawBody` as it is.
   */
  raw(
    method: string,
    target: string,
    options?: { body?: unknown; rawBody?: Buffer; headers?: Record<string, string> },
  ): Promise<Answer>;
  close(): Promise<void>;
}

export async function listen(app: Express): Promise<Listening> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    raw: (method, target, options = {}) =>
      new Promise<Answer>((resolve, reject) => {
        const started = Date.now();
        const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method,
            path: target,
            headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => {
              let body: unknown;
              try {
                body = JSON.parse(text);
              } catch {
                body = undefined;
              }
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body, ms: Date.now() - started });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
