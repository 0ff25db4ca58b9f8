// notation's trust policy (trustpolicy.json, specs/trust-store-trust-policy.md) and trust
// store: which policy applies to an image (the one whose registryScopes name its
// repository, else the `*` one), its verification level (strict, permissive, audit, skip),
// its trust stores (`ca:NAME`, `signingAuthority:NAME`: directories of certificates under
// TRUSTSTORE/x509/<type>/<name>/) and trusted identities (`*`, or `x509.subject: DN`, every
// attribute of which the signing certificate's subject must carry).
import { X509Certificate } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NotationError } from './envelope.ts';
import { parseDistinguishedName } from './chain.ts';

export type VerificationLevel = 'strict' | 'permissive' | 'audit' | 'skip';

export interface NotationPolicy {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly level: VerificationLevel;
  readonly trustStores: readonly string[];
  readonly trustedIdentities: readonly string[];
}

export function defaultTrustStore(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'notation', 'truststore');
}

export async function loadTrustPolicy(path: string): Promise<NotationPolicy[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new NotationError(`reading the trust policy ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return parseTrustPolicy(text, path);
}

export function parseTrustPolicy(text: string, where = 'trustpolicy.json'): NotationPolicy[] {
  let json: { version?: unknown; trustPolicies?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new NotationError(`${where}: not JSON`);
  }
  if (json?.version !== '1.0') throw new NotationError(`${where}: version must be "1.0"`);
  if (!Array.isArray(json.trustPolicies) || json.trustPolicies.length === 0) throw new NotationError(`${where}: trustPolicies must list at least one policy`);
  const seen = new Set<string>();
  return json.trustPolicies.map((value: unknown, index: number) => {
    const entry = value as { name?: unknown; registryScopes?: unknown; signatureVerification?: { level?: unknown }; trustStores?: unknown; trustedIdentities?: unknown };
    const at = `${where}: trustPolicies[${index}]`;
    if (typeof entry?.name !== 'string' || entry.name === '') throw new NotationError(`${at}: name is required`);
    if (seen.has(entry.name)) throw new NotationError(`${at}: the name "${entry.name}" is used twice`);
    seen.add(entry.name);
    const strings = (field: unknown, what: string): string[] => {
      if (field === undefined) return [];
      if (!Array.isArray(field) || !field.every((item) => typeof item === 'string')) throw new NotationError(`${at}: ${what} must be an array of strings`);
      return field as string[];
    };
    const registryScopes = strings(entry.registryScopes, 'registryScopes');
    if (registryScopes.length === 0) throw new NotationError(`${at}: registryScopes must not be empty`);
    const level = entry.signatureVerification?.level;
    if (level !== 'strict' && level !== 'permissive' && level !== 'audit' && level !== 'skip') throw new NotationError(`${at}: signatureVerification.level must be strict, permissive, audit or skip`);
    const trustStores = strings(entry.trustStores, 'trustStores');
    const trustedIdentities = strings(entry.trustedIdentities, 'trustedIdentities');
    if (level !== 'skip' && (trustStores.length === 0 || trustedIdentities.length === 0)) throw new NotationError(`${at}: trustStores and trustedIdentities are required unless the level is skip`);
    for (const store of trustStores) if (!/^(ca|signingAuthority):[A-Za-z0-9_.-]+$/.test(store)) throw new NotationError(`${at}: trust store "${store}" must be ca:NAME or signingAuthority:NAME`);
    for (const identity of trustedIdentities) if (identity !== '*' && !/^x509\.subject:\s*\S/.test(identity)) throw new NotationError(`${at}: trusted identity "${identity}" must be "*" or "x509.subject: DN"`);
    return { name: entry.name, registryScopes, level, trustStores, trustedIdentities };
  });
}

/** The policy for `repository` (host/path): a scope naming it exactly, else the `*` policy. */
export function policyFor(policies: readonly NotationPolicy[], repository: string): NotationPolicy {
  const exact = policies.find((policy) => policy.registryScopes.includes(repository));
  const wildcard = policies.find((policy) => policy.registryScopes.includes('*'));
  const chosen = exact ?? wildcard;
  if (chosen === undefined) throw new NotationError(`no trust policy applies to ${repository}`);
  return chosen;
}

/** The certificates of the policy's trust stores (PEM or DER files). */
export async function loadTrustStores(root: string, stores: readonly string[]): Promise<X509Certificate[]> {
  const certificates: X509Certificate[] = [];
  for (const store of stores) {
    const [type, name] = store.split(':') as [string, string];
    const dir = join(root, 'x509', type, name);
    let files: string[];
    try {
      files = (await readdir(dir)).sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new NotationError(`trust store ${store}: ${code === 'ENOENT' ? `no directory ${dir}` : (error as Error).message}`);
    }
    for (const file of files) certificates.push(...parseCertificates(await readFile(join(dir, file)), `${dir}/${file}`));
  }
  return certificates;
}

export function parseCertificates(bytes: Buffer, where: string): X509Certificate[] {
  const text = bytes.toString('latin1');
  try {
    if (!text.includes('-----BEGIN CERTIFICATE-----')) return [new X509Certificate(bytes)];
    return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((match) => new X509Certificate(match[0]));
  } catch (error) {
    throw new NotationError(`${where}: not a certificate (${(error as Error).message})`);
  }
}

/** Whether the signing certificate's subject is one the policy trusts. */
export function identityTrusted(policy: NotationPolicy, subject: string): boolean {
  const actual = parseDistinguishedName(subject);
  return policy.trustedIdentities.some((identity) => {
    if (identity === '*') return true;
    const wanted = parseDistinguishedName(identity.replace(/^x509\.subject:\s*/, ''));
    return wanted.size > 0 && [...wanted].every(([attribute, value]) => actual.get(attribute) === value);
  });
}
