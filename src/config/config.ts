// Server configuration: one table of settings, read from a YAML file, then CUSTODY_*
// environment variables, then command-line flags (later wins). Each setting's env name
// and flag derive from its path: `limits.maxManifestBytes` is CUSTODY_LIMITS_MAX_MANIFEST_BYTES
// and --limits-max-manifest-bytes. Every mistake is reported, one line each.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { LogLevel } from '../observability/logger.ts';
import { ConfigError } from './config-error.ts';
import { parseHeaderList } from './header-list.ts';

export { parseHeaderList };
import { checkUpstreamSet, parseUpstreamEntries, parseUpstreamList, type ProxyConfig } from './proxy-config.ts';

export { ConfigError };
import { SETTINGS } from './settings.ts';
import { convert, flatten, parseDuration, parseListen } from './setting-values.ts';

export { parseDuration, parseListen };

export { SETTINGS };

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
  readonly lifecycle: { readonly timeMachineWindowMs: number; readonly expiryIntervalMs: number; readonly quotaReconcileIntervalMs: number; readonly retentionIntervalMs: number };
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
  readonly oidc?: OidcConfig | undefined;
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

/** Single sign-on to the web catalog through an OpenID Connect provider. */
export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly groupsClaim: string;
  readonly scopes: string;
  readonly displayName: string;
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
  const oidcIssuer = get<string | undefined>('oidc.issuer');
  if (oidcIssuer !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(oidcIssuer)) problems.push('oidc.issuer: expected https://host[/path]');
    if (get<string | undefined>('oidc.clientId') === undefined || get<string | undefined>('oidc.clientSecret') === undefined) problems.push('oidc: set oidc.clientId and oidc.clientSecret with oidc.issuer');
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
    lifecycle: { timeMachineWindowMs: get('lifecycle.timeMachine'), expiryIntervalMs: get('lifecycle.expiryInterval'), quotaReconcileIntervalMs: get('lifecycle.quotaReconcileInterval'), retentionIntervalMs: get('lifecycle.retentionInterval') },
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
    oidc:
      oidcIssuer !== undefined
        ? {
            issuer: oidcIssuer,
            clientId: get<string>('oidc.clientId'),
            clientSecret: get<string>('oidc.clientSecret'),
            groupsClaim: get('oidc.groupsClaim'),
            scopes: get('oidc.scopes'),
            displayName: get('oidc.displayName'),
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

export function describeSettings(): string {
  return SETTINGS.map((setting) => {
    const fallback = setting.default === undefined ? '' : ` (default ${String(setting.default)})`;
    return `  --${flagName(setting.path).padEnd(28)} ${envName(setting.path).padEnd(36)} ${setting.description}${fallback}`;
  }).join('\n');
}
