// The request and response shapes the handlers use: the common part of node:http's and
// node:http2's compatibility API, so one handler serves HTTP/1.1 and HTTP/2.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';

export type HttpRequest = IncomingMessage | Http2ServerRequest;

export interface HttpResponse extends NodeJS.WritableStream {
  statusCode: number;
  readonly headersSent: boolean;
  /** end() was called. */
  readonly writableEnded: boolean;
  /** The whole response was handed to the connection ('finish'). */
  readonly writableFinished: boolean;
  setHeader(name: string, value: string | number | readonly string[]): unknown;
  getHeader(name: string): string | number | string[] | undefined;
  hasHeader(name: string): boolean;
  writeHead(status: number): unknown;
  end(data?: string | Uint8Array | (() => void)): this;
  destroy(error?: Error): unknown;
}

export function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True once the response can no longer be written: its connection or stream is gone. */
export function responseGone(response: HttpResponse): boolean {
  const shape = response as { destroyed?: boolean; stream?: { destroyed?: boolean } };
  return shape.destroyed === true || shape.stream?.destroyed === true;
}
