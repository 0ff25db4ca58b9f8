// Verifies the store end to end: every tag reaches a manifest in its repository, every
// manifest's content matches its digest and its references are linked, every recorded
// blob is in storage with the right size and digest, and reference counts are right.
import { hashToDigest, newHash, parseDigest, type Digest } from '../core/digest.ts';
import type { MaintenanceStore } from '../metadata/maintenance-store.ts';
import type { BlobStore } from '../storage/blob-store.ts';

export interface FsckProblem {
  readonly kind: string;
  readonly message: string;
}

export interface FsckReport {
  readonly problems: FsckProblem[];
  /** Things that are not wrong but that gc would reclaim. */
  readonly notes: string[];
  readonly manifestsChecked: number;
  readonly blobsChecked: number;
  readonly bytesVerified: number;
}

export interface FsckOptions {
  /** Re-hash every blob's content (slow on large stores); sizes are always checked. */
  readonly verifyContent: boolean;
}

export async function fsck(maintenance: MaintenanceStore, blobs: BlobStore, options: FsckOptions): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const notes: string[] = [];
  const problem = (kind: string, message: string): void => {
    problems.push({ kind, message });
  };

  for (const entry of await maintenance.tagsWithoutManifest()) {
    problem('tag', `${entry.repository}:${entry.tag} points at ${entry.digest}, which is not in the repository`);
  }

  let manifestsChecked = 0;
  for await (const manifest of maintenance.manifestContents()) {
    manifestsChecked++;
    const { algorithm } = parseDigest(manifest.digest);
    const actual = hashToDigest(algorithm, newHash(algorithm).update(manifest.content));
    if (actual !== manifest.digest) problem('manifest', `manifest ${manifest.digest} has content with digest ${actual}`);
    if (manifest.content.byteLength !== manifest.size) problem('manifest', `manifest ${manifest.digest} records ${manifest.size} bytes but holds ${manifest.content.byteLength}`);
  }

  for (const reference of await maintenance.manifestReferences()) {
    if (!reference.linked) {
      problem('reference', `${reference.repository}@${reference.digest} references ${reference.kind} ${reference.childDigest}, which is not in the repository`);
    }
  }

  let blobsChecked = 0;
  let bytesVerified = 0;
  for await (const blob of maintenance.blobRows()) {
    blobsChecked++;
    if (blob.refCount !== blob.linkCount) problem('refcount', `blob ${blob.digest} records ${blob.refCount} repository links, has ${blob.linkCount}`);
    let stat = await blobs.stat(blob.digest);
    // A collector deleting this blob beside us removes the content before its row: ask
    // again once its transaction is over, and look at the content once more.
    if (!stat && blob.linkCount > 0 && !(await maintenance.blobStillLinked(blob.digest))) continue;
    if (!stat) stat = await blobs.stat(blob.digest);
    if (!stat) {
      if (blob.linkCount > 0) problem('blob', `blob ${blob.digest} is recorded but missing from storage`);
      else notes.push(`blob ${blob.digest} is recorded without content or links (gc removes it)`);
      continue;
    }
    if (stat.size !== blob.size) {
      problem('blob', `blob ${blob.digest} is ${stat.size} bytes in storage, ${blob.size} recorded`);
      continue;
    }
    if (options.verifyContent) {
      const actual = await digestOfStored(blobs, blob.digest);
      bytesVerified += stat.size;
      if (actual !== blob.digest) problem('blob', `blob ${blob.digest} has content with digest ${actual}`);
    }
  }

  // Storage is listed page by page and looked up in batches, so memory stays flat however
  // many blobs the store holds (an S3 bucket lists 1000 keys per request).
  let listed: Array<{ digest: Digest; size: number }> = [];
  const lookUp = async (): Promise<void> => {
    const known = await maintenance.knownBlobs(listed.map((entry) => entry.digest));
    for (const entry of listed) if (!known.has(entry.digest)) notes.push(`storage holds ${entry.digest} (${entry.size} bytes) with no record (gc removes it)`);
    listed = [];
  };
  for await (const stored of blobs.list()) {
    listed.push({ digest: stored.digest, size: stored.size });
    if (listed.length >= 1000) await lookUp();
  }
  await lookUp();
  const uploads = await maintenance.uploadIds();
  for await (const upload of blobs.listUploads()) {
    if (!uploads.has(upload.uploadId)) notes.push(`upload data ${upload.uploadId} has no record (gc removes it)`);
  }
  return { problems, notes, manifestsChecked, blobsChecked, bytesVerified };
}

async function digestOfStored(blobs: BlobStore, digest: Digest): Promise<Digest> {
  const { algorithm } = parseDigest(digest);
  const hash = newHash(algorithm);
  for await (const chunk of await blobs.read(digest)) hash.update(chunk as Buffer);
  return hashToDigest(algorithm, hash);
}
