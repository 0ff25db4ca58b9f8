// Server configuration: one table of settings, read from a YAML file, then CUSTODY_*
// environment variables, then command-line flags (later wins). Each setting's env name
// and flag derive from its path: `limits.maxManifestBytes` is CUSTODY_LIMITS_MAX_MANIFEST_BYTES
// and --limits-max-manifest-bytes. Every mistake is reported, one line each.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseSize } from '../core/size.ts';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.ts';
import { ConfigError } from './config-error.ts';
import { parseHeaderList } from './header-list.ts';

export { parseHeaderList };
import { checkUpstreamSet, parseUpstreamEntries, parseUpstreamList, type ProxyConfig } from './proxy-config.ts';

export { ConfigError };

type Kind = 'string' | 'path' | 'integer' | 'size' | 'boolean' | 'duration' | 'level' | 'listen' | 'database' | 'upstreams' | 'upstream-list';

interface Setting {
  readonly path: string;
  readonly kind: Kind;
  readonly description: string;
  readonly default?: string | number | boolean;
}

export const SETTINGS: readonly Setting[] = [
  { path: 'listen', kind: 'listen', default: '0.0.0.0:5000', description: 'address and port to serve on (host:port, :port or port)' },
  { path: 'dataDir', kind: 'path', default: './data', description: 'directory for the database, blobs and uploads' },
  { path: 'log.level', kind: 'level', default: 'info', description: 'debug, info, warn or error' },
  { path: 'tls.certFile', kind: 'path', description: 'PEM certificate chain; serves HTTPS (HTTP/1.1 and HTTP/2) when set with tls.keyFile' },
  { path: 'tls.keyFile', kind: 'path', description: 'PEM private key for tls.certFile' },
  { path: 'database.url', kind: 'database', description: 'postgres://user@host:port/db, or sqlite:PATH (default sqlite:<dataDir>/custody.db)' },
  { path: 'storage.path', kind: 'path', description: 'filesystem blob storage root (default <dataDir>)' },
  { path: 'storage.driver', kind: 'string', default: 'filesystem', description: 'where blobs live: filesystem or s3' },
  { path: 'storage.s3.bucket', kind: 'string', description: 'S3 bucket for blobs and uploads (required with storage.driver s3)' },
  { path: 'storage.s3.region', kind: 'string', description: 'the bucket\'s region (default AWS_REGION, else us-east-1)' },
  { path: 'storage.s3.endpoint', kind: 'string', description: 'S3 API URL (default AWS\'s regional endpoint); MinIO, Ceph RGW and others' },
  { path: 'storage.s3.forcePathStyle', kind: 'boolean', default: false, description: 'address the bucket as endpoint/bucket instead of bucket.endpoint' },
  { path: 'storage.s3.accessKeyId', kind: 'string', description: 'access key id (default AWS_ACCESS_KEY_ID)' },
  { path: 'storage.s3.secretAccessKey', kind: 'string', description: 'secret access key (default AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN)' },
  { path: 'storage.s3.redirect', kind: 'boolean', default: false, description: 'redirect blob downloads to presigned S3 URLs (clients must reach the endpoint)' },
  { path: 'redis.url', kind: 'string', description: 'redis://[user:password@]host:port[/db]: shared manifest cache, invalidations (optional; PostgreSQL alone is enough)' },
  { path: 'storage.minFreeBytes', kind: 'integer', default: 1024 * 1024 * 1024, description: '/healthz reports degraded (503) when storage has less free space, in bytes (0: never)' },
  { path: 'limits.maxManifestBytes', kind: 'integer', default: 4 * 1024 * 1024, description: 'largest manifest accepted, in bytes' },
  { path: 'limits.maxBlobBytes', kind: 'integer', default: 0, description: 'largest blob accepted, in bytes (0: no limit)' },
  { path: 'limits.maxPageSize', kind: 'integer', default: 10_000, description: 'most entries in one tags/catalog page' },
  { path: 'limits.bodyIdleTimeout', kind: 'duration', default: '30s', description: 'a request whose body sends nothing for this long is answered 408 and closed (also the time allowed for request headers)' },
  { path: 'limits.maxConnectionsPerAddress', kind: 'integer', default: 256, description: 'open connections one client address may hold; more are closed at once (0: no limit)' },
  { path: 'uploads.automaticMount', kind: 'boolean', default: true, description: 'mount already-stored blobs on ?mount= without from' },
  { path: 'uploads.expireAfter', kind: 'duration', default: '24h', description: 'abandoned uploads are removed after this long' },
  { path: 'gc.online', kind: 'boolean', default: false, description: 'run garbage collection in the background while serving' },
  { path: 'gc.interval', kind: 'duration', default: '1h', description: 'time between background collections' },
  { path: 'gc.gracePeriod', kind: 'duration', default: '1h', description: 'content younger than this is never collected' },
  { path: 'gc.deleteUntagged', kind: 'boolean', default: false, description: 'background collection also removes untagged manifests' },
  { path: 'shutdownTimeout', kind: 'duration', default: '30s', description: 'how long shutdown waits for requests in flight' },
  { path: 'auth.enabled', kind: 'boolean', default: true, description: 'require authentication and permissions (false: everything open, for local development only)' },
  { path: 'auth.anonymousPull', kind: 'boolean', default: false, description: 'anonymous callers may pull public repositories' },
  { path: 'auth.service', kind: 'string', default: 'custody', description: 'the token service name (the `service` of challenges, the audience of tokens)' },
  { path: 'auth.publicUrl', kind: 'string', description: 'external base URL for the token realm (default: from each request\'s Host)' },
  { path: 'auth.tokenLifetime', kind: 'duration', default: '5m', description: 'lifetime of bearer tokens' },
  { path: 'auth.refreshTokenLifetime', kind: 'duration', default: '30d', description: 'lifetime of refresh tokens (docker/podman login)' },
  { path: 'auth.loginMaxFailures', kind: 'integer', default: 5, description: 'failed logins per account (4x per address) before a lockout' },
  { path: 'auth.loginWindow', kind: 'duration', default: '15m', description: 'window over which failed logins are counted' },
  { path: 'auth.loginMaxLockout', kind: 'duration', default: '15m', description: 'longest lockout after repeated failures' },
  { path: 'admin.username', kind: 'string', default: 'admin', description: 'the administrator created at first start' },
  { path: 'admin.password', kind: 'string', description: 'its password (else one is generated and printed once)' },
  { path: 'ldap.url', kind: 'string', description: 'ldap:// or ldaps:// server; LDAP users log in with their directory password' },
  { path: 'ldap.bindDn', kind: 'string', description: 'DN to bind as for searches (default: anonymous)' },
  { path: 'ldap.bindPassword', kind: 'string', description: 'password for ldap.bindDn' },
  { path: 'ldap.userBase', kind: 'string', description: 'base DN of user entries' },
  { path: 'ldap.userFilter', kind: 'string', default: '(uid={username})', description: 'filter finding a user; {username} is escaped' },
  { path: 'ldap.groupBase', kind: 'string', description: 'base DN of groups (default: ldap.userBase\'s parent)' },
  { path: 'ldap.groupFilter', kind: 'string', default: '(|(member={dn})(uniqueMember={dn})(memberUid={username}))', description: 'filter finding a user\'s groups' },
  { path: 'ldap.emailAttribute', kind: 'string', default: 'mail', description: 'attribute holding a user\'s email' },
  { path: 'ldap.caFile', kind: 'path', description: 'PEM CA bundle for ldaps:// or StartTLS' },
  { path: 'ldap.startTls', kind: 'boolean', default: false, description: 'upgrade ldap:// with StartTLS' },
  { path: 'audit.retention', kind: 'duration', default: '90d', description: 'action log entries older than this are removed' },
  { path: 'audit.flushInterval', kind: 'duration', default: '1s', description: 'how often buffered action log entries are written' },
  { path: 'audit.syslog', kind: 'string', description: 'also send each entry to this syslog server (udp://host:port or tcp://host:port)' },
  { path: 'audit.forwardUrl', kind: 'string', description: 'also POST entries (JSON Lines batches) to this HTTP(S) endpoint' },
  { path: 'audit.forwardFormat', kind: 'string', default: 'ndjson', description: 'body of audit.forwardUrl POSTs: ndjson (JSON Lines), elasticsearch (the _bulk API, also OpenSearch) or splunk (HTTP Event Collector)' },
  { path: 'audit.forwardIndex', kind: 'string', default: 'custody-actions', description: 'the Elasticsearch/OpenSearch index (or data stream), or the Splunk index when set explicitly' },
  { path: 'audit.forwardToken', kind: 'string', description: 'credential for audit.forwardUrl: sent as "Authorization: Splunk TOKEN" (splunk) or "ApiKey TOKEN" (elasticsearch) or "Bearer TOKEN" (ndjson); never logged' },
  { path: 'audit.forwardHeaders', kind: 'string', description: 'extra headers for audit.forwardUrl, "Name: value" entries separated by newlines or ";" (tokens, tenant ids); never logged' },
  { path: 'quality.enabled', kind: 'boolean', default: true, description: 'index every pushed image and grade it against the advisory database' },
  { path: 'quality.workers', kind: 'integer', default: 1, description: 'images indexed at the same time by this replica' },
  { path: 'quality.notifyUrl', kind: 'string', description: 'POST a JSON notice here when a grade drops or a new Critical finding appears' },
  { path: 'quality.recheckInterval', kind: 'duration', default: '1h', description: 'how often grades are recomputed as errata age' },
  { path: 'quality.maxLayerBytes', kind: 'size', default: '16GiB', description: 'an image with a layer that inflates to more is not indexed ("too large")' },
  { path: 'quality.maxImageBytes', kind: 'size', default: '32GiB', description: 'an image whose layers inflate to more in all is not indexed ("too large")' },
  { path: 'quality.maxEntries', kind: 'integer', default: 1_000_000, description: 'an image with more tar entries in all is not indexed ("too large")' },
  { path: 'webhooks.dispatchInterval', kind: 'duration', default: '1s', description: 'how often pending webhook deliveries are looked for (new events are sent at once)' },
  { path: 'webhooks.retryBase', kind: 'duration', default: '10s', description: 'first retry of a failed webhook delivery; later retries double, with jitter' },
  { path: 'webhooks.retryMax', kind: 'duration', default: '1h', description: 'longest wait between two attempts of a webhook delivery' },
  { path: 'webhooks.giveUpAfter', kind: 'duration', default: '24h', description: 'a webhook delivery still failing after this long is given up' },
  { path: 'webhooks.disableAfter', kind: 'integer', default: 50, description: 'a webhook is disabled after this many failed attempts in a row' },
  { path: 'webhooks.timeout', kind: 'duration', default: '10s', description: 'how long one webhook delivery may take' },
  { path: 'webhooks.concurrency', kind: 'integer', default: 16, description: 'webhook deliveries in flight at once (each repository still receives its events in order)' },
  { path: 'webhooks.publicUrl', kind: 'string', description: 'the registry URL receivers see in events (CloudEvents source, Distribution target URLs); default: auth.publicUrl, else http://HOST:PORT' },
  { path: 'proxy.upstreams', kind: 'upstreams', description: 'pull-through cache upstreams (YAML list: namespace, url, username, password or passwordFile, caFile, tlsVerify, ttl)' },
  { path: 'proxy.upstream', kind: 'upstream-list', description: 'pull-through cache upstream NAMESPACE=URL (flag repeatable, environment comma-separated), e.g. cache/docker.io=https://registry-1.docker.io' },
  { path: 'proxy.default', kind: 'string', description: 'namespace of the upstream that also serves root paths (library/alpine), for Docker\'s registry-mirrors' },
  { path: 'proxy.ttl', kind: 'duration', default: '15m', description: 'a cached tag is revalidated against its upstream (HEAD) after this long' },
  { path: 'proxy.notFoundTtl', kind: 'duration', default: '30s', description: 'how long an upstream "not found" is remembered' },
  { path: 'proxy.timeout', kind: 'duration', default: '10s', description: 'longest wait for an upstream (connecting included) before the cached copy is served' },
  { path: 'proxy.maxBytes', kind: 'size', description: 'bound on the bytes the pull-through cache holds; the least recently pulled images are evicted past it (default: no bound)' },
  { path: 'proxy.evictionInterval', kind: 'duration', default: '10m', description: 'how often the pull-through cache checks its size bound' },
  { path: 'quality.timeBudget', kind: 'duration', default: '5m', description: 'indexing one image that takes longer is abandoned ("took longer than ...")' },
  { path: 'vulndb.maxAge', kind: 'duration', default: '7d', description: 'advisory data older than this gives no grade (`?`, with the reason)' },
  { path: 'vulndb.update', kind: 'boolean', default: true, description: 'fetch advisory data from the publishers in the background (false: air-gapped, fed by `custody vulndb import/pull`)' },
  { path: 'vulndb.updateInterval', kind: 'duration', default: '6h', description: 'time between background advisory updates' },
  { path: 'vulndb.sources', kind: 'string', description: 'comma-separated NAME[=BASE_URL]: only these sources, or other base URLs (a mirror); default: the publishers, as stored images need them' },
];

export interface Config {
  readonly listen: { readonly host: string; readonly port: number };
  readonly dataDir: string;
  readonly log: { readonly level: LogLevel };
  readonly tls?: { readonly certFile: string; readonly keyFile: string } | undefined;
  readonly database: { readonly driver: 'sqlite'; readonly path: string } | { readonly driver: 'postgres'; readonly url: string };
  readonly storage: ({ readonly driver: 'filesystem'; readonly path: string } | { readonly driver: 's3'; readonly path: string; readonly s3: S3StorageConfig }) & { readonly minFreeBytes: number };
  readonly limits: {
    readonly maxManifestBytes: number;
    readonly maxBlobBytes?: number | undefined;
    readonly maxPageSize: number;
    readonly bodyIdleTimeoutMs: number;
    readonly maxConnectionsPerAddress: number;
  };
  readonly uploads: { readonly automaticMount: boolean; readonly expireAfterMs: number };
  readonly gc: { readonly online: boolean; readonly intervalMs: number; readonly gracePeriodMs: number; readonly deleteUntagged: boolean };
  readonly shutdownTimeoutMs: number;
  /** Redis, when configured: the shared hot cache and pub/sub between replicas. */
  readonly redis?: { readonly url: string } | undefined;
  readonly auth: {
    readonly enabled: boolean;
    readonly anonymousPull: boolean;
    readonly service: string;
    readonly publicUrl?: string | undefined;
    readonly tokenLifetimeMs: number;
    readonly refreshTokenLifetimeMs: number;
    readonly throttle: { readonly maxFailures: number; readonly windowMs: number; readonly maxLockoutMs: number };
  };
  readonly admin: { readonly username: string; readonly password?: string | undefined };
  readonly ldap?: LdapConfig | undefined;
  readonly audit: {
    readonly retentionMs: number;
    readonly flushIntervalMs: number;
    readonly syslog?: string | undefined;
    readonly forwardUrl?: string | undefined;
    readonly forwardFormat: 'ndjson' | 'elasticsearch' | 'splunk';
    readonly forwardIndex: string;
    readonly forwardToken?: string | undefined;
    readonly forwardHeaders?: string | undefined;
  };
  readonly webhooks: {
    readonly dispatchIntervalMs: number;
    readonly retryBaseMs: number;
    readonly retryMaxMs: number;
    readonly giveUpAfterMs: number;
    readonly disableAfter: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
    readonly publicUrl?: string | undefined;
  };
  readonly quality: {
    readonly enabled: boolean;
    readonly workers: number;
    readonly notifyUrl?: string | undefined;
    readonly recheckIntervalMs: number;
    readonly limits: { readonly maxLayerBytes: number; readonly maxImageBytes: number; readonly maxEntries: number };
    readonly timeBudgetMs: number;
  };
  readonly vulndb: { readonly maxAgeMs: number; readonly update: boolean; readonly updateIntervalMs: number; readonly sources?: string | undefined };
  readonly proxy: ProxyConfig;
}

export interface S3StorageConfig {
  readonly bucket: string;
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string | undefined };
  readonly redirect: boolean;
}

export interface LdapConfig {
  readonly url: string;
  readonly bindDn?: string | undefined;
  readonly bindPassword?: string | undefined;
  readonly userBase: string;
  readonly userFilter: string;
  readonly groupBase?: string | undefined;
  readonly groupFilter: string;
  readonly emailAttribute: string;
  readonly caFile?: string | undefined;
  readonly startTls: boolean;
}

export function envName(path: string): string {
  return `CUSTODY_${path.replace(/\./g, '_').replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

export function flagName(path: string): string {
  return path.replace(/\./g, '-').replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export interface ConfigSources {
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Flag values by flag name (without --). */
  readonly flags?: Readonly<Record<string, string | boolean | readonly string[] | undefined>>;
}

interface RawValue {
  readonly value: unknown;
  readonly source: string;
}

export function loadConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  const raw = new Map<string, RawValue>();
  const known = new Set(SETTINGS.map((setting) => setting.path));

  if (sources.file) {
    let document: unknown;
    try {
      document = parseYaml(readFileSync(sources.file, 'utf8'));
    } catch (error) {
      throw new ConfigError([`config file ${sources.file}: ${(error as Error).message.split('\n')[0]}`]);
    }
    if (document !== null && document !== undefined) {
      if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError([`config file ${sources.file}: expected a mapping at the top level`]);
      flatten(document as Record<string, unknown>, '', (path, value) => {
        // A section left empty (`tls:` with its settings commented out) sets nothing.
        if (value === null && !known.has(path) && SETTINGS.some((setting) => setting.path.startsWith(`${path}.`))) return;
        if (!known.has(path)) problems.push(`config file ${sources.file}: unknown setting "${path}"`);
        else raw.set(path, { value, source: `config file ${sources.file}: ${path}` });
      });
    }
  }
  const env = sources.env ?? {};
  for (const setting of SETTINGS) {
    const name = envName(setting.path);
    const value = env[name];
    if (value !== undefined && value !== '') raw.set(setting.path, { value, source: `environment ${name}` });
  }
  for (const setting of SETTINGS) {
    const value = sources.flags?.[flagName(setting.path)];
    if (value !== undefined) raw.set(setting.path, { value, source: `flag --${flagName(setting.path)}` });
  }

  const values = new Map<string, unknown>();
  for (const setting of SETTINGS) {
    const given = raw.get(setting.path);
    const input = given ?? (setting.default === undefined ? undefined : { value: setting.default, source: `default ${setting.path}` });
    if (input === undefined) continue;
    const parsed = convert(setting, input.value);
    if (typeof parsed === 'object' && parsed !== null && 'problem' in parsed) problems.push(`${input.source}: ${parsed.problem}`);
    else values.set(setting.path, parsed);
  }

  const get = <T>(path: string): T => values.get(path) as T;
  const dataDir = resolve(get<string>('dataDir') ?? './data');
  const certFile = get<string | undefined>('tls.certFile');
  const keyFile = get<string | undefined>('tls.keyFile');
  if ((certFile === undefined) !== (keyFile === undefined)) problems.push('tls: set both tls.certFile and tls.keyFile, or neither');
  for (const file of [certFile, keyFile]) {
    if (file !== undefined) {
      try {
        readFileSync(file);
      } catch (error) {
        problems.push(`tls: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
  }
  const publicUrl = get<string | undefined>('auth.publicUrl');
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) problems.push('auth.publicUrl: expected http(s)://host[:port][/path]');
  const ldapUrl = get<string | undefined>('ldap.url');
  const userBase = get<string | undefined>('ldap.userBase');
  if (ldapUrl !== undefined) {
    if (!/^ldaps?:\/\/[^/]+/.test(ldapUrl)) problems.push('ldap.url: expected ldap://host[:port] or ldaps://host[:port]');
    if (userBase === undefined) problems.push('ldap: set ldap.userBase with ldap.url');
    if ((get<string | undefined>('ldap.bindDn') === undefined) !== (get<string | undefined>('ldap.bindPassword') === undefined)) problems.push('ldap: set both ldap.bindDn and ldap.bindPassword, or neither');
  }
  if (!['ndjson', 'elasticsearch', 'splunk'].includes(get<string>('audit.forwardFormat'))) problems.push('audit.forwardFormat: expected ndjson, elasticsearch or splunk');
  const forwardHeaders = get<string | undefined>('audit.forwardHeaders');
  if (forwardHeaders !== undefined) {
    try {
      parseHeaderList(forwardHeaders);
    } catch (error) {
      problems.push(`audit.forwardHeaders: ${(error as Error).message}`);
    }
  }
  for (const key of ['audit.syslog', 'audit.forwardUrl', 'quality.notifyUrl', 'webhooks.publicUrl'] as const) {
    const value = get<string | undefined>(key);
    const pattern = key === 'audit.syslog' ? /^(udp|tcp):\/\/[^/:]+:\d+$/ : /^https?:\/\/[^/]+/;
    if (value !== undefined && !pattern.test(value)) problems.push(`${key}: expected ${key === 'audit.syslog' ? 'udp://host:port or tcp://host:port' : 'an http(s):// URL'}`);
  }
  const s3 = s3Storage(get, env, problems);
  const redisUrl = get<string | undefined>('redis.url');
  if (redisUrl !== undefined && !/^rediss?:\/\/[^/]+/.test(redisUrl)) problems.push('redis.url: expected a redis:// or rediss:// URL');
  const proxy = proxySettings(get, raw, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const database = get<{ driver: 'postgres'; url: string } | { driver: 'sqlite'; path: string } | undefined>('database.url') ?? {
    driver: 'sqlite' as const,
    path: resolve(dataDir, 'custody.db'),
  };
  const maxBlobBytes = get<number>('limits.maxBlobBytes');
  return {
    listen: get('listen'),
    dataDir,
    log: { level: get('log.level') },
    tls: certFile !== undefined && keyFile !== undefined ? { certFile, keyFile } : undefined,
    database,
    storage: {
      ...(s3 ? { driver: 's3' as const, path: resolve(get<string | undefined>('storage.path') ?? dataDir), s3 } : { driver: 'filesystem' as const, path: resolve(get<string | undefined>('storage.path') ?? dataDir) }),
      minFreeBytes: get('storage.minFreeBytes'),
    },
    limits: {
      maxManifestBytes: get('limits.maxManifestBytes'),
      maxBlobBytes: maxBlobBytes > 0 ? maxBlobBytes : undefined,
      maxPageSize: get('limits.maxPageSize'),
      bodyIdleTimeoutMs: get('limits.bodyIdleTimeout'),
      maxConnectionsPerAddress: get('limits.maxConnectionsPerAddress'),
    },
    uploads: { automaticMount: get('uploads.automaticMount'), expireAfterMs: get('uploads.expireAfter') },
    gc: { online: get('gc.online'), intervalMs: get('gc.interval'), gracePeriodMs: get('gc.gracePeriod'), deleteUntagged: get('gc.deleteUntagged') },
    shutdownTimeoutMs: get('shutdownTimeout'),
    redis: redisUrl !== undefined ? { url: redisUrl } : undefined,
    auth: {
      enabled: get('auth.enabled'),
      anonymousPull: get('auth.anonymousPull'),
      service: get('auth.service'),
      publicUrl: publicUrl?.replace(/\/+$/, ''),
      tokenLifetimeMs: get('auth.tokenLifetime'),
      refreshTokenLifetimeMs: get('auth.refreshTokenLifetime'),
      throttle: { maxFailures: Math.max(1, get<number>('auth.loginMaxFailures')), windowMs: get('auth.loginWindow'), maxLockoutMs: get('auth.loginMaxLockout') },
    },
    admin: { username: get('admin.username'), password: get('admin.password') },
    ldap:
      ldapUrl !== undefined && userBase !== undefined
        ? {
            url: ldapUrl,
            bindDn: get('ldap.bindDn'),
            bindPassword: get('ldap.bindPassword'),
            userBase,
            userFilter: get('ldap.userFilter'),
            groupBase: get('ldap.groupBase'),
            groupFilter: get('ldap.groupFilter'),
            emailAttribute: get('ldap.emailAttribute'),
            caFile: get('ldap.caFile'),
            startTls: get('ldap.startTls'),
          }
        : undefined,
    audit: {
      retentionMs: get('audit.retention'),
      flushIntervalMs: get('audit.flushInterval'),
      syslog: get('audit.syslog'),
      forwardUrl: get('audit.forwardUrl'),
      forwardFormat: get('audit.forwardFormat'),
      forwardIndex: get('audit.forwardIndex'),
      forwardToken: get('audit.forwardToken'),
      forwardHeaders: get('audit.forwardHeaders'),
    },
    webhooks: {
      dispatchIntervalMs: get('webhooks.dispatchInterval'),
      retryBaseMs: get('webhooks.retryBase'),
      retryMaxMs: get('webhooks.retryMax'),
      giveUpAfterMs: get('webhooks.giveUpAfter'),
      disableAfter: Math.max(1, get<number>('webhooks.disableAfter')),
      timeoutMs: get('webhooks.timeout'),
      concurrency: Math.max(1, get<number>('webhooks.concurrency')),
      publicUrl: get('webhooks.publicUrl') ?? get('auth.publicUrl'),
    },
    quality: {
      enabled: get('quality.enabled'),
      workers: Math.max(1, get<number>('quality.workers')),
      notifyUrl: get('quality.notifyUrl'),
      recheckIntervalMs: get('quality.recheckInterval'),
      limits: { maxLayerBytes: get('quality.maxLayerBytes'), maxImageBytes: get('quality.maxImageBytes'), maxEntries: get('quality.maxEntries') },
      timeBudgetMs: get('quality.timeBudget'),
    },
    vulndb: { maxAgeMs: get('vulndb.maxAge'), update: get('vulndb.update'), updateIntervalMs: get('vulndb.updateInterval'), sources: get('vulndb.sources') },
    proxy,
  };
}

/** proxy.*: the YAML list and the quick-start NAMESPACE=URL entries together. */
function proxySettings(get: <T>(path: string) => T, raw: ReadonlyMap<string, RawValue>, problems: string[]): ProxyConfig {
  const ttlMs = get<number>('proxy.ttl');
  const listed = raw.get('proxy.upstreams');
  const quick = raw.get('proxy.upstream');
  const upstreams = [
    ...(listed === undefined ? [] : typeof listed.value === 'string' ? parseUpstreamList(listed.value, ttlMs, listed.source, problems) : parseUpstreamEntries(listed.value, ttlMs, listed.source, problems, parseDuration)),
    ...(quick === undefined ? [] : parseUpstreamList(Array.isArray(quick.value) ? quick.value.join(',') : String(quick.value), ttlMs, quick.source, problems)),
  ];
  const defaultNamespace = get<string | undefined>('proxy.default')?.replace(/\/+$/, '');
  checkUpstreamSet(upstreams, defaultNamespace, problems);
  return {
    upstreams,
    defaultNamespace,
    notFoundTtlMs: get('proxy.notFoundTtl'),
    timeoutMs: Math.max(100, get<number>('proxy.timeout')),
    maxBytes: get<number | undefined>('proxy.maxBytes'),
    evictionIntervalMs: Math.max(1000, get<number>('proxy.evictionInterval')),
  };
}

/** storage.driver s3: the bucket's settings, with credentials from them or the standard AWS variables. */
function s3Storage(get: <T>(path: string) => T, env: NodeJS.ProcessEnv, problems: string[]): S3StorageConfig | undefined {
  const driver = get<string>('storage.driver');
  if (driver !== 's3') {
    if (driver !== 'filesystem') problems.push(`storage.driver: expected filesystem or s3, got "${driver}"`);
    return undefined;
  }
  const bucket = get<string | undefined>('storage.s3.bucket');
  if (bucket === undefined) problems.push('storage.s3.bucket: required with storage.driver s3');
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push(`storage.s3.bucket: "${bucket}" is not a valid bucket name`);
  const endpoint = get<string | undefined>('storage.s3.endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint)) problems.push('storage.s3.endpoint: expected an http(s):// URL');
  const accessKeyId = get<string | undefined>('storage.s3.accessKeyId');
  const secretAccessKey = get<string | undefined>('storage.s3.secretAccessKey');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) problems.push('storage.s3: set both storage.s3.accessKeyId and storage.s3.secretAccessKey, or neither');
  // Configured keys win; otherwise the environment's, with its session token (temporary credentials).
  const credentials =
    accessKeyId !== undefined && secretAccessKey !== undefined
      ? { accessKeyId, secretAccessKey }
      : env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined }
        : undefined;
  if (!credentials && accessKeyId === undefined && secretAccessKey === undefined) problems.push('storage.s3: no credentials: set storage.s3.accessKeyId and storage.s3.secretAccessKey, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  if (bucket === undefined || !credentials) return undefined;
  return {
    bucket,
    region: get<string | undefined>('storage.s3.region') ?? (env.AWS_REGION || 'us-east-1'),
    endpoint: endpoint?.replace(/\/+$/, ''),
    forcePathStyle: get('storage.s3.forcePathStyle'),
    credentials,
    redirect: get('storage.s3.redirect'),
  };
}

function flatten(object: Record<string, unknown>, prefix: string, visit: (path: string, value: unknown) => void): void {
  for (const [key, value] of Object.entries(object)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, path, visit);
    else visit(path, value);
  }
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(value: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return null;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]!]!);
}

function convert(setting: Setting, value: unknown): unknown {
  const text = typeof value === 'string' ? value.trim() : value;
  switch (setting.kind) {
    case 'string':
    case 'path':
      if (typeof text !== 'string' || text === '') return { problem: 'expected a non-empty string' };
      return text;
    case 'integer': {
      const number = typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(number) || number < 0) return { problem: `expected a non-negative integer, got "${String(value)}"` };
      if ((setting.path === 'limits.maxPageSize' || setting.path === 'quality.maxEntries') && number < 1) return { problem: 'must be at least 1' };
      return number;
    }
    case 'size': {
      const bytes = typeof text === 'number' ? (Number.isSafeInteger(text) && text >= 0 ? text : null) : typeof text === 'string' ? parseSize(text) : null;
      if (bytes === null) return { problem: `expected a size in bytes, or with a unit such as 512MiB or 16GiB, got "${String(value)}"` };
      if (bytes < 1) return { problem: 'must be at least 1 byte' };
      return bytes;
    }
    case 'boolean':
      if (typeof text === 'boolean') return text;
      if (text === 'true' || text === '1' || text === 'yes') return true;
      if (text === 'false' || text === '0' || text === 'no') return false;
      return { problem: `expected true or false, got "${String(value)}"` };
    case 'duration': {
      const parsed = typeof text === 'string' ? parseDuration(text) : null;
      if (parsed === null) return { problem: `expected a duration such as 30s, 15m, 1h or 7d, got "${String(value)}"` };
      if (setting.path === 'quality.timeBudget' && parsed < 1) return { problem: 'must be longer than 0s' };
      if (setting.path === 'vulndb.updateInterval' && parsed < 1000) return { problem: 'must be at least 1s' };
      if (setting.path === 'limits.bodyIdleTimeout' && parsed < 100) return { problem: 'must be at least 100ms' };
      return parsed;
    }
    case 'upstreams':
    case 'upstream-list':
      // Checked as a whole by proxySettings, with the other proxy settings at hand.
      return value;
    case 'level':
      if (typeof text !== 'string' || !(LOG_LEVELS as readonly string[]).includes(text)) return { problem: `expected one of ${LOG_LEVELS.join(', ')}, got "${String(value)}"` };
      return text;
    case 'listen': {
      const listen = parseListen(String(text));
      if (!listen) return { problem: `expected host:port, :port or port with a port from 0 to 65535, got "${String(value)}"` };
      return listen;
    }
    case 'database': {
      if (typeof text !== 'string') return { problem: 'expected a URL' };
      if (/^postgres(ql)?:\/\//.test(text)) {
        try {
          new URL(text);
        } catch {
          return { problem: 'not a valid postgres:// URL' };
        }
        return { driver: 'postgres', url: text };
      }
      if (text.startsWith('sqlite:')) {
        const path = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
        if (path === '') return { problem: 'sqlite: needs a file path' };
        return { driver: 'sqlite', path: path === ':memory:' ? path : resolve(path) };
      }
      return { problem: `expected postgres://... or sqlite:PATH, got "${text.replace(/:[^:@/]*@/, ':***@')}"` };
    }
  }
}

export function parseListen(value: string): { host: string; port: number } | null {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:]*):)?(\d{1,5})$/.exec(value);
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535) return null;
  let host = match[1] ?? '';
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { host: host === '' ? '0.0.0.0' : host, port };
}

export function describeSettings(): string {
  return SETTINGS.map((setting) => {
    const fallback = setting.default === undefined ? '' : ` (default ${String(setting.default)})`;
    return `  --${flagName(setting.path).padEnd(28)} ${envName(setting.path).padEnd(36)} ${setting.description}${fallback}`;
  }).join('\n');
}
