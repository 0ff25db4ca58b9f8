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
import { DistributionApi } from './distribution-api.ts';
import { dispatch, unknownPath, type RouteTable } from './route-table.ts';
import { DISCARD_ACTIONS, type ActionRecorder } from '../audit/action.ts';
import type { SignatureStore } from '../metadata/signature-store.ts';
import { SignatureApi } from './signature-api.ts';
import { OpenGate, TokenGate } from './registry-gate.ts';
import type { SecurityServices } from './security.ts';
import type { ManifestGuard } from '../trust/registry-signing-policy.ts';
import { watchTlsFiles, type TlsFiles } from './tls-reloader.ts';
import { writeError } from './error-response.ts';
import { header, responseGone, type HttpRequest, type HttpResponse } from './http-types.ts';
import { watchBodyIdle } from './body-timeout.ts';
import { limitConnectionsPerAddress } from './connection-limit.ts';
import { healthReport, storageGauges, type StorageHealth } from './health.ts';

export interface TlsMaterial {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface ServerOptions {
  readonly registry: Registry;
  /** Authentication and permissions; without it every request is allowed. */
  readonly security?: SecurityServices | undefined;
  readonly actions?: ActionRecorder | undefined;
  /** The route tables of the other areas (token, logs, quality, signing-policy, management, ui...),
   * matched in order after `v2` and `signatures`: the first that matches serves. */
  readonly routes?: readonly RouteTable[];
  /** Signatures stored through the registry extension API (/extensions/v2/.../signatures/...). */
  readonly signatures?: SignatureStore | undefined;
  /** Refuses manifests and blobs a signing policy does not let the caller read (the tag
   * rule of `pull,tag` mode is a write guard inside the registry). */
  readonly manifestGuard?: ManifestGuard | undefined;
  /** Lets other components add their series to /metrics (the action log's queue). */
  readonly registerMetrics?: (registry: MetricsRegistry) => void;
  readonly logger: Logger;
  readonly tls?: TlsMaterial | undefined;
  /** The files `tls` was read from: reloaded when they change. */
  readonly tlsFiles?: TlsFiles | undefined;
  /** Checks dependencies for /healthz; throws when one is down. */
  readonly healthCheck?: () => Promise<void>;
  /** Blob storage space: /healthz is degraded below its minimum, /metrics shows it. */
  readonly storage?: StorageHealth | undefined;
  /** A request body silent this long is answered 408 and its connection closed (default 30 s). */
  readonly bodyIdleTimeoutMs?: number;
  /** Open connections one client address may hold (default: no limit). */
  readonly maxConnectionsPerAddress?: number;
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
  metrics: MetricsRegistry;
} {
  const actions = options.actions ?? DISCARD_ACTIONS;
  const gate = options.security ? new TokenGate(options.security, actions) : new OpenGate();
  const api = new DistributionApi({ registry: options.registry, gate, actions, signaturesExtension: options.signatures !== undefined, guard: options.manifestGuard });
  // The signature API shares the registry's gate: reading needs pull, storing push.
  const signatureApi = options.signatures ? new SignatureApi(options.signatures, gate, actions) : undefined;
  const tables: readonly RouteTable[] = [api, ...(signatureApi ? [signatureApi] : []), ...(options.routes ?? [])];
  const metrics = createServerMetrics();
  processMetrics(metrics.registry);
  options.registerMetrics?.(metrics.registry);
  const refreshStorage = options.storage ? storageGauges(metrics.registry, options.storage) : async () => {};
  const aborted = metrics.registry.counter('custody_http_requests_aborted_total', 'Requests the client abandoned before the response was complete, by route.');
  const logger = options.logger;
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 30_000;
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

    // Set when the body stalled and the 408 went out: the handler's own failure, which
    // follows as its body stream is cut, is then no news.
    let timedOut = false;

    const finish = (): void => {
      active--;
      metrics.inFlight.add(-1);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // 'close' before 'finish': the client went away before the whole response left.
      const abandoned = !response.writableFinished;
      // Only what the client was actually sent: no status when the headers never left.
      const status = response.headersSent ? response.statusCode : undefined;
      metrics.requests.inc({ route, method, status: String(status ?? 0) });
      metrics.duration.observe(seconds, { route, method });
      metrics.bytesIn.inc({ route }, bytesIn);
      if (abandoned) aborted.inc({ route });
      else {
        const bytesOut = Number(response.getHeader('Content-Length') ?? 0);
        metrics.bytesOut.inc({ route }, Number.isFinite(bytesOut) ? bytesOut : 0);
      }
      // An abort is the client's choice, not a server fault: logged, never as an error.
      const level = abandoned ? 'info' : status !== undefined && status >= 500 ? 'error' : 'info';
      if (logger.enabled(level)) {
        logger[level]('request', {
          requestId,
          method,
          route,
          path,
          ...(status === undefined ? {} : { status }),
          ...(abandoned ? { aborted: true } : {}),
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
      if (timedOut) return;
      // The client hung up (or reset) first: nothing can be answered, and it is no fault.
      if (responseGone(response) || (request.destroyed && !request.complete) || (response.headersSent && isPrematureClose(error))) {
        errorCode = 'CLIENT_CLOSED';
        logger.debug('client closed the connection', { requestId, route });
        if (!response.writableEnded) response.destroy();
        return;
      }
      // What is left of the body is read and dropped, so the answer reaches the client
      // and the connection stays usable (a stalled rest is cut by the body timeout).
      if (!request.complete) request.resume();
      const result = writeError(response, error, method);
      errorCode = result.code;
      if (result.internal !== undefined) logger.error('request failed', { requestId, route, error: result.internal });
    };

    // A body that stops arriving: answer 408 (when nothing was answered yet) and close the
    // connection, which also ends the handler's read of it.
    const stalled = (): void => {
      timedOut = true;
      errorCode = 'REQUEST_TIMEOUT';
      const cut = (): void => void request.destroy();
      if (response.headersSent) return cut();
      if (request.httpVersionMajor === 1) response.setHeader('Connection', 'close');
      writeError(response, new RegistryError('REQUEST_TIMEOUT', `the request body sent nothing for ${Math.round(bodyIdleMs / 100) / 10} s; the connection is closed (an upload resumes from the Range its status reports)`), method);
      if (response.writableFinished) cut();
      else response.once('finish', cut);
    };
    // Watched until the body ends, even after the response: a body left to drain behind an
    // early answer (401, 413) that stalls still has its connection cut.
    if (!request.complete) watchBodyIdle(request, bodyIdleMs, stalled);

    try {
      if (path === '/healthz') {
        route = 'healthz';
        void healthReport(options.healthCheck, options.storage).then((report) => {
          if (report.problem !== undefined) logger.error('health check failed', { error: report.problem });
          else if (report.status !== 200) logger.warn('health degraded', { reason: report.text.trim() });
          sendText(response, report.status, report.text);
        });
        return;
      }
      if (path === '/metrics') {
        route = 'metrics';
        void refreshStorage().then(() => sendText(response, 200, metrics.registry.render(), 'text/plain; version=0.0.4'));
        return;
      }
      // /v2/ checks each parameter with the spec's codes; everywhere else, one rule: no
      // parameter holds a NUL (nothing legitimate does, and the database cannot).
      if (!path.startsWith('/v2') && [...query.values()].some((value) => value.includes('\0'))) {
        request.resume();
        throw new RegistryError('INVALID_REQUEST', 'query parameters must not contain a NUL character (%00)');
      }
      const match = dispatch(tables, request, response, path, query);
      if (!match) {
        request.resume();
        throw unknownPath(method, path);
      }
      route = match.route;
      match.handle().catch(fail);
    } catch (error) {
      request.resume();
      fail(error);
    }
  };
  return { handle, inFlight: () => active, metrics: metrics.registry };
}

function isPrematureClose(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

function sendText(response: HttpResponse, status: number, text: string, contentType = 'text/plain'): void {
  response.setHeader('Content-Type', contentType);
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.writeHead(status);
  response.end(text);
}

/** Starts listening; resolves once the port is bound. */
export async function startServer(options: ServerOptions, host: string, port: number): Promise<RunningServer> {
  const { handle, inFlight, metrics } = createRequestHandler(options);
  const bodyIdleMs = options.bodyIdleTimeoutMs ?? 30_000;
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
    // No timeout for a whole request: a blob may take hours. Headers must arrive within
    // the body idle timeout, and a body that goes silent is cut by watchBodyIdle.
    server = createHttpServer(
      { keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: bodyIdleMs, connectionsCheckingInterval: Math.min(30_000, Math.max(bodyIdleMs / 2, 250)) },
      handle,
    );
  }
  const refused = metrics.counter('custody_connections_refused_total', 'Connections closed on arrival: their address held maxConnectionsPerAddress already.');
  limitConnectionsPerAddress(server, options.maxConnectionsPerAddress ?? 0, {
    refused: (address, first) => {
      refused.inc();
      if (first) options.logger.warn('connections refused: too many from one address', { remote: address, limit: options.maxConnectionsPerAddress });
    },
  });
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
