// The HTTP entry point: one handler for HTTP/1.1 and HTTP/2 (TLS), request ids, access
// logs, metrics, health, and a graceful shutdown that lets requests in flight finish.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../observability/logger.ts';
import { createServerMetrics, processMetrics, type MetricsRegistry } from '../observability/metrics.ts';
import { RegistryError } from '../core/errors.ts';
import type { Registry } from '../registry/registry.ts';
import { DistributionApi, type RouteMatch } from './distribution-api.ts';
import { DISCARD_ACTIONS, type ActionRecorder } from '../audit/action.ts';
import type { SignatureStore } from '../metadata/signature-store.ts';
import { SignatureApi } from './signature-api.ts';
import { OpenGate, TokenGate } from './registry-gate.ts';
import type { SecurityServices } from './security.ts';
import type { ManifestGuard } from '../trust/registry-signing-policy.ts';
import { watchTlsFiles, type TlsFiles } from './tls-reloader.ts';
import { writeError } from './error-response.ts';
import { header, type HttpRequest, type HttpResponse } from './http-types.ts';

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** A set of routes outside /v2/ (token endpoint, management API, action log API). */
export interface RouteMatcher {
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null;
}

export interface ServerOptions {
  readonly registry: Registry;
  /** Authentication and permissions; without it every request is allowed. */
  readonly security?: SecurityServices | undefined;
  readonly actions?: ActionRecorder | undefined;
  /** Matched in order for paths outside /v2/. */
  readonly routes?: readonly RouteMatcher[];
  /** Signatures stored through the registry extension API (/extensions/v2/.../signatures/...). */
  readonly signatures?: SignatureStore | undefined;
  /** Called after every manifest push (image quality queues it for indexing). */
  readonly onManifestPushed?: ((repository: string, digest: string) => void) | undefined;
  /** Refuses manifests a signing policy does not allow (pulls, and tags in `pull,tag` mode). */
  readonly manifestGuard?: ManifestGuard | undefined;
  /** Lets other components add their series to /metrics (the action log's queue). */
  readonly registerMetrics?: (registry: MetricsRegistry) => void;
  readonly logger: Logger;
  readonly tls?: TlsMaterial | undefined;
  /** The files `tls` was read from: reloaded when they change. */
  readonly tlsFiles?: TlsFiles | undefined;
  /** Checks dependencies for /healthz; throws when one is down. */
  readonly healthCheck?: () => Promise<void>;
  /** How long shutdown waits for requests in flight. */
  readonly shutdownTimeoutMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function createRequestHandler(options: ServerOptions): {
  handle: (request: HttpRequest, response: unknown) => void;
  inFlight: () => number;
} {
  const actions = options.actions ?? DISCARD_ACTIONS;
  const gate = options.security ? new TokenGate(options.security, actions) : new OpenGate();
  const api = new DistributionApi(options.registry, gate, actions, options.onManifestPushed, options.signatures !== undefined, options.manifestGuard);
  // The signature API shares the registry's gate: reading needs pull, storing push.
  const signatureApi = options.signatures ? new SignatureApi(options.signatures, gate, actions) : undefined;
  const routes = options.routes ?? [];
  const metrics = createServerMetrics();
  processMetrics(metrics.registry);
  options.registerMetrics?.(metrics.registry);
  const logger = options.logger;
  let active = 0;

  const handle = (request: HttpRequest, outgoing: unknown): void => {
    const response = outgoing as HttpResponse;
    const started = process.hrtime.bigint();
    const incomingId = header(request, 'x-request-id');
    const requestId = incomingId !== undefined && REQUEST_ID.test(incomingId) ? incomingId : randomBytes(8).toString('hex');
    const method = request.method ?? 'GET';
    const rawUrl = request.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt < 0 ? '' : rawUrl.slice(queryAt + 1));
    response.setHeader('X-Request-Id', requestId);
    response.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    if (options.tls) response.setHeader('Strict-Transport-Security', 'max-age=31536000');
    active++;
    metrics.inFlight.add(1);

    let route = 'unknown';
    let errorCode: string | undefined;
    // Counted from Content-Length: a 'data' listener here would start the body flowing
    // before its handler is ready to read it.
    const declaredIn = Number(header(request, 'content-length') ?? 0);
    const bytesIn = Number.isSafeInteger(declaredIn) ? declaredIn : 0;

    const finish = (): void => {
      active--;
      metrics.inFlight.add(-1);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = response.statusCode;
      metrics.requests.inc({ route, method, status: String(status) });
      metrics.duration.observe(seconds, { route, method });
      metrics.bytesIn.inc({ route }, bytesIn);
      const bytesOut = Number(response.getHeader('Content-Length') ?? 0);
      metrics.bytesOut.inc({ route }, Number.isFinite(bytesOut) ? bytesOut : 0);
      const level = status >= 500 ? 'error' : 'info';
      if (logger.enabled(level)) {
        logger[level]('request', {
          requestId,
          method,
          route,
          path,
          status,
          ...(errorCode ? { errorCode } : {}),
          durationMs: Math.round(seconds * 1e6) / 1e3,
          bytesIn,
          remote: request.socket?.remoteAddress,
          userAgent: header(request, 'user-agent'),
        });
      }
    };
    let finished = false;
    const finishOnce = (): void => {
      if (!finished) {
        finished = true;
        finish();
      }
    };
    response.on('finish', finishOnce);
    response.on('close', finishOnce);

    const fail = (error: unknown): void => {
      const clientGone = (error as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE' && (response.headersSent || request.destroyed);
      const result = writeError(response, error, method);
      errorCode = clientGone ? 'CLIENT_CLOSED' : result.code;
      if (clientGone) logger.debug('client closed the connection', { requestId, route });
      else if (result.internal !== undefined) logger.error('request failed', { requestId, route, error: result.internal });
    };

    try {
      if (path === '/healthz') {
        route = 'healthz';
        void (options.healthCheck ?? (async () => {}))().then(
          () => sendText(response, 200, 'ok\n'),
          (error: unknown) => {
            logger.error('health check failed', { error });
            sendText(response, 503, 'unavailable\n');
          },
        );
        return;
      }
      if (path === '/metrics') {
        route = 'metrics';
        sendText(response, 200, metrics.registry.render(), 'text/plain; version=0.0.4');
        return;
      }
      let match: RouteMatch | null = null;
      if (path.startsWith('/v2')) match = api.match(request, response, path, query);
      else if (signatureApi && path.startsWith('/extensions/v2/')) match = signatureApi.match(request, response, path, query);
      else for (const routeSet of routes) if ((match = routeSet.match(request, response, path, query))) break;
      if (!match) {
        request.resume();
        throw new RegistryError('NAME_UNKNOWN', `no route for ${method} ${path.slice(0, 200)}`, { status: 404 });
      }
      route = match.route;
      match.handle().catch(fail);
    } catch (error) {
      request.resume();
      fail(error);
    }
  };
  return { handle, inFlight: () => active };
}

function sendText(response: HttpResponse, status: number, text: string, contentType = 'text/plain'): void {
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.writeHead(status);
  response.end(text);
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(options: ServerOptions, host: string, port: number): Promise<RunningServer> {
  const { handle, inFlight } = createRequestHandler(options);
  let server: HttpServer | Http2SecureServer;
  if (options.tls) {
    server = createSecureServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        allowHTTP1: true,
        minVersion: 'TLSv1.2',
      },
      handle,
    );
  } else {
    const plain = createHttpServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, handle);
    server = plain;
  }
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const reloader = options.tls && options.tlsFiles ? watchTlsFiles({ ...options.tlsFiles, server: server as Http2SecureServer, logger: options.logger, contextOptions: { minVersion: 'TLSv1.2' } }) : undefined;
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    close: () => {
      closing ??= (async () => {
        reloader?.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        (server as HttpServer).closeIdleConnections?.();
        const deadline = Date.now() + (options.shutdownTimeoutMs ?? 30_000);
        while (inFlight() > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 25));
          (server as HttpServer).closeIdleConnections?.();
        }
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}
