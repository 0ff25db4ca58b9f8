// What `custody sync` copies: the list of (source, destination) image pairs for a source
// given as a registry repository (every tag, or one), a whole registry (its catalog), a
// directory of `dir:` images, or skopeo's YAML file; named at the destination as skopeo
// sync names them (the last path component, or the whole source path with --scoped).
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { UsageError } from '../../core/errors.ts';
import { looksLikeRegistry, parseReference } from '../reference.ts';
import type { RegistryClient } from '../registry-client/registry-client.ts';

export type SyncSourceKind = 'docker' | 'dir' | 'yaml';
export type SyncDestinationKind = 'docker' | 'dir';

/** One image to copy: where it comes from, and the name it takes at the destination. */
export interface SyncImage {
  /** A transport reference for `custody copy`'s source side (`docker://…`, `dir:…`). */
  readonly source: string;
  /** `registry/repository` (docker) or the path below the source directory (dir). */
  readonly path: string;
  /** Tag, or digest when the image was asked for by digest. */
  readonly tagOrDigest: string;
  /** Registry host of a docker source (for per-registry settings from the YAML file). */
  readonly registry?: string;
}

export interface DestinationNaming {
  readonly kind: SyncDestinationKind;
  readonly destination: string;
  readonly scoped: boolean;
}

/** The destination reference for `image`, as skopeo sync names it. */
export function destinationFor(image: SyncImage, naming: DestinationNaming): string {
  const name = naming.scoped ? image.path : basename(image.path);
  const separator = image.tagOrDigest.includes(':') ? '@' : ':';
  if (naming.kind === 'dir') return `dir:${join(naming.destination, `${name}${separator}${image.tagOrDigest}`)}`;
  return `docker://${naming.destination.replace(/\/+$/, '')}/${name}${separator}${image.tagOrDigest}`;
}

/** Opens a registry client for a host (credentials, TLS and mirrors already applied). */
export type ClientFor = (host: string, repository?: string) => Promise<RegistryClient>;

/**
 * A docker source: `host/repo[:tag|@digest]` copies that image or every tag of the
 * repository; a bare `host[:port]` copies every repository its catalog lists.
 */
export async function planDockerSource(input: string, clientFor: ClientFor, filter?: (tag: string) => boolean): Promise<SyncImage[]> {
  const trimmed = input.replace(/^docker:\/\//, '').replace(/\/+$/, '');
  if (!trimmed.includes('/')) {
    if (!looksLikeRegistry(trimmed)) throw new UsageError(`"${input}": give host[:port] for a whole registry or host/repository`);
    const client = await clientFor(trimmed);
    const images: SyncImage[] = [];
    for (const repository of await client.catalog()) images.push(...(await repositoryImages(trimmed, repository, clientFor, filter)));
    return images;
  }
  const reference = parseReference(trimmed, { defaultTag: false });
  const pinned = reference.digest ?? reference.tag;
  if (pinned !== undefined) return [dockerImage(reference.registry, reference.repository, pinned)];
  return repositoryImages(reference.registry, reference.repository, clientFor, filter);
}

async function repositoryImages(registry: string, repository: string, clientFor: ClientFor, filter?: (tag: string) => boolean): Promise<SyncImage[]> {
  const client = await clientFor(registry, repository);
  const tags = await client.listTags(repository);
  return tags.filter((tag) => !SIGNATURE_TAG.test(tag) && (filter?.(tag) ?? true)).sort().map((tag) => dockerImage(registry, repository, tag));
}

/**
 * cosign's tags for an image's signatures, attestations and SBOM. They are not images to
 * sync on their own: each copy carries its image's signatures (unless told to remove them).
 */
const SIGNATURE_TAG = /^sha256-[0-9a-f]{64}\.(?:sig|att|sbom)$/;

function dockerImage(registry: string, repository: string, tagOrDigest: string): SyncImage {
  const separator = tagOrDigest.includes(':') ? '@' : ':';
  return { source: `docker://${registry}/${repository}${separator}${tagOrDigest}`, path: `${registry}/${repository}`, tagOrDigest, registry };
}

/**
 * A dir source: the directory itself when it holds an image (`manifest.json`), else every
 * image directory below it. A directory named `name:tag` (as sync writes them) keeps that
 * tag; any other name is tagged `latest`.
 */
export async function planDirSource(root: string): Promise<SyncImage[]> {
  const rootStat = await stat(root).catch(() => null);
  if (!rootStat?.isDirectory()) throw new UsageError(`${root}: not a directory`);
  const images: SyncImage[] = [];
  const visit = async (directory: string, depth: number): Promise<void> => {
    const entries = await readdir(directory, { withFileTypes: true });
    if (entries.some((entry) => entry.isFile() && entry.name === 'manifest.json')) {
      const relativePath = relative(root, directory) || basename(directory);
      const match = /^(.*?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})|@(sha256:[0-9a-f]{64}))$/.exec(relativePath);
      images.push({ source: `dir:${directory}`, path: match ? match[1]! : relativePath, tagOrDigest: match ? (match[2] ?? match[3]!) : 'latest' });
      return;
    }
    if (depth >= 8) return;
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory()) await visit(join(directory, entry.name), depth + 1);
    }
  };
  await visit(root, 0);
  if (images.length === 0) throw new UsageError(`${root}: no image directory (with a manifest.json) found`);
  return images;
}
