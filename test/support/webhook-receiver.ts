// A webhook receiver for tests: an HTTP server on loopback that records every request
// (headers and the exact body), answers with a status the test chooses, and can go down
// and come back on the same port.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export class WebhookReceiver {
  readonly received: ReceivedRequest[] = [];
  /** The status answered (per request, by path if the function wants). */
  status: (request: ReceivedRequest) => number = () => 204;
  private server: Server | null = null;
  private port = 0;
  private waiters: { until: () => boolean; resolve: () => void }[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const received: ReceivedRequest = { path: request.url ?? '/', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        const status = this.status(received);
        if (status >= 200 && status < 300) this.received.push(received);
        response.writeHead(status).end();
        this.waiters = this.waiters.filter((waiter) => (waiter.until() ? (waiter.resolve(), false) : true));
      });
    });
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening (connections refused) but keeps the port for `start()`. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves when `until()` holds, checked after each request (fails after `timeoutMs`). */
  async waitFor(until: () => boolean, timeoutMs = 30_000, what = 'the expected deliveries'): Promise<void> {
    if (until()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; received ${this.received.length} requests`)), timeoutMs);
      this.waiters.push({ until, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  on(path: string): ReceivedRequest[] {
    return this.received.filter((request) => request.path === path);
  }
}
