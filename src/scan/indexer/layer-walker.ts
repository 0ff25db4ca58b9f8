// Streams an image's layers once, bottom first, through the analyzers: every entry is
// shown to the analyzers that look at every file (onEntry), whiteouts and opaque
// directories are applied layer by layer, and the content of the files an analyzer wants
// is kept (up to a cap) in the FileTree, the final filesystem the analyzers finish on.
// Memory stays bounded: a layer is never buffered, only wanted files (and files an
// onEntry analyzer asks to read) are, each at most `contentCap` bytes. Work is bounded
// too: the inflated bytes per layer and per image and the entries per image are counted
// against IndexLimits, and an abort destroys the streams of the layer being read.
import type { Readable } from 'node:stream';
import { readTar, type TarEntry } from '../../image/archive/tar-reader.ts';
import type { Analyzer, EntryType, LayerEntry, WalkedLayer } from './analyzer.ts';
import { FileTree, pathParts } from './file-tree.ts';
import { IndexBudget, type IndexLimits } from './index-limits.ts';
import { layerTarBytes, type LayerCompression } from './layer-tar.ts';

export const DEFAULT_CONTENT_CAP = 64 * 1024 * 1024;

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs's own metadata (`.wh..wh.plnk`, `.wh..wh.aufs`): not whiteouts of anything. */
const AUFS_META_PREFIX = '.wh..wh.';

export interface LayerToWalk {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** The layer blob's bytes, compressed as stored (verification is the opener's business). */
  open(): Promise<Readable>;
}

export interface WalkOptions {
  /** Largest file content kept or handed to onEntry readers; larger files read as null. */
  readonly contentCap?: number;
  readonly onWarning?: (message: string) => void;
  /** Aborting stops the walk at once: the layer being read is no longer inflated. */
  readonly signal?: AbortSignal;
  /** Bounds on what the walk inflates and reads (default DEFAULT_INDEX_LIMITS). */
  readonly limits?: IndexLimits;
}

export interface LayerWalkStats {
  readonly digest: string;
  readonly compression: LayerCompression;
  readonly entries: number;
  /** Sum of the entries' sizes (the tar's payload). */
  readonly contentBytes: number;
}

export interface WalkResult {
  readonly files: FileTree;
  readonly layers: readonly LayerWalkStats[];
}

async function readBody(entry: TarEntry): Promise<Buffer> {
  let content: Buffer | undefined;
  let offset = 0;
  for await (const chunk of entry.body as AsyncIterable<Buffer>) {
    // The tar reader hands out chunks of its own: a file that comes in one is kept as is.
    if (offset === 0 && chunk.length === entry.size) content = chunk;
    else (content ??= Buffer.allocUnsafe(entry.size)).set(chunk, offset);
    offset += chunk.length;
  }
  if (content === undefined) return Buffer.alloc(0);
  return offset === content.length ? content : content.subarray(0, offset);
}

export async function walkLayers(layers: readonly LayerToWalk[], analyzers: readonly Analyzer[], options: WalkOptions = {}): Promise<WalkResult> {
  const cap = options.contentCap ?? DEFAULT_CONTENT_CAP;
  const warn = options.onWarning ?? (() => {});
  const tree = new FileTree();
  const wanting = analyzers.filter((analyzer) => analyzer.wants !== undefined);
  const watching = analyzers.filter((analyzer) => analyzer.onEntry !== undefined);
  const stats: LayerWalkStats[] = [];
  const budget = new IndexBudget(options.limits);

  for (const [index, layer] of layers.entries()) {
    options.signal?.throwIfAborted();
    const walked: WalkedLayer = { digest: layer.digest, mediaType: layer.mediaType, size: layer.size, index };
    tree.layers.push(walked);
    let compression: LayerCompression = 'none';
    let entries = 0;
    let contentBytes = 0;
    const what = `layer ${index + 1} (${layer.digest})`;
    budget.startLayer();
    const bytes = layerTarBytes(await layer.open(), layer.mediaType, what, {
      onCompression: (detected) => (compression = detected),
      onBytes: (count) => budget.addBytes(count, what),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    for await (const entry of readTar(bytes)) {
      options.signal?.throwIfAborted();
      budget.addEntry(what);
      entries++;
      contentBytes += entry.size;
      const parts = pathParts(entry.name);
      if (parts === null) {
        warn(`${what}: ignoring "${entry.name}": a ".." component`);
        continue;
      }
      if (parts.length === 0) continue; // the root directory itself
      const name = parts[parts.length - 1]!;
      if (name.startsWith(WHITEOUT_PREFIX)) {
        const directory = parts.slice(0, -1);
        if (name === OPAQUE_MARKER) tree.opaque(directory, index);
        else if (!name.startsWith(AUFS_META_PREFIX)) tree.whiteout(directory, name.slice(WHITEOUT_PREFIX.length), index);
        continue;
      }
      const place = tree.place(parts, index);
      if (place === null) continue;
      const type: EntryType = entry.type;
      let linkTarget = entry.linkname;
      let size = entry.size;
      let linkedContent: Buffer | null | undefined;
      if (type === 'hardlink') {
        const targetParts = pathParts(entry.linkname) ?? [];
        linkTarget = targetParts.join('/');
        const target = tree.hardlinkTarget(targetParts);
        if (target === undefined) warn(`${what}: hard link "${place.real}" to a missing file "${entry.linkname}"`);
        size = target?.size ?? 0;
        linkedContent = target?.content;
      }
      let reading: Promise<Buffer | null> | undefined;
      const readContent = (): Promise<Buffer | null> => {
        reading ??=
          type === 'file'
            ? entry.size > cap
              ? Promise.resolve(null)
              : readBody(entry)
            : type === 'hardlink'
              ? Promise.resolve(size > cap ? null : (linkedContent ?? null))
              : Promise.resolve(Buffer.alloc(0));
        return reading;
      };
      if (watching.length > 0) {
        const seen: LayerEntry = { layer: walked, path: place.real, type, size, mode: entry.mode, linkTarget, readContent };
        for (const analyzer of watching) {
          const pending = analyzer.onEntry!(seen);
          if (pending !== undefined) await pending;
        }
      }
      const wanted = (type === 'file' || type === 'hardlink') && wanting.some((analyzer) => analyzer.wants!(place.real));
      const content = wanted ? await readContent() : undefined;
      tree.put(place, { type, size, mode: entry.mode, linkTarget, content }, index);
    }
    stats.push({ digest: layer.digest, compression, entries, contentBytes });
  }
  return { files: tree, layers: stats };
}
