// A TCP proxy in front of MariaDB that counts the commands each client sends: the database
// round trips of a server under test, exactly, whatever else runs on the same MariaDB (the
// global `Questions` counter would count the other users too). Used in a separate, untimed pass.
import net from 'node:net';

/** MySQL protocol command bytes (the first byte of a packet with sequence id 0). */
const COMMANDS = { 0x01: 'QUIT', 0x02: 'INIT_DB', 0x03: 'QUERY', 0x0e: 'PING', 0x16: 'PREPARE', 0x17: 'EXECUTE' };

export async function startCountingProxy(targetHost, targetPort) {
  const counts = new Map();
  const sockets = new Set();
  const count = (name) => counts.set(name, (counts.get(name) ?? 0) + 1);

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    // Frames the client's packets: 3-byte length, 1-byte sequence id, payload.
    client.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const length = pending[0] | (pending[1] << 8) | (pending[2] << 16);
        if (pending.length < 4 + length) break;
        if (pending[3] === 0 && length > 0) {
          const command = COMMANDS[pending[4]] ?? `0x${pending[4].toString(16)}`;
          if (command === 'QUERY') {
            const verb = /^\s*(\w+)/.exec(pending.subarray(5, 5 + Math.min(length - 1, 32)).toString('utf8'));
            count(`QUERY ${verb ? verb[1].toUpperCase() : '?'}`);
          } else count(command);
        }
        pending = pending.subarray(4 + length);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    /** A copy of the counts so far, by command (`QUERY INSERT`, `QUERY COMMIT`, `PING`...). */
    snapshot: () => new Map(counts),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The commands sent between two snapshots. */
export function difference(after, before) {
  const result = {};
  for (const [name, value] of after) {
    const delta = value - (before.get(name) ?? 0);
    if (delta > 0) result[name] = delta;
  }
  return result;
}
