// registries.d (containers-registries.d(5)): where a registry's signatures live when the
// registry itself does not store them ("lookaside"), and whether sigstore attachments are
// used. YAML files in one directory, merged; a scope may be defined only once across all
// files; the most specific scope wins (full reference, repository, parent namespaces,
// host, then `*.domain` wildcards), then `default-docker`.
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const SYSTEM_REGISTRIES_D = '/etc/containers/registries.d';
export const USER_REGISTRIES_D = '.config/containers/registries.d';

export interface LookasideNamespace {
  /** For reading, and for writing when no staging location is set. */
  readonly lookaside?: string | undefined;
  /** For writing only. */
  readonly lookasideStaging?: string | undefined;
  /** Old names of the same two settings. */
  readonly sigstore?: string | undefined;
  readonly sigstoreStaging?: string | undefined;
  readonly useSigstoreAttachments?: boolean | undefined;
}

export interface RegistriesD {
  readonly defaultDocker: LookasideNamespace | undefined;
  readonly docker: ReadonlyMap<string, LookasideNamespace>;
  /** Which file defined each scope ('default-docker' included), for messages. */
  readonly sources: ReadonlyMap<string, string>;
}

export class RegistriesDError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistriesDError';
  }
}

/** The directory: `--registries.d DIR`, else $HOME/.config/containers/registries.d when it
 * exists, else /etc/containers/registries.d (containers/image's order). */
export async function registriesDirPath(explicit?: string, home: string = process.env['HOME'] ?? homedir()): Promise<string> {
  if (explicit !== undefined && explicit !== '') return explicit;
  const user = join(home, USER_REGISTRIES_D);
  try {
    await stat(user);
    return user;
  } catch {
    return SYSTEM_REGISTRIES_D;
  }
}

export const EMPTY_REGISTRIES_D: RegistriesD = { defaultDocker: undefined, docker: new Map(), sources: new Map() };

/** Loads and merges every `*.yaml` file of `dir`; a missing directory is an empty configuration. */
export async function loadRegistriesD(dir: string): Promise<RegistriesD> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.yaml')).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_REGISTRIES_D;
    throw error;
  }
  const files: { path: string; text: string }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    files.push({ path, text: await readFile(path, 'utf8') });
  }
  return parseRegistriesD(files);
}

/** Merges already-read files (tests, embedded configuration). */
export function parseRegistriesD(files: readonly { readonly path: string; readonly text: string }[]): RegistriesD {
  let defaultDocker: LookasideNamespace | undefined;
  const docker = new Map<string, LookasideNamespace>();
  const sources = new Map<string, string>();
  for (const { path, text } of files) {
    let document: unknown;
    try {
      document = parseYaml(text);
    } catch (error) {
      throw new RegistriesDError(`parsing ${path}: ${(error as Error).message}`);
    }
    if (document === null || document === undefined) continue;
    if (typeof document !== 'object' || Array.isArray(document)) throw new RegistriesDError(`parsing ${path}: not a YAML mapping`);
    const record = document as Record<string, unknown>;
    const fileDefault = record['default-docker'];
    if (fileDefault !== undefined && fileDefault !== null) {
      if (defaultDocker !== undefined) {
        throw new RegistriesDError(`"default-docker" defined both in "${sources.get('default-docker')}" and "${path}"`);
      }
      defaultDocker = parseNamespace(fileDefault, `${path}: default-docker`);
      sources.set('default-docker', path);
    }
    const scopes = record['docker'];
    if (scopes === undefined || scopes === null) continue;
    if (typeof scopes !== 'object' || Array.isArray(scopes)) throw new RegistriesDError(`parsing ${path}: "docker" is not a mapping`);
    for (const [scope, value] of Object.entries(scopes as Record<string, unknown>)) {
      if (docker.has(scope)) throw new RegistriesDError(`"docker" namespace "${scope}" defined both in "${sources.get(`docker:${scope}`)}" and "${path}"`);
      docker.set(scope, parseNamespace(value ?? {}, `${path}: docker: ${scope}`));
      sources.set(`docker:${scope}`, path);
    }
  }
  return { defaultDocker, docker, sources };
}

function parseNamespace(value: unknown, where: string): LookasideNamespace {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RegistriesDError(`${where}: not a mapping`);
  const record = value as Record<string, unknown>;
  const text = (key: string): string | undefined => {
    const v = record[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new RegistriesDError(`${where}: ${key} must be a string`);
    return v;
  };
  // containers/image spelled the sigstore flag "use-cosign-attachments" before 5.22.
  const flag = record['use-sigstore-attachments'] ?? record['use-cosign-attachments'];
  if (flag !== undefined && flag !== null && typeof flag !== 'boolean') throw new RegistriesDError(`${where}: use-sigstore-attachments must be true or false`);
  return {
    lookaside: text('lookaside'),
    lookasideStaging: text('lookaside-staging'),
    sigstore: text('sigstore'),
    sigstoreStaging: text('sigstore-staging'),
    useSigstoreAttachments: typeof flag === 'boolean' ? flag : undefined,
  };
}

/** A docker reference as registries.d scopes see it. */
export interface ScopedReference {
  /** host[:port], normalised (docker.io). */
  readonly registry: string;
  /** Path inside the registry (library/alpine). */
  readonly repository: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

/**
 * Scopes from most to least specific (containers/image's PolicyConfigurationIdentity and
 * PolicyConfigurationNamespaces): `host/repo:tag` (or `@digest`), `host/repo`, each parent
 * namespace, `host`, then `*.example.com`, `*.com` wildcards of the host.
 */
export function scopesOf(ref: ScopedReference): string[] {
  const name = `${ref.registry}/${ref.repository}`;
  const scopes: string[] = [];
  if (ref.digest !== undefined && ref.tag === undefined) scopes.push(`${name}@${ref.digest}`);
  else if (ref.tag !== undefined) scopes.push(`${name}:${ref.tag}`);
  const parts = name.split('/');
  for (let i = parts.length; i >= 1; i--) scopes.push(parts.slice(0, i).join('/'));
  const host = ref.registry.replace(/:\d+$/, '');
  if (!/^[0-9.]+$/.test(host) && !host.startsWith('[')) {
    const labels = host.split('.');
    for (let i = 1; i < labels.length; i++) scopes.push(`*.${labels.slice(i).join('.')}`);
  }
  return scopes;
}

function namespaceUrl(ns: LookasideNamespace, write: boolean): string | undefined {
  if (write) {
    if (ns.lookasideStaging) return ns.lookasideStaging;
    if (ns.sigstoreStaging) return ns.sigstoreStaging;
  }
  return ns.lookaside || ns.sigstore || undefined;
}

export interface LookasideBase {
  /** The top-level URL with the repository path appended (`…/library/alpine`). */
  readonly url: URL;
  /** Which scope configured it, or 'builtin' for containers/image's default directory. */
  readonly scope: string;
}

/** The builtin default containers/image uses when nothing is configured. */
export function builtinLookasideDir(): string {
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : 1;
  return uid === 0 ? '/var/lib/containers/sigstore' : join(process.env['HOME'] ?? homedir(), '.local/share/containers/sigstore');
}

/** The lookaside base URL for `ref` (for writing when `write`): the most specific scope with
 * a URL wins, then default-docker, then (unless `builtinDefault: false`) the builtin directory. */
export function lookasideBase(config: RegistriesD, ref: ScopedReference, write: boolean, options: { builtinDefault?: boolean } = {}): LookasideBase | undefined {
  let top: string | undefined;
  let scope = 'builtin';
  for (const candidate of scopesOf(ref)) {
    const ns = config.docker.get(candidate);
    const url = ns === undefined ? undefined : namespaceUrl(ns, write);
    if (url !== undefined) { top = url; scope = candidate; break; }
  }
  if (top === undefined && config.defaultDocker !== undefined) {
    const url = namespaceUrl(config.defaultDocker, write);
    if (url !== undefined) { top = url; scope = 'default-docker'; }
  }
  let url: URL;
  if (top !== undefined) {
    try {
      url = new URL(top);
    } catch {
      throw new RegistriesDError(`invalid signature storage URL ${top}`);
    }
  } else {
    if (options.builtinDefault === false) return undefined;
    url = new URL(`file://${builtinLookasideDir()}`);
  }
  const repo = ref.repository;
  if (repo.split('/').some((part) => part === '.' || part === '..' || part === '')) throw new RegistriesDError(`unexpected path elements in ${repo}`);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${repo}`;
  return { url, scope };
}

/** Whether sigstore attachments are to be read and written for `ref` (most specific scope wins). */
export function useSigstoreAttachments(config: RegistriesD, ref: ScopedReference): boolean {
  for (const candidate of scopesOf(ref)) {
    const flag = config.docker.get(candidate)?.useSigstoreAttachments;
    if (flag !== undefined) return flag;
  }
  return config.defaultDocker?.useSigstoreAttachments ?? false;
}
