// The report card `custody evaluate` produces: what a newcomer needs to decide whether to
// trust a registry (is the connection private and authenticated, is it a real OCI
// registry, what does it support) and an image (who signed it, does that match what it
// claims to be, how old and how patched is it). Plain data: the JSON output is this shape.

export type NoteLevel = 'good' | 'warning' | 'bad' | 'info';

export interface Note {
  readonly level: NoteLevel;
  readonly text: string;
}

export type ChainProblem = 'unknown CA' | 'self-signed certificate' | 'expired' | 'not yet valid' | 'hostname mismatch' | 'revoked' | 'invalid';

export interface CertificateReport {
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltNames: readonly string[];
  readonly validFrom: string;
  readonly validTo: string;
  readonly daysLeft: number;
  readonly fingerprint256: string;
}

export interface TlsReport {
  /** A TLS handshake completed. */
  readonly available: boolean;
  /** Why not, when it did not. */
  readonly error: string | null;
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly certificate: CertificateReport | null;
  readonly chain: {
    readonly valid: boolean;
    /** What made it valid: the system's roots, or a CA from certs.d. */
    readonly trustedBy: 'system' | 'certs.d' | null;
    /** The certs.d directory consulted, if any. */
    readonly certsDir: string | null;
    readonly problem: ChainProblem | null;
    /** OpenSSL's code, for the curious (UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
    readonly errorCode: string | null;
  } | null;
}

export interface ApiReport {
  /** GET /v2/ answered as a registry does (200, or 401 with a challenge). */
  readonly reachable: boolean;
  readonly status: number | null;
  /** Docker-Distribution-API-Version. */
  readonly apiVersion: string | null;
  readonly auth: { readonly scheme: string; readonly realm: string | null; readonly service: string | null } | null;
  /** Strict-Transport-Security, on HTTPS. */
  readonly hsts: string | null;
  /** X-Registry-Supports-Signatures: the registry extension API for simple signing signatures. */
  readonly signaturesExtension: boolean;
  /** The OCI 1.1 referrers API (null: not checked, it needs an image). */
  referrers: boolean | null;
}

export interface RegistryReport {
  readonly host: string;
  /** The endpoint evaluated: https://host or http://host. */
  readonly endpoint: string;
  readonly transport: 'https' | 'http';
  readonly tls: TlsReport;
  readonly api: ApiReport;
}

export interface SignatureReport {
  readonly format: 'sigstore' | 'simple-signing' | 'sigstore-bundle' | 'attestation' | 'notation';
  /** The docker-reference the signature claims (a bundle's or notation signer; an attestation's predicate type). */
  readonly identity: string | null;
  readonly verified: boolean | null;
  /** The key that verified it (`sha256:…` or a PGP fingerprint), and where that key came from. */
  readonly keyId: string | null;
  readonly keySource: string | null;
  readonly reason: string | null;
}

export interface ImageReport {
  readonly reference: string;
  readonly repository: string;
  /** Why the image part could not be evaluated; the rest is null then. */
  readonly error: string | null;
  readonly digest: string | null;
  readonly mediaType: string | null;
  /** For an index: the instance for this platform, which is what runs. */
  readonly platformDigest: string | null;
  readonly created: string | null;
  readonly ageDays: number | null;
  readonly labels: Readonly<Record<string, string>>;
  /** What the image says about where it comes from. */
  readonly claims: { readonly vendor: string | null; readonly source: string | null; readonly url: string | null; readonly revision: string | null; readonly builder: string | null };
  readonly signatures: readonly SignatureReport[];
  readonly signed: boolean;
  /** Keys that verified a signature (who actually signed it). */
  readonly signedBy: readonly string[];
  /** The local containers-policy.json's decision, when one was evaluated. */
  readonly policy: { readonly file: string | null; readonly allowed: boolean; readonly message: string | null } | null;
  /** The health grade: `?` with the reason when no advisory data backs one; `dataAge` says how old the data is. */
  quality: { readonly grade: string; readonly securityErrata: number; readonly database: string | null; readonly reason?: string | null | undefined; readonly dataAge?: string | undefined } | null;
}

export interface EvaluationReport {
  readonly target: string;
  readonly evaluatedAt: string;
  readonly registry: RegistryReport;
  readonly image: ImageReport | null;
  readonly notes: Note[];
}
