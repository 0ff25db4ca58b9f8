// Types for the parts of @20minutes/s3rver (a JavaScript package) the tests use.
declare module '@20minutes/s3rver' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverContext {
    readonly method: string;
    readonly path: string;
    readonly query: Record<string, string | undefined>;
    readonly headers: Record<string, string | string[] | undefined>;
    req: NodeJS.ReadableStream;
    status: number;
    body: unknown;
    type: string;
    set(name: string, value: string): void;
    readonly response: { get(name: string): string };
  }

  type Middleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;

  export default class S3rver {
    constructor(options: { directory: string; silent?: boolean; serviceEndpoint?: string; allowMismatchedSignatures?: boolean });
    readonly middleware: Middleware[];
    readonly store: { putBucket(name: string): Promise<unknown> };
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }
}
