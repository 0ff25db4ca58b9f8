// Names of the sigstore bundle formats and of the in-toto statements they carry, as cosign
// v3 writes them (its specs/BUNDLE_SPEC.md): a bundle is stored as an OCI 1.1 referrer of
// the image, artifactType = the bundle's media type, one layer = the bundle's JSON, the
// empty config. Pure names: the parsing and verification are the sigstore libraries'.

/** v0.1 and v0.2 carry their version as a parameter; v0.3 in the type itself. */
export const BUNDLE_MEDIA_TYPE_V01 = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
export const BUNDLE_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2';
export const BUNDLE_MEDIA_TYPE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Whether an artifactType (or layer media type) names a sigstore bundle, any version. */
export function isBundleMediaType(type: string | undefined): boolean {
  return type !== undefined && (/^application\/vnd\.dev\.sigstore\.bundle\.v\d+\.\d+\+json$/.test(type) || /^application\/vnd\.dev\.sigstore\.bundle\+json;\s*version=\d+\.\d+$/.test(type));
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
/** What cosign v3 signs for an image: an in-toto statement of this type about its digest. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

/** Referrer manifest annotations cosign sets (BUNDLE_SPEC.md, "Annotations"). */
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

/** cosign attest --type shorthands and the predicate types they stand for. */
export const PREDICATE_TYPES: Readonly<Record<string, string>> = {
  slsaprovenance: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance02: 'https://slsa.dev/provenance/v0.2',
  slsaprovenance1: 'https://slsa.dev/provenance/v1',
  spdx: 'https://spdx.dev/Document',
  spdxjson: 'https://spdx.dev/Document',
  cyclonedx: 'https://cyclonedx.org/bom',
  vuln: 'https://cosign.sigstore.dev/attestation/vuln/v1',
  openvex: 'https://openvex.dev/ns',
  custom: 'https://cosign.sigstore.dev/attestation/v1',
};

/** `--type` as cosign reads it: a shorthand, or a predicate type URI as is. */
export function predicateTypeOf(type: string): string | undefined {
  const known = PREDICATE_TYPES[type];
  if (known !== undefined) return known;
  try {
    const url = new URL(type);
    return url.protocol === 'https:' || url.protocol === 'http:' ? type : undefined;
  } catch {
    return undefined;
  }
}

/** An in-toto statement's subject entry. */
export interface StatementSubject {
  readonly name?: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface InTotoStatement {
  readonly _type: string;
  readonly subject: readonly StatementSubject[];
  readonly predicateType: string;
  readonly predicate?: unknown;
}
