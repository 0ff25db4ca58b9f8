// From what a user types (`docker://NAME` or a bare NAME) and the containers/image-style
// global options to ready RegistryClients: short names resolved through registries.conf
// (a prompt only on a terminal), blocked registries refused naming the rule, `location`
// rewrites and mirrors applied (mirrors first, the primary last), credentials found in
// podman's order (or given with --creds) and certs.d TLS material per endpoint. Plain HTTP
// is used only for registries marked `insecure` or with --tls-verify=false, and then only
// after HTTPS did not answer, as skopeo does.
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { getCredentials, type AuthFileOptions } from './config/auth-file.ts';
import { defaultCertsRoots, registryTlsOptions } from './config/certs-d.ts';
import { loadRegistriesConf, type PullSource, type RegistriesConf } from './config/registries-conf.ts';
import { isShortName, parseReference, parseShortName, type ImageReference } from './reference.ts';
import { RegistryClient, RegistryClientError, type Credentials, type TlsOptions } from './registry-client/index.ts';
import { defaultAliasCacheFile, resolveShortName, type ResolveShortNameOptions } from './short-names.ts';

/** The global options every client command takes. */
export interface ClientOptions {
  readonly registriesConf?: string;
  readonly authFile?: string;
  readonly certDir?: string;
  /** false: no certificate verification, and plain HTTP when HTTPS does not answer. */
  readonly tlsVerify?: boolean;
  /** `user:password`, instead of stored credentials. */
  readonly creds?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Whether a user can be asked (stdin and stdout are terminals); default from process. */
  readonly isTTY?: boolean;
  /** Asks the user which candidate a short name means (on a terminal); the CLI gives one. */
  readonly prompt?: ResolveShortNameOptions['prompt'];
  /** Client tuning (tests). */
  readonly userAgent?: string;
  /**
   * A resolver shared by many sources and destinations (`custody sync`): their registry
   * clients, connections and tokens are reused, and closing one of them leaves it open.
   */
  readonly sharedResolver?: ImageResolver;
  /** Reuse one client per registry and credentials instead of one per lookup. */
  readonly reuseClients?: boolean;
}

/** Strips `docker://`; other transports are refused. */
export function stripTransport(input: string): string {
  if (input.startsWith('docker://')) return input.slice('docker://'.length);
  const scheme = /^([a-z][a-z0-9-]*):/i.exec(input);
  if (scheme !== null && !isBareName(input)) {
    throw new UsageError(`unsupported transport "${scheme[1]}:" in "${input}": only docker:// references are supported`);
  }
  return input;
}

function isBareName(input: string): boolean {
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}

/**
 * One endpoint to read an image from: a configured RegistryClient and the repository there
 * (not to be confused with the transports' ImageSource in src/image/transport.ts).
 */
export interface RegistryEndpoint {
  readonly client: RegistryClient;
  /** The reference as requested at this endpoint (after location rewriting). */
  readonly reference: ImageReference;
  /** Repository at the endpoint. */
  readonly repository: string;
  /** Tag or digest to ask for (undefined for a bare repository). */
  readonly tagOrDigest: string | undefined;
  readonly mirror: boolean;
  /** The name the user's reference resolved to (before mirrors and rewrites). */
  readonly requested: ImageReference;
}

export class ImageResolver {
  readonly options: ClientOptions;
  readonly conf: RegistriesConf;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #clients: RegistryClient[] = [];
  readonly #reused = new Map<string, Promise<RegistryClient>>();

  constructor(options: ClientOptions) {
    this.options = options;
    this.#env = options.env ?? process.env;
    this.conf = loadRegistriesConf({ ...(options.registriesConf === undefined ? {} : { path: options.registriesConf }), env: this.#env });
  }

  /** The fully-qualified candidates for what the user typed, in the order to try them. */
  async candidates(input: string, options: { repositoryOnly?: boolean } = {}): Promise<ImageReference[]> {
    const name = stripTransport(input);
    if (options.repositoryOnly) {
      const short = isShortName(name) ? parseShortName(name) : parseReference(name, { defaultTag: false });
      if (short.tag !== undefined || short.digest !== undefined) throw new UsageError(`"${input}": give a repository without a tag or digest`);
    }
    const isTTY = this.options.isTTY ?? (process.stdin.isTTY === true && process.stdout.isTTY === true);
    const aliasCacheFile = defaultAliasCacheFile(this.#env);
    const resolution = await resolveShortName(name, {
      conf: this.conf,
      isTTY,
      ...(this.options.prompt === undefined ? {} : { prompt: this.options.prompt }),
      ...(aliasCacheFile === undefined ? {} : { aliasCacheFile }),
    });
    return resolution.candidates.map((candidate) => (options.repositoryOnly ? parseReference(candidate.name, { defaultTag: false }) : candidate));
  }

  /** Every endpoint to try for the input, in order (mirrors before primaries, candidates in order). */
  async sources(input: string, options: { repositoryOnly?: boolean; primaryOnly?: boolean } = {}): Promise<RegistryEndpoint[]> {
    const sources: RegistryEndpoint[] = [];
    for (const candidate of await this.candidates(input, options)) {
      const endpoints = this.conf.pullSources(candidate);
      for (const endpoint of options.primaryOnly ? endpoints.slice(-1) : endpoints) sources.push(await this.#source(candidate, endpoint));
    }
    return sources;
  }

  async #source(requested: ImageReference, endpoint: PullSource): Promise<RegistryEndpoint> {
    const reference = endpoint.reference;
    const client = await this.clientFor(reference.registry, { insecure: endpoint.insecure, credentialsFor: reference });
    return {
      client,
      reference,
      repository: reference.repository,
      tagOrDigest: reference.digest ?? reference.tag,
      mirror: endpoint.mirror,
      requested,
    };
  }

  /**
   * A client for `host`, HTTPS unless the registry is insecure (registries.conf or
   * --tls-verify=false) and HTTPS does not answer. `credentials` overrides the lookup.
   */
  async clientFor(host: string, options: { insecure?: boolean; credentialsFor?: ImageReference | string; credentials?: Credentials } = {}): Promise<RegistryClient> {
    if (this.options.reuseClients === true && options.credentials === undefined) {
      const scope = typeof options.credentialsFor === 'string' ? options.credentialsFor : (options.credentialsFor?.name ?? host);
      const key = `${host}\n${options.insecure === true}\n${scope}`;
      let client = this.#reused.get(key);
      if (!client) {
        client = this.#newClient(host, options);
        this.#reused.set(key, client);
        client.catch(() => this.#reused.delete(key));
      }
      return client;
    }
    return this.#newClient(host, options);
  }

  async #newClient(host: string, options: { insecure?: boolean; credentialsFor?: ImageReference | string; credentials?: Credentials }): Promise<RegistryClient> {
    const insecure = options.insecure === true || this.options.tlsVerify === false || this.#insecureInConf(host);
    const tls: TlsOptions = { ...this.tlsOptions(host), ...(insecure ? { rejectUnauthorized: false } : {}) };
    const provider = async (): Promise<Credentials | undefined> => options.credentials ?? (await this.credentials(options.credentialsFor ?? host));
    const make = (scheme: 'https' | 'http'): RegistryClient => {
      const client = new RegistryClient({
        registry: `${scheme}://${host}`,
        credentials: provider,
        tls,
        userAgent: this.options.userAgent ?? 'custody',
        retry: { attempts: 2, baseDelayMs: 100 },
      });
      this.#clients.push(client);
      return client;
    };
    const https = make('https');
    if (!insecure) return https;
    if (await answers(https)) return https;
    return make('http');
  }

  #insecureInConf(host: string): boolean {
    try {
      return this.conf.findRegistry(parseReference(`${host}/x`))?.insecure ?? false;
    } catch {
      return false;
    }
  }

  /** TLS material for host[:port]: --cert-dir, else the certs.d roots. */
  tlsOptions(host: string): TlsOptions {
    const dir = this.options.certDir;
    const found = dir === undefined ? registryTlsOptions(host, defaultCertsRoots(this.#env.HOME ?? homedir())) : registryTlsOptions(basename(dir), [dirname(dir)], { includeSystemRoots: false });
    return {
      ...(found.ca === undefined ? {} : { ca: found.ca }),
      ...(found.cert?.[0] === undefined ? {} : { cert: found.cert[0] }),
      ...(found.key?.[0] === undefined ? {} : { key: found.key[0] }),
    };
  }

  authFileOptions(): AuthFileOptions {
    return {
      ...(this.options.authFile === undefined ? {} : { authFile: this.options.authFile }),
      env: this.#env,
      credentialHelpers: this.conf.credentialHelpers,
    };
  }

  /** --creds, else the stored credentials for the reference or host. */
  async credentials(target: ImageReference | string): Promise<Credentials | undefined> {
    if (this.options.creds !== undefined) {
      const colon = this.options.creds.indexOf(':');
      return { username: this.options.creds.slice(0, colon), password: this.options.creds.slice(colon + 1) };
    }
    const found = await getCredentials(target, this.authFileOptions());
    if (found === undefined) return undefined;
    if (found.identityToken !== undefined) return { identityToken: found.identityToken, username: found.username };
    return { username: found.username, password: found.password };
  }

  close(): void {
    for (const client of this.#clients) client.close();
  }
}

/** Whether the endpoint answers HTTP at all (any status, 401 included). */
async function answers(client: RegistryClient): Promise<boolean> {
  try {
    await client.checkVersion();
    return true;
  } catch (error) {
    return error instanceof RegistryClientError && error.status > 0;
  }
}

