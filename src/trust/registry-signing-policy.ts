// Registry-side signature enforcement: a repository or a namespace (organization or
// user) may require that images be signed by one of its trusted sigstore keys before
// they are served (mode `pull`) and, optionally, before a tag may point at them (mode
// `pull,tag`). Every policy that applies must be satisfied: a namespace's policy cannot
// be loosened by one of its repositories.
//
// Signatures are read from the registry's own metadata, where cosign and skopeo put
// them: the `sha256-<hex>.sig` tag and OCI 1.1 referrers of the cosign artifact type,
// in the same repository. A platform image is also trusted when an index in the
// repository that lists it is signed (multi-arch images are often signed as a whole).
// Verifications are cached per (repository, manifest digest, signature manifests, policy
// revisions): a new signature or a changed policy makes a new key, nothing goes stale.
import { RegistryError } from '../core/errors.ts';
import { digestOf, type Digest } from '../core/digest.ts';
import { sigstoreTag } from '../core/signatures.ts';
import { namespaceOf } from '../core/names.ts';
import type { Registry } from '../registry/registry.ts';
import type { ManifestWrite, WriteGuard } from '../registry/write-guard.ts';
import type { SigningMode, SigningPolicyRecord, SigningPolicyScope, SigningPolicyStore, TrustedKeyRecord } from '../metadata/signing-policy-store.ts';
import { guardedKind, type GuardedKind } from './signing-policy/manifest-kind.ts';
import { checkSignatures, isSignatureArtifact, parseNotationCertificate, type NotationAnchor, type PolicyTrust, type SignatureFormat, type SignatureManifest } from './signing-policy/signature-checks.ts';
import { parsePublicKey, type ParsedPublicKey } from './signing-policy/trusted-key.ts';

/** One signature found for a manifest, as the status API shows it. */
export interface SignatureStatus {
  readonly format: SignatureFormat;
  /** Where it was found: the `.sig` tag or a referrer. */
  readonly source: 'tag' | 'referrer';
  readonly signatureManifest: string;
  readonly layer: string;
  /** Who the signature names: the docker-reference a cosign payload claims, the signer of a bundle or notation signature. */
  readonly identity: string | null;
  /** null when no policy applies: there is no trusted key to verify against. */
  readonly verified: boolean | null;
  /** The trusted key (or notation certificate) that verified it, or null. */
  readonly keyId: string | null;
  /** Policies (`namespace acme`, `repository acme/app`) that trust that key. */
  readonly trustedBy: readonly string[];
  readonly reason: string | null;
}

export interface SigningPolicyInput {
  readonly mode: SigningMode;
  /** PEM public keys (sigstore) or PEM certificates (notation trust anchors). */
  readonly keys: readonly string[];
}

/** The signing policy's checks: the distribution API calls the read checks before it
 * serves; `checkTag` runs inside the registry, as its write guard, on every write path. */
export interface ManifestGuard {
  /** Before serving a manifest (GET or HEAD): throws DENIED when a policy is not met. */
  checkPull(repository: string, manifestDigest: string, mediaType: string, content?: Uint8Array): Promise<void>;
  /** Before a manifest PUT by tag: throws DENIED when a `pull,tag` policy is not met. */
  checkTag(repository: string, tag: string, content: Uint8Array, contentType: string | undefined): Promise<void>;
  /** Before serving (or mounting from) a blob the repository links: throws DENIED unless a
   * manifest the policies accept, or an artifact (signature, attestation), references it. */
  checkBlob(repository: string, blobDigest: string): Promise<void>;
}

interface Evaluated {
  readonly signatures: readonly SignatureStatus[];
}

const CACHE_ENTRIES = 10_000;
/** A base layer may be shared by many images of a repository; past this many, the first
 * (in digest order) decide. */
const MAX_REFERENCING_MANIFESTS = 1000;

export class RegistrySigningPolicy implements ManifestGuard, WriteGuard {
  private readonly registry: Registry;
  private readonly store: SigningPolicyStore;
  private readonly now: () => number;
  private readonly cache = new Map<string, Evaluated>();
  private readonly parsedKeys = new Map<string, ParsedPublicKey>();
  private readonly anchors = new Map<string, NotationAnchor>();
  private readonly kinds = new Map<string, GuardedKind | null>();

  constructor(registry: Registry, store: SigningPolicyStore, options: { clock?: () => number } = {}) {
    this.registry = registry;
    this.store = store;
    this.now = options.clock ?? Date.now;
  }

  // ---- management -------------------------------------------------------------------

  async getPolicy(scope: SigningPolicyScope, name: string): Promise<SigningPolicyRecord | null> {
    return this.store.get(scope, name);
  }

  async setPolicy(scope: SigningPolicyScope, name: string, input: SigningPolicyInput, updatedBy: string | null): Promise<SigningPolicyRecord> {
    if (input.mode !== 'pull' && input.mode !== 'pull,tag') throw new RegistryError('INVALID_REQUEST', `mode must be "pull" or "pull,tag", not ${JSON.stringify(input.mode)}`);
    if (input.keys.length === 0) throw new RegistryError('INVALID_REQUEST', 'a signing policy needs at least one trusted key');
    if (input.keys.length > 100) throw new RegistryError('INVALID_REQUEST', 'a signing policy trusts at most 100 keys');
    const keys = new Map<string, TrustedKeyRecord>();
    for (const [index, pem] of input.keys.entries()) {
      if (typeof pem !== 'string') throw new RegistryError('INVALID_REQUEST', `keys[${index}] must be a PEM string`);
      if (pem.includes('-----BEGIN CERTIFICATE-----')) {
        // A certificate is a notation trust anchor: signatures whose chain leads to it count.
        const anchor = parseNotationCertificate(pem, `keys[${index}]`);
        keys.set(anchor.id, { id: anchor.id, format: 'notation', publicKey: anchor.certificate.toString() });
        continue;
      }
      const parsed = parsePublicKey(pem, `keys[${index}]`);
      keys.set(parsed.id, { id: parsed.id, format: 'sigstore', publicKey: parsed.pem });
    }
    return this.store.put(scope, name, input.mode, [...keys.values()], updatedBy, this.now());
  }

  async deletePolicy(scope: SigningPolicyScope, name: string): Promise<boolean> {
    return this.store.delete(scope, name);
  }

  // ---- the hooks --------------------------------------------------------------------

  async checkPull(repository: string, manifestDigest: string, mediaType: string, content?: Uint8Array): Promise<void> {
    const policies = await this.store.applicable(repository, namespaceOf(repository));
    if (policies.length === 0) return;
    const bytes = content ?? (await this.registry.metadata.getManifestByDigest(repository, manifestDigest as Digest))?.content;
    // Not there: the registry's own lookup answers MANIFEST_UNKNOWN.
    if (bytes === undefined || guardedKind(bytes, mediaType) === null) return;
    const unmet = await this.unmet(repository, manifestDigest, policies);
    if (unmet) throw denied(`${repository}@${manifestDigest} is not signed by a trusted key (policy of ${unmet.name})`, unmet);
  }

  async checkTag(repository: string, tag: string, content: Uint8Array, contentType: string | undefined): Promise<void> {
    const policies = (await this.store.applicable(repository, namespaceOf(repository))).filter((policy) => policy.mode === 'pull,tag');
    if (policies.length === 0 || guardedKind(content, contentType) === null) return;
    const digest = digestOf(content);
    const unmet = await this.unmet(repository, digest, policies);
    if (unmet) {
      throw denied(`cannot tag ${repository}:${tag}: ${digest} is not signed by a trusted key (policy of ${unmet.name}); push it by digest, sign it, then tag it`, unmet);
    }
  }

  /** The registry's write guard: a push by tag must meet the `pull,tag` policies. */
  async beforeManifestWrite(write: ManifestWrite): Promise<void> {
    if (write.tag !== undefined) await this.checkTag(write.repository, write.tag, write.content, write.contentType);
  }

  async checkBlob(repository: string, blobDigest: string): Promise<void> {
    const policies = await this.store.applicable(repository, namespaceOf(repository));
    if (policies.length === 0) return;
    // A layer is as protected as the images it belongs to: otherwise anyone could fetch
    // an unsigned image's content by digest. What nothing references (an upload waiting
    // for its manifest) is nobody's to read but its publisher's.
    const manifests = await this.store.manifestsReferencingBlob(repository, blobDigest, MAX_REFERENCING_MANIFESTS);
    const images: string[] = [];
    for (const digest of manifests) {
      const kind = await this.kindOf(repository, digest);
      // A signature's payload, an attestation's bundle, an SBOM: readable, as their manifests are.
      if (kind === null) return;
      images.push(digest);
    }
    // Verdicts are cached per manifest (signature set, policy revisions): this costs lookups,
    // not a verification per GET.
    for (const digest of images) if ((await this.unmet(repository, digest, policies)) === null) return;
    const policy = images.length === 0 ? policies[0]! : ((await this.unmet(repository, images[0]!, policies)) ?? policies[0]!);
    throw denied(`${repository}@${blobDigest} belongs to no image signed by a trusted key (policy of ${policy.name})`, policy);
  }

  /** guardedKind of a stored manifest, remembered by digest (content never changes). */
  private async kindOf(repository: string, digest: string): Promise<GuardedKind | null> {
    if (this.kinds.has(digest)) return this.kinds.get(digest)!;
    const record = await this.registry.metadata.getManifestByDigest(repository, digest as Digest);
    const kind = record === null ? null : guardedKind(record.content, record.mediaType);
    if (record !== null) {
      if (this.kinds.size >= CACHE_ENTRIES) this.kinds.delete(this.kinds.keys().next().value!);
      this.kinds.set(digest, kind);
    }
    return kind;
  }

  // ---- status -----------------------------------------------------------------------

  /** Throws MANIFEST_UNKNOWN unless the repository holds the manifest. */
  async manifestIn(repository: string, manifestDigest: string): Promise<void> {
    await this.registry.headManifest(repository, manifestDigest);
  }

  /** Every signature found for the manifest, verified against the applicable policies' keys. */
  async signatures(repository: string, manifestDigest: string): Promise<{ policies: SigningPolicyRecord[]; signatures: readonly SignatureStatus[]; satisfied: boolean | null }> {
    const policies = await this.store.applicable(repository, namespaceOf(repository));
    const evaluated = await this.evaluate(repository, manifestDigest, policies);
    const satisfied = policies.length === 0 ? null : (await this.unmet(repository, manifestDigest, policies)) === null;
    return { policies, signatures: evaluated.signatures, satisfied };
  }

  // ---- evaluation -------------------------------------------------------------------

  /** The first policy not satisfied by the manifest's signatures (or a signed index
   * listing it), or null when all are. */
  private async unmet(repository: string, digest: string, policies: readonly SigningPolicyRecord[]): Promise<SigningPolicyRecord | null> {
    const direct = await this.evaluate(repository, digest, policies);
    let remaining = policies.filter((policy) => !satisfies(direct, policy));
    if (remaining.length === 0) return null;
    for (const parent of await this.store.parentIndexes(repository, digest)) {
      const viaIndex = await this.evaluate(repository, parent, policies);
      remaining = remaining.filter((policy) => !satisfies(viaIndex, policy));
      if (remaining.length === 0) return null;
    }
    return remaining[0]!;
  }

  private async evaluate(repository: string, digest: string, policies: readonly SigningPolicyRecord[]): Promise<Evaluated> {
    const manifests = await this.signatureManifests(repository, digest);
    const key = [repository, digest, manifests.map((entry) => entry.digest).sort().join(','), policies.map((policy) => `${policy.scope}:${policy.name}:${policy.revision}`).join(',')].join('\u0000');
    const cached = this.cache.get(key);
    if (cached) return cached;
    const subject = {
      digest,
      repository,
      content: async () => (await this.registry.metadata.getManifestByDigest(repository, digest as Digest))?.content ?? null,
    };
    const verdicts = await checkSignatures(manifests, subject, this.trustOf(policies), (blob, limit) => this.readBlob(repository, blob, limit));
    const signatures: SignatureStatus[] = verdicts.map((verdict) => {
      const trustedBy = verdict.keyId === null ? [] : policies.filter((policy) => policy.keys.some((entry) => entry.id === verdict.keyId)).map(policyLabel);
      return {
        format: verdict.format,
        source: verdict.manifest.source,
        signatureManifest: verdict.manifest.digest,
        layer: verdict.layer,
        identity: verdict.identity,
        verified: policies.length === 0 ? null : verdict.reason === null,
        keyId: verdict.keyId,
        trustedBy,
        reason: policies.length === 0 ? 'no signing policy applies to this repository' : verdict.reason,
      };
    });
    const result: Evaluated = { signatures };
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, result);
    return result;
  }

  private trustOf(policies: readonly SigningPolicyRecord[]): PolicyTrust {
    const keys = new Map<string, ParsedPublicKey>();
    const notation = new Map<string, NotationAnchor>();
    for (const policy of policies) {
      for (const entry of policy.keys) {
        if (entry.format === 'notation') {
          let anchor = this.anchors.get(entry.id);
          if (!anchor) {
            anchor = parseNotationCertificate(entry.publicKey);
            this.anchors.set(entry.id, anchor);
          }
          notation.set(entry.id, anchor);
          continue;
        }
        let parsed = this.parsedKeys.get(entry.id);
        if (!parsed) {
          parsed = parsePublicKey(entry.publicKey);
          this.parsedKeys.set(entry.id, parsed);
        }
        keys.set(entry.id, parsed);
      }
    }
    return { keys: [...keys.values()], notation: [...notation.values()] };
  }

  /** The `.sig` tag's manifest and the signature referrers (cosign, bundles, notation): digests and bytes. */
  private async signatureManifests(repository: string, digest: string): Promise<SignatureManifest[]> {
    const found: SignatureManifest[] = [];
    const tagged = await this.registry.metadata.getManifestByTag(repository, sigstoreTag(digest));
    if (tagged) found.push({ source: 'tag', digest: tagged.digest, content: tagged.content });
    const referrers = await this.registry.listReferrers(repository, digest);
    for (const referrer of referrers) {
      if (!isSignatureArtifact(referrer.artifactType ?? undefined) || found.some((entry) => entry.digest === referrer.digest)) continue;
      const record = await this.registry.metadata.getManifestByDigest(repository, referrer.digest);
      if (record) found.push({ source: 'referrer', digest: record.digest, content: record.content });
    }
    return found;
  }

  /** A blob, through the repository (which must link it); null when missing or over `limit` bytes. */
  private async readBlob(repository: string, digest: string, limit: number): Promise<Buffer | null> {
    let read;
    try {
      read = await this.registry.readBlob(repository, digest);
    } catch {
      return null;
    }
    if (read.size > limit) {
      read.body.destroy();
      return null;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of read.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}

function satisfies(evaluated: Evaluated, policy: SigningPolicyRecord): boolean {
  return evaluated.signatures.some((signature) => signature.reason === null && signature.keyId !== null && policy.keys.some((entry) => entry.id === signature.keyId));
}

function policyLabel(policy: SigningPolicyRecord): string {
  return `${policy.scope} ${policy.name}`;
}

function denied(message: string, policy: SigningPolicyRecord): RegistryError {
  return new RegistryError('DENIED', message, { detail: { policy: { scope: policy.scope, name: policy.name, mode: policy.mode, revision: policy.revision } } });
}
