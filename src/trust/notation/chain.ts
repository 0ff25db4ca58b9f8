// Whether a notation signing certificate chain (x5c, leaf first) leads to a certificate the
// verifier trusts, as the Notary Project trust store model has it: every link issued and
// signed by the next (node:crypto's X509Certificate does the signature checks), issuers are
// CAs, every certificate valid at the time of verification (notary.x509 has no authentic
// signing time), the leaf a code-signing certificate, and the chain ending at (or issued
// by) a trust store certificate.
import type { X509Certificate } from 'node:crypto';
import { NotationError } from './envelope.ts';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

export function verifyChain(chain: readonly X509Certificate[], anchors: readonly X509Certificate[], at: Date): X509Certificate {
  if (anchors.length === 0) throw new NotationError('the trust store holds no certificate');
  const leaf = chain[0]!;
  const usages = leaf.keyUsage;
  if (Array.isArray(usages) && usages.length > 0 && !usages.includes(CODE_SIGNING)) throw new NotationError(`the signing certificate "${oneLine(leaf.subject)}" is not for code signing`);
  for (const certificate of chain) {
    if (at < new Date(certificate.validFrom) || at > new Date(certificate.validTo)) throw new NotationError(`certificate "${oneLine(certificate.subject)}" is not valid now (valid ${certificate.validFrom} to ${certificate.validTo})`);
  }
  for (let index = 0; index + 1 < chain.length; index++) {
    const child = chain[index]!;
    const parent = chain[index + 1]!;
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) throw new NotationError(`certificate "${oneLine(child.subject)}" is not issued by "${oneLine(parent.subject)}" in the chain`);
  }
  const top = chain.at(-1)!;
  const anchor = anchors.find((candidate) => candidate.fingerprint256 === top.fingerprint256) ?? anchors.find((candidate) => candidate.ca && top.checkIssued(candidate) && top.verify(candidate.publicKey));
  if (anchor === undefined) throw new NotationError(`the certificate chain of "${oneLine(leaf.subject)}" does not lead to a certificate of the trust store`);
  if (at < new Date(anchor.validFrom) || at > new Date(anchor.validTo)) throw new NotationError(`the trust store certificate "${oneLine(anchor.subject)}" is not valid now`);
  return leaf;
}

export function oneLine(subject: string): string {
  return subject.split('\n').join(', ');
}

/** A distinguished name as attribute → value (node prints one attribute per line). */
export function parseDistinguishedName(text: string): Map<string, string> {
  const parts = text.includes('\n') ? text.split('\n') : text.split(/,(?=\s*[A-Za-z0-9.]+\s*=)/);
  const attributes = new Map<string, string>();
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    attributes.set(part.slice(0, equals).trim().toUpperCase(), part.slice(equals + 1).trim());
  }
  return attributes;
}
