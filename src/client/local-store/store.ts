// The rootless local image store: an OCI image layout under
// `$XDG_DATA_HOME/custody/storage` (else `~/.local/share/custody/storage`; `--storage DIR`
// or CUSTODY_STORAGE override it). Blobs are content-addressed and shared between images;
// index.json names each image by its full normalised reference
// (`docker.io/library/alpine:latest`). Every directory is created 0700 and every file
// 0600 (a secret committed to a layer must not become readable by other users).
// index.json is replaced atomically under a lock file (`index.json.lock`, holding the
// owner's pid; a lock whose process is gone is taken over), so concurrent pulls and
// removals never lose an entry.
import { chmod, lstat, mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDigest } from '../../core/digest.ts';
import { indexEntries, readManifestJson, type ManifestJson } from '../../core/manifest-reader.ts';
import { INDEX_TYPES } from '../../core/media-types.ts';
import { PendingWrites, writeFileAtomic, writeStreamAtomic } from '../../image/transports/files.ts';

export const REF_NAME = 'org.opencontainers.image.ref.name';
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const LOCK_TIMEOUT_MS = 60_000;

export interface StoreIndexEntry {
  mediaType?: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

interface StoreIndex {
  schemaVersion: number;
  manifests: StoreIndexEntry[];
  [key: string]: unknown;
}

/** Where the store lives: the flag, CUSTODY_STORAGE, then the XDG data directory. */
export function defaultStoragePath(flag: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  if (env.CUSTODY_STORAGE !== undefined && env.CUSTODY_STORAGE !== '') return resolve(env.CUSTODY_STORAGE);
  const data = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), '.local', 'share');
  return resolve(data, 'custody', 'storage');
}

export class LocalStore {
  readonly root: string;
  #prepared = false;

  constructor(root: string) {
    this.root = resolve(root);
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.root, 'blobs', algorithm, hex);
  }

  /** Whether the store has been created (read-only commands do not create it). */
  async exists(): Promise<boolean> {
    try {
      return (await stat(join(this.root, 'index.json'))).isFile();
    } catch {
      return false;
    }
  }

  /** Creates the layout (0700 directories, 0600 files) if needed. */
  async prepare(): Promise<void> {
    if (this.#prepared) return;
    await mkdir(this.root, { recursive: true, mode: DIR_MODE });
    await chmod(this.root, DIR_MODE);
    for (const dir of [join(this.root, 'blobs'), join(this.root, 'blobs', 'sha256')]) {
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      await chmod(dir, DIR_MODE);
    }
    const layout = join(this.root, 'oci-layout');
    if (!(await fileExists(layout))) await this.writeFileAtomic(layout, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const index = join(this.root, 'index.json');
    if (!(await fileExists(index))) {
      // Created exclusively: a concurrent creator's file is kept.
      await this.withLock(async () => {
        if (!(await fileExists(index))) await this.writeFileAtomic(index, JSON.stringify({ schemaVersion: 2, manifests: [] }));
      });
    }
    this.#prepared = true;
  }

  async writeFileAtomic(target: string, bytes: Buffer | string): Promise<void> {
    await writeFileAtomic(target, bytes, FILE_MODE);
  }

  /** Streams a blob file in (0600, fsynced, renamed into place); see files.ts for `pending`. */
  async writeStreamAtomic(target: string, stream: Readable, pending?: PendingWrites): Promise<void> {
    await writeStreamAtomic(target, stream, { mode: FILE_MODE, ...(pending === undefined ? {} : { pending }) });
  }

  async hasBlob(digest: string, size?: number): Promise<boolean> {
    try {
      const info = await lstat(this.blobPath(digest));
      return info.isFile() && (size === undefined || info.size === size);
    } catch {
      return false;
    }
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`local store ${this.root}: blob ${digest} is missing`);
      throw error;
    }
  }

  /** Runs `fn` holding the store's lock file. */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = join(this.root, 'index.json.lock');
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    let delay = 5;
    for (;;) {
      try {
        const handle = await open(lock, 'wx', FILE_MODE);
        try {
          await handle.writeFile(String(process.pid));
        } finally {
          await handle.close();
        }
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await staleLock(lock)) {
          await unlink(lock).catch(() => {});
          continue;
        }
        if (Date.now() > deadline) throw new Error(`local store ${this.root}: timed out waiting for the lock ${lock} (remove it if no custody process is running)`);
        await sleep(delay);
        delay = Math.min(delay * 2, 100);
      }
    }
    try {
      return await fn();
    } finally {
      await unlink(lock).catch(() => {});
    }
  }

  async readIndex(): Promise<StoreIndex> {
    let text: string;
    try {
      text = await readFile(join(this.root, 'index.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, manifests: [] };
      throw error;
    }
    const index = readManifestJson(text) as StoreIndex;
    if (!Array.isArray(index.manifests)) throw new Error(`local store ${this.root}: index.json has no manifests list`);
    return index;
  }

  /** Reads, changes and atomically replaces index.json under the lock. */
  async updateIndex<T>(change: (index: StoreIndex) => Promise<T> | T): Promise<T> {
    await this.prepare();
    return this.withLock(async () => {
      const index = await this.readIndex();
      const result = await change(index);
      await this.writeFileAtomic(join(this.root, 'index.json'), JSON.stringify(index));
      return result;
    });
  }

  /** The images, as index entries with a ref name. */
  async list(): Promise<{ ref: string; entry: StoreIndexEntry }[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((entry) => {
      const ref = entry.annotations?.[REF_NAME];
      return ref === undefined ? [] : [{ ref, entry }];
    });
  }

  async readManifest(digest: string): Promise<{ bytes: Buffer; parsed: ManifestJson }> {
    const bytes = await this.readBlob(digest);
    return { bytes, parsed: readManifestJson(bytes) };
  }

  /** Every blob an entry's manifest reaches (the manifest itself, configs, layers, instances). */
  async reachable(digest: string, into: Set<string>): Promise<void> {
    if (into.has(digest)) return;
    into.add(digest);
    let parsed: ManifestJson;
    try {
      parsed = (await this.readManifest(digest)).parsed;
    } catch {
      return; // a missing manifest reaches nothing more
    }
    if ((parsed.mediaType !== undefined && INDEX_TYPES.has(parsed.mediaType)) || Array.isArray(parsed.manifests)) {
      for (const child of indexEntries(parsed)) await this.reachable(child.digest, into);
    }
    if (parsed.config !== undefined) into.add(parsed.config.digest);
    for (const layer of parsed.layers ?? []) into.add(layer.digest);
  }

  /**
   * Removes blobs no remaining image reaches (under the lock, so no index update races
   * it); returns how many were removed and how many bytes they held.
   */
  async collectGarbage(): Promise<{ removed: number; bytes: number }> {
    if (!(await this.exists())) return { removed: 0, bytes: 0 };
    return this.withLock(async () => {
      const keep = new Set<string>();
      for (const entry of (await this.readIndex()).manifests) await this.reachable(entry.digest, keep);
      let removed = 0;
      let bytes = 0;
      const blobs = join(this.root, 'blobs');
      for (const algorithm of await readdir(blobs)) {
        const dir = join(blobs, algorithm);
        for (const name of await readdir(dir)) {
          if (name.startsWith('.')) continue; // a blob being written
          if (keep.has(`${algorithm}:${name}`)) continue;
          const file = join(dir, name);
          const info = await lstat(file).catch(() => undefined);
          await rm(file, { force: true });
          removed += 1;
          bytes += info?.size ?? 0;
        }
      }
      return { removed, bytes };
    });
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A lock whose owner process is gone (or that holds no pid and is over a minute old). */
async function staleLock(lock: string): Promise<boolean> {
  try {
    const text = (await readFile(lock, 'utf8')).trim();
    const pid = Number(text);
    if (!/^[0-9]+$/.test(text) || pid <= 0) return Date.now() - (await stat(lock)).mtimeMs > 60_000;
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  } catch {
    return false;
  }
}
