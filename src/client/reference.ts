// Image references as the docker/distribution reference grammar defines them:
//
//   reference := name [ ":" tag ] [ "@" digest ]
//   name      := [ domain "/" ] path-component ( "/" path-component )*
//   domain    := host [ ":" port ]        host: DNS name, IPv4, or "[" IPv6 "]"
//
// plus Docker Hub normalisation: a first component is a registry only when it contains
// "." or ":", is "localhost", or has an uppercase letter (so `Foo/bar` is rejected as a
// registry-less name would be); otherwise the registry is docker.io and single-component
// names live under "library/".
import { UsageError } from '../core/errors.ts';
import { parseDigest, type Digest } from '../core/digest.ts';
import { isTag, MAX_REPOSITORY_NAME_LENGTH } from '../core/names.ts';

export const DOCKER_HUB = 'docker.io';
const LEGACY_DOCKER_HUB = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library';
export const DEFAULT_TAG = 'latest';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = new RegExp(`^(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const IDENTIFIER = /^[a-f0-9]{64}$/;

/** Thrown for any malformed image reference; the message is one line and names the input. */
export class ReferenceError extends UsageError {
  readonly input: string;
  constructor(input: string, problem: string) {
    super(`invalid image reference "${shorten(input)}": ${problem}`);
    this.name = 'ReferenceError';
    this.input = input;
  }
}

export interface ImageReference {
  /** Registry host[:port], normalised (`docker.io` for Docker Hub). */
  readonly registry: string;
  /** Repository path inside the registry (`library/alpine`). */
  readonly repository: string;
  /** Tag; `latest` when the input had neither tag nor digest. */
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;
  /** `registry/repository`. */
  readonly name: string;
  /** Full form: `docker.io/library/alpine:latest`, `host/repo:tag@sha256:...`. */
  toString(): string;
  /** Docker's familiar form: `alpine:latest`, `user/app`, other registries unchanged. */
  familiar(): string;
}

class Reference implements ImageReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;

  constructor(registry: string, repository: string, tag: string | undefined, digest: Digest | undefined) {
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  toString(): string {
    return this.name + suffix(this.tag, this.digest);
  }

  familiar(): string {
    return familiarName(this.registry, this.repository) + suffix(this.tag, this.digest);
  }
}

function suffix(tag: string | undefined, digest: string | undefined): string {
  return (tag === undefined ? '' : `:${tag}`) + (digest === undefined ? '' : `@${digest}`);
}

function familiarName(registry: string, repository: string): string {
  if (registry !== DOCKER_HUB) return `${registry}/${repository}`;
  const official = `${OFFICIAL_NAMESPACE}/`;
  if (repository.startsWith(official) && !repository.slice(official.length).includes('/')) {
    return repository.slice(official.length);
  }
  return repository;
}

interface SplitReference {
  readonly name: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

/** Splits `name[:tag][@digest]` without validating the parts. */
function split(input: string): SplitReference {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  // A colon after the last slash separates a tag; before it, it is a registry port.
  if (colon !== -1 && colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** Whether the first path component names a registry (docker's rule). */
export function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

interface ParseOptions {
  /** Add `:latest` when neither tag nor digest is given (default true). */
  readonly defaultTag?: boolean;
}

/**
 * Parses a reference the way `docker pull`/`podman pull` read their argument, normalising
 * Docker Hub names. Throws ReferenceError with the specific problem.
 */
export function parseReference(input: string, options: ParseOptions = {}): ImageReference {
  if (input.length === 0) throw new ReferenceError(input, 'empty');
  if (/\s/.test(input)) throw new ReferenceError(input, 'contains whitespace');
  if (input.includes('://')) throw new ReferenceError(input, 'a reference has no URL scheme (use host[:port]/repository)');
  const parts = split(input);
  if (parts.name.length === 0) throw new ReferenceError(input, 'missing repository name');

  let registry: string;
  let path: string;
  const slash = parts.name.indexOf('/');
  const first = slash === -1 ? '' : parts.name.slice(0, slash);
  if (slash !== -1 && looksLikeRegistry(first)) {
    registry = first;
    path = parts.name.slice(slash + 1);
    if (!DOMAIN.test(registry)) throw new ReferenceError(input, `invalid registry "${shorten(registry)}"`);
    if (registry === LEGACY_DOCKER_HUB) registry = DOCKER_HUB;
  } else {
    registry = DOCKER_HUB;
    path = parts.name;
  }
  if (path.length === 0) throw new ReferenceError(input, 'missing repository name');
  if (registry === DOCKER_HUB && !path.includes('/')) path = `${OFFICIAL_NAMESPACE}/${path}`;
  validatePath(input, path);
  if (registry === DOCKER_HUB && IDENTIFIER.test(parts.name)) {
    throw new ReferenceError(input, 'a 64-character hexadecimal string is an image ID, not a repository name');
  }
  const fullName = `${registry}/${path}`;
  if (fullName.length > MAX_REPOSITORY_NAME_LENGTH) {
    throw new ReferenceError(input, `name "${shorten(fullName)}" is longer than ${MAX_REPOSITORY_NAME_LENGTH} characters`);
  }

  if (parts.tag !== undefined && !isTag(parts.tag)) {
    throw new ReferenceError(input, `invalid tag "${shorten(parts.tag)}": at most 128 of [A-Za-z0-9_.-], not starting with . or -`);
  }
  let digest: Digest | undefined;
  if (parts.digest !== undefined) {
    try {
      parseDigest(parts.digest);
    } catch (error) {
      throw new ReferenceError(input, error instanceof Error ? error.message : 'invalid digest');
    }
    digest = parts.digest as Digest;
  }
  const tag = parts.tag ?? (digest === undefined && options.defaultTag !== false ? DEFAULT_TAG : undefined);
  return new Reference(registry, path, tag, digest);
}

function validatePath(input: string, path: string): void {
  for (const component of path.split('/')) {
    if (component.length === 0) throw new ReferenceError(input, 'empty path component (doubled or trailing "/")');
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) {
      throw new ReferenceError(input, `repository name "${shorten(path)}" must be lowercase`);
    }
    throw new ReferenceError(
      input,
      `invalid repository path component "${shorten(component)}": lowercase letters and digits separated by ".", "_", "__" or "-"`,
    );
  }
}

/** Builds a reference from already-split parts (validated the same way). */
export function makeReference(registry: string, repository: string, tag?: string, digest?: string): ImageReference {
  return parseReference(`${registry}/${repository}${suffix(tag, digest)}`, { defaultTag: false });
}

/**
 * A short name has no registry component: `alpine`, `user/app`, `alpine:3.20`. Such names
 * are resolved through aliases and unqualified-search registries, not assumed to be Docker
 * Hub. Invalid input is not a short name (parse it to learn why).
 */
export function isShortName(input: string): boolean {
  const { name } = split(input);
  const slash = name.indexOf('/');
  if (slash !== -1 && looksLikeRegistry(name.slice(0, slash))) return false;
  try {
    parseReference(input);
    return true;
  } catch {
    return false;
  }
}

export interface ShortName {
  /** The repository as typed (`alpine`, `user/app`): the key for [aliases]. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;
}

/** Splits a short name into its parts; throws ReferenceError if it is not a valid short name. */
export function parseShortName(input: string): ShortName {
  if (!isShortName(input)) {
    parseReference(input); // throws the specific problem for invalid input
    throw new ReferenceError(input, 'not a short name: it names a registry');
  }
  const parts = split(input);
  return { repository: parts.name, tag: parts.tag, digest: parts.digest as Digest | undefined };
}

function shorten(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
