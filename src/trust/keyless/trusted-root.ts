// What keyless verification trusts, offline: sigstore's trusted_root.json (the file cosign
// takes with --trusted-root and sigstore's TUF repository distributes): Fulcio certificate
// authorities, Rekor transparency logs (and CT logs, timestamp authorities), each with the
// time range it was valid for. Parsed by @sigstore/protobuf-specs and turned into the
// verifier's trust material by @sigstore/verify, loaded only when keyless verification runs.
//
// containers-policy.json describes the same trust piecewise (a Fulcio CA file, Rekor
// public keys): trustFromPolicy builds the same material from those, with no validity
// limits (the policy file gives none) and no CT log (it names none).
import { readFile } from 'node:fs/promises';
import { createHash, createPublicKey, X509Certificate as NodeX509 } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';

export class TrustedRootError extends Error {
  override readonly name = 'TrustedRootError';
}

export interface KeylessTrust {
  readonly material: TrustMaterial;
  /** Where it came from, for messages. */
  readonly source: string;
  /** The root names certificate transparency logs: an embedded SCT is then required, as cosign does. */
  readonly requireSct: boolean;
}

/** Where the trusted root is read when --trusted-root is not given: CUSTODY_TRUSTED_ROOT, else ~/.config/custody/trusted_root.json. */
export function defaultTrustedRootPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.CUSTODY_TRUSTED_ROOT) return env.CUSTODY_TRUSTED_ROOT;
  return join(env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config'), 'custody', 'trusted_root.json');
}

export async function loadTrustedRoot(path: string): Promise<KeylessTrust> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TrustedRootError(`reading the trusted root ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return parseTrustedRoot(text, path);
}

export async function parseTrustedRoot(text: string, source = 'trusted_root.json'): Promise<KeylessTrust> {
  const [{ TrustedRoot }, { toTrustMaterial }] = await Promise.all([import('@sigstore/protobuf-specs'), import('@sigstore/verify')]);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TrustedRootError(`${source}: not JSON`);
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new TrustedRootError(`${source}: not a sigstore trusted root (mediaType application/vnd.dev.sigstore.trustedroot+json expected)`);
  }
  try {
    const root = TrustedRoot.fromJSON(json);
    const material = toTrustMaterial(root);
    if (material.certificateAuthorities.length === 0 && material.tlogs.length === 0) throw new Error('it names no certificate authority and no transparency log');
    return { material, source, requireSct: material.ctlogs.length > 0 };
  } catch (error) {
    throw new TrustedRootError(`${source}: ${(error as Error).message}`);
  }
}

const BEGINNING = new Date(0);
const END = new Date(8_640_000_000_000_000);

/**
 * Trust from a policy.json `fulcio` CA (PEM: its root, and intermediates if it has them)
 * and Rekor public keys (PEM). `presented` are the intermediates a signature carries (cosign's
 * chain annotation): one is added only once it is proved issued by a trusted certificate, as
 * containers/image treats them (untrusted intermediates, trusted roots).
 */
export async function trustFromPolicy(caPem: string | undefined, rekorKeys: readonly string[], source: string, presented = ''): Promise<KeylessTrust> {
  const { X509Certificate } = await import('@sigstore/core');
  const trusted = pemCertificates(caPem ?? '');
  if (caPem !== undefined && trusted.length === 0) throw new TrustedRootError(`${source}: the Fulcio CA holds no certificate`);
  const certificates = [...trusted, ...issuedBy(trusted, pemCertificates(presented))].map((certificate) => X509Certificate.parse(certificate.raw));
  const tlogs = rekorKeys.map((pem) => {
    let key;
    try {
      key = createPublicKey(pem);
    } catch (error) {
      throw new TrustedRootError(`${source}: a Rekor public key is not readable (${(error as Error).message})`);
    }
    // Rekor's log ID is the sha256 of its DER SubjectPublicKeyInfo.
    const logID = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest();
    return { logID, baseURL: '', publicKey: key, validFor: { start: BEGINNING, end: END } };
  });
  const material: TrustMaterial = {
    certificateAuthorities: certificates.length === 0 ? [] : [{ certChain: certificates, validFor: { start: BEGINNING, end: END } }],
    timestampAuthorities: [],
    tlogs,
    ctlogs: [],
    publicKey: () => {
      throw new TrustedRootError('no public keys in keyless trust');
    },
  };
  return { material, source, requireSct: false };
}

function pemCertificates(text: string): NodeX509[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((match) => new NodeX509(match[0]));
}

/** The candidates that chain, link by link, to a trusted certificate (each issuer a CA). */
function issuedBy(trusted: readonly NodeX509[], candidates: readonly NodeX509[]): NodeX509[] {
  const accepted: NodeX509[] = [];
  const issuers = [...trusted];
  let grew = true;
  while (grew) {
    grew = false;
    for (const candidate of candidates) {
      if (accepted.includes(candidate) || !candidate.ca) continue;
      if (issuers.some((issuer) => issuer.ca && candidate.checkIssued(issuer) && candidate.verify(issuer.publicKey))) {
        accepted.push(candidate);
        issuers.push(candidate);
        grew = true;
      }
    }
  }
  return accepted;
}
