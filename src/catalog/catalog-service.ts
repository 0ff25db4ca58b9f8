// The catalog: what the web pages and /api/v1/catalog show about repositories, tags and
// images, read through the same domain services /v2 and /api/v1 use (Registry,
// AccessControl, QualityService, RegistrySigningPolicy). Whether a caller may read a
// repository is asked of AccessControl only: this module holds no permission rule.
import { RegistryError } from '../core/errors.ts';
import type { Principal } from '../core/identity.ts';
import { SEVERITIES, type GradeLetter, type Severity } from '../core/quality.ts';
import { indexEntries, readImageConfig, readManifestJson, type ManifestJson } from '../core/manifest-reader.ts';
import type { Registry } from '../registry/registry.ts';
import type { AccessControl } from '../auth/access-control.ts';
import type { RepositoryAccessStore } from '../metadata/identity-store.ts';
import type { ReadScope } from '../metadata/identity/repository-access-store.ts';
import type { ReferrerRecord } from '../metadata/metadata-store.ts';
import type { QualityService } from '../scan/quality-service.ts';
import type { RegistrySigningPolicy } from '../trust/registry-signing-policy.ts';
import { claimedOrigin, imageFacts, platformName, type ImageFacts } from './image-config.ts';
import { readBuildFiles, type BuildFile } from '../scan/build-files.ts';

export type SignatureState = 'verified' | 'signed' | 'unsigned' | 'invalid';

export interface Judgement {
  /** null while the image is not indexed (then `status` says why). */
  readonly grade: GradeLetter | null;
  readonly status: string;
  readonly counts: Readonly<Record<Severity, number>> | null;
  readonly signature: SignatureState;
}

export interface TagRow extends Judgement {
  readonly tag: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly isIndex: boolean;
  readonly platforms: readonly string[];
  readonly size: number;
  readonly pushedAt: number | null;
  /** The image the judgement is about (an index's first platform). */
  readonly imageDigest: string;
}

export interface RepositoryInfo {
  readonly name: string;
  readonly namespace: string | null;
  readonly visibility: 'public' | 'private' | null;
  /** Set by an admin, else the image's own description annotation or label. */
  readonly description: string | null;
  readonly vendor: string | null;
  readonly title: string | null;
  readonly tags: readonly TagRow[];
  /** `latest` when there is one, else the most recently pushed tag. */
  readonly latest: TagRow | null;
}

export interface ImageRecord {
  readonly repository: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly manifest: ManifestJson;
  readonly facts: ImageFacts;
  readonly annotations: Readonly<Record<string, string>>;
  readonly size: number;
}

/** The Registry is given as the fields the catalog reads: manifests, blobs, tags, history. */
export interface CatalogOptions {
  readonly registry: Registry;
  /** Absent when authentication is off: everyone reads everything. */
  readonly access?: AccessControl | undefined;
  readonly repositories: Pick<RepositoryAccessStore, 'findRepository'>;
  readonly quality?: QualityService | undefined;
  readonly signing?: RegistrySigningPolicy | undefined;
}

const CONFIG_LIMIT = 4 * 1024 * 1024;
const TAG_LIMIT = 1000;
const REPOSITORY_LIMIT = 20_000;

/** One word for a manifest's signatures: any verified, all failing, some unchecked, none. */
export function signatureStateOf(signatures: readonly { readonly verified: boolean | null }[]): SignatureState {
  if (signatures.length === 0) return 'unsigned';
  if (signatures.some((signature) => signature.verified === true)) return 'verified';
  if (signatures.every((signature) => signature.verified === false)) return 'invalid';
  return 'signed';
}

export function zeroCounts(): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, 0])) as Record<Severity, number>;
}

export class CatalogService {
  private readonly options: CatalogOptions;
  /** By manifest digest: an image's content never changes. */
  private readonly buildFileCache = new Map<string, Promise<readonly BuildFile[]>>();

  constructor(options: CatalogOptions) {
    this.options = options;
  }

  get quality(): QualityService | undefined {
    return this.options.quality;
  }

  get signing(): RegistrySigningPolicy | undefined {
    return this.options.signing;
  }

  /** Whether the caller may read the repository (AccessControl decides; it must exist). */
  async mayRead(principal: Principal, repository: string): Promise<boolean> {
    if (!this.options.access) return this.options.registry.metadata.repositoryExists(repository);
    const { role, exists } = await this.options.access.access(principal, repository);
    return role !== null && exists;
  }

  /** Throws NAME_UNKNOWN, the same refusal for "missing" and "not yours", unless readable. */
  async requireReadable(principal: Principal, repository: string): Promise<void> {
    if (!(await this.mayRead(principal, repository))) throw new RegistryError('NAME_UNKNOWN', `repository ${repository} is not known`, { status: 404 });
  }

  /** Whether the caller administers the repository (settings pages). */
  async mayAdminister(principal: Principal, repository: string): Promise<boolean> {
    if (!this.options.access) return true;
    const { role, exists } = await this.options.access.access(principal, repository);
    return exists && role === 'admin';
  }

  /** Whether the caller may write (push, restore a tag) the repository: the same AccessControl. */
  async mayWrite(principal: Principal, repository: string): Promise<boolean> {
    if (!this.options.access) return true;
    const { role, exists } = await this.options.access.access(principal, repository);
    return exists && (role === 'write' || role === 'admin');
  }

  /** Whose read rule applies, for the search index's SQL (AccessControl decides; everyone reads everything without it). */
  readScope(principal: Principal): ReadScope | null {
    return this.options.access ? this.options.access.readScope(principal) : { accountId: null, includePublic: true, all: true };
  }

  /** Whether a repository holds anything (the search index drops a row that does not). */
  repositoryExists(repository: string): Promise<boolean> {
    return this.options.registry.metadata.repositoryExists(repository);
  }

  /** Every repository after `last`, in name order, whoever may read it (the index rebuild). */
  async allRepositories(last: string | undefined, limit: number): Promise<string[]> {
    return (await this.options.registry.listRepositories(limit, last)).entries;
  }

  /** Every repository the caller may read, in name order (bounded). */
  async readableRepositories(principal: Principal): Promise<string[]> {
    const names: string[] = [];
    let last: string | undefined;
    for (;;) {
      const batch = this.options.access
        ? await this.options.access.readableRepositories(principal, last, 1000)
        : (await this.options.registry.listRepositories(1000, last)).entries;
      // The identity table also knows repositories created empty (settings before a push).
      for (const name of batch) names.push(name);
      if (batch.length < 1000 || names.length >= REPOSITORY_LIMIT) return names;
      last = batch[batch.length - 1];
    }
  }

  /** A repository with its tags judged: the repository page and each search result. */
  async repository(repository: string, options: { tagLimit?: number } = {}): Promise<RepositoryInfo> {
    const { registry } = this.options;
    const settings = await this.options.repositories.findRepository(repository);
    const tags = (await registry.metadata.listTags(repository, { limit: options.tagLimit ?? TAG_LIMIT })) ?? [];
    const pushed = new Map<string, number>();
    for (const entry of await registry.metadata.tagHistory(repository)) {
      if (entry.digest !== null && (pushed.get(entry.tag) ?? 0) < entry.changedAt) pushed.set(entry.tag, entry.changedAt);
    }
    const rows: TagRow[] = [];
    for (const tag of tags) {
      const row = await this.tagRow(repository, tag, pushed.get(tag) ?? null).catch(() => null);
      if (row) rows.push(row);
    }
    const latest = rows.find((row) => row.tag === 'latest') ?? [...rows].sort((a, b) => (b.pushedAt ?? 0) - (a.pushedAt ?? 0))[0] ?? null;
    let claimed = { vendor: null as string | null, title: null as string | null, description: null as string | null };
    if (latest) {
      const image = await this.image(repository, latest.imageDigest).catch(() => null);
      if (image) claimed = claimedOrigin(image.facts.labels, image.annotations);
    }
    const slash = repository.indexOf('/');
    return {
      name: repository,
      namespace: slash < 0 ? null : repository.slice(0, slash),
      visibility: settings?.visibility ?? null,
      description: settings?.description ?? claimed.description,
      vendor: claimed.vendor,
      title: claimed.title,
      tags: rows.sort((a, b) => (b.pushedAt ?? 0) - (a.pushedAt ?? 0) || a.tag.localeCompare(b.tag)),
      latest,
    };
  }

  private async tagRow(repository: string, tag: string, pushedAt: number | null): Promise<TagRow> {
    const record = await this.options.registry.metadata.getManifestByTag(repository, tag);
    if (!record) throw new RegistryError('MANIFEST_UNKNOWN', `${repository}:${tag} is gone`);
    const manifest = readManifestJson(record.content);
    const children = indexEntries(manifest);
    const isIndex = Array.isArray(manifest.manifests);
    let platforms: string[];
    let imageDigest: string = record.digest;
    let size: number;
    if (isIndex) {
      const images = children.filter((child) => child.platform && child.platform.os !== 'unknown');
      platforms = images.map((child) => platformName(child.platform!));
      imageDigest = images[0]?.digest ?? children[0]?.digest ?? record.digest;
      size = children.reduce((sum, child) => sum + (child.size ?? 0), 0);
    } else {
      size = (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + (layer.size ?? 0), 0);
      const image = await this.image(repository, record.digest).catch(() => null);
      platforms = image ? [platformName(image.facts)] : [];
    }
    return { tag, digest: record.digest, mediaType: record.mediaType, isIndex, platforms, size, pushedAt, imageDigest, ...(await this.judge(repository, imageDigest)) };
  }

  /** Grade, findings counted by severity and signature state of one image manifest. */
  async judge(repository: string, digest: string): Promise<Judgement> {
    const signature = await this.signatureState(repository, digest);
    const quality = this.options.quality;
    if (!quality) return { grade: null, status: 'not scanned', counts: null, signature };
    try {
      const grade = await quality.grade(repository, digest);
      const findings = await quality.findings(repository, digest);
      const counts = zeroCounts();
      for (const finding of findings.findings) counts[finding.severity]++;
      // `?`: the data cannot back a letter (no source covers the image, or it is stale).
      if (grade.grade === '?') return { grade: null, status: `no grade: ${grade.reason ?? 'no advisory data'}`, counts, signature };
      return { grade: grade.grade, status: 'indexed', counts, signature };
    } catch (error) {
      const status = ((error as RegistryError).detail as Record<string, unknown> | undefined)?.['status'];
      return { grade: null, status: typeof status === 'string' ? status : 'not indexed', counts: null, signature };
    }
  }

  async signatureState(repository: string, digest: string): Promise<SignatureState> {
    const signing = this.options.signing;
    if (!signing) return 'unsigned';
    const found = await signing.signatures(repository, digest).catch(() => null);
    return signatureStateOf(found?.signatures ?? []);
  }

  /**
   * The build files the image ships (/root/buildinfo/), read once per image (the walk
   * decompresses every layer) and remembered; concurrent asks share one read.
   */
  async buildFiles(repository: string, digest: string): Promise<readonly BuildFile[]> {
    let pending = this.buildFileCache.get(digest);
    if (!pending) {
      pending = readBuildFiles(this.options.registry, repository, digest).catch(() => []);
      if (this.buildFileCache.size >= 256) this.buildFileCache.delete(this.buildFileCache.keys().next().value!);
      this.buildFileCache.set(digest, pending);
    }
    return pending;
  }

  /** Tag names of a repository (bounded), for the tag selector. */
  async tagNames(repository: string): Promise<string[]> {
    return (await this.options.registry.metadata.listTags(repository, { limit: TAG_LIMIT })) ?? [];
  }

  /** Artifacts attached to a manifest (SBOMs, signatures, attestations). */
  async referrers(repository: string, digest: string): Promise<ReferrerRecord[]> {
    return this.options.registry.listReferrers(repository, digest);
  }

  /** The image of an index for a platform digest (else linux/amd64, else the first); an image is itself. */
  async platformImage(repository: string, record: ImageRecord, platform: string | null): Promise<ImageRecord> {
    if (!Array.isArray(record.manifest.manifests)) return record;
    const children = indexEntries(record.manifest).filter((child) => child.platform?.os !== 'unknown');
    const chosen = children.find((child) => child.digest === platform) ?? children.find((child) => child.platform?.os === 'linux' && child.platform.architecture === 'amd64') ?? children[0];
    return chosen ? this.image(repository, chosen.digest) : record;
  }

  /** A manifest by tag or digest, with its configuration read (images) or its children (indexes). */
  async image(repository: string, reference: string): Promise<ImageRecord> {
    const { registry } = this.options;
    const record = await registry.getManifest(repository, reference);
    const manifest = readManifestJson(record.content);
    let facts: ImageFacts = imageFacts({});
    if (manifest.config?.digest && !Array.isArray(manifest.manifests)) {
      const blob = await registry.readBlob(repository, manifest.config.digest);
      if (blob.size <= CONFIG_LIMIT) {
        const chunks: Buffer[] = [];
        for await (const chunk of blob.body) chunks.push(chunk as Buffer);
        try {
          facts = imageFacts(readImageConfig(Buffer.concat(chunks)));
        } catch {
          // Not an image configuration (an artifact's): no facts to show.
        }
      } else blob.body.destroy();
    }
    const size = Array.isArray(manifest.manifests)
      ? indexEntries(manifest).reduce((sum, child) => sum + (child.size ?? 0), 0)
      : (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + (layer.size ?? 0), 0);
    return { repository, digest: record.digest, mediaType: record.mediaType, manifest, facts, annotations: manifest.annotations ?? {}, size };
  }
}
