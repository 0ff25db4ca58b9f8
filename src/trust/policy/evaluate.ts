// Policy evaluation, as containers/image's PolicyContext.IsRunningImageAllowed: the scope
// that applies to the image is chosen (the most specific in the image's transport, then
// that transport's "" default, then the global `default`), and every requirement of that
// scope must accept the image. Signatures are fetched only when a requirement needs them
// (so `insecureAcceptAnything` costs no request), and each one is checked for the key, the
// manifest digest and the signed identity. Verification and signature access are injected:
// the sigstore and GPG implementations live in src/trust/sigstore and src/trust/gpg.
import { readFileSync } from 'node:fs';
import { digestOf, type DigestAlgorithm } from '../../core/digest.ts';
import type { ImageReference } from '../../client/reference.ts';
import type { GpgSignature, SigstoreSignature, VerifiedSignature } from '../../core/signatures.ts';
import { describeIdentity, identityMatches } from './identity.ts';
import { jsonPath } from './strict-json.ts';
import type { KeySet, Policy, PolicyRequirement } from './policy-file.ts';

/** The signatures an image has, fetched when first asked for. */
export interface SignatureProvider {
  sigstore(): Promise<readonly SigstoreSignature[]>;
  simpleSigning(): Promise<readonly GpgSignature[]>;
}

/**
 * Cryptographic checks; each throws an Error saying why when the signature does not verify:
 * UntrustedKeyError when no given key made it, so the message can say "not signed by a key
 * in …" (an invalid payload or packet is a different story and keeps its own message).
 */
export interface SignatureVerifiers {
  /** A sigstore signature made by one of `publicKeys` (PEM); returns its parsed payload and key.
   * With `rekorPublicKeys`, it must also carry a Rekor entry signed by one of them. */
  verifySigstore(signature: SigstoreSignature, publicKeys: readonly Buffer[], rekorPublicKeys?: readonly Buffer[]): Promise<VerifiedSignature>;
  /** A keyless sigstore signature: a certificate from the Fulcio CA (PEM) for `subjectEmail`
   * issued through `oidcIssuer`, valid when the Rekor log (one of `rekorPublicKeys`) recorded it. */
  verifySigstoreFulcio(signature: SigstoreSignature, fulcio: FulcioTrust): Promise<VerifiedSignature>;
  /** A simple-signing OpenPGP message made by a key in `keyring` (binary or armored key files). */
  verifySimpleSigning(message: Buffer, keyring: readonly Buffer[]): Promise<VerifiedSignature>;
}

export interface FulcioTrust {
  readonly caCertificates: Buffer;
  readonly oidcIssuer: string;
  readonly subjectEmail: string;
  readonly rekorPublicKeys: readonly Buffer[];
}

/** The image being evaluated: one manifest (a single image, an index, or an index's instance). */
export interface PolicyImage {
  /** The policy.json transport name: docker, dir, oci, oci-archive, docker-archive. */
  readonly transport: string;
  /** The transport-qualified name, for messages (`docker://host/repo:tag`). */
  readonly name: string;
  /** Scopes of the transport that apply, most specific first (scopes.ts). */
  readonly scopes: readonly string[];
  /** The Docker reference the image is used as, for signedIdentity; undefined when the transport has none. */
  readonly dockerReference: ImageReference | undefined;
  /** The manifest bytes, whose digest a signature must name. */
  readonly manifest: Buffer;
  readonly signatures: SignatureProvider;
}

export interface RequirementResult {
  /** Where the requirement is in policy.json (`.transports.docker["quay.io"][0]`). */
  readonly path: string;
  readonly requirement: PolicyRequirement;
  /** The requirement in words (`sigstoreSigned keyPath /etc/key.pub`). */
  readonly description: string;
  readonly accepted: boolean;
  /** Why it was refused. */
  readonly reason?: string;
  /** The signatures that satisfied it. */
  readonly signatures?: readonly VerifiedSignature[];
}

export interface PolicyDecision {
  readonly allowed: boolean;
  /** Where the chosen requirements are in policy.json: `.default` or `.transports.docker["quay.io"]`. */
  readonly scopePath: string;
  /** The requirements evaluated, in order, up to the first that refused. */
  readonly results: readonly RequirementResult[];
  /** One line for the first refusal (containers/image's wording, plus which requirement). */
  readonly message?: string;
}

export class PolicyRejectedError extends Error {
  override readonly name = 'PolicyRejectedError';
  readonly decision: PolicyDecision;
  constructor(message: string, decision: PolicyDecision) {
    super(message);
    this.decision = decision;
  }
}

/** The requirements that apply to the image and where they are in the file. */
export function requirementsFor(policy: Policy, image: Pick<PolicyImage, 'transport' | 'scopes'>): { readonly scopePath: string; readonly requirements: readonly PolicyRequirement[] } {
  const scopes = policy.transports.get(image.transport);
  if (scopes !== undefined) {
    for (const scope of [...image.scopes, '']) {
      const requirements = scopes.get(scope);
      if (requirements !== undefined) return { scopePath: jsonPath(jsonPath('.transports', image.transport), scope), requirements };
    }
  }
  return { scopePath: '.default', requirements: policy.default };
}

export function describeRequirement(requirement: PolicyRequirement): string {
  switch (requirement.type) {
    case 'insecureAcceptAnything':
    case 'reject':
      return requirement.type;
    case 'signedBy':
      return `signedBy ${requirement.keyType} ${requirement.keys.described}${identitySuffix(requirement.signedIdentity)}`;
    case 'sigstoreSigned': {
      const source = requirement.keys?.described ?? (requirement.fulcio !== undefined ? `fulcio ${requirement.fulcio.oidcIssuer} ${requirement.fulcio.subjectEmail}` : 'pki');
      return `sigstoreSigned ${source}${identitySuffix(requirement.signedIdentity)}`;
    }
  }
}

function identitySuffix(identity: Extract<PolicyRequirement, { signedIdentity: unknown }>['signedIdentity']): string {
  return identity.type === 'matchRepoDigestOrExact' ? '' : `, signedIdentity ${describeIdentity(identity)}`;
}

export interface EvaluateOptions {
  /** Reads key files (tests); default readFileSync. */
  readonly readFile?: (path: string) => Buffer;
}

/** Evaluates the policy for one image; never throws for a refusal (see decision.allowed). */
export async function evaluatePolicy(policy: Policy, image: PolicyImage, verifiers: SignatureVerifiers, options: EvaluateOptions = {}): Promise<PolicyDecision> {
  const { scopePath, requirements } = requirementsFor(policy, image);
  const results: RequirementResult[] = [];
  for (const [index, requirement] of requirements.entries()) {
    const path = jsonPath(scopePath, index);
    const description = describeRequirement(requirement);
    const outcome = await evaluateRequirement(requirement, image, verifiers, options.readFile ?? ((file) => readFileSync(file)));
    results.push({ path, requirement, description, ...outcome });
    if (!outcome.accepted) {
      return { allowed: false, scopePath, results, message: `${outcome.reason} (policy requirement ${path}: ${description})` };
    }
  }
  return { allowed: true, scopePath, results };
}

/** Evaluates and throws PolicyRejectedError ("Source image rejected: ...") on refusal, as `skopeo copy` words it. */
export async function enforcePolicy(policy: Policy, image: PolicyImage, verifiers: SignatureVerifiers, options: EvaluateOptions = {}): Promise<PolicyDecision> {
  const decision = await evaluatePolicy(policy, image, verifiers, options);
  if (!decision.allowed) throw new PolicyRejectedError(`Source image rejected: ${decision.message}`, decision);
  return decision;
}

type Outcome = { readonly accepted: true; readonly signatures?: readonly VerifiedSignature[] } | { readonly accepted: false; readonly reason: string };


async function evaluateRequirement(requirement: PolicyRequirement, image: PolicyImage, verifiers: SignatureVerifiers, readFile: (path: string) => Buffer): Promise<Outcome> {
  switch (requirement.type) {
    case 'insecureAcceptAnything':
      return { accepted: true };
    case 'reject':
      return { accepted: false, reason: `Running image ${image.name} is rejected by policy` };
    case 'signedBy': {
      if (requirement.keyType !== 'GPGKeys') return { accepted: false, reason: `Unimplemented "keyType" value "${requirement.keyType}"` };
      const keyring = readKeys(requirement.keys, readFile);
      if (typeof keyring === 'string') return { accepted: false, reason: keyring };
      const signatures = await image.signatures.simpleSigning();
      return checkSignatures('simple signing', signatures, requirement.keys, image, 'atomic container signature', requirement.signedIdentity, (signature) =>
        verifiers.verifySimpleSigning(signature.message, keyring),
      );
    }
    case 'sigstoreSigned': {
      if (requirement.pki !== undefined) return { accepted: false, reason: 'X.509 (pki) sigstore verification is not supported; use keyPath or fulcio' };
      // Offline: the Rekor keys check the signed entry timestamp the signature carries.
      const rekor = requirement.rekorPublicKeys === undefined ? undefined : readKeys(requirement.rekorPublicKeys, readFile);
      if (typeof rekor === 'string') return { accepted: false, reason: rekor };
      if (requirement.fulcio !== undefined) {
        const fulcio = requirement.fulcio;
        let ca: Buffer;
        try {
          ca = fulcio.caData ?? readFile(fulcio.caPath!);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          return { accepted: false, reason: `reading the Fulcio CA ${fulcio.caPath}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}` };
        }
        const trust: FulcioTrust = { caCertificates: ca, oidcIssuer: fulcio.oidcIssuer, subjectEmail: fulcio.subjectEmail, rekorPublicKeys: rekor ?? [] };
        const described: KeySet = { paths: [], data: [], described: `fulcio ${fulcio.caPath ?? 'caData'} (${fulcio.subjectEmail} via ${fulcio.oidcIssuer})` };
        return checkSignatures('sigstore', await image.signatures.sigstore(), described, image, 'cosign container image signature', requirement.signedIdentity, (signature) => verifiers.verifySigstoreFulcio(signature, trust));
      }
      if (requirement.keys === undefined) return { accepted: false, reason: 'no key source' };
      const keys = readKeys(requirement.keys, readFile);
      if (typeof keys === 'string') return { accepted: false, reason: keys };
      const signatures = await image.signatures.sigstore();
      return checkSignatures('sigstore', signatures, requirement.keys, image, 'cosign container image signature', requirement.signedIdentity, (signature) =>
        verifiers.verifySigstore(signature, keys, rekor),
      );
    }
  }
}

function readKeys(keys: KeySet, readFile: (path: string) => Buffer): Buffer[] | string {
  const read: Buffer[] = [...keys.data];
  for (const path of keys.paths) {
    try {
      read.push(readFile(path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return `reading the key ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`;
    }
  }
  return read;
}

export class UntrustedKeyError extends Error {
  override readonly name = 'UntrustedKeyError';
}

/** Accepts when at least one signature verifies and names this manifest and an acceptable identity. */
async function checkSignatures<S>(
  format: string,
  signatures: readonly S[],
  keys: KeySet,
  image: PolicyImage,
  payloadType: string,
  identity: Extract<PolicyRequirement, { signedIdentity: unknown }>['signedIdentity'],
  verify: (signature: S) => Promise<VerifiedSignature>,
): Promise<Outcome> {
  if (signatures.length === 0) return { accepted: false, reason: `A signature was required, but no ${format} signature exists for ${image.name}` };
  const accepted: VerifiedSignature[] = [];
  const reasons: string[] = [];
  for (const signature of signatures) {
    try {
      const verified = await verify(signature);
      const critical = verified.payload.critical;
      if (critical.type !== payloadType) throw new Error(`Unsupported signature type "${critical.type}"`);
      const digest = critical.image['docker-manifest-digest'];
      if (!manifestMatches(image.manifest, digest)) throw new Error(`Signature for digest ${digest} does not match`);
      const signedReference = critical.identity['docker-reference'];
      if (image.dockerReference === undefined && (identity.type !== 'exactReference' && identity.type !== 'exactRepository')) {
        throw new Error(`Docker reference match attempted on image ${image.name} with no known Docker reference identity`);
      }
      if (!identityMatches(identity, image.dockerReference, signedReference)) throw new Error(`Signature for identity "${signedReference}" is not accepted`);
      accepted.push(verified);
    } catch (error) {
      reasons.push(error instanceof UntrustedKeyError ? `not signed by a key in ${keys.described} (${error.message})` : (error as Error).message);
    }
  }
  if (accepted.length > 0) return { accepted: true, signatures: accepted };
  const allKeyMismatches = reasons.every((reason) => reason.startsWith('not signed by a key'));
  if (allKeyMismatches) {
    const where = keys.paths.length > 0 ? keys.paths.join(', ') : keys.described;
    return { accepted: false, reason: `none of the ${format} signatures is signed by a key in ${where}` };
  }
  return { accepted: false, reason: `None of the ${format} signatures were accepted, reasons: ${reasons.join('; ')}` };
}

/** Whether the manifest bytes have `digest` (in its own algorithm). */
function manifestMatches(manifest: Buffer, digest: string): boolean {
  const algorithm = /^(sha256|sha512):[a-f0-9]+$/.exec(digest)?.[1] as DigestAlgorithm | undefined;
  return algorithm !== undefined && digestOf(manifest, algorithm) === digest;
}
