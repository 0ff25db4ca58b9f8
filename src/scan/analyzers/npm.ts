// npm packages. Like Trivy's image scanning, what is *installed* is what sits in a
// node_modules directory: every `node_modules/<name>/package.json` and
// `node_modules/@scope/<name>/package.json` with a name and a version (global installs in
// /usr/lib/node_modules and /usr/local/lib/node_modules included). Those files are the
// code that runs, whatever a lock file says.
//
// Lock files (package-lock.json v1/v2/v3, npm-shrinkwrap.json, yarn.lock classic and
// berry, pnpm-lock.yaml v5/v6/v9) only *declare* what an install would produce. They are
// parsed here into declared packages; the adapter reports them only for a project
// directory with no installed node_modules packages (an app bundled by webpack or esbuild
// ships its dependencies' code inside the bundle, and the lock file is the only record
// of them), so an installed tree is never counted twice. Dev dependencies are left out:
// a production image does not run them.
import { parse as parseYaml } from 'yaml';
import { decodeText, type FoundPackage } from './found-package.ts';
import { npmPurl } from './purl.ts';

/** Lock files above this are not parsed (the largest real monorepo lock files are tens
 * of MiB; the cap keeps one hostile file from exhausting memory). */
export const MAX_NPM_FILE_BYTES = 64 * 1024 * 1024;

const LOCK_FILE_NAMES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml']);

/** Whether `path` (no leading slash) is an installed package's manifest: the
 * package.json directly inside a package directory under node_modules. Deeper
 * package.json files (`node_modules/x/lib/package.json`) mark module types or subpath
 * exports, not packages. */
export function isNpmPackageManifestPath(path: string): boolean {
  const parts = path.split('/');
  const n = parts.length;
  if (parts[n - 1] !== 'package.json' || n < 3) return false;
  if (parts[n - 3] === 'node_modules') return !parts[n - 2]!.startsWith('@') && parts[n - 2] !== '.bin';
  return n >= 4 && parts[n - 4] === 'node_modules' && parts[n - 3]!.startsWith('@');
}

export function isNpmLockFilePath(path: string): boolean {
  const slash = path.lastIndexOf('/');
  const base = path.slice(slash + 1);
  // A lock file inside node_modules belongs to a published package's sources, not to an
  // install (npm ignores them there): reading it would report packages never installed.
  return LOCK_FILE_NAMES.has(base) && !path.split('/').includes('node_modules');
}

/** The licenses of a package.json: `license` as an SPDX expression or the legacy
 * `{type}` object, or the legacy `licenses` array. */
export function npmLicenses(manifest: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value.trim() !== '') out.push(value.trim());
    else if (value !== null && typeof value === 'object' && typeof (value as { type?: unknown }).type === 'string') {
      add((value as { type: string }).type);
    }
  };
  add(manifest['license']);
  const legacy = manifest['licenses'];
  if (Array.isArray(legacy)) for (const entry of legacy) add(entry);
  else add(legacy);
  return [...new Set(out)];
}

/** Parses an installed package's package.json; null when it is not JSON or lacks a
 * name or version (a private workspace stub, a broken install). */
export function parseNpmPackageJson(path: string, bytes: Uint8Array): FoundPackage | null {
  let manifest: unknown;
  try {
    manifest = JSON.parse(decodeText(bytes));
  } catch {
    return null;
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) return null;
  const record = manifest as Record<string, unknown>;
  const name = record['name'];
  const version = record['version'];
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '') return null;
  const licenses = npmLicenses(record);
  return {
    ecosystem: 'npm',
    name,
    version,
    ...(licenses.length > 0 ? { licenses } : {}),
    path,
    purl: npmPurl(name, version),
  };
}

/** A package a lock file declares. */
export interface DeclaredNpmPackage {
  readonly name: string;
  readonly version: string;
  readonly dev: boolean;
}

/** Registry versions only: git URLs, tarball URLs, `file:` and `link:` targets are not
 * versions an advisory can be compared with. */
function isRegistryVersion(version: string): boolean {
  return /^v?\d+\.\d+\.\d+/.test(version);
}

/** Parses package-lock.json / npm-shrinkwrap.json. v2 and v3 list every installed path
 * under `packages` (the key's last node_modules segment is the name, unless the entry
 * names itself, as aliases do); v1 has only the nested `dependencies` tree. */
export function parsePackageLock(bytes: Uint8Array): DeclaredNpmPackage[] {
  let lock: unknown;
  try {
    lock = JSON.parse(decodeText(bytes));
  } catch {
    return [];
  }
  if (lock === null || typeof lock !== 'object') return [];
  const out: DeclaredNpmPackage[] = [];
  const packages = (lock as { packages?: unknown }).packages;
  if (packages !== null && typeof packages === 'object') {
    for (const [key, value] of Object.entries(packages as Record<string, unknown>)) {
      // "" is the project itself; keys without node_modules are workspace members.
      const at = key.lastIndexOf('node_modules/');
      if (at < 0 || value === null || typeof value !== 'object') continue;
      const entry = value as { name?: unknown; version?: unknown; dev?: unknown; link?: unknown };
      if (entry.link === true || typeof entry.version !== 'string' || !isRegistryVersion(entry.version)) continue;
      const name = typeof entry.name === 'string' ? entry.name : key.slice(at + 'node_modules/'.length);
      out.push({ name, version: entry.version, dev: entry.dev === true });
    }
    return dedupe(out);
  }
  const walk = (deps: unknown, depth: number): void => {
    // The nesting mirrors node_modules directories; a real tree is a few dozen deep.
    if (deps === null || typeof deps !== 'object' || depth > 256) return;
    for (const [name, value] of Object.entries(deps as Record<string, unknown>)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as { version?: unknown; dev?: unknown; dependencies?: unknown };
      if (typeof entry.version === 'string') {
        // v1 writes an alias as `npm:real-name@1.2.3`.
        const alias = /^npm:(@?[^@]+)@(.+)$/.exec(entry.version);
        const [realName, version] = alias !== null ? [alias[1]!, alias[2]!] : [name, entry.version];
        if (isRegistryVersion(version)) out.push({ name: realName, version, dev: entry.dev === true });
      }
      walk(entry.dependencies, depth + 1);
    }
  };
  walk((lock as { dependencies?: unknown }).dependencies, 0);
  return dedupe(out);
}

/** Parses yarn.lock: classic (v1, its own format) and berry (YAML, same block shape).
 * Each unindented block header lists the specifiers (`name@range`) that resolved to the
 * block; the indented `version` line is what was installed. */
export function parseYarnLock(bytes: Uint8Array): DeclaredNpmPackage[] {
  const out: DeclaredNpmPackage[] = [];
  let name: string | null = null;
  for (const line of decodeText(bytes).split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith(' ')) {
      name = line.endsWith(':') ? yarnHeaderName(line.slice(0, -1)) : null;
      continue;
    }
    if (name === null) continue;
    const version = /^ {2}version:? +"?([^"\s]+)"?\s*$/.exec(line);
    if (version !== null) {
      if (isRegistryVersion(version[1]!)) out.push({ name, version: version[1]!, dev: false });
      name = null;
    }
  }
  return dedupe(out);
}

/** The package name of a yarn.lock block header, or null for blocks that are not
 * registry packages (berry's `__metadata`, workspaces, links, patches of local files). */
function yarnHeaderName(header: string): string | null {
  const first = header.split(',')[0]!.trim().replace(/^"|"$/g, '');
  const at = first.indexOf('@', 1);
  if (at < 0) return null;
  const range = first.slice(at + 1);
  if (/^(workspace|link|portal|file):/.test(range)) return null;
  // An alias `alias@npm:real@^1` installs `real`.
  const alias = /^npm:(@?[^@]+)@/.exec(range);
  return alias !== null ? alias[1]! : first.slice(0, at);
}

/** Parses pnpm-lock.yaml. The `packages` keys name each resolved package: v5
 * `/name/1.2.3` (`/@scope/name/1.2.3_peer@1`), v6 `/name@1.2.3(peer@1)`, v9 `name@1.2.3`. */
export function parsePnpmLock(bytes: Uint8Array): DeclaredNpmPackage[] {
  let lock: unknown;
  try {
    // pnpm writes plain YAML (no anchors), so alias expansion is not needed: refusing it
    // keeps a hostile file from expanding into gigabytes.
    lock = parseYaml(decodeText(bytes), { maxAliasCount: 0 });
  } catch {
    return [];
  }
  if (lock === null || typeof lock !== 'object') return [];
  const packages = (lock as { packages?: unknown }).packages;
  if (packages === null || typeof packages !== 'object') return [];
  const out: DeclaredNpmPackage[] = [];
  for (const [key, value] of Object.entries(packages as Record<string, unknown>)) {
    const parsed = pnpmKey(key);
    if (parsed === null || !isRegistryVersion(parsed.version)) continue;
    const dev = value !== null && typeof value === 'object' && (value as { dev?: unknown }).dev === true;
    out.push({ ...parsed, dev });
  }
  return dedupe(out);
}

function pnpmKey(key: string): { name: string; version: string } | null {
  let k = key.startsWith('/') ? key.slice(1) : key;
  // v5: `name/version`, peers appended after '_' (which may hold '@', so this comes first).
  const v5 = /^((?:@[^/@]+\/)?[^/@]+)\/(\d[^/_]*)(?:_.*)?$/.exec(k);
  if (v5 !== null) return { name: v5[1]!, version: v5[2]! };
  const paren = k.indexOf('(');
  if (paren >= 0) k = k.slice(0, paren);
  const at = k.lastIndexOf('@');
  return at > 0 ? { name: k.slice(0, at), version: k.slice(at + 1) } : null;
}

/** Parses any supported lock file by its base name. */
export function parseNpmLockFile(path: string, bytes: Uint8Array): DeclaredNpmPackage[] {
  const base = path.slice(path.lastIndexOf('/') + 1);
  switch (base) {
    case 'package-lock.json':
    case 'npm-shrinkwrap.json': return parsePackageLock(bytes);
    case 'yarn.lock': return parseYarnLock(bytes);
    case 'pnpm-lock.yaml': return parsePnpmLock(bytes);
    default: return [];
  }
}

/** The declared production packages of a lock file as packages found at `path`. */
export function lockFilePackages(path: string, bytes: Uint8Array): FoundPackage[] {
  return parseNpmLockFile(path, bytes)
    .filter((p) => !p.dev)
    .map((p) => ({ ecosystem: 'npm' as const, name: p.name, version: p.version, path, purl: npmPurl(p.name, p.version) }));
}

/** One entry per name and version: a tree holds the same version in several places, and
 * a finding is per version. A package is dev only when every copy is. */
function dedupe(packages: DeclaredNpmPackage[]): DeclaredNpmPackage[] {
  const byKey = new Map<string, DeclaredNpmPackage>();
  for (const p of packages) {
    const key = `${p.name}@${p.version}`;
    const seen = byKey.get(key);
    if (seen === undefined) byKey.set(key, p);
    else if (seen.dev && !p.dev) byKey.set(key, p);
  }
  return [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}

/** The project directory a lock file or an installed package belongs to: the directory
 * holding the lock file, or the directory above the outermost node_modules. */
export function npmProjectDir(path: string): string {
  const at = path.indexOf('node_modules/');
  if (at >= 0 && (at === 0 || path[at - 1] === '/')) return path.slice(0, Math.max(0, at - 1));
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
