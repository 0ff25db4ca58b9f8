// Unpacks an image's layers into a directory, in order and streaming (gzip, zstd or plain
// tar, by magic bytes, else by media type), applying OCI whiteouts (`.wh.NAME` deletes
// NAME from the layers below, `.wh..wh..opq` empties a directory of lower-layer content).
//
// Nothing is ever written outside the target directory:
//  - entry names lose their leading `/` (as tar does); any `..` component is refused;
//  - parent components are resolved inside the target as the image's root would resolve
//    them (symlinks followed, absolute targets meaning the image's root); a resolution
//    that climbs above the target is an escape and is refused, and
//    files are created with O_NOFOLLOW|O_EXCL after removing what was there;
//  - hard links must point at an existing, non-directory entry inside the directory
//    (their target names are resolved the same way, so `/etc/passwd` means DIR/etc/passwd);
//  - device nodes, FIFOs and other special files are skipped with a warning (Node cannot
//    create them, and an unprivileged user may not).
// Modes are kept (setuid/setgid/sticky dropped unless running as root); owners are kept
// only as root; mtimes are set (directories' at the end, once their content is final).
// What the layers inflate to is bounded (`maxBytes`): a few MiB of gzip can inflate to
// terabytes, so past the bound the streams are destroyed and the directory emptied.
import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, readdir, readlink, rm, symlink, utimes, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatBytes } from '../../core/size.ts';
import { Readable, pipeline as pipelineCallback } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { readTar, type TarEntry } from '../../image/archive/tar-reader.ts';

export class UnpackError extends Error {
  override readonly name = 'UnpackError';
}

export interface LayerInput {
  readonly digest: string;
  readonly mediaType: string;
  open(): Promise<Readable>;
}

export interface UnpackOptions {
  readonly onWarning?: (message: string) => void;
  /** Most bytes the layers may inflate to, all together (tar streams: headers and padding count); default DEFAULT_MAX_UNPACK_BYTES. */
  readonly maxBytes?: number;
  /** How the bound is named in the error (default "the unpack size limit"). */
  readonly maxBytesName?: string;
}

/**
 * 64 GiB: three times the largest real images (CUDA and ML framework images inflate to
 * about 20 GB), yet a bound on what a small malicious layer can write to the disk.
 */
export const DEFAULT_MAX_UNPACK_BYTES = 64 * 1024 ** 3;

export interface UnpackResult {
  readonly entries: number;
  readonly skipped: number;
}

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

type Compression = 'gzip' | 'zstd' | 'none';

function byMagic(head: Buffer): Compression | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return undefined;
}

function byMediaType(mediaType: string): Compression {
  if (/gzip$/.test(mediaType) || mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip') return 'gzip';
  if (/zstd$/.test(mediaType)) return 'zstd';
  return 'none';
}

/** The decompressed tar stream of a layer blob. */
async function decompressed(stream: Readable, mediaType: string, what: string): Promise<Readable> {
  const head = await peek(stream, 4);
  const declared = byMediaType(mediaType);
  const detected = byMagic(head);
  if (declared !== 'none' && detected !== declared) throw new UnpackError(`${what}: the media type ${mediaType} says ${declared}, but the content is not ${declared}-compressed`);
  const compression = detected ?? 'none';
  if (compression === 'none') return stream;
  const decompressor = compression === 'gzip' ? createGunzip() : createZstdDecompress();
  return pipelineCallback(stream, decompressor, () => {}) as unknown as Readable;
}

/** The first `length` bytes of a stream (fewer if it is shorter), put back for the next reader. */
async function peek(stream: Readable, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  while (got < length) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      got += chunk.length;
      continue;
    }
    if (stream.readableEnded) break;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        cleanup();
        resolve();
      };
      const failed = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const cleanup = (): void => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('error', failed);
      };
      stream.once('readable', done);
      stream.once('end', done);
      stream.once('error', failed);
    });
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/** The bytes of `stream`, counted into `budget`; throws an UnpackError (ending the stream) once `budget.max` is passed. */
async function* bounded(stream: Readable, budget: { used: number; readonly max: number; readonly name: string }, what: string): AsyncGenerator<Buffer> {
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    budget.used += chunk.length;
    if (budget.used > budget.max) throw new UnpackError(`${what}: the layers inflate to more than ${formatBytes(budget.max, { limit: true })} (${budget.name}); nothing was unpacked`);
    yield chunk;
  }
}

/** `/a//./b/` → ['a', 'b']; refuses `..`. */
function components(name: string, what: string): string[] {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new UnpackError(`${what}: refusing a path with ".." components (it could escape the target directory)`);
  return parts;
}

/** Like the kernel's limit on nested symlinks: a loop ends in an error, not a hang. */
const MAX_SYMLINK_HOPS = 40;

class Unpacker {
  readonly root: string;
  readonly #warn: (message: string) => void;
  /** Directory modes and mtimes, applied once everything is in place. */
  readonly #dirs = new Map<string, { mode: number; mtime: number }>();
  /** Paths written by the current layer (an opaque marker keeps them). */
  #thisLayer = new Set<string>();
  entries = 0;
  skipped = 0;

  constructor(root: string, warn: (message: string) => void) {
    this.root = root;
    this.#warn = warn;
  }

  /**
   * Resolves the parent directories of `parts` the way the image's own root would: a
   * symlink met on the way is followed (an absolute target means the image's root, not
   * the host's), so merged-/usr images (`bin -> usr/bin`, then `bin/foo`) unpack as they
   * run. A resolution that would climb above the target directory is an escape and is
   * refused. Missing directories are created when `create`. Returns the parent's path.
   */
  async #parent(parts: readonly string[], what: string, create: boolean): Promise<string> {
    const resolved: string[] = [];
    const pending = parts.slice(0, -1);
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (resolved.length === 0) throw new UnpackError(`${what}: a symlink on the path leads outside the target directory; refusing to follow it`);
        resolved.pop();
        continue;
      }
      const current = join(this.root, ...resolved, part);
      let info;
      try {
        info = await lstat(current);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        if (!create) throw new UnpackError(`${what}: "${[...resolved, part].join('/')}" does not exist`);
        await mkdir(current, { mode: 0o755 });
        resolved.push(part);
        this.#thisLayer.add(resolved.join('/'));
        continue;
      }
      if (info.isSymbolicLink()) {
        if (++hops > MAX_SYMLINK_HOPS) throw new UnpackError(`${what}: too many levels of symbolic links`);
        const target = await readlink(current);
        if (target.startsWith('/')) resolved.length = 0;
        pending.unshift(...target.split('/'));
        continue;
      }
      if (!info.isDirectory()) throw new UnpackError(`${what}: "${[...resolved, part].join('/')}" is not a directory`);
      resolved.push(part);
    }
    return join(this.root, ...resolved);
  }

  #mode(mode: number): number {
    return IS_ROOT ? mode & 0o7777 : mode & 0o777;
  }

  async #removeExisting(path: string, keepDir: boolean): Promise<boolean> {
    let info;
    try {
      info = await lstat(path);
    } catch {
      return false;
    }
    if (keepDir && info.isDirectory()) return true;
    await rm(path, { recursive: true, force: true });
    return false;
  }

  async layer(stream: AsyncIterable<Uint8Array>, what: string): Promise<void> {
    this.#thisLayer = new Set();
    for await (const entry of readTar(stream)) {
      await this.entry(entry, what);
    }
  }

  async entry(entry: TarEntry, layerWhat: string): Promise<void> {
    const what = `${layerWhat}: entry "${entry.name}"`;
    const parts = components(entry.name, what);
    if (parts.length === 0) return; // the root itself: keep ours
    const base = parts[parts.length - 1]!;
    const relative = parts.join('/');
    this.entries += 1;
    if (base === OPAQUE) {
      const parent = await this.#parent(parts, what, true);
      await this.#opaque(parent, parts.slice(0, -1).join('/'));
      return;
    }
    if (base.startsWith(WHITEOUT)) {
      const target = base.slice(WHITEOUT.length);
      if (target === '' || target === '.' || target === '..') throw new UnpackError(`${what}: invalid whiteout`);
      let parent: string;
      try {
        parent = await this.#parent(parts, what, false);
      } catch (error) {
        if (error instanceof UnpackError && /does not exist/.test(error.message)) return; // nothing to delete
        throw error;
      }
      await rm(join(parent, target), { recursive: true, force: true });
      return;
    }
    const parent = await this.#parent(parts, what, true);
    const path = join(parent, base);
    const mode = this.#mode(entry.mode);
    this.#thisLayer.add(relative);
    switch (entry.type) {
      case 'dir': {
        if (!(await this.#removeExisting(path, true))) await mkdir(path, { mode: 0o700 });
        // Writable by us until the end, whatever the final mode.
        await chmod(path, 0o700);
        if (IS_ROOT) await chown(path, entry.uid, entry.gid);
        this.#dirs.set(relative, { mode, mtime: entry.mtime });
        return;
      }
      case 'file': {
        await this.#removeExisting(path, false);
        this.#dirs.delete(relative);
        const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry.body) await handle.write(chunk as Buffer);
          if (IS_ROOT) await handle.chown(entry.uid, entry.gid);
          await handle.chmod(mode);
          await handle.utimes(entry.mtime, entry.mtime);
        } finally {
          await handle.close();
        }
        return;
      }
      case 'symlink': {
        await this.#removeExisting(path, false);
        this.#dirs.delete(relative);
        await symlink(entry.linkname, path);
        if (IS_ROOT) await lchown(path, entry.uid, entry.gid);
        await lutimes(path, entry.mtime, entry.mtime);
        return;
      }
      case 'hardlink': {
        const targetParts = components(entry.linkname, `${what} (hard link to "${entry.linkname}")`);
        const targetWhat = `${what}: hard link to "${entry.linkname}"`;
        if (targetParts.length === 0) throw new UnpackError(`${targetWhat}: refusing a hard link to the target directory itself`);
        const targetParent = await this.#parent(targetParts, targetWhat, false).catch((error: unknown) => {
          if (error instanceof UnpackError && /does not exist/.test(error.message)) throw new UnpackError(`${targetWhat}: refusing a hard link to an entry that does not exist in the image`);
          throw error;
        });
        const target = join(targetParent, targetParts[targetParts.length - 1]!);
        let info;
        try {
          info = await lstat(target);
        } catch {
          throw new UnpackError(`${targetWhat}: refusing a hard link to an entry that does not exist in the image`);
        }
        if (info.isDirectory()) throw new UnpackError(`${targetWhat}: refusing a hard link to a directory`);
        if (target === path) return;
        await this.#removeExisting(path, false);
        this.#dirs.delete(relative);
        await link(target, path);
        return;
      }
      default: {
        this.skipped += 1;
        this.entries -= 1;
        this.#thisLayer.delete(relative);
        const kind = entry.typeflag === '3' ? 'character device' : entry.typeflag === '4' ? 'block device' : entry.typeflag === '6' ? 'FIFO' : `entry of type "${entry.typeflag}"`;
        this.#warn(`${layerWhat}: skipping ${kind} "${entry.name}" (special files are not created)`);
      }
    }
  }

  /** Removes what lower layers put in `dir` (recursively keeping what this layer wrote). */
  async #opaque(dir: string, relative: string): Promise<void> {
    for (const name of await readdir(dir)) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const child = join(dir, name);
      if (!this.#thisLayer.has(childRelative)) {
        await rm(child, { recursive: true, force: true });
        continue;
      }
      const info = await lstat(child);
      if (info.isDirectory() && !info.isSymbolicLink()) await this.#opaque(child, childRelative);
    }
  }

  /** Directory modes and mtimes, deepest first (checking again that no path component became a symlink). */
  async finish(): Promise<void> {
    const dirs = [...this.#dirs.entries()].sort(([a], [b]) => b.split('/').length - a.split('/').length);
    for (const [relative, { mode, mtime }] of dirs) {
      const parts = relative.split('/');
      let parent: string;
      try {
        parent = await this.#parent(parts, relative, false);
      } catch {
        continue;
      }
      const path = join(parent, parts[parts.length - 1]!);
      const info = await lstat(path).catch(() => undefined);
      if (info === undefined || !info.isDirectory()) continue;
      await chmod(path, mode);
      await utimes(path, mtime, mtime);
    }
  }
}

/** Checks that `dir` is absent or an empty directory; creates it. Returns whether it was created. */
export async function prepareTarget(dir: string): Promise<boolean> {
  const path = resolve(dir);
  let info;
  try {
    info = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(path, { recursive: true, mode: 0o755 });
    return true;
  }
  if (!info.isDirectory()) throw new UnpackError(`${dir}: exists and is not a directory`);
  if ((await readdir(path)).length > 0) throw new UnpackError(`${dir}: the directory is not empty`);
  return false;
}

/** Unpacks `layers` in order into `dir` (absent or empty). On failure the directory's content is removed. */
export async function unpackLayers(layers: readonly LayerInput[], dir: string, options: UnpackOptions = {}): Promise<UnpackResult> {
  const root = resolve(dir);
  const created = await prepareTarget(root);
  const unpacker = new Unpacker(root, options.onWarning ?? (() => {}));
  const budget = { used: 0, max: options.maxBytes ?? DEFAULT_MAX_UNPACK_BYTES, name: options.maxBytesName ?? 'the unpack size limit' };
  try {
    for (const [index, layer] of layers.entries()) {
      const what = `layer ${index + 1}/${layers.length} (${layer.digest.slice(0, 19)})`;
      const raw = await layer.open();
      try {
        const tar = await decompressed(raw, layer.mediaType, what);
        try {
          await unpacker.layer(bounded(tar, budget, what), what);
        } finally {
          tar.destroy();
        }
      } finally {
        raw.destroy();
      }
    }
    await unpacker.finish();
  } catch (error) {
    // Leave nothing half-unpacked (rm never follows symlinks).
    for (const name of await readdir(root).catch(() => [] as string[])) await rm(join(root, name), { recursive: true, force: true }).catch(() => {});
    if (created) await rmdir(root).catch(() => {});
    throw error;
  }
  return { entries: unpacker.entries, skipped: unpacker.skipped };
}
