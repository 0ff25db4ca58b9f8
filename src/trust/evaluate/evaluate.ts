// `custody evaluate`'s domain: probes a registry (TLS, the API's first answer) and, when
// a repository is named, the image, then sums the findings up as notes a newcomer can act
// on. The image is read only over a connection the client would use for a pull: an
// untrusted certificate or plain HTTP stops there unless the user said --tls-verify=false.
import { basename, dirname } from 'node:path';
import { homedir } from 'node:os';
import { UsageError } from '../../core/errors.ts';
import { defaultCertsRoots, findRegistryCerts, registryTlsOptions } from '../../client/config/certs-d.ts';
import { looksLikeRegistry, parseReference, type ImageReference } from '../../client/reference.ts';
import type { ImageResolver } from '../../client/image-resolver.ts';
import type { Policy } from '../policy/policy-file.ts';
import { probeApi } from './api-probe.ts';
import { probeImage, type TrustedKeyFile } from './image-probe.ts';
import type { NotationPolicy } from '../notation/trust-policy.ts';
import { probeTls } from './tls-probe.ts';
import { notesFor } from './notes.ts';
import type { EvaluationReport, ImageReport, RegistryReport } from './report.ts';

export interface EvaluateOptions {
  readonly resolver: ImageResolver;
  readonly keys: readonly TrustedKeyFile[];
  /** notation's trust policy and trust store (custody evaluate --notation-trust-policy). */
  readonly notation?: { readonly policies: readonly NotationPolicy[]; readonly trustStore: string } | undefined;
  readonly policy?: { readonly file: string | null; readonly policy: Policy } | undefined;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A registry that cannot be reached at all: the command's one-line failure. */
export class UnreachableRegistryError extends Error {}

export interface EvaluationTarget {
  readonly host: string;
  readonly reference: ImageReference | null;
}

/** docker://REGISTRY[/REPO[:TAG|@DIGEST]]: a registry alone, or an image in it. */
export function parseTarget(input: string): EvaluationTarget {
  const name = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(name)) throw new UsageError(`"${input}": expected docker://REGISTRY[/REPOSITORY[:TAG]]`);
  const trimmed = name.replace(/\/+$/, '');
  if (trimmed === '') throw new UsageError('missing REGISTRY');
  if (!trimmed.includes('/')) {
    if (!looksLikeRegistry(trimmed)) throw new UsageError(`"${trimmed}" is not a registry host (give host[:port], or docker://REGISTRY/REPOSITORY)`);
    return { host: trimmed, reference: null };
  }
  const reference = parseReference(trimmed);
  return { host: reference.registry, reference };
}

export async function evaluate(input: string, options: EvaluateOptions): Promise<EvaluationReport> {
  const target = parseTarget(input);
  // Docker Hub's API is not served at docker.io itself.
  const host = target.host === 'docker.io' ? 'registry-1.docker.io' : target.host;
  const registry = await probeRegistry(host, options);
  let image: ImageReport | null = null;
  if (target.reference) {
    const tlsVerify = options.resolver.options.tlsVerify !== false;
    const untrusted = registry.transport === 'https' && registry.tls.chain?.valid !== true;
    if (untrusted && tlsVerify) {
      image = notChecked(target.reference, `not checked: the registry's certificate is not trusted (${registry.tls.chain?.problem ?? 'invalid'}); give --tls-verify=false to look anyway`);
    } else if (registry.transport === 'http' && tlsVerify) {
      image = notChecked(target.reference, 'not checked over plain HTTP; give --tls-verify=false to look anyway');
    } else {
      const client = await options.resolver.clientFor(target.host, { credentialsFor: target.reference, ...(registry.transport === 'http' ? { insecure: true } : {}) });
      const probed = await probeImage({ client, reference: target.reference, keys: options.keys, policy: options.policy, notation: options.notation });
      const { referrersApi, ...rest } = probed;
      registry.api.referrers = referrersApi;
      image = rest;
    }
  }
  const report: EvaluationReport = { target: input, evaluatedAt: new Date().toISOString(), registry, image, notes: [] };
  report.notes.push(...notesFor(report));
  return report;
}

async function probeRegistry(host: string, options: EvaluateOptions): Promise<RegistryReport> {
  const { hostname, port } = splitHost(host);
  const certs = certsDir(host, options);
  const tls = await probeTls({ host: hostname, port: port ?? 443, certsDirCas: certs.cas, certsDir: certs.dir });
  if (tls.available) {
    const endpoint = `https://${host}`;
    const { error: _ignored, ...api } = await probeApi(endpoint);
    return { host, endpoint, transport: 'https', tls, api };
  }
  // No TLS: is it a plain HTTP registry? (On the same port when one was given, else 80.)
  const endpoint = `http://${port === undefined ? hostname : host}`;
  const { error, ...api } = await probeApi(endpoint);
  if (api.status === null) throw new UnreachableRegistryError(`cannot reach ${host}: ${tls.error}${error && error !== tls.error ? `; over plain HTTP: ${error}` : ''}`);
  return { host, endpoint, transport: 'http', tls, api };
}

function notChecked(reference: ImageReference, error: string): ImageReport {
  return {
    reference: reference.toString(), repository: reference.repository, error, digest: null, mediaType: null, platformDigest: null, created: null, ageDays: null, labels: {},
    claims: { vendor: null, source: null, url: null, revision: null, builder: null }, signatures: [], signed: false, signedBy: [], policy: null, quality: null,
  };
}

function splitHost(host: string): { hostname: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracketed) return { hostname: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const colon = host.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(host.slice(colon + 1))) return { hostname: host.slice(0, colon), port: Number(host.slice(colon + 1)) };
  return { hostname: host, port: undefined };
}

/** The CA certificates certs.d (or --cert-dir) adds for this registry, as a pull would use them. */
function certsDir(host: string, options: EvaluateOptions): { cas: string[]; dir: string | null } {
  const dir = options.resolver.options.certDir;
  if (dir !== undefined) return { cas: registryTlsOptions(basename(dir), [dirname(dir)], { includeSystemRoots: false }).ca ?? [], dir };
  const env = options.env ?? process.env;
  const roots = defaultCertsRoots(env.HOME ?? homedir());
  const found = findRegistryCerts(host, roots);
  return { cas: registryTlsOptions(host, roots, { includeSystemRoots: false }).ca ?? [], dir: found.dir ?? null };
}
