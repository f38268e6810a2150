import { createServer, Socket, type Server } from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'hang';

export interface TcpProxy {
  port: number;
  /**
   * Makes the database go away: every open connection is cut, and new ones are closed at once
   * (`refuse`, a stopped server) or accepted and never answered (`hang`, a host gone silent).
   */
  cut(mode: Exclude<ProxyMode, 'forward'>): void;
  /** The database is back: silent connections are dropped, new ones are forwarded again. */
  restore(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of a server (MariaDB), which a test can cut and restore. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'hang') return;
    const upstream = new Socket();
    track(upstream);
    upstream.connect(targetPort, targetHost);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    cut: (next) => {
      mode = next;
      dropAll();
    },
    restore: () => {
      mode = 'forward';
      dropAll();
    },
    close: () =>
      new Promise<void>((resolve) => {
        dropAll();
        server.close(() => resolve());
      }),
  };
}
