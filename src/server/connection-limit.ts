// A bound on the connections one client address may hold open. Connections over the
// bound are closed the moment they are accepted: before any TLS handshake or HTTP
// parsing, because the connections this bound exists for are the ones that never send a
// whole request (slow headers, stalled bodies). Answering them in HTTP would mean
// waiting for their request, or paying for their handshake: the very cost being bounded.
// Clients see a dropped connection and retry with back-off, as they do for any.
import type { Server } from 'node:net';
import type { Socket } from 'node:net';

export interface ConnectionLimitEvents {
  /** A connection was refused; `first` is true once per burst from that address. */
  refused(address: string, first: boolean): void;
}

/** Client addresses as one key: an IPv4 client on a dual-stack socket is still itself. */
function addressKey(socket: Socket): string {
  const address = socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Counts connections per remote address on `server`; 0 means no limit. */
export function limitConnectionsPerAddress(server: Server, max: number, events: ConnectionLimitEvents): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  const refusing = new Set<string>();
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket);
    const count = open.get(key) ?? 0;
    if (count >= max) {
      socket.destroy();
      events.refused(key, !refusing.has(key));
      refusing.add(key);
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
      if (left < max) refusing.delete(key);
    });
  });
}
