// containers-registries.conf(5) version 2, with drop-ins per containers-registries.conf.d(5).
//
// File selection (as containers/image does it):
//   - an explicit path, or CONTAINERS_REGISTRIES_CONF: that single file, no drop-ins;
//   - else the user file ($XDG_CONFIG_HOME or ~/.config)/containers/registries.conf if it
//     exists, followed only by the user drop-in directory;
//   - else the system file /etc/containers/registries.conf, then the system drop-in
//     directory, then the user one.
// Drop-ins (`*.conf`, lexical order) override what they set: top-level scalars and arrays
// are replaced, [[registry]] tables replace the table with the same prefix (others are
// added), [aliases] are merged key by key (an empty value removes an alias).
//
// The v1 format ([registries.search], [registries.insecure], [registries.block]) is
// converted when it is the main file, and refused in drop-ins or mixed with v2 keys.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { UsageError } from '../../core/errors.ts';
import { looksLikeRegistry, parseReference, type ImageReference } from '../reference.ts';

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';
export const SYSTEM_REGISTRIES_CONF_DIR = '/etc/containers/registries.conf.d';
export const AUTH_FILE_HELPER = 'containers-auth.json';

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';
const SHORT_NAME_MODES: readonly string[] = ['enforcing', 'permissive', 'disabled'];
const PULL_FROM_MIRROR: readonly string[] = ['all', 'digest-only', 'tag-only'];
/** containers/image's behaviour when no file sets short-name-mode. */
export const DEFAULT_SHORT_NAME_MODE: ShortNameMode = 'permissive';

/** A configuration file that cannot be used; the message names the file and the problem. */
export class RegistriesConfError extends UsageError {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'RegistriesConfError';
    this.file = file;
  }
}

/** A pull or push refused because a [[registry]] table blocks the reference. */
export class RegistryBlockedError extends UsageError {
  readonly prefix: string;
  constructor(reference: string, prefix: string, file: string) {
    super(`registry access to "${reference}" is blocked by the [[registry]] prefix "${prefix}" in ${file}`);
    this.name = 'RegistryBlockedError';
    this.prefix = prefix;
  }
}

export interface MirrorConfig {
  readonly location: string;
  readonly insecure: boolean;
  /** Unset means "all", unless the registry has mirror-by-digest-only. */
  readonly pullFromMirror: PullFromMirror | undefined;
}

export interface RegistryConfig {
  readonly prefix: string;
  /** Empty only for wildcard prefixes: the reference keeps its own registry. */
  readonly location: string;
  readonly insecure: boolean;
  readonly blocked: boolean;
  readonly mirrorByDigestOnly: boolean;
  readonly mirrors: readonly MirrorConfig[];
  /** The file that defined this table. */
  readonly origin: string;
}

export interface AliasConfig {
  readonly value: string;
  readonly origin: string;
}

export interface PullSource {
  /** The reference to request from this endpoint (after location rewriting). */
  readonly reference: ImageReference;
  /** host[:port][/namespace] of the endpoint. */
  readonly location: string;
  readonly insecure: boolean;
  readonly mirror: boolean;
}

export interface BlockedMatch {
  readonly blocked: boolean;
  /** The [[registry]] prefix that matched, if any. */
  readonly prefix: string | undefined;
  readonly origin: string | undefined;
}

interface FileConfig {
  readonly path: string;
  readonly unqualifiedSearchRegistries: readonly string[] | undefined;
  readonly shortNameMode: ShortNameMode | undefined;
  readonly credentialHelpers: readonly string[] | undefined;
  readonly registries: readonly RegistryConfig[];
  /** undefined value = alias removed. */
  readonly aliases: ReadonlyMap<string, string | undefined>;
  readonly warnings: readonly string[];
}

export class RegistriesConf {
  /** Files read, in order (missing ones are not listed). */
  readonly files: readonly string[];
  readonly unqualifiedSearchRegistries: readonly string[];
  /** The file that set unqualified-search-registries, if any. */
  readonly unqualifiedSearchRegistriesOrigin: string | undefined;
  readonly shortNameMode: ShortNameMode;
  readonly shortNameModeOrigin: string | undefined;
  readonly credentialHelpers: readonly string[];
  readonly registries: readonly RegistryConfig[];
  readonly aliases: ReadonlyMap<string, AliasConfig>;
  /** Non-fatal findings (unknown keys) for the caller to show if it wishes. */
  readonly warnings: readonly string[];

  constructor(files: readonly FileConfig[]) {
    let usr: readonly string[] = [];
    let usrOrigin: string | undefined;
    let mode: ShortNameMode = DEFAULT_SHORT_NAME_MODE;
    let modeOrigin: string | undefined;
    let helpers: readonly string[] = [AUTH_FILE_HELPER];
    const registries = new Map<string, RegistryConfig>();
    const aliases = new Map<string, AliasConfig>();
    const warnings: string[] = [];
    for (const file of files) {
      if (file.unqualifiedSearchRegistries !== undefined) {
        usr = file.unqualifiedSearchRegistries;
        usrOrigin = file.path;
      }
      if (file.shortNameMode !== undefined) {
        mode = file.shortNameMode;
        modeOrigin = file.path;
      }
      if (file.credentialHelpers !== undefined) {
        helpers = file.credentialHelpers.length === 0 ? [AUTH_FILE_HELPER] : file.credentialHelpers;
      }
      for (const registry of file.registries) registries.set(registry.prefix, registry);
      for (const [name, value] of file.aliases) {
        if (value === undefined) aliases.delete(name);
        else aliases.set(name, { value, origin: file.path });
      }
      warnings.push(...file.warnings);
    }
    this.files = files.map((file) => file.path);
    this.unqualifiedSearchRegistries = usr;
    this.unqualifiedSearchRegistriesOrigin = usrOrigin;
    this.shortNameMode = mode;
    this.shortNameModeOrigin = modeOrigin;
    this.credentialHelpers = helpers;
    this.registries = [...registries.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
    this.aliases = aliases;
    this.warnings = warnings;
  }

  /** The [[registry]] table whose prefix is the longest match for the reference. */
  findRegistry(reference: ImageReference | string): RegistryConfig | undefined {
    const ref = typeof reference === 'string' ? parseReference(reference) : reference;
    let best: RegistryConfig | undefined;
    let bestLength = -1;
    for (const registry of this.registries) {
      if (matchPrefix(ref, registry.prefix) === -1) continue;
      const length = registry.prefix.length;
      // On equal length an explicit prefix beats a wildcard.
      if (length > bestLength || (length === bestLength && best?.prefix.startsWith('*.') === true && !registry.prefix.startsWith('*.'))) {
        best = registry;
        bestLength = length;
      }
    }
    return best;
  }

  isBlocked(reference: ImageReference | string): BlockedMatch {
    const registry = this.findRegistry(reference);
    return { blocked: registry?.blocked ?? false, prefix: registry?.prefix, origin: registry?.origin };
  }

  /**
   * Where to pull the reference from, in order: the registry's mirrors that apply to it
   * (digest-only mirrors only for digested references, tag-only ones only for tagged
   * ones, none but digested when mirror-by-digest-only), then the primary location.
   * Throws RegistryBlockedError for blocked references.
   */
  pullSources(reference: ImageReference | string): PullSource[] {
    const ref = typeof reference === 'string' ? parseReference(reference) : reference;
    const registry = this.findRegistry(ref);
    if (registry === undefined) return [{ reference: ref, location: ref.registry, insecure: false, mirror: false }];
    if (registry.blocked) throw new RegistryBlockedError(ref.toString(), registry.prefix, registry.origin);
    const digested = ref.digest !== undefined;
    const sources: PullSource[] = [];
    for (const mirror of registry.mirrors) {
      if (registry.mirrorByDigestOnly && !digested) continue;
      if (mirror.pullFromMirror === 'digest-only' && !digested) continue;
      if (mirror.pullFromMirror === 'tag-only' && digested) continue;
      sources.push({ reference: rewrite(ref, registry.prefix, mirror.location, registry.origin), location: mirror.location, insecure: mirror.insecure, mirror: true });
    }
    const primary = rewrite(ref, registry.prefix, registry.location, registry.origin);
    sources.push({ reference: primary, location: registry.location === '' ? primary.registry : registry.location, insecure: registry.insecure, mirror: false });
    return sources;
  }

  /** The primary (non-mirror) location for a push, with its insecure flag. */
  pushDestination(reference: ImageReference | string): PullSource {
    const sources = this.pullSources(reference);
    return sources[sources.length - 1]!;
  }
}

/**
 * Length of the reference string the prefix covers, or -1. As in containers/image, a prefix
 * matches when the reference's name starts with it and continues with "/", "@" or ":" or ends
 * there — so `example.com` also covers `example.com:5000/x`, a documented quirk kept for
 * compatibility. `*.example.com` matches registry hosts under example.com; the match then
 * ends with the host name (a port stays in the remainder).
 */
export function matchPrefix(ref: ImageReference, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const host = ref.registry.replace(/:[0-9]+$/, '');
    const domain = prefix.slice(1);
    return host.endsWith(domain) && host.length > domain.length ? host.length : -1;
  }
  // Matched against the name only (registry/repository), as containers/image's docker
  // transport does: a prefix carrying a tag or digest therefore never matches.
  const name = ref.name;
  if (!name.startsWith(prefix)) return -1;
  if (name.length === prefix.length) return prefix.length;
  const next = name[prefix.length];
  return next === '/' || next === '@' || next === ':' ? prefix.length : -1;
}

function rewrite(ref: ImageReference, prefix: string, location: string, origin: string): ImageReference {
  if (location === '') return ref;
  const length = matchPrefix(ref, prefix);
  const rewritten = location + ref.toString().slice(length);
  try {
    return parseReference(rewritten, { defaultTag: false });
  } catch (error) {
    throw new RegistriesConfError(origin, `rewriting "${ref.toString()}" with prefix "${prefix}" to location "${location}" gives an invalid reference: ${(error as Error).message}`);
  }
}

export interface LoadRegistriesConfOptions {
  /** An explicit file (like `--registries-conf`): read alone, without drop-ins. */
  readonly path?: string;
  /** Environment to consult: CONTAINERS_REGISTRIES_CONF, XDG_CONFIG_HOME, HOME. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly homeDir?: string;
  readonly systemFile?: string;
  readonly systemDropInDir?: string;
}

/** The files that would be read, in order (the main file first, whether or not it exists). */
export function registriesConfFiles(options: LoadRegistriesConfOptions = {}): { main: string; dropInDirs: string[]; explicit: boolean } {
  const env = options.env ?? {};
  const explicit = options.path ?? nonEmpty(env.CONTAINERS_REGISTRIES_CONF);
  if (explicit !== undefined) return { main: explicit, dropInDirs: [], explicit: true };
  const configHome = userConfigHome(env, options.homeDir);
  const systemFile = options.systemFile ?? SYSTEM_REGISTRIES_CONF;
  const systemDir = options.systemDropInDir ?? SYSTEM_REGISTRIES_CONF_DIR;
  if (configHome === undefined) return { main: systemFile, dropInDirs: [systemDir], explicit: false };
  const userFile = join(configHome, 'containers', 'registries.conf');
  const userDir = join(configHome, 'containers', 'registries.conf.d');
  if (isFile(userFile)) return { main: userFile, dropInDirs: [userDir], explicit: false };
  return { main: systemFile, dropInDirs: [systemDir, userDir], explicit: false };
}

/** Loads and merges registries.conf and its drop-ins. Missing files are an empty config. */
export function loadRegistriesConf(options: LoadRegistriesConfOptions = {}): RegistriesConf {
  const { main, dropInDirs, explicit } = registriesConfFiles(options);
  const files: FileConfig[] = [];
  const mainText = readOptional(main);
  if (mainText === undefined && explicit) throw new RegistriesConfError(main, 'file not found');
  if (mainText !== undefined) files.push(parseRegistriesConf(mainText, main, { allowV1: true }));
  for (const dir of dropInDirs) {
    for (const file of dropInFiles(dir)) {
      const text = readOptional(file);
      if (text !== undefined) files.push(parseRegistriesConf(text, file, { allowV1: false }));
    }
  }
  return new RegistriesConf(files);
}

/** Builds a configuration from TOML texts, as if they were the main file and drop-ins in order. */
export function registriesConfFromText(...texts: { path: string; text: string }[]): RegistriesConf {
  return new RegistriesConf(texts.map(({ path, text }, index) => parseRegistriesConf(text, path, { allowV1: index === 0 })));
}

function dropInFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if (isMissing(error)) return [];
    throw new RegistriesConfError(dir, `cannot read drop-in directory: ${(error as Error).message}`);
  }
  return names
    .filter((name) => name.endsWith('.conf'))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => join(dir, name))
    .filter(isFile);
}

function parseRegistriesConf(text: string, path: string, options: { allowV1: boolean }): FileConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : '';
    const message = (error as Error).message.split('\n')[0] ?? 'invalid TOML';
    throw new RegistriesConfError(path, `${message}${where}`);
  }
  const fail = (problem: string): never => {
    throw new RegistriesConfError(path, problem);
  };
  const warnings: string[] = [];
  const v2Keys = ['unqualified-search-registries', 'short-name-mode', 'credential-helpers', 'registry', 'aliases'];
  if ('registries' in doc) {
    if (!options.allowV1) fail('the v1 format ([registries.search] etc.) is not allowed in drop-in files; use version 2 (unqualified-search-registries, [[registry]])');
    const mixed = v2Keys.filter((key) => key in doc);
    if (mixed.length > 0) fail(`mixes the v1 format ([registries.*]) with v2 keys (${mixed.join(', ')}); use version 2 only`);
    return convertV1(doc, path, fail);
  }

  for (const key of Object.keys(doc)) {
    if (!v2Keys.includes(key) && key !== 'additional-layer-store-auth-helper') warnings.push(`${path}: unknown key "${key}" ignored`);
  }
  const usr = optionalStringArray(doc['unqualified-search-registries'], 'unqualified-search-registries', fail);
  if (usr !== undefined) {
    for (const [index, entry] of usr.entries()) {
      const location = validateLocation(entry, `unqualified-search-registries[${index}]`, fail);
      const first = location.split('/')[0]!;
      if (!looksLikeRegistry(first)) fail(`unqualified-search-registries[${index}] "${entry}" is not a registry host[:port]`);
      try {
        parseReference(`${location}/x`);
      } catch {
        fail(`unqualified-search-registries[${index}] "${entry}" is not a valid registry host[:port]`);
      }
    }
  }
  let mode: ShortNameMode | undefined;
  const rawMode = doc['short-name-mode'];
  if (rawMode !== undefined) {
    if (typeof rawMode !== 'string' || !SHORT_NAME_MODES.includes(rawMode)) {
      fail(`invalid short-name-mode ${JSON.stringify(rawMode)}: expected "enforcing", "permissive" or "disabled"`);
    }
    mode = rawMode as ShortNameMode;
  }
  const helpers = optionalStringArray(doc['credential-helpers'], 'credential-helpers', fail);
  if (helpers?.some((helper) => helper.length === 0 || /[\s/]/.test(helper))) fail('credential-helpers entries must be helper names (no spaces or slashes)');

  const registries: RegistryConfig[] = [];
  const rawRegistries = doc.registry;
  if (rawRegistries !== undefined) {
    if (!Array.isArray(rawRegistries)) fail('"registry" must be an array of tables ([[registry]])');
    const seen = new Set<string>();
    for (const [index, raw] of (rawRegistries as unknown[]).entries()) {
      const registry = parseRegistryTable(raw, `[[registry]] #${index + 1}`, path, fail, warnings);
      if (seen.has(registry.prefix)) fail(`[[registry]] #${index + 1}: prefix "${registry.prefix}" is defined more than once`);
      seen.add(registry.prefix);
      registries.push(registry);
    }
    checkConflicts(registries, fail);
  }

  const aliases = new Map<string, string | undefined>();
  const rawAliases = doc.aliases;
  if (rawAliases !== undefined) {
    if (!isTable(rawAliases)) fail('[aliases] must be a table of "short-name" = "registry/repository"');
    for (const [name, value] of Object.entries(rawAliases as Record<string, unknown>)) {
      if (typeof value !== 'string') fail(`alias "${name}": value must be a string`);
      validateAliasName(name, fail);
      if (value === '') {
        aliases.set(name, undefined);
        continue;
      }
      validateAliasValue(name, value as string, fail);
      aliases.set(name, value as string);
    }
  }
  return { path, unqualifiedSearchRegistries: usr, shortNameMode: mode, credentialHelpers: helpers, registries, aliases, warnings };
}

const REGISTRY_KEYS = ['prefix', 'location', 'insecure', 'blocked', 'mirror-by-digest-only', 'mirror'];
const MIRROR_KEYS = ['location', 'insecure', 'pull-from-mirror'];

function parseRegistryTable(raw: unknown, where: string, path: string, fail: (problem: string) => never, warnings: string[]): RegistryConfig {
  if (!isTable(raw)) fail(`${where} must be a table`);
  const table = raw as Record<string, unknown>;
  for (const key of Object.keys(table)) if (!REGISTRY_KEYS.includes(key)) warnings.push(`${path}: ${where}: unknown key "${key}" ignored`);
  const rawLocation = optionalString(table.location, `${where} location`, fail) ?? '';
  const rawPrefix = optionalString(table.prefix, `${where} prefix`, fail) ?? '';
  const location = rawLocation === '' ? '' : validateLocation(rawLocation, `${where} location`, fail);
  let prefix: string;
  if (rawPrefix === '') {
    if (location === '') fail(`${where}: both location and prefix are unset`);
    prefix = location;
  } else {
    prefix = validateLocation(rawPrefix, `${where} prefix`, fail, { wildcard: true });
  }
  const label = `[[registry]] prefix "${prefix}"`;
  if (location === '' && !prefix.startsWith('*.')) fail(`${label}: location may be empty only for a wildcard prefix (*.example.com)`);
  const mirrorByDigestOnly = optionalBoolean(table['mirror-by-digest-only'], `${label} mirror-by-digest-only`, fail) ?? false;
  const mirrors: MirrorConfig[] = [];
  if (table.mirror !== undefined) {
    if (!Array.isArray(table.mirror)) fail(`${label}: "mirror" must be an array of tables ([[registry.mirror]])`);
    for (const [index, rawMirror] of (table.mirror as unknown[]).entries()) {
      const mirrorWhere = `${label} mirror #${index + 1}`;
      if (!isTable(rawMirror)) fail(`${mirrorWhere} must be a table`);
      const mirror = rawMirror as Record<string, unknown>;
      for (const key of Object.keys(mirror)) if (!MIRROR_KEYS.includes(key)) warnings.push(`${path}: ${mirrorWhere}: unknown key "${key}" ignored`);
      const mirrorLocation = optionalString(mirror.location, `${mirrorWhere} location`, fail) ?? '';
      if (mirrorLocation === '') fail(`${mirrorWhere}: location is required`);
      const pull = optionalString(mirror['pull-from-mirror'], `${mirrorWhere} pull-from-mirror`, fail);
      if (pull !== undefined && pull !== '' && !PULL_FROM_MIRROR.includes(pull)) {
        fail(`${mirrorWhere}: invalid pull-from-mirror "${pull}": expected "all", "digest-only" or "tag-only"`);
      }
      if (mirrorByDigestOnly && pull !== undefined && pull !== '') {
        fail(`${label}: mirror-by-digest-only and a mirror's pull-from-mirror cannot both be set`);
      }
      mirrors.push({
        location: validateLocation(mirrorLocation, `${mirrorWhere} location`, fail),
        insecure: optionalBoolean(mirror.insecure, `${mirrorWhere} insecure`, fail) ?? false,
        pullFromMirror: pull === undefined || pull === '' ? undefined : (pull as PullFromMirror),
      });
    }
  }
  return {
    prefix,
    location,
    insecure: optionalBoolean(table.insecure, `${label} insecure`, fail) ?? false,
    blocked: optionalBoolean(table.blocked, `${label} blocked`, fail) ?? false,
    mirrorByDigestOnly,
    mirrors,
    origin: path,
  };
}

function checkConflicts(registries: readonly RegistryConfig[], fail: (problem: string) => never): void {
  const byLocation = new Map<string, RegistryConfig>();
  for (const registry of registries) {
    if (registry.location === '') continue;
    const other = byLocation.get(registry.location);
    if (other === undefined) {
      byLocation.set(registry.location, registry);
      continue;
    }
    if (other.insecure !== registry.insecure) fail(`location "${registry.location}" is defined more than once with conflicting "insecure" settings`);
    if (other.blocked !== registry.blocked) fail(`location "${registry.location}" is defined more than once with conflicting "blocked" settings`);
  }
}

/** Checks a host[:port][/path] location or prefix; trailing slashes are dropped. */
function validateLocation(value: string, what: string, fail: (problem: string) => never, options: { wildcard?: boolean } = {}): string {
  const trimmed = value.replace(/\/+$/, '');
  if (trimmed.includes('://')) fail(`${what} "${value}": URI schemes are not supported (use host[:port][/namespace])`);
  if (trimmed.length === 0 || /\s/.test(trimmed)) fail(`${what} "${value}" is not a valid host[:port][/namespace]`);
  if (trimmed.includes('*')) {
    if (options.wildcard !== true) fail(`${what} "${value}": wildcards are only allowed in prefix`);
    if (!trimmed.startsWith('*.') || /[/@:]/.test(trimmed) || trimmed.slice(1).includes('*') || trimmed.length < 3) {
      fail(`${what} "${value}": a wildcard prefix must have the form *.example.com`);
    }
  }
  return trimmed;
}

function validateAliasName(name: string, fail: (problem: string) => never): void {
  if (name.includes('@')) fail(`invalid short name "${name}" in [aliases]: must not contain a digest`);
  const slash = name.indexOf('/');
  if (slash !== -1 && looksLikeRegistry(name.slice(0, slash))) fail(`invalid short name "${name}" in [aliases]: must not contain a registry`);
  if (name.slice(name.lastIndexOf('/') + 1).includes(':')) fail(`invalid short name "${name}" in [aliases]: must not contain a tag`);
  try {
    parseReference(name);
  } catch (error) {
    fail(`invalid short name in [aliases]: ${(error as Error).message}`);
  }
}

function validateAliasValue(name: string, value: string, fail: (problem: string) => never): void {
  const slash = value.indexOf('/');
  if (slash === -1 || !looksLikeRegistry(value.slice(0, slash))) fail(`alias "${name}" = "${value}": the value must include a registry (host/repository)`);
  if (value.includes('@')) fail(`alias "${name}" = "${value}": the value must not contain a digest`);
  if (value.slice(value.lastIndexOf('/') + 1).includes(':')) fail(`alias "${name}" = "${value}": the value must not contain a tag`);
  try {
    parseReference(value);
  } catch (error) {
    fail(`alias "${name}": ${(error as Error).message}`);
  }
}

function convertV1(doc: Record<string, unknown>, path: string, fail: (problem: string) => never): FileConfig {
  const v1 = doc.registries;
  if (!isTable(v1)) fail('[registries] must be a table');
  const sections = v1 as Record<string, unknown>;
  const list = (name: string): string[] => {
    const section = sections[name];
    if (section === undefined) return [];
    if (!isTable(section)) fail(`[registries.${name}] must be a table`);
    return (optionalStringArray((section as Record<string, unknown>).registries, `[registries.${name}] registries`, fail) ?? []).map((entry) =>
      validateLocation(entry, `[registries.${name}] entry`, fail),
    );
  };
  const search = list('search');
  const insecure = new Set(list('insecure'));
  const blocked = new Set(list('block'));
  const registries: RegistryConfig[] = [];
  for (const location of new Set([...insecure, ...blocked])) {
    registries.push({ prefix: location, location, insecure: insecure.has(location), blocked: blocked.has(location), mirrorByDigestOnly: false, mirrors: [], origin: path });
  }
  return { path, unqualifiedSearchRegistries: search, shortNameMode: undefined, credentialHelpers: undefined, registries, aliases: new Map(), warnings: [] };
}

function optionalString(value: unknown, what: string, fail: (problem: string) => never): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(`${what} must be a string`);
  return value as string;
}

function optionalBoolean(value: unknown, what: string, fail: (problem: string) => never): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') fail(`${what} must be true or false`);
  return value as boolean;
}

function optionalStringArray(value: unknown, what: string, fail: (problem: string) => never): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) fail(`${what} must be an array of strings`);
  return value as string[];
}

function isTable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function userConfigHome(env: Readonly<Record<string, string | undefined>>, homeDir: string | undefined): string | undefined {
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  if (xdg !== undefined) return xdg;
  const home = homeDir ?? nonEmpty(env.HOME);
  return home === undefined ? undefined : join(home, '.config');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new RegistriesConfError(path, `cannot read: ${(error as Error).message}`);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
