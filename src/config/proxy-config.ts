// The pull-through cache's settings: upstream registries, each mapped to a repository
// namespace of this registry. They come from `proxy.upstreams` in the YAML file (a list,
// with credentials and TLS), or for a quick start from `--proxy-upstream NAMESPACE=URL`
// (repeatable) and CUSTODY_PROXY_UPSTREAM (comma-separated). Passwords are read here
// and never logged: only `describeUpstream` output (no secrets) may reach a log line.
import { readFileSync } from 'node:fs';

export interface UpstreamConfig {
  /** Repository path prefix served from this upstream: `cache/docker.io`. */
  readonly namespace: string;
  /** The upstream registry's base URL: `https://registry-1.docker.io`. */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Extra CA certificates (PEM file) trusted for this upstream. */
  readonly caFile?: string | undefined;
  /** false turns certificate verification off for this upstream (test setups only). */
  readonly tlsVerify: boolean;
  /** How long a cached tag is served before it is revalidated with a HEAD. */
  readonly ttlMs: number;
}

export interface ProxyConfig {
  readonly upstreams: readonly UpstreamConfig[];
  /** The namespace whose upstream also serves root paths (`library/alpine`): Docker's `registry-mirrors`. */
  readonly defaultNamespace?: string | undefined;
  /** How long an upstream "not found" is remembered. */
  readonly notFoundTtlMs: number;
  /** Longest wait for an upstream's answer (connecting included) before serving stale. */
  readonly timeoutMs: number;
  /** Bound on the bytes the cache's namespaces hold; unbounded when undefined. */
  readonly maxBytes?: number | undefined;
  readonly evictionIntervalMs: number;
}

const NAMESPACE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `NAMESPACE=URL` entries (flag or environment), comma-separated. */
export function parseUpstreamList(text: string, ttlMs: number, source: string, problems: string[]): UpstreamConfig[] {
  const upstreams: UpstreamConfig[] = [];
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const equals = entry.indexOf('=');
    if (equals <= 0) {
      problems.push(`${source}: expected NAMESPACE=URL, got "${redact(entry)}"`);
      continue;
    }
    const upstream = checkUpstream({ namespace: entry.slice(0, equals), url: entry.slice(equals + 1) }, ttlMs, source, problems);
    if (upstream) upstreams.push(upstream);
  }
  return upstreams;
}

/** The YAML list `proxy.upstreams`: mappings with namespace, url, username, password or passwordFile, caFile, tlsVerify, ttl. */
export function parseUpstreamEntries(value: unknown, ttlMs: number, source: string, problems: string[], parseDuration: (text: string) => number | null): UpstreamConfig[] {
  if (!Array.isArray(value)) {
    problems.push(`${source}: expected a list of upstreams (namespace, url, ...)`);
    return [];
  }
  const upstreams: UpstreamConfig[] = [];
  value.forEach((item, index) => {
    const where = `${source}[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where}: expected a mapping with namespace and url`);
      return;
    }
    const entry = item as Record<string, unknown>;
    const known = new Set(['namespace', 'url', 'username', 'password', 'passwordFile', 'caFile', 'tlsVerify', 'ttl']);
    for (const key of Object.keys(entry)) if (!known.has(key)) problems.push(`${where}: unknown setting "${key}"`);
    let password = optionalString(entry.password, `${where}.password`, problems);
    const passwordFile = optionalString(entry.passwordFile, `${where}.passwordFile`, problems);
    if (passwordFile !== undefined) {
      try {
        password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        problems.push(`${where}.passwordFile: cannot read ${passwordFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
    let ttl = ttlMs;
    if (entry.ttl !== undefined) {
      const parsed = typeof entry.ttl === 'string' ? parseDuration(entry.ttl) : null;
      if (parsed === null) problems.push(`${where}.ttl: expected a duration such as 30s or 15m`);
      else ttl = parsed;
    }
    const upstream = checkUpstream(
      {
        namespace: entry.namespace,
        url: entry.url,
        username: optionalString(entry.username, `${where}.username`, problems),
        password,
        caFile: optionalString(entry.caFile, `${where}.caFile`, problems),
        tlsVerify: entry.tlsVerify,
      },
      ttl,
      where,
      problems,
    );
    if (upstream) upstreams.push(upstream);
  });
  return upstreams;
}

/** Every namespace unique and none inside another (a repository belongs to one upstream). */
export function checkUpstreamSet(upstreams: readonly UpstreamConfig[], defaultNamespace: string | undefined, problems: string[]): void {
  for (const [index, upstream] of upstreams.entries()) {
    for (const other of upstreams.slice(index + 1)) {
      if (other.namespace === upstream.namespace || other.namespace.startsWith(`${upstream.namespace}/`) || upstream.namespace.startsWith(`${other.namespace}/`)) {
        problems.push(`proxy: upstream namespaces "${upstream.namespace}" and "${other.namespace}" overlap`);
      }
    }
  }
  if (defaultNamespace !== undefined && !upstreams.some((upstream) => upstream.namespace === defaultNamespace)) {
    problems.push(`proxy.default: "${defaultNamespace}" is not the namespace of a configured upstream`);
  }
}

/** An upstream for log lines and errors: namespace and origin, never credentials. */
export function describeUpstream(upstream: UpstreamConfig): { namespace: string; upstream: string } {
  return { namespace: upstream.namespace, upstream: new URL(upstream.url).origin };
}

function checkUpstream(
  raw: { namespace: unknown; url: unknown; username?: string | undefined; password?: string | undefined; caFile?: string | undefined; tlsVerify?: unknown },
  ttlMs: number,
  where: string,
  problems: string[],
): UpstreamConfig | null {
  const before = problems.length;
  const namespace = typeof raw.namespace === 'string' ? raw.namespace.trim().replace(/\/+$/, '') : '';
  if (!NAMESPACE.test(namespace)) problems.push(`${where}: namespace "${String(raw.namespace ?? '')}" is not a repository path (lower case, like cache/docker.io)`);
  let url: URL | undefined;
  const text = typeof raw.url === 'string' ? raw.url.trim() : '';
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    problems.push(`${where}: url "${redact(text)}" is not an http(s) URL`);
  }
  if (raw.tlsVerify !== undefined && typeof raw.tlsVerify !== 'boolean') problems.push(`${where}.tlsVerify: expected true or false`);
  let { username, password } = raw;
  // user:password@ in a quick-start URL: taken out of the URL so it is never printed with it.
  if (url && (url.username !== '' || url.password !== '')) {
    username ??= decodeURIComponent(url.username);
    password ??= decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
  }
  if ((username === undefined) !== (password === undefined)) problems.push(`${where}: set both username and password (or passwordFile), or neither`);
  if (problems.length > before || !url) return null;
  return { namespace, url: url.origin, username, password, caFile: raw.caFile, tlsVerify: raw.tlsVerify !== false, ttlMs };
}

function optionalString(value: unknown, where: string, problems: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  problems.push(`${where}: expected a non-empty string`);
  return undefined;
}

/** A URL or entry as shown in an error: any user:password@ part hidden. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//***@').slice(0, 200);
}
