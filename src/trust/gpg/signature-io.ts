// Where GPG simple signing signatures of an image live, read and written the way
// containers/image does, so skopeo/podman and Custody see the same signatures:
//   docker://  the registry's signature extension API when /v2/ answers
//              `X-Registry-Supports-Signatures: 1` (Custody, OpenShift, Quay); otherwise
//              lookaside storage per registries.d (including containers/image's builtin
//              default directory when nothing is configured);
//   dir:       `signature-1..N` files next to manifest.json (`<hex>.signature-N` for the
//              instances of a multi-arch copy). Blobs starting with 0x00 there are other
//              signature formats (sigstore) and are not GPG signatures.
//   lookaside  an explicit base URL.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { GpgSignature } from '../../core/signatures.ts';
import { repositoryScope, type RegistryClient } from '../../client/registry-client/index.ts';
import { appendLookasideSignature, readLookasideSignatures } from '../lookaside/lookaside.ts';
import { EMPTY_REGISTRIES_D, lookasideBase, type RegistriesD, type ScopedReference } from '../lookaside/registries-d.ts';

export type GpgSignatureLocation =
  | {
      readonly kind: 'docker';
      /** The image as registries.d scopes see it (registry, repository, tag/digest). */
      readonly reference: ScopedReference;
      /** A client for that registry (its credentials and TLS). */
      readonly client: RegistryClient;
      /** registries.d configuration (loadRegistriesD(await registriesDirPath(flag))). */
      readonly registriesD?: RegistriesD | undefined;
      /** For http(s) lookaside reads; default the global fetch. */
      readonly fetch?: typeof fetch | undefined;
    }
  | {
      readonly kind: 'dir';
      readonly path: string;
      /** The manifest is an instance of a multi-arch image copied with --all. */
      readonly instance?: boolean | undefined;
    }
  | { readonly kind: 'lookaside'; readonly base: URL; readonly fetch?: typeof fetch | undefined };

export type SignatureStorage = 'extension' | 'lookaside' | 'dir';

export interface ReadSignaturesResult {
  readonly signatures: GpgSignature[];
  readonly storage: SignatureStorage;
  /** Where they were read from (URL or directory), for messages. */
  readonly from: string;
}

export interface WriteSignatureResult {
  readonly storage: SignatureStorage;
  readonly to: string;
  /** False when the same signature was already there. */
  readonly added: boolean;
}

/** The extension API's JSON (containers/image extensionSignature). */
interface ExtensionSignature {
  readonly schemaVersion: number;
  readonly name: string;
  readonly type: string;
  readonly content: string;
}

const SCHEMA_VERSION = 2;
const TYPE_ATOMIC = 'atomic';
const MAX_LIST_BYTES = 4 * 1024 * 1024;

const supportCache = new WeakMap<RegistryClient, Promise<boolean>>();

/** Whether the registry's /v2/ advertises the signature extension (cached per client). */
export function registrySupportsSignatures(client: RegistryClient): Promise<boolean> {
  let cached = supportCache.get(client);
  if (cached === undefined) {
    cached = client.extensionRequest('GET', '/v2/', [], { limit: 64 * 1024 }).then((response) => {
      const value = response.headers['x-registry-supports-signatures'];
      return (Array.isArray(value) ? value[0] : value) === '1';
    });
    supportCache.set(client, cached);
    cached.catch(() => supportCache.delete(client));
  }
  return cached;
}

function extensionPath(repository: string, manifestDigest: string): string {
  return `/extensions/v2/${repository}/signatures/${manifestDigest}`;
}

async function listExtension(client: RegistryClient, repository: string, manifestDigest: string): Promise<ExtensionSignature[]> {
  const path = extensionPath(repository, manifestDigest);
  const response = await client.extensionRequest('GET', path, [repositoryScope(repository, ['pull'])], { limit: MAX_LIST_BYTES });
  if (response.status !== 200) throw new Error(`downloading signatures for ${manifestDigest} in ${repository}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 200)}`);
  let document: unknown;
  try {
    document = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new Error(`signatures for ${manifestDigest} in ${repository}: the registry answered something that is not JSON`);
  }
  const list = (document as { signatures?: unknown } | null)?.signatures;
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`signatures for ${manifestDigest} in ${repository}: "signatures" is not a list`);
  return list.filter((item): item is ExtensionSignature => typeof item === 'object' && item !== null && typeof (item as ExtensionSignature).content === 'string');
}

function dirSignaturePath(path: string, manifestDigest: string, instance: boolean | undefined, index: number): string {
  const prefix = instance ? `${manifestDigest.slice(manifestDigest.indexOf(':') + 1)}.` : '';
  return join(resolve(path), `${prefix}signature-${index}`);
}

/** Every signature blob of a dir: image (any format), in order, up to the first missing file. */
export async function readDirSignatureBlobs(path: string, manifestDigest: string, instance?: boolean): Promise<Buffer[]> {
  const blobs: Buffer[] = [];
  for (let index = 1; ; index++) {
    try {
      blobs.push(await readFile(dirSignaturePath(path, manifestDigest, instance, index)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
  return blobs;
}

/** Replaces a dir: image's signature blobs with `blobs` (removing any beyond them). */
export async function writeDirSignatureBlobs(path: string, manifestDigest: string, blobs: readonly Buffer[], instance?: boolean): Promise<void> {
  await mkdir(resolve(path), { recursive: true });
  for (const [i, blob] of blobs.entries()) {
    const target = dirSignaturePath(path, manifestDigest, instance, i + 1);
    const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, blob, { mode: 0o644 });
    await rename(temporary, target);
  }
  for (let index = blobs.length + 1; ; index++) {
    try {
      await unlink(dirSignaturePath(path, manifestDigest, instance, index));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
}

/** containers/image marks non-simple-signing blobs (sigstore) with a leading 0x00 byte. */
function isSimpleSigningBlob(blob: Buffer): boolean {
  return blob.length > 0 && blob[0] !== 0x00;
}

function toSignatures(blobs: readonly Buffer[]): GpgSignature[] {
  return blobs.filter(isSimpleSigningBlob).map((message) => ({ format: 'simple-signing', message }));
}

/** Reads the GPG signatures of `manifestDigest`, saying where they came from. */
export async function readGpgSignaturesFrom(location: GpgSignatureLocation, manifestDigest: string): Promise<ReadSignaturesResult> {
  switch (location.kind) {
    case 'dir': {
      const blobs = await readDirSignatureBlobs(location.path, manifestDigest, location.instance);
      return { signatures: toSignatures(blobs), storage: 'dir', from: resolve(location.path) };
    }
    case 'lookaside': {
      const blobs = await readLookasideSignatures(location.base, manifestDigest, { fetch: location.fetch });
      return { signatures: toSignatures(blobs), storage: 'lookaside', from: location.base.href };
    }
    case 'docker': {
      const repository = location.reference.repository;
      if (await registrySupportsSignatures(location.client)) {
        const list = await listExtension(location.client, repository, manifestDigest);
        const blobs = list.filter((item) => item.schemaVersion === SCHEMA_VERSION && item.type === TYPE_ATOMIC).map((item) => Buffer.from(item.content, 'base64'));
        return { signatures: toSignatures(blobs), storage: 'extension', from: `${location.client.base.origin}${extensionPath(repository, manifestDigest)}` };
      }
      const base = lookasideBase(location.registriesD ?? EMPTY_REGISTRIES_D, location.reference, false)!;
      const blobs = await readLookasideSignatures(base.url, manifestDigest, { fetch: location.fetch });
      return { signatures: toSignatures(blobs), storage: 'lookaside', from: base.url.href };
    }
  }
}

/** The GPG signatures of `manifestDigest` at `location` (none is an empty list). */
export async function readGpgSignatures(location: GpgSignatureLocation, manifestDigest: string): Promise<GpgSignature[]> {
  return (await readGpgSignaturesFrom(location, manifestDigest)).signatures;
}

/** Adds one signature (an OpenPGP message from signSimpleSigning) for `manifestDigest`,
 * unless the same bytes are already stored. Call after the manifest is written. */
export async function writeGpgSignature(location: GpgSignatureLocation, manifestDigest: string, message: Buffer): Promise<WriteSignatureResult> {
  switch (location.kind) {
    case 'dir': {
      const blobs = await readDirSignatureBlobs(location.path, manifestDigest, location.instance);
      const to = resolve(location.path);
      if (blobs.some((blob) => blob.equals(message))) return { storage: 'dir', to, added: false };
      await writeDirSignatureBlobs(location.path, manifestDigest, [...blobs, message], location.instance);
      return { storage: 'dir', to, added: true };
    }
    case 'lookaside': {
      const before = (await readLookasideSignatures(location.base, manifestDigest)).length;
      const index = await appendLookasideSignature(location.base, manifestDigest, message);
      return { storage: 'lookaside', to: location.base.href, added: index > before };
    }
    case 'docker': {
      const repository = location.reference.repository;
      const client = location.client;
      // containers/image prefers the registry's own storage when it offers one.
      if (await registrySupportsSignatures(client)) {
        const path = extensionPath(repository, manifestDigest);
        const to = `${client.base.origin}${path}`;
        const existing = await listExtension(client, repository, manifestDigest);
        if (existing.some((item) => item.schemaVersion === SCHEMA_VERSION && item.type === TYPE_ATOMIC && Buffer.from(item.content, 'base64').equals(message))) {
          return { storage: 'extension', to, added: false };
        }
        const body: ExtensionSignature = { schemaVersion: SCHEMA_VERSION, name: `${manifestDigest}@${randomBytes(16).toString('hex')}`, type: TYPE_ATOMIC, content: message.toString('base64') };
        const response = await client.extensionRequest('PUT', path, [repositoryScope(repository, ['pull', 'push'])], {
          body: Buffer.from(JSON.stringify(body)),
          headers: { 'Content-Type': 'application/json' },
          limit: 64 * 1024,
        });
        if (response.status !== 201) throw new Error(`uploading signature to ${to}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 300)}`);
        return { storage: 'extension', to, added: true };
      }
      const base = lookasideBase(location.registriesD ?? EMPTY_REGISTRIES_D, location.reference, true)!;
      const before = (await readLookasideSignatures(base.url, manifestDigest)).length;
      const index = await appendLookasideSignature(base.url, manifestDigest, message);
      return { storage: 'lookaside', to: base.url.href, added: index > before };
    }
  }
}
