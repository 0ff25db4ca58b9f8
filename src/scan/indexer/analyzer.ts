// The plug-in seam of the image indexer. The layer walker streams every layer once; an
// analyzer says which final-filesystem paths it needs the content of (`wants`), may look
// at every entry of every layer as it streams past (`onEntry`: secrets must see files a
// later layer deletes, because those bytes are still in the image), and turns what it
// kept into packages or findings once the walk is done (`finish`). Analyzers never read
// layers themselves, so an image is decompressed exactly once whatever runs on it.
import type { ImageIndex, InstalledPackage, OsRelease, SecretFinding } from '../../core/quality.ts';

/** One layer of the image being walked, bottom first. */
export interface WalkedLayer {
  readonly digest: string;
  readonly mediaType: string;
  /** Compressed size, as the manifest gives it. */
  readonly size: number;
  /** Position in the manifest, 0 = the base layer. */
  readonly index: number;
}

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

/** A tar entry as it streams past, whiteouts excluded (they are applied by the walker). */
export interface LayerEntry {
  readonly layer: WalkedLayer;
  /** Normalised path: relative to the image root, no leading `/` or `./`, no trailing `/`. */
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  readonly mode: number;
  /** Symlink target as written, or the hard link's target path (normalised). */
  readonly linkTarget: string;
  /**
   * The entry's content, read once and shared by every analyzer that asks (a regular file
   * only; empty for anything else). Null when the file is larger than the walker's content
   * cap. Call it only for entries you need: it buffers the file.
   */
  readContent(): Promise<Buffer | null>;
}

/** A path of the final filesystem (after every layer, whiteouts applied). */
export interface FinalEntry {
  /** The path asked for, after symlinks were resolved inside the image root. */
  readonly path: string;
  readonly type: EntryType;
  readonly size: number;
  readonly mode: number;
  readonly linkTarget: string;
  /** The layer that last wrote this path. */
  readonly layer: WalkedLayer;
}

/** A wanted file of the final filesystem with its content. */
export interface FinalFile extends FinalEntry {
  /** Null when larger than the content cap. */
  readonly content: Buffer | null;
  /**
   * Every version of this file that the final one descends from, oldest first, one per
   * layer that wrote it (a whiteout starts the list afresh); the last is `content`. Used to
   * attribute database entries (a dpkg stanza, an apk record) to the layer that changed them.
   */
  readonly versions: readonly { readonly layer: WalkedLayer; readonly content: Buffer | null }[];
}

/** What the walk leaves: the final filesystem's metadata, and content of wanted files. */
export interface FinalFiles {
  readonly layers: readonly WalkedLayer[];
  /** A wanted regular file, following symlinks (relative or absolute, inside the image root) and hard links. */
  file(path: string): FinalFile | undefined;
  /** Any path's metadata (every path is tracked, content or not); follows symlinks unless `noFollow`. */
  stat(path: string, options?: { readonly noFollow?: boolean }): FinalEntry | undefined;
  /** The wanted regular files present at the end, by real path (no symlink duplicates), in path order. */
  wantedFiles(): Iterable<FinalFile>;
  /** The regular files directly under a directory (names only; follows the directory's symlinks). */
  list(directory: string): string[];
  /**
   * What happened after `layerIndex` to the file written at `path` in that layer: null if
   * it is still the final file; else the first later layer that deleted (whiteout,
   * opaque directory, a parent replaced) or replaced it.
   */
  fateAfter(path: string, layerIndex: number): { readonly how: 'deleted' | 'replaced'; readonly layer: WalkedLayer } | null;
}

export interface AnalyzerContext {
  /** The operating system detected from the final filesystem (before any analyzer finishes). */
  readonly os: OsRelease | null;
  readonly manifestDigest: string;
}

export interface AnalyzerResult {
  readonly packages?: readonly InstalledPackage[];
  readonly secrets?: readonly SecretFinding[];
}

export interface Analyzer {
  /** Short stable name (`dpkg`, `apk`, `rpm`, `npm`, `secrets`...), for errors and timings. */
  readonly name: string;
  /**
   * Whether the final content of this path is needed (normalised path, see LayerEntry).
   * Called for regular files and hard links of every layer, so keep it cheap (a Set or a
   * suffix test). Kept content is buffered (up to the cap), so be specific.
   */
  wants?(path: string): boolean;
  /**
   * Sees every entry of every layer as it streams (even those a later layer deletes). The
   * walker waits for a returned promise before moving on, so the layer stream is paused
   * meanwhile: do not hold on to it longer than needed.
   */
  onEntry?(entry: LayerEntry): void | Promise<void>;
  /** Called once after the last layer. */
  finish(files: FinalFiles, context: AnalyzerContext): Promise<AnalyzerResult>;
}

export type { ImageIndex };
