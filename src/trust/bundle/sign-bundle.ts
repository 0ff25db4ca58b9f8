// Making a key-based sigstore bundle the way cosign v3 signs an image: an in-toto
// statement whose subject is the manifest digest (predicate type
// https://sigstore.dev/cosign/sign/v1 for a signature, the predicate's own for an
// attestation) in a DSSE envelope signed with the cosign key, wrapped in a v0.3 bundle whose
// verification material is the public key's hint. Nothing is logged: Custody signs offline
// (as cosign --tlog-upload=false). The bundle's structure and JSON come from
// @sigstore/bundle and the pre-authentication encoding from @sigstore/core; the signature
// from node:crypto.
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import { signBytes } from '../sigstore/sign.ts';
import { publicKeyId } from '../sigstore/keys.ts';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, type InTotoStatement } from './bundle-types.ts';

export function statementFor(manifestDigest: string, predicateType: string, predicate: unknown, annotations?: Readonly<Record<string, string>> | null): InTotoStatement {
  const [algorithm, hex] = manifestDigest.split(':') as [string, string];
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { [algorithm]: hex }, ...(annotations ? { annotations } : {}) }],
    predicateType,
    predicate,
  };
}

/** The bundle's JSON bytes (application/vnd.dev.sigstore.bundle.v0.3+json). */
export async function createDsseBundle(privateKey: KeyObject, statement: InTotoStatement): Promise<Buffer> {
  const [{ toDSSEBundle, bundleToJSON }, { dsse }] = await Promise.all([import('@sigstore/bundle'), import('@sigstore/core')]);
  const payload = Buffer.from(JSON.stringify(statement));
  const signature = signBytes(privateKey, dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  // The hint names the key (its SPKI sha256, as Custody names keys everywhere).
  const keyHint = publicKeyId(createPublicKey(privateKey));
  const bundle = toDSSEBundle({ artifact: payload, artifactType: IN_TOTO_PAYLOAD_TYPE, signature, keyHint });
  return Buffer.from(JSON.stringify(bundleToJSON(bundle)));
}
