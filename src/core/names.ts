// Repository names and tags per the OCI distribution spec's grammar.
import { RegistryError } from './errors.ts';

/** One component of a repository name (also the grammar of account names: they are namespaces). */
export const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY_NAME = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Distribution's limit; keeps names usable as path components and index keys. */
export const MAX_REPOSITORY_NAME_LENGTH = 255;

export function validateRepositoryName(name: string): string {
  if (name.length === 0 || name.length > MAX_REPOSITORY_NAME_LENGTH || !REPOSITORY_NAME.test(name)) {
    const shown = name.length > 80 ? `${name.slice(0, 77)}...` : name;
    throw new RegistryError(
      'NAME_INVALID',
      `invalid repository name "${shown}": lowercase letters, digits and separators (. _ __ -) in /-separated components, at most ${MAX_REPOSITORY_NAME_LENGTH} characters`,
    );
  }
  return name;
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

export function validateTag(tag: string): string {
  if (!TAG.test(tag)) {
    const shown = tag.length > 80 ? `${tag.slice(0, 77)}...` : tag;
    throw new RegistryError('MANIFEST_INVALID', `invalid tag "${shown}": at most 128 of [A-Za-z0-9_.-], not starting with . or -`, { detail: { tag: shown } });
  }
  return tag;
}

/** The namespace of a repository: its first path component, or null for a top-level name. */
export function namespaceOf(repository: string): string | null {
  const slash = repository.indexOf('/');
  return slash < 0 ? null : repository.slice(0, slash);
}
