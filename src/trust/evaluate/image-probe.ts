// The image half of the report: what the image is (digest, age, labels claiming a vendor
// and a source) next to who actually signed it (sigstore signatures from the `.sig` tag
// and referrers, verified with the keys given), and what the local containers-policy.json
// would decide. Everything is read through the client's RegistryClient, so credentials,
// certs.d and registries.conf apply as they do for a pull.
import type { ImageReference } from '../../client/reference.ts';
import type { RegistryClient } from '../../client/registry-client/index.ts';
import type { GpgSignature, SigstoreSignature } from '../../core/signatures.ts';
import { readImageConfig, readManifestJson } from '../../core/manifest-reader.ts';
import { readGpgSignatures } from '../gpg/signature-io.ts';
import { readUnverifiedMessage } from '../gpg/openpgp.ts';
import { loadRegistriesD, registriesDirPath } from '../lookaside/registries-d.ts';
import { readSigstoreSignatures } from '../sigstore/attachments.ts';
import { SignatureVerificationError, verifySigstoreSignature } from '../sigstore/verify.ts';
import { loadPublicKeys } from '../sigstore/keys.ts';
import { claimedIdentity } from '../sigstore/payload.ts';
import { evaluatePolicy } from '../policy/evaluate.ts';
import { dockerScopes } from '../policy/scopes.ts';
import { realVerifiers } from '../policy/verifiers.ts';
import type { Policy } from '../policy/policy-file.ts';
import type { ImageReport, SignatureReport } from './report.ts';
import { probeBundles, probeNotation } from './attachment-probe.ts';
import type { NotationPolicy } from '../notation/trust-policy.ts';

export interface TrustedKeyFile {
  /** Where the key came from (a file name), shown next to what it verified. */
  readonly source: string;
  readonly pem: string;
}

export interface ImageProbeOptions {
  readonly client: RegistryClient;
  readonly reference: ImageReference;
  readonly keys: readonly TrustedKeyFile[];
  readonly policy?: { readonly file: string | null; readonly policy: Policy } | undefined;
  /** notation's trust policy and trust store, to judge notation signatures with. */
  readonly notation?: { readonly policies: readonly NotationPolicy[]; readonly trustStore: string } | undefined;
  /** The platform whose instance of an index is described; default this machine's linux one. */
  readonly platform?: { readonly os: string; readonly architecture: string };
}

const DAY_MS = 86_400_000;
const ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export async function probeImage(options: ImageProbeOptions): Promise<ImageReport & { referrersApi: boolean | null }> {
  const { client, reference } = options;
  const repository = reference.repository;
  const target = reference.digest ?? reference.tag ?? 'latest';
  const empty = (error: string): ImageReport & { referrersApi: null } => ({
    reference: reference.toString(), repository, error, digest: null, mediaType: null, platformDigest: null, created: null, ageDays: null, labels: {},
    claims: { vendor: null, source: null, url: null, revision: null, builder: null }, signatures: [], signed: false, signedBy: [], policy: null, quality: null, referrersApi: null,
  });
  let top;
  try {
    top = await client.getManifest(repository, target);
  } catch (error) {
    return empty((error as Error).message.split('\n')[0]!);
  }
  const parsed = readManifestJson(top.bytes);
  let imageDigest: string = top.digest;
  let imageManifest = parsed;
  let platformDigest: string | null = null;
  if (parsed.manifests !== undefined) {
    const os = options.platform?.os ?? 'linux';
    const architecture = options.platform?.architecture ?? ARCH[process.arch] ?? process.arch;
    const chosen = parsed.manifests.find((entry) => entry.platform?.os === os && entry.platform?.architecture === architecture) ?? parsed.manifests.find((entry) => entry.platform?.os !== 'unknown');
    if (chosen) {
      const child = await client.getManifest(repository, chosen.digest);
      imageDigest = child.digest;
      platformDigest = child.digest;
      imageManifest = readManifestJson(child.bytes);
    }
  }

  let created: string | null = null;
  let labels: Record<string, string> = {};
  if (imageManifest.config?.digest) {
    try {
      const config = readImageConfig(await readAll(await client.getBlob(repository, imageManifest.config.digest)));
      created = typeof config.created === 'string' ? config.created : null;
      labels = config.config?.Labels ?? {};
    } catch {
      // An artifact's config is not an image configuration: no labels, no date.
    }
  }
  const createdMs = created === null ? NaN : Date.parse(created);

  // Signatures of the manifest as pulled, and of the platform instance for an index.
  const attachment = { client, repository };
  const found: { digest: string; signature: SigstoreSignature }[] = [];
  for (const digest of new Set([top.digest, imageDigest])) {
    for (const signature of await readSigstoreSignatures(attachment, digest).catch(() => [])) found.push({ digest, signature });
  }
  const keys = options.keys.flatMap((file) => loadPublicKeys(file.pem).map((key) => ({ source: file.source, key })));
  const signatures: SignatureReport[] = found.map(({ digest, signature }) => judge(signature, digest, keys));
  // GPG simple signing: through the registry's signature extension, else the registries.d
  // lookaside. Listed with who claims to have signed; verified by a signedBy policy.
  let gpg: GpgSignature[] = [];
  try {
    const registriesD = await loadRegistriesD(await registriesDirPath());
    gpg = await readGpgSignatures({ kind: 'docker', reference: { registry: reference.registry, repository, digest: top.digest }, client, registriesD }, top.digest);
  } catch {
    gpg = [];
  }
  for (const signature of gpg) signatures.push(await describeGpg(signature));
  signatures.push(...(await probeBundles(attachment, { digest: top.digest, bytes: top.bytes }, keys)));
  signatures.push(...(await probeNotation(attachment, top.digest, options.notation === undefined ? undefined : { ...options.notation, repository: `${reference.registry}/${repository}` })));

  let policy: ImageReport['policy'] = null;
  if (options.policy) {
    const decision = await evaluatePolicy(options.policy.policy, {
      transport: 'docker',
      name: `docker://${reference.toString()}`,
      scopes: dockerScopes(reference),
      dockerReference: reference,
      manifest: top.bytes,
      signatures: { sigstore: async () => found.filter((entry) => entry.digest === top.digest).map((entry) => entry.signature), simpleSigning: async () => gpg },
    }, realVerifiers);
    policy = { file: options.policy.file, allowed: decision.allowed, message: decision.message ?? null };
  }

  let referrersApi: boolean | null = null;
  try {
    referrersApi = (await client.referrers(repository, top.digest)).api;
  } catch {
    referrersApi = null;
  }

  const label = (...names: string[]): string | null => names.map((name) => labels[name]).find((value) => value !== undefined && value !== '') ?? null;
  const buildah = label('io.buildah.version');
  return {
    reference: reference.toString(),
    repository,
    error: null,
    digest: top.digest,
    mediaType: top.mediaType,
    platformDigest,
    created,
    ageDays: Number.isNaN(createdMs) ? null : Math.floor((Date.now() - createdMs) / DAY_MS),
    labels,
    claims: {
      vendor: label('org.opencontainers.image.vendor', 'vendor', 'org.label-schema.vendor'),
      source: label('org.opencontainers.image.source', 'org.label-schema.vcs-url'),
      url: label('org.opencontainers.image.url', 'url', 'org.label-schema.url'),
      revision: label('org.opencontainers.image.revision', 'org.label-schema.vcs-ref'),
      builder: buildah === null ? null : `buildah ${buildah}`,
    },
    signatures,
    signed: signatures.length > 0,
    signedBy: [...new Set(signatures.filter((entry) => entry.verified === true).map((entry) => `${entry.keyId} (${entry.keySource})`))],
    policy,
    quality: null,
    referrersApi,
  };
}

async function describeGpg(signature: GpgSignature): Promise<SignatureReport> {
  try {
    const message = await readUnverifiedMessage(signature.message);
    const claimed = (JSON.parse(message.content.toString('utf8')) as { critical?: { identity?: { 'docker-reference'?: unknown } } }).critical?.identity?.['docker-reference'];
    const signer = message.issuerFingerprint ?? message.issuerKeyId ?? null;
    return {
      format: 'simple-signing',
      identity: typeof claimed === 'string' ? claimed : null,
      verified: null,
      keyId: signer,
      keySource: null,
      reason: 'GPG signature: verified only by a signedBy requirement of the policy (the key id is as claimed)',
    };
  } catch (error) {
    return { format: 'simple-signing', identity: null, verified: false, keyId: null, keySource: null, reason: (error as Error).message };
  }
}

function judge(signature: SigstoreSignature, digest: string, keys: readonly { source: string; key: import('node:crypto').KeyObject }[]): SignatureReport {
  // An unreadable payload is reported below as a verification failure.
  const identity = claimedIdentity(signature.payload);
  if (keys.length === 0) return { format: 'sigstore', identity, verified: null, keyId: null, keySource: null, reason: 'no key to verify with (give --key, or a sigstoreSigned policy)' };
  let deepest: string | null = null;
  for (const { source, key } of keys) {
    try {
      const verified = verifySigstoreSignature(signature, [key], digest);
      return { format: 'sigstore', identity, verified: true, keyId: verified.keyId, keySource: source, reason: null };
    } catch (error) {
      if (!(error instanceof SignatureVerificationError)) throw error;
      if (error.reason !== 'untrusted-key' || deepest === null) deepest = error.message;
    }
  }
  return { format: 'sigstore', identity, verified: false, keyId: null, keySource: null, reason: deepest };
}

async function readAll(stream: AsyncIterable<unknown> & { destroy(): void }, limit = 4 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new Error('too large');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
