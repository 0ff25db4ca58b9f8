// The one shape of every HTTP area the server serves (`v2`, `token`, `management`,
// `quality`, `signatures`, `signing-policy`, `logs`, and tomorrow `ui`): a route table,
// method + path pattern → handler. http-server.ts dispatches a request through an ordered
// list of tables (the first that matches serves it). The one 405 (with its Allow header)
// and the one 404 for a path no route serves are written here, and nowhere else.
import { RegistryError } from '../core/errors.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';

/** What a table answers for a request it serves. */
export interface RouteMatch {
  /** Stable route name for metrics and logs (no repository names: unbounded cardinality). */
  readonly route: string;
  readonly handle: () => Promise<void>;
}

/** An area of the HTTP surface. Tables built by `routeTable` are data; the `v2` table matches by hand (its gate runs before every handler). */
export interface RouteTable {
  /** The area's name (`v2`, `token`, `management`...). */
  readonly area: string;
  /** The handler for this request, a 405 or this area's not-found; null when the path is not this area's. */
  match(request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null;
}

/** What a route's handler receives. */
export interface RouteCall {
  readonly request: HttpRequest;
  readonly response: HttpResponse;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** The path pattern's capture groups, still percent-encoded (decode with `decodePathPart`). */
  readonly params: readonly string[];
}

export type RouteHandler = (call: RouteCall) => Promise<void>;

export interface Route {
  /** Its name in metrics and logs. */
  readonly name: string;
  /** The exact path, or an anchored pattern whose groups become `params`. */
  readonly path: string | RegExp;
  /** Method → handler; any other method is answered 405 with these in `Allow`, in this order. */
  readonly methods: Readonly<Record<string, RouteHandler>>;
  /** Names per method, where one path holds several operations (the management API). */
  readonly names?: Readonly<Record<string, string>>;
}

export interface RouteTableOptions {
  /** Paths under this prefix that no route matches are this area's not-found, named `unknownRoute`. */
  readonly prefix?: string;
  readonly unknownRoute?: string;
  /** Paths under the prefix that another area serves (the action log inside /api/v1). */
  readonly servedElsewhere?: (path: string) => boolean;
  /** HEAD is answered by a route's GET handler when it names no HEAD of its own. */
  readonly headAsGet?: boolean;
}

/** A route table from data: the first route whose path matches serves, or answers 405. */
export function routeTable(area: string, routes: readonly Route[], options: RouteTableOptions = {}): RouteTable {
  const { prefix, unknownRoute = `${area}_unknown` } = options;
  return {
    area,
    match(request, response, path, query) {
      if (prefix !== undefined && path !== prefix && !path.startsWith(`${prefix}/`)) return null;
      if (options.servedElsewhere?.(path)) return null;
      const method = request.method ?? 'GET';
      for (const route of routes) {
        const params = matchPath(route.path, path);
        if (params === null) continue;
        const chosen = route.methods[method] !== undefined ? method : options.headAsGet && method === 'HEAD' && route.methods.GET !== undefined ? 'GET' : undefined;
        if (chosen === undefined) return methodNotAllowed(request, response, route.names?.[Object.keys(route.methods)[0]!] ?? route.name, Object.keys(route.methods));
        const handler = route.methods[chosen]!;
        return { route: route.names?.[chosen] ?? route.name, handle: () => handler({ request, response, method, path, query, params }) };
      }
      return prefix === undefined ? null : pathNotFound(request, unknownRoute, path);
    },
  };
}

function matchPath(pattern: string | RegExp, path: string): string[] | null {
  if (typeof pattern === 'string') return pattern === path ? [] : null;
  const found = pattern.exec(path);
  return found ? found.slice(1).map((group) => group ?? '') : null;
}

/** The first table's answer for the request; null when no table serves the path (answer `unknownPath`). */
export function dispatch(tables: readonly RouteTable[], request: HttpRequest, response: HttpResponse, path: string, query: URLSearchParams): RouteMatch | null {
  for (const table of tables) {
    const match = table.match(request, response, path, query);
    if (match) return match;
  }
  return null;
}

/** The one 405: the methods the path does serve go in `Allow`. */
export function methodNotAllowed(request: HttpRequest, response: HttpResponse, route: string, allowed: readonly string[]): RouteMatch {
  const method = request.method ?? 'GET';
  return {
    route,
    handle: async () => {
      request.resume();
      response.setHeader('Allow', allowed.join(', '));
      throw new RegistryError('UNSUPPORTED', `${method} is not supported here (allowed: ${allowed.join(', ')})`, { status: 405 });
    },
  };
}

/** The one not-found for a path no route serves: 404 NOT_FOUND in the error envelope. (An unknown
 * repository inside the /v2/ grammar is the domain's NotFound: NAME_UNKNOWN.) */
export function unknownPath(method: string, path: string): RegistryError {
  return new RegistryError('NOT_FOUND', `no route for ${method} ${path.slice(0, 200)}`);
}

/** `unknownPath` as the answer of an area that owns a prefix (so its unknown paths keep their own metric name). */
export function pathNotFound(request: HttpRequest, route: string, path: string): RouteMatch {
  return {
    route,
    handle: async () => {
      request.resume();
      throw unknownPath(request.method ?? 'GET', path);
    },
  };
}
