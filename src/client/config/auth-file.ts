// containers-auth.json(5): where credentials are read from and written to, as podman and
// skopeo do it.
//
// Read order: an explicit --authfile, else REGISTRY_AUTH_FILE (either alone: only that
// file); otherwise $XDG_RUNTIME_DIR/containers/auth.json (or /run/containers/$UID/),
// ($XDG_CONFIG_HOME or ~/.config)/containers/auth.json, $DOCKER_CONFIG/config.json (or
// ~/.docker/config.json) and the legacy ~/.dockercfg. Writes go to the first of those.
// Within a file, keys are tried most specific first (host/ns/repo, host/ns, host); a
// `credHelpers` entry for the host delegates to docker-credential-<helper>, and a
// `credsStore` is the fallback for hosts without an entry. Secrets never appear in errors.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UsageError } from '../../core/errors.ts';
import { looksLikeRegistry, parseReference, type ImageReference } from '../reference.ts';
import { AUTH_FILE_HELPER } from './registries-conf.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** An OAuth2 refresh token (Docker's `identitytoken`), used instead of the password. */
  readonly identityToken?: string;
  /** The file or `docker-credential-<helper>` the credentials came from. */
  readonly source: string;
}

export type HelperAction = 'get' | 'store' | 'erase';
export interface HelperResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}
/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
export type HelperRunner = (helper: string, action: HelperAction, input: string) => Promise<HelperResult>;

export interface AuthFileOptions {
  /** --authfile: the only file read and written. */
  readonly authFile?: string;
  /** Environment: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG, HOME. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
  readonly uid?: number;
  /** registries.conf credential-helpers; default ["containers-auth.json"]. */
  readonly credentialHelpers?: readonly string[];
  /** How to run credential helpers; defaults to spawning them from PATH. */
  readonly runHelper?: HelperRunner;
}

export class AuthFileError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'AuthFileError';
  }
}

export interface AuthPath {
  readonly path: string;
  /** ~/.dockercfg: entries at the top level, keys are registry URLs. */
  readonly legacy: boolean;
}

/** The files consulted for credentials, in order. */
export function authFilePaths(options: AuthFileOptions = {}): AuthPath[] {
  const env = options.env ?? {};
  const explicit = options.authFile ?? nonEmpty(env.REGISTRY_AUTH_FILE);
  if (explicit !== undefined) return [{ path: explicit, legacy: false }];
  const paths: AuthPath[] = [];
  const runtime = runtimeAuthFile(options);
  if (runtime !== undefined) paths.push({ path: runtime, legacy: false });
  const home = options.homeDir ?? nonEmpty(env.HOME);
  const configHome = nonEmpty(env.XDG_CONFIG_HOME) ?? (home === undefined ? undefined : join(home, '.config'));
  if (configHome !== undefined) paths.push({ path: join(configHome, 'containers', 'auth.json'), legacy: false });
  const dockerConfig = nonEmpty(env.DOCKER_CONFIG);
  if (dockerConfig !== undefined) paths.push({ path: join(dockerConfig, 'config.json'), legacy: false });
  else if (home !== undefined) paths.push({ path: join(home, '.docker', 'config.json'), legacy: false });
  if (home !== undefined) paths.push({ path: join(home, '.dockercfg'), legacy: true });
  return paths;
}

/** The file `login` and `logout` change. */
export function authFileWritePath(options: AuthFileOptions = {}): string {
  const env = options.env ?? {};
  const explicit = options.authFile ?? nonEmpty(env.REGISTRY_AUTH_FILE);
  if (explicit !== undefined) return explicit;
  const runtimeDir = nonEmpty(env.XDG_RUNTIME_DIR);
  if (runtimeDir !== undefined && !isDirectory(runtimeDir)) {
    throw new AuthFileError(`XDG_RUNTIME_DIR "${runtimeDir}" does not exist; set it correctly or use --authfile`);
  }
  const path = runtimeAuthFile(options);
  if (path === undefined) throw new AuthFileError('cannot choose an auth file: set XDG_RUNTIME_DIR or use --authfile');
  return path;
}

function runtimeAuthFile(options: AuthFileOptions): string | undefined {
  const runtimeDir = nonEmpty(options.env?.XDG_RUNTIME_DIR);
  if (runtimeDir !== undefined) return isDirectory(runtimeDir) ? join(runtimeDir, 'containers', 'auth.json') : undefined;
  const uid = options.uid ?? process.getuid?.();
  return uid === undefined ? undefined : join('/run/containers', String(uid), 'auth.json');
}

/**
 * The key under which credentials are stored: `host` or `host/namespace[/repo]`, no
 * scheme, tag or digest. Docker Hub aliases are normalised to docker.io.
 */
export function validateAuthKey(key: string): string {
  const trimmed = key.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) throw new AuthFileError(`invalid registry "${key}": give host[:port][/namespace], without http:// or https://`);
  const slash = trimmed.indexOf('/');
  let host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  if (host.length === 0 || (!looksLikeRegistry(host) && host !== trimmed)) throw new AuthFileError(`invalid registry "${key}": the first component must be a registry host`);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  if (slash === -1) {
    try {
      parseReference(`${host}/x`);
    } catch {
      throw new AuthFileError(`invalid registry "${key}": not a host[:port]`);
    }
    return host;
  }
  const path = trimmed.slice(slash + 1);
  let ref: ImageReference;
  try {
    ref = parseReference(`${host}/${path}`, { defaultTag: false });
  } catch (error) {
    throw new AuthFileError(`invalid registry "${key}": ${(error as Error).message}`);
  }
  if (ref.tag !== undefined || ref.digest !== undefined) throw new AuthFileError(`invalid registry "${key}": must not contain a tag or digest`);
  return `${host}/${path}`;
}

/** Most specific first: host/ns/repo, host/ns, host. */
export function authKeysFor(target: string | ImageReference): string[] {
  const key = typeof target === 'string' ? validateAuthKey(target) : `${target.registry}/${target.repository}`;
  const keys = [key];
  let rest = key;
  while (rest.includes('/')) {
    rest = rest.slice(0, rest.lastIndexOf('/'));
    keys.push(rest);
  }
  return keys;
}

interface AuthEntry {
  auth?: unknown;
  identitytoken?: unknown;
  [key: string]: unknown;
}

interface AuthDocument {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

/** Credentials for a registry host or repository, or undefined if none are configured. */
export async function getCredentials(target: string | ImageReference, options: AuthFileOptions = {}): Promise<Credentials | undefined> {
  const keys = authKeysFor(target);
  const registry = keys[keys.length - 1]!;
  for (const helper of options.credentialHelpers ?? [AUTH_FILE_HELPER]) {
    const found = helper === AUTH_FILE_HELPER ? await fromAuthFiles(keys, registry, options) : await helperGet(helper, registry, options);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function fromAuthFiles(keys: readonly string[], registry: string, options: AuthFileOptions): Promise<Credentials | undefined> {
  for (const authPath of authFilePaths(options)) {
    const doc = readAuthDocument(authPath.path, authPath.legacy);
    if (doc === undefined) continue;
    const helper = doc.credHelpers?.[registry];
    if (typeof helper === 'string' && helper !== '') {
      const found = await helperGet(helper, registry, options);
      if (found !== undefined) return found;
      continue;
    }
    const auths = doc.auths ?? {};
    const candidates = authPath.legacy ? [registry] : keys;
    let entry: { key: string; value: AuthEntry } | undefined;
    for (const key of candidates) {
      if (Object.hasOwn(auths, key)) {
        entry = { key, value: auths[key]! };
        break;
      }
    }
    if (entry === undefined) {
      for (const [key, value] of Object.entries(auths)) {
        if (normaliseFileKey(key, authPath.legacy) === registry) {
          entry = { key, value };
          break;
        }
      }
    }
    if (entry !== undefined) {
      const decoded = decodeEntry(entry.value, authPath.path);
      if (decoded !== undefined) return decoded;
    }
    if (typeof doc.credsStore === 'string' && doc.credsStore !== '') {
      const found = await helperGet(doc.credsStore, registry, options);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Docker wrote URLs (`https://index.docker.io/v1/`) as keys; compare by host. */
function normaliseFileKey(key: string, legacy: boolean): string {
  const stripped = key.replace(/^https?:\/\//, '');
  const host = legacy || stripped !== key ? stripped.split('/')[0]! : stripped;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function decodeEntry(entry: AuthEntry, source: string): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const identityToken = typeof entry.identitytoken === 'string' && entry.identitytoken !== '' ? entry.identitytoken : undefined;
  const auth = typeof entry.auth === 'string' ? entry.auth : '';
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) {
    // Docker leaves `{}` entries behind when a helper holds the secret; skip those.
    return identityToken === undefined ? undefined : { username: '', password: '', identityToken, source };
  }
  const password = decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '');
  return { username: decoded.slice(0, colon), password, ...(identityToken === undefined ? {} : { identityToken }), source };
}

function readAuthDocument(path: string, legacy: boolean): AuthDocument | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new AuthFileError(`${path}: cannot read: ${(error as Error).message}`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AuthFileError(`${path}: not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AuthFileError(`${path}: must contain a JSON object`);
  if (legacy) return { auths: parsed as Record<string, AuthEntry> };
  const doc = parsed as AuthDocument;
  if (doc.auths !== undefined && (typeof doc.auths !== 'object' || doc.auths === null || Array.isArray(doc.auths))) {
    throw new AuthFileError(`${path}: "auths" must be an object`);
  }
  if (doc.credHelpers !== undefined && (typeof doc.credHelpers !== 'object' || doc.credHelpers === null || Array.isArray(doc.credHelpers))) {
    throw new AuthFileError(`${path}: "credHelpers" must be an object`);
  }
  return doc;
}

async function helperGet(helper: string, registry: string, options: AuthFileOptions): Promise<Credentials | undefined> {
  const run = options.runHelper ?? spawnHelper(options.env);
  const result = await run(helper, 'get', registry);
  const source = `docker-credential-${helper}`;
  if (result.exitCode !== 0) {
    if (/credentials not found/i.test(result.stdout + result.stderr)) return undefined;
    throw new AuthFileError(`${source} get for ${registry} failed (exit ${result.exitCode}): ${firstLine(result.stderr || result.stdout)}`);
  }
  let parsed: { Username?: unknown; Secret?: unknown };
  try {
    parsed = JSON.parse(result.stdout) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new AuthFileError(`${source} get for ${registry} returned output that is not JSON`);
  }
  if (typeof parsed.Secret !== 'string' || typeof parsed.Username !== 'string') {
    throw new AuthFileError(`${source} get for ${registry} returned no Username/Secret`);
  }
  if (parsed.Username === '<token>') return { username: '', password: '', identityToken: parsed.Secret, source };
  return { username: parsed.Username, password: parsed.Secret, source };
}

async function helperCall(helper: string, action: 'store' | 'erase', input: string, registry: string, options: AuthFileOptions): Promise<boolean> {
  const run = options.runHelper ?? spawnHelper(options.env);
  const result = await run(helper, action, input);
  if (result.exitCode === 0) return true;
  if (action === 'erase' && /credentials not found/i.test(result.stdout + result.stderr)) return false;
  throw new AuthFileError(`docker-credential-${helper} ${action} for ${registry} failed (exit ${result.exitCode}): ${firstLine(result.stderr || result.stdout)}`);
}

function spawnHelper(env: Readonly<Record<string, string | undefined>> | undefined): HelperRunner {
  return (helper, action, input) =>
    new Promise((resolve, reject) => {
      if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
        reject(new AuthFileError(`invalid credential helper name "${helper}"`));
        return;
      }
      const program = `docker-credential-${helper}`;
      const child = spawn(program, [action], { stdio: ['pipe', 'pipe', 'pipe'], ...(env === undefined ? {} : { env: env as NodeJS.ProcessEnv }) });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(new AuthFileError(error.code === 'ENOENT' ? `credential helper ${program} not found in PATH` : `cannot run ${program}: ${error.message}`));
      });
      child.on('close', (code) => {
        resolve({ exitCode: code ?? 1, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
}

export interface StoreCredentialsOptions extends AuthFileOptions {
  readonly identityToken?: string;
}

/**
 * `login`: stores credentials for a host or host/namespace[/repo] key, in the write file
 * (or through the file's credHelpers/credsStore entry or the first configured helper),
 * preserving everything else in the file. Returns where they went.
 */
export async function storeCredentials(key: string, username: string, password: string, options: StoreCredentialsOptions = {}): Promise<string> {
  const normalised = validateAuthKey(key);
  if (username.includes(':')) throw new AuthFileError('the username must not contain ":"');
  const registry = normalised.split('/')[0]!;
  const firstHelper = (options.credentialHelpers ?? [AUTH_FILE_HELPER])[0] ?? AUTH_FILE_HELPER;
  if (firstHelper !== AUTH_FILE_HELPER) return storeInHelper(firstHelper, normalised, registry, username, password, options);
  const path = authFileWritePath(options);
  const doc = readAuthDocument(path, false) ?? {};
  const helper = doc.credHelpers?.[registry] ?? (typeof doc.credsStore === 'string' && doc.credsStore !== '' ? doc.credsStore : undefined);
  if (helper !== undefined) return storeInHelper(helper, normalised, registry, username, password, options);
  const entry: AuthEntry = { auth: Buffer.from(`${username}:${password}`, 'utf8').toString('base64') };
  if (options.identityToken !== undefined) entry.identitytoken = options.identityToken;
  doc.auths = { ...(doc.auths ?? {}), [normalised]: entry };
  writeAuthDocument(path, doc);
  return path;
}

async function storeInHelper(helper: string, key: string, registry: string, username: string, password: string, options: AuthFileOptions): Promise<string> {
  if (key !== registry) throw new AuthFileError(`credential helpers store credentials per registry, not for "${key}"`);
  await helperCall(helper, 'store', JSON.stringify({ ServerURL: registry, Username: username, Secret: password }), registry, options);
  return `docker-credential-${helper}`;
}

/** `logout`: removes the key's credentials; false when there were none. */
export async function removeCredentials(key: string, options: AuthFileOptions = {}): Promise<boolean> {
  const normalised = validateAuthKey(key);
  const registry = normalised.split('/')[0]!;
  let removed = false;
  for (const helper of options.credentialHelpers ?? [AUTH_FILE_HELPER]) {
    if (helper !== AUTH_FILE_HELPER) {
      if (normalised === registry && (await helperCall(helper, 'erase', registry, registry, options))) removed = true;
      continue;
    }
    const path = authFileWritePath(options);
    const doc = readAuthDocument(path, false);
    if (doc === undefined) continue;
    const fileHelper = doc.credHelpers?.[registry];
    if (fileHelper !== undefined && normalised === registry && (await helperCall(fileHelper, 'erase', registry, registry, options))) removed = true;
    if (doc.auths !== undefined && Object.hasOwn(doc.auths, normalised)) {
      const { [normalised]: _gone, ...rest } = doc.auths;
      doc.auths = rest;
      writeAuthDocument(path, doc);
      removed = true;
    }
  }
  return removed;
}

/** `logout --all`: empties `auths` in the write file, keeping its other settings. */
export function removeAllCredentials(options: AuthFileOptions = {}): void {
  const path = authFileWritePath(options);
  const doc = readAuthDocument(path, false);
  if (doc === undefined) return;
  doc.auths = {};
  writeAuthDocument(path, doc);
}

/** Writes via a temporary file and rename, mode 0600, creating the parent 0700. */
function writeAuthDocument(path: string, doc: AuthDocument): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.auth.json.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    writeSync(fd, `${JSON.stringify(doc, null, '\t')}\n`);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw new AuthFileError(`${path}: cannot write: ${(error as Error).message}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line || 'no message';
}
