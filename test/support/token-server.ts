// A small token server (Docker registry token authentication): GET /token with service,
// scope(s) and optional Basic credentials; POST /token for the OAuth2 refresh-token
// grant. Issues ES256 JWTs carrying the signing certificate in the `x5c` header, which
// CNCF Distribution verifies against its `rootcertbundle`. Records every request.
import { createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TokenRequestRecord {
  readonly method: string;
  readonly account: string | undefined;
  readonly authenticated: boolean;
  readonly service: string | undefined;
  readonly scopes: readonly string[];
}

export interface Access {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

export interface TokenServerOptions {
  readonly service: string;
  readonly issuer: string;
  /** Signing key and certificate (PEM) and the chain above it, leaf first. */
  readonly key: string;
  readonly chain: readonly string[];
  readonly users?: Readonly<Record<string, string>>;
  /** OAuth2 refresh tokens accepted by POST, each mapped to its user. */
  readonly refreshTokens?: Readonly<Record<string, string>>;
  /** Token lifetime announced in expires_in (seconds); undefined omits it. */
  readonly expiresIn?: number;
  /** Which field carries a GET's token: Docker's `token` or OAuth2's `access_token` (POST always uses access_token). */
  readonly field?: 'token' | 'access_token';
  /** Anonymous requests get pull only; authenticated ones everything asked. */
  readonly grant?: (user: string | undefined, access: Access) => string[];
}

export interface TokenServer {
  readonly url: string;
  readonly realm: string;
  readonly requests: TokenRequestRecord[];
  close(): Promise<void>;
}

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const requests: TokenRequestRecord[] = [];
  const privateKey = createPrivateKey(options.key);
  const x5c = options.chain.map((pem) => new X509Certificate(pem).raw.toString('base64'));
  const grant = options.grant ?? ((user, access) => (user === undefined ? access.actions.filter((action) => action === 'pull') : access.actions));

  const issue = (user: string | undefined, scopes: readonly string[]): string => {
    const access: Access[] = [];
    for (const scope of scopes) {
      const parts = scope.split(':');
      if (parts.length < 3) continue;
      const actions = parts[parts.length - 1]!.split(',').filter((action) => action !== '');
      const entry = { type: parts[0]!, name: parts.slice(1, -1).join(':'), actions };
      access.push({ ...entry, actions: grant(user, entry) });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = { iss: options.issuer, sub: user ?? '', aud: options.service, exp: now + (options.expiresIn ?? 60), nbf: now - 5, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://token');
      const reply = (status: number, body: unknown): void => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (url.pathname !== '/token') return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
      let user: string | undefined;
      let scopes: string[];
      let service: string | undefined;
      if (req.method === 'POST') {
        const form = new URLSearchParams(await readAll(req));
        scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
        service = form.get('service') ?? undefined;
        const refresh = form.get('refresh_token') ?? '';
        user = options.refreshTokens?.[refresh];
        requests.push({ method: 'POST', account: user, authenticated: user !== undefined, service, scopes });
        if (form.get('grant_type') !== 'refresh_token' || user === undefined) return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
      } else {
        await readAll(req);
        scopes = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter((scope) => scope !== '');
        service = url.searchParams.get('service') ?? undefined;
        const authorization = req.headers.authorization;
        let authenticated = false;
        if (authorization?.startsWith('Basic ')) {
          const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          const name = decoded.slice(0, colon);
          if (colon < 0 || options.users?.[name] !== decoded.slice(colon + 1)) {
            requests.push({ method: 'GET', account: name, authenticated: false, service, scopes });
            return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] });
          }
          user = name;
          authenticated = true;
        }
        requests.push({ method: 'GET', account: url.searchParams.get('account') ?? undefined, authenticated, service, scopes });
      }
      if (service !== options.service) return reply(400, { errors: [{ code: 'INVALID_SERVICE', message: `unknown service ${service}` }] });
      const token = issue(user, scopes);
      // OAuth2 (POST) answers carry access_token; the Docker GET flow `token` unless told otherwise.
      const field = req.method === 'POST' ? 'access_token' : (options.field ?? 'token');
      const body: Record<string, unknown> = { [field]: token, issued_at: new Date().toISOString() };
      if (options.expiresIn !== undefined) body.expires_in = options.expiresIn;
      reply(200, body);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    realm: `${url}/token`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

async function readAll(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) parts.push(chunk);
  return Buffer.concat(parts).toString('utf8');
}
