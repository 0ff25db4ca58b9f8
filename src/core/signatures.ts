// The signature model: what a container image signature says and how it is carried.
// Pure types shared by the sigstore and GPG implementations, the policy evaluator, the
// registry's signature storage and `custody evaluate`.

/** containers-signature(5) "simple signing" payload, the same for GPG and sigstore. */
export interface SimpleSigningPayload {
  readonly critical: {
    readonly identity: { readonly 'docker-reference': string };
    readonly image: { readonly 'docker-manifest-digest': string };
    readonly type: 'atomic container signature' | 'cosign container image signature';
  };
  readonly optional?: Readonly<Record<string, unknown>> | null;
}

/** A sigstore (cosign) signature as stored in a registry: the payload bytes, the
 * base64 signature annotation, and the other annotations (certificate, bundle). */
export interface SigstoreSignature {
  readonly format: 'sigstore';
  /** The exact payload bytes that were signed (application/vnd.dev.cosign.simplesigning.v1+json). */
  readonly payload: Buffer;
  /** The raw signature bytes (decoded from the dev.cosignproject.cosign/signature annotation). */
  readonly signature: Buffer;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A GPG simple signing signature: an OpenPGP message (signature + literal data). */
export interface GpgSignature {
  readonly format: 'simple-signing';
  /** The OpenPGP message bytes as stored (binary, as `signature-N` files hold them). */
  readonly message: Buffer;
}

export type ImageSignature = SigstoreSignature | GpgSignature;

/** What a verified signature established. */
export interface VerifiedSignature {
  readonly format: ImageSignature['format'];
  readonly payload: SimpleSigningPayload;
  /** Which key signed: a PGP fingerprint, or the SPKI sha256 of a sigstore public key. */
  readonly keyId: string;
  /** Signature creation time, where the format carries one (ms). */
  readonly signedAt?: number | undefined;
}

export const SIGSTORE_PAYLOAD_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGSTORE_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const SIGSTORE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';

/** The tag cosign stores an image's sigstore signatures under: `sha256-<hex>.sig`. */
export function sigstoreTag(manifestDigest: string): string {
  return `${manifestDigest.replace(':', '-')}.sig`;
}
