// containers-certs.d(5): per-registry TLS material in <root>/<host[:port]>/.
//   *.crt          CA certificates (added to the trusted roots)
//   *.cert + *.key a client certificate and its key (same base name)
// The roots are tried in order and the first that has a directory for the host is used
// alone, as containers/image does: ~/.config/containers/certs.d, /etc/containers/certs.d,
// /etc/docker/certs.d.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.ts';

export class CertsDirError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'CertsDirError';
  }
}

/** Default roots for a user whose home is `homeDir`. */
export function defaultCertsRoots(homeDir: string | undefined): string[] {
  const roots = ['/etc/containers/certs.d', '/etc/docker/certs.d'];
  return homeDir === undefined ? roots : [join(homeDir, '.config', 'containers', 'certs.d'), ...roots];
}

export interface RegistryTlsFiles {
  /** The directory used, or undefined when no root has one for the host. */
  readonly dir: string | undefined;
  readonly caFiles: readonly string[];
  readonly clientPairs: readonly { readonly cert: string; readonly key: string }[];
}

/** Node `tls.connect` options: `ca` replaces Node's roots, so system roots are included unless asked not to. */
export interface RegistryTlsOptions {
  readonly ca?: string[];
  readonly cert?: string[];
  readonly key?: string[];
}

/** Finds the files for a registry host[:port] without reading them. */
export function findRegistryCerts(hostPort: string, roots: readonly string[]): RegistryTlsFiles {
  if (hostPort.length === 0 || hostPort.includes('/') || hostPort.includes('\0') || hostPort === '.' || hostPort === '..') {
    throw new CertsDirError(`invalid registry host "${hostPort}" for certs.d lookup`);
  }
  for (const root of roots) {
    const dir = join(root, hostPort);
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') continue;
      throw new CertsDirError(`${dir}: ${(error as Error).message}`);
    }
    if (!isDir) continue;
    return { dir, ...scan(dir) };
  }
  return { dir: undefined, caFiles: [], clientPairs: [] };
}

function scan(dir: string): { caFiles: string[]; clientPairs: { cert: string; key: string }[] } {
  let names: string[];
  try {
    names = readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  } catch (error) {
    throw new CertsDirError(`${dir}: cannot list: ${(error as Error).message}`);
  }
  const present = new Set(names);
  const caFiles: string[] = [];
  const clientPairs: { cert: string; key: string }[] = [];
  for (const name of names) {
    if (name.endsWith('.crt')) {
      caFiles.push(join(dir, name));
    } else if (name.endsWith('.cert')) {
      const key = `${name.slice(0, -'.cert'.length)}.key`;
      if (!present.has(key)) {
        throw new CertsDirError(`${dir}: missing key ${key} for client certificate ${name} (CA certificates must use the .crt extension)`);
      }
      clientPairs.push({ cert: join(dir, name), key: join(dir, key) });
    } else if (name.endsWith('.key')) {
      const cert = `${name.slice(0, -'.key'.length)}.cert`;
      if (!present.has(cert)) throw new CertsDirError(`${dir}: missing client certificate ${cert} for key ${name}`);
    }
  }
  return { caFiles, clientPairs };
}

/**
 * Reads the TLS material for a registry host[:port] as Node `tls` options. With no
 * certs.d directory the result is empty (use Node's defaults). `includeSystemRoots`
 * (default true) adds Node's bundled roots to `ca`, since containers/image adds the
 * .crt files to the system pool rather than replacing it.
 */
export function registryTlsOptions(hostPort: string, roots: readonly string[], options: { includeSystemRoots?: boolean } = {}): RegistryTlsOptions {
  const files = findRegistryCerts(hostPort, roots);
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CertsDirError(`${path}: cannot read: ${(error as Error).message}`);
    }
  };
  const result: { ca?: string[]; cert?: string[]; key?: string[] } = {};
  if (files.caFiles.length > 0) {
    const extra = files.caFiles.map(read);
    for (const [index, pem] of extra.entries()) {
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CertsDirError(`${files.caFiles[index]}: not a PEM certificate`);
    }
    result.ca = options.includeSystemRoots === false ? extra : [...process.getBuiltinModule('node:tls').rootCertificates, ...extra];
  }
  if (files.clientPairs.length > 0) {
    result.cert = files.clientPairs.map((pair) => read(pair.cert));
    result.key = files.clientPairs.map((pair) => read(pair.key));
  }
  return result;
}
