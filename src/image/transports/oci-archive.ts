// `oci-archive:PATH[:REF]`, a tar of an OCI image layout (see ../archive/oci-archive.ts).
// Reading picks the index.json entry named REF (a ref.name tag, `@N`, or a manifest
// digest; with no REF, the only entry). Writing creates or replaces the archive file:
// everything goes to a temporary file beside it, renamed into place on commit, so a
// failed copy leaves no archive (and an existing one untouched). REF, when given, is
// recorded as the org.opencontainers.image.ref.name annotation.
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { digestOf, parseDigest } from '../../core/digest.ts';
import { UsageError } from '../../core/errors.ts';
import { OciArchiveReader, OciArchiveWriter } from '../archive/oci-archive.ts';
import type { BlobInfo, ImageDestination, ImageSource, ManifestData } from '../transport.ts';
import { manifestMediaType } from '../../core/manifest-reader.ts';

/** `PATH[:REF]` → path and reference (split at the first colon, as containers/image does). */
export function parseArchiveReference(transport: string, spec: string): { path: string; ref: string | undefined } {
  const colon = spec.indexOf(':');
  const path = colon < 0 ? spec : spec.slice(0, colon);
  const ref = colon < 0 ? undefined : spec.slice(colon + 1);
  if (path === '') throw new UsageError(`${transport}:${spec}: missing archive path`);
  if (ref !== undefined && (ref === '' || !/^[A-Za-z0-9._:@/+-]+$/.test(ref))) throw new UsageError(`${transport}:${spec}: invalid reference "${ref}"`);
  return { path, ref };
}

export class OciArchiveSource implements ImageSource {
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;
  #reader: Promise<OciArchiveReader> | undefined;

  constructor(spec: string) {
    const { path, ref } = parseArchiveReference('oci-archive', spec);
    this.path = resolve(path);
    this.ref = ref;
    this.name = `oci-archive:${spec}`;
  }

  #open(): Promise<OciArchiveReader> {
    this.#reader ??= OciArchiveReader.open(this.path).catch((error: unknown) => {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new Error(`${this.name}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
    });
    return this.#reader;
  }

  async listReferences(): Promise<string[]> {
    return (await this.#open()).refs();
  }

  async getManifest(instanceDigest?: string): Promise<ManifestData> {
    const reader = await this.#open();
    try {
      if (instanceDigest === undefined) {
        const { descriptor, bytes } = await reader.getManifest(this.ref);
        return { bytes, mediaType: manifestMediaType(bytes, descriptor.mediaType), digest: descriptor.digest };
      }
      const bytes = await reader.readBlob(instanceDigest);
      return { bytes, mediaType: manifestMediaType(bytes), digest: digestOf(bytes, parseDigest(instanceDigest).algorithm) };
    } catch (error) {
      throw new Error(`${this.name}: ${(error as Error).message}`, { cause: error });
    }
  }

  async getBlob(blob: BlobInfo): Promise<Readable> {
    const reader = await this.#open();
    if (!reader.hasBlob(blob.digest)) throw new Error(`${this.name}: blob ${blob.digest} is missing from the archive`);
    return reader.openBlob(blob.digest);
  }

  async close(): Promise<void> {
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader !== undefined) await (await reader.catch(() => undefined))?.close();
  }
}

export class OciArchiveDestination implements ImageDestination {
  readonly name: string;
  readonly path: string;
  readonly ref: string | undefined;
  #writer: OciArchiveWriter | undefined;
  #top: ManifestData | undefined;
  #committed = false;

  constructor(spec: string) {
    const { path, ref } = parseArchiveReference('oci-archive', spec);
    if (ref !== undefined && /^@[0-9]+$/.test(ref)) throw new UsageError(`oci-archive:${spec}: "${ref}" selects an image to read; name the image to write with a tag`);
    this.path = resolve(path);
    this.ref = ref;
    this.name = `oci-archive:${spec}`;
  }

  #open(): OciArchiveWriter {
    this.#writer ??= OciArchiveWriter.toFile(this.path);
    return this.#writer;
  }

  async hasBlob(blob: BlobInfo): Promise<boolean> {
    return this.#writer?.hasBlob(blob.digest) ?? false;
  }

  async tryReuseBlob(): Promise<boolean> {
    return false;
  }

  async putBlob(blob: BlobInfo, stream: Readable): Promise<void> {
    try {
      await this.#open().addBlob(blob.digest, blob.size, stream);
    } catch (error) {
      stream.destroy();
      throw error;
    }
  }

  async putManifest(manifest: ManifestData, instanceDigest?: string): Promise<void> {
    const writer = this.#open();
    if (instanceDigest !== undefined) {
      await writer.addBlob(manifest.digest, manifest.bytes.length, manifest.bytes);
      return;
    }
    this.#top = manifest;
  }

  /** Lists the top-level manifest in index.json and renames the archive into place. */
  async commit(): Promise<void> {
    if (this.#top === undefined) throw new Error(`${this.name}: nothing to commit`);
    const writer = this.#open();
    await writer.addManifest(this.#top.bytes, this.#top.mediaType, this.ref === undefined ? {} : { ref: this.ref });
    await writer.finish();
    this.#committed = true;
  }

  /** Without a commit, abandons the archive: the temporary file is removed. */
  async close(): Promise<void> {
    if (!this.#committed && this.#writer !== undefined) await this.#writer.abort();
    this.#writer = undefined;
  }
}
