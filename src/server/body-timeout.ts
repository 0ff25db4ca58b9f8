// The body idle timeout: a request whose body stops arriving is given up after a while,
// so a client that declares a megabyte and sends three bytes cannot hold a connection,
// an upload lock and file descriptors for ever.
//
// Only the client's silence counts. While the handler is not reading (authorising,
// waiting for an upload's lock, writing to a slow disk) the body waits on us, not on the
// client, so the clock stands still: nobody has read yet, or unread data is waiting.
// Nothing here starts the body flowing: the byte counter is attached only once the
// handler itself has started reading.
import type { HttpRequest } from './http-types.ts';

export interface BodyWatch {
  /** Stops watching (the request ended or closed). */
  stop(): void;
}

/**
 * Calls `onStall` once when `request`'s body has been read from and nothing arrived for
 * `idleMs`. Does nothing for a request whose body is already complete.
 */
export function watchBodyIdle(request: HttpRequest, idleMs: number, onStall: () => void): BodyWatch {
  let lastProgress = Date.now();
  let counting = false;
  let timer: NodeJS.Timeout | undefined;
  const progress = (): void => {
    lastProgress = Date.now();
  };
  const stop = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (counting) request.off('data', progress);
    request.off('end', stop);
    request.off('close', stop);
  };
  const check = (): void => {
    timer = undefined;
    if (request.complete || request.readableEnded || request.destroyed) return stop();
    const now = Date.now();
    if (!counting && request.readableFlowing !== null) {
      // A 'data' listener on a stream that is already flowing (or paused by a pipe's
      // back-pressure) does not change its mode.
      request.on('data', progress);
      counting = true;
      lastProgress = now;
    }
    // Read from (flowing, or paused with a reader waiting) and nothing unread: whatever
    // the client sent has been taken, so more must come from the client.
    const waitingOnClient = counting && request.readableLength === 0;
    if (!waitingOnClient) lastProgress = now;
    const idle = now - lastProgress;
    if (idle >= idleMs) {
      stop();
      onStall();
      return;
    }
    // Re-checked often enough that a stall is noticed within a quarter of the timeout.
    timer = setTimeout(check, Math.min(idleMs - idle, Math.max(idleMs / 4, 50)));
    timer.unref();
  };
  if (request.complete || request.readableEnded) return { stop: () => {} };
  request.once('end', stop);
  request.once('close', stop);
  timer = setTimeout(check, Math.max(idleMs / 4, 50));
  timer.unref();
  return { stop };
}
