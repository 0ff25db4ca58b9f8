// Policy scopes per transport (containers-policy.json(5) "Policy Requirements" scopes):
// which scope strings a transport accepts in policy.json, and, for an image, the scopes
// that apply to it from the most specific to the least, as containers/image's
// PolicyConfigurationIdentity and PolicyConfigurationNamespaces give them. The transport
// default "" and the global `default` are not listed: evaluation falls back to them.
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, normalize, resolve } from 'node:path';
import type { ImageReference } from '../../client/reference.ts';

/** Why `scope` is not a valid scope for `transport`, or undefined when it is. */
export function invalidScope(transport: string, scope: string): string | undefined {
  if (scope === '') return undefined; // the transport's default
  switch (transport) {
    case 'docker':
      // containers/image accepts any docker scope (a bad one simply never matches); a
      // wildcard anywhere but a leading "*." can never match, so it is a mistake to report.
      if (scope.includes('*') && !/^\*\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/.test(scope)) {
        return 'a wildcard scope is "*." followed by a domain, without port or path (e.g. "*.example.com")';
      }
      return undefined;
    case 'atomic':
      return /^[^/]*(?:\/[^:/]*(?:\/[^:/]*(?::[^:/]*)?)?)?$/.test(scope) ? undefined : 'not a valid atomic scope (hostname[:port][/namespace[/imagestream[:tag]]])';
    case 'dir':
      return invalidPathScope(scope);
    case 'oci':
    case 'oci-archive':
      return invalidPathScope(scope.split(':')[0]!);
    case 'docker-archive':
    case 'docker-daemon':
      return `${transport}: does not support any scopes except the default ""`;
    default:
      // Transports Custody does not implement (containers-storage, tarball, sif...): their
      // scopes are kept unchecked, as containers/image keeps unknown transports' scopes.
      return undefined;
  }
}

function invalidPathScope(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path === '/') return 'use the transport\'s default scope "" instead of "/"';
  const cleaned = normalize(path).replace(/(.)\/$/, '$1');
  if (cleaned !== path) return `not in canonical form; perhaps "${cleaned}"`;
  return undefined;
}

/** docker: the reference itself, the repository, its parent namespaces, host[:port], then `*.domain` wildcards. */
export function dockerScopes(reference: ImageReference): string[] {
  const scopes: string[] = [];
  if (reference.tag !== undefined && reference.digest !== undefined) scopes.push(reference.toString());
  if (reference.tag !== undefined) scopes.push(`${reference.name}:${reference.tag}`);
  if (reference.digest !== undefined) scopes.push(`${reference.name}@${reference.digest}`);
  let name = reference.name;
  for (;;) {
    scopes.push(name);
    const slash = name.lastIndexOf('/');
    if (slash === -1) break;
    name = name.slice(0, slash);
  }
  // Wildcards match the host without its port: example.com:5000 → *.com.
  let host = name.replace(/:\d+$/, '');
  for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.')) {
    host = host.slice(dot + 1);
    scopes.push(`*.${host}`);
  }
  return scopes;
}

/** dir:, oci:, oci-archive: the resolved path, then its parent directories (never "/"). */
export function pathScopes(path: string): string[] {
  const scopes: string[] = [];
  for (let current = resolvedPath(path); current !== '/' && current !== dirname(current); current = dirname(current)) scopes.push(current);
  return scopes;
}

/**
 * An absolute path with symbolic links resolved as far as the path exists, so a scope for
 * the real directory applies through a link too (containers/image resolves the same way).
 */
function resolvedPath(path: string): string {
  const absolute = isAbsolute(path) ? normalize(path) : resolve(path);
  let existing = absolute;
  let rest = '';
  for (;;) {
    try {
      const real = realpathSync(existing);
      return rest === '' ? real : resolve(real, rest);
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return absolute;
      rest = rest === '' ? existing.slice(parent.length).replace(/^\//, '') : `${existing.slice(parent.length).replace(/^\//, '')}/${rest}`;
      existing = parent;
    }
  }
}
