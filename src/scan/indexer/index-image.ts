// Indexes an image read through any transport (docker://, oci:, dir:, oci-archive:,
// docker-archive:): the manifest (for an index, the chosen platform's image, or every
// platform's), then one streaming pass over the layers through the analyzers, then the
// operating system and each analyzer's packages and secrets. Nothing is written to disk;
// layer blobs are digest-checked as they stream (unless the source checks them itself).
// What an image may cost is bounded (IndexLimits, an abort signal), and a layer listed
// several times in a row is walked once.
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { chooseInstance, targetPlatform, type Platform } from '../../image/platform.ts';
import { isIndex, sizeCheckingStream, verifyingStream, type ImageSource, type ManifestData } from '../../image/transport.ts';
import { indexEntries, manifestMediaType, readManifestJson, type ManifestJson } from '../../core/manifest-reader.ts';
import { NON_DISTRIBUTABLE_LAYER_TYPES } from '../../core/media-types.ts';
import type { ImageIndex, IndexedLayer, InstalledPackage, SecretFinding } from '../../core/quality.ts';
import type { Analyzer, AnalyzerContext } from './analyzer.ts';
import { defaultAnalyzers } from './default-analyzers.ts';
import type { IndexLimits } from './index-limits.ts';
import { walkLayers, type LayerToWalk, type LayerWalkStats } from './layer-walker.ts';
import { detectOsRelease, OS_RELEASE_PATHS } from './os-release.ts';

/** Bumped when what the indexer finds changes, so stored indexes can be redone. */
export const INDEXER_VERSION = 'custody-indexer/1';

export class IndexError extends Error {
  override readonly name = 'IndexError';
}

export interface IndexImageOptions {
  /** The analyzers to run (default: defaultAnalyzers()). */
  readonly analyzers?: readonly Analyzer[];
  /** For an index: the platform whose image is indexed (default: this machine's). */
  readonly platform?: Partial<Platform>;
  /** Largest file kept for an analyzer (default 64 MiB). */
  readonly contentCap?: number;
  /** Check each layer's digest as it streams (default true; the size is always checked). */
  readonly verifyDigests?: boolean;
  readonly onWarning?: (message: string) => void;
  /** Aborting stops the indexing at once (the layer being read is no longer inflated). */
  readonly signal?: AbortSignal;
  /** Bounds on inflated bytes and entries (default DEFAULT_INDEX_LIMITS); crossing one throws IndexLimitError. */
  readonly limits?: IndexLimits;
  /** Clock, for indexedAt (tests). */
  readonly now?: () => number;
}

export interface ImageIndexWithStats extends ImageIndex {
  /** Per-layer walk figures (compression found, entries, bytes). */
  readonly walk: readonly LayerWalkStats[];
}

function parseJson(manifest: ManifestData, what: string): ManifestJson {
  try {
    return readManifestJson(manifest.bytes);
  } catch {
    throw new IndexError(`${what}: the manifest ${manifest.digest} is not valid JSON`);
  }
}

/** Only tar layers hold files; foreign layers (Windows bases) cannot be fetched, artifacts' blobs are not file systems. */
function isFilesystemLayer(mediaType: string): boolean {
  return /(^|\.)tar($|\+|\.)/.test(mediaType.replace(/^.*\//, '')) || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip';
}

/** The built-in analyzer that keeps the files operating-system detection reads. */
const OS_RELEASE_FILES: Analyzer = {
  name: 'os-release',
  wants: (path) => OS_RELEASE_PATHS.has(path),
  finish: async () => ({}),
};

function sortPackages(packages: InstalledPackage[]): InstalledPackage[] {
  const text = (value: string | undefined): string => value ?? '';
  return packages.sort((a, b) => {
    for (const [x, y] of [
      [a.ecosystem, b.ecosystem],
      [a.path, b.path],
      [a.name, b.name],
      [text(a.arch), text(b.arch)],
      [a.version, b.version],
    ] as const) {
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** Indexes one image manifest (not an index). */
export async function indexManifest(source: ImageSource, manifest: ManifestData, options: IndexImageOptions = {}): Promise<ImageIndexWithStats> {
  const what = `${source.name}@${manifest.digest}`;
  const parsed = parseJson(manifest, what);
  if (isIndex(manifestMediaType(manifest.bytes, manifest.mediaType))) throw new IndexError(`${what}: an index, not an image manifest`);
  if (!Array.isArray(parsed.layers)) throw new IndexError(`${what}: the manifest lists no layers (a Docker schema 1 manifest is not supported)`);
  const warn = options.onWarning ?? (() => {});
  const verify = options.verifyDigests ?? true;
  const layers: LayerToWalk[] = [];
  const indexed: IndexedLayer[] = [];
  const skipped = new Set<string>();
  for (const [position, layer] of parsed.layers.entries()) {
    const mediaType = layer.mediaType ?? '';
    if (typeof layer.digest !== 'string' || typeof layer.size !== 'number') throw new IndexError(`${what}: layer ${position + 1} has no digest or size`);
    if (!isFilesystemLayer(mediaType) || NON_DISTRIBUTABLE_LAYER_TYPES.has(mediaType)) {
      if (!skipped.has(layer.digest)) warn(`${what}: layer ${position + 1} (${layer.digest}, ${mediaType}) is not a file system layer that can be read; skipped`);
      skipped.add(layer.digest);
      continue;
    }
    // The same layer again right on top of itself changes nothing: overlay runtimes
    // (Docker's overlay2, containerd's and podman's overlay, the defaults) unpack each
    // layer into a directory of its own, so a layer never depends on what lies below it,
    // and A over A shows exactly what A alone shows over the same base. Walking it once
    // keeps a manifest listing one layer thousands of times from costing thousands of
    // walks. A layer that comes back after another (A, B, A) is walked again: B may have
    // deleted what A puts back.
    if (layers.at(-1)?.digest === layer.digest) continue;
    const blob = { digest: layer.digest, size: layer.size, mediaType };
    indexed.push({ digest: layer.digest, mediaType, size: layer.size });
    layers.push({
      ...blob,
      open: async (): Promise<Readable> => {
        const stream = await source.getBlob(blob);
        const check = verify && source.verifiesBlobs !== true ? verifyingStream(blob, what) : sizeCheckingStream(blob, what);
        return pipeline(stream, check, () => {}) as unknown as Readable;
      },
    });
  }
  const analyzers = [OS_RELEASE_FILES, ...(options.analyzers ?? defaultAnalyzers())];
  const walk = await walkLayers(layers, analyzers, {
    ...(options.contentCap === undefined ? {} : { contentCap: options.contentCap }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    onWarning: warn,
  });
  const context: AnalyzerContext = { os: detectOsRelease(walk.files), manifestDigest: manifest.digest };
  const packages: InstalledPackage[] = [];
  const secrets: SecretFinding[] = [];
  for (const analyzer of analyzers) {
    options.signal?.throwIfAborted();
    let result;
    try {
      result = await analyzer.finish(walk.files, context);
    } catch (error) {
      throw new IndexError(`${what}: the ${analyzer.name} analyzer failed: ${(error as Error).message}`, { cause: error });
    }
    packages.push(...(result.packages ?? []));
    secrets.push(...(result.secrets ?? []));
  }
  return {
    manifestDigest: manifest.digest,
    os: context.os,
    packages: sortPackages(packages),
    secrets,
    layers: indexed,
    indexerVersion: INDEXER_VERSION,
    indexedAt: (options.now ?? Date.now)(),
    walk: walk.layers,
  };
}

/** The image manifest to index: the top-level manifest, or the chosen platform's instance of an index. */
export async function resolveImageManifest(source: ImageSource, platform?: Partial<Platform>): Promise<ManifestData> {
  const top = await source.getManifest();
  if (!isIndex(manifestMediaType(top.bytes, top.mediaType))) return top;
  const entries = indexEntries(parseJson(top, source.name));
  return source.getManifest(chooseInstance(entries, targetPlatform(platform)).digest);
}

/** Indexes an image: for an index, the image of `options.platform` (default: this machine's). */
export async function indexImage(source: ImageSource, options: IndexImageOptions = {}): Promise<ImageIndexWithStats> {
  return indexManifest(source, await resolveImageManifest(source, options.platform), options);
}

export interface PlatformIndex {
  readonly platform: { readonly os?: string; readonly architecture?: string; readonly variant?: string } | undefined;
  readonly index: ImageIndexWithStats;
}

/** Indexes every image of an index (attestation manifests, platform unknown/unknown, skipped), or the one image of a manifest. */
export async function indexAllPlatforms(source: ImageSource, options: Omit<IndexImageOptions, 'platform'> = {}): Promise<PlatformIndex[]> {
  const top = await source.getManifest();
  if (!isIndex(manifestMediaType(top.bytes, top.mediaType))) return [{ platform: undefined, index: await indexManifest(source, top, options) }];
  const results: PlatformIndex[] = [];
  for (const entry of indexEntries(parseJson(top, source.name))) {
    if (entry.platform?.os === 'unknown' && entry.platform.architecture === 'unknown') continue;
    const manifest = await source.getManifest(entry.digest);
    if (isIndex(manifestMediaType(manifest.bytes, manifest.mediaType))) continue;
    results.push({ platform: entry.platform, index: await indexManifest(source, manifest, options) });
  }
  return results;
}
