// A small HTTPS proxy in front of a registry, for the pull-through cache's tests: it counts
// the requests that pass and, on demand, stalls them, answers 429, or cuts blob bodies
// half-way (a registry dying mid-blob).
import { createServer, type Server } from 'node:https';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export type FaultMode =
  /** Forwards everything. */
  | 'pass'
  /** Holds requests unanswered until the mode changes. */
  | 'stall'
  /** Answers 429 Too Many Requests with Retry-After. */
  | 'too-many'
  /** Forwards blob GETs but closes the connection after half the body. */
  | 'die-mid-blob';

export interface FaultRule {
  readonly mode: FaultMode;
  /** Which requests the rule applies to; all when omitted. */
  readonly match?: (method: string, path: string) => boolean;
  /** How many requests it applies to before it lapses; unlimited when omitted. */
  times?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string | undefined;
  /** When the last byte of the answer was forwarded (ms since the epoch), once it was. */
  endedAt?: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly requests: RecordedRequest[];
  fault(rule: FaultRule | null): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, tls: { cert: string; key: string; ca: string }): Promise<FaultProxy> {
  const requests: RecordedRequest[] = [];
  let rule: FaultRule | null = null;
  const stalled = new Set<() => void>();
  const sockets = new Set<Socket>();

  const applies = (method: string, path: string): FaultMode => {
    if (!rule || (rule.match && !rule.match(method, path))) return 'pass';
    if (rule.times !== undefined) {
      if (rule.times <= 0) return 'pass';
      rule.times--;
    }
    return rule.mode;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest, cut: boolean): void => {
    const upstream = httpsRequest(`https://${target}${req.url}`, { method: req.method, headers: { ...req.headers, host: target }, ca: tls.ca, agent: false }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const length = Number(answer.headers['content-length'] ?? 0);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (cut && sent + chunk.length > length / 2) {
          res.write(chunk.subarray(0, Math.max(0, Math.floor(length / 2) - sent)));
          answer.destroy();
          res.socket?.destroy();
          return;
        }
        sent += chunk.length;
        if (!res.write(chunk)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => {
        recorded.endedAt = Date.now();
        res.end();
      });
    });
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'https://proxy').pathname;
    const recorded: RecordedRequest = { method, path, range: req.headers.range };
    requests.push(recorded);
    const mode = applies(method, path);
    if (mode === 'stall') {
      const release = (): void => {
        stalled.delete(release);
        forward(req, res, recorded, false);
      };
      stalled.add(release);
      req.on('close', () => stalled.delete(release));
      return;
    }
    if (mode === 'too-many') {
      req.resume();
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
      return;
    }
    forward(req, res, recorded, mode === 'die-mid-blob' && method === 'GET' && path.includes('/blobs/'));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    fault(next) {
      rule = next;
      if (!next || next.mode !== 'stall') for (const release of [...stalled]) release();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** GETs a blob through the cache, hashing it as it streams; notes when the first byte came. */
export function fetchBlob(url: string): Promise<{ status: number; digest: string; bytes: number; firstByteAt: number; error?: Error }> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let firstByteAt = 0;
    const req = httpRequest(url, { agent: false }, (res) => {
      res.on('data', (chunk: Buffer) => {
        firstByteAt ||= Date.now();
        bytes += chunk.length;
        hash.update(chunk);
      });
      const done = (error?: Error): void => resolve({ status: res.statusCode ?? 0, digest: `sha256:${hash.digest('hex')}`, bytes, firstByteAt, ...(error ? { error } : {}) });
      res.on('end', () => (res.complete ? done() : done(new Error('incomplete body'))));
      res.on('error', (error) => done(error));
    });
    req.on('error', (error) => resolve({ status: 0, digest: '', bytes, firstByteAt, error }));
    req.end();
  });
}
