// The rootless local image store (`custody pull`, `images`, `rmi`, `unpack`).
import { createReadStream } from 'node:fs';
import { indexEntries, readManifestJson } from '../../core/manifest-reader.ts';
import { chooseInstance, targetPlatform, type Platform } from '../../image/platform.ts';
import { isIndex } from '../../image/transport.ts';
import { LocalStore } from './store.ts';
import { LocalStoreSource } from './transport.ts';
import { unpackLayers, type UnpackOptions, type UnpackResult } from './unpack.ts';

export { defaultStoragePath, LocalStore, REF_NAME, type StoreIndexEntry } from './store.ts';
export { findImage, LocalStoreDestination, LocalStoreSource } from './transport.ts';
export { DEFAULT_MAX_UNPACK_BYTES, prepareTarget, unpackLayers, UnpackError, type LayerInput, type UnpackOptions, type UnpackResult } from './unpack.ts';

/** Unpacks the stored image `input` (for `platform` when it is an index) into `dir`. */
export async function unpackImage(store: LocalStore, input: string, dir: string, options: UnpackOptions & { platform?: Partial<Platform> } = {}): Promise<UnpackResult> {
  const source = new LocalStoreSource(store, input);
  let manifest = await source.getManifest();
  if (isIndex(manifest.mediaType)) {
    manifest = await source.getManifest(chooseInstance(indexEntries(readManifestJson(manifest.bytes)), targetPlatform(options.platform)).digest);
  }
  const parsed = readManifestJson(manifest.bytes);
  if (!Array.isArray(parsed.layers)) throw new Error(`${input}: the stored manifest (${manifest.mediaType}) is not an image manifest`);
  const layers = parsed.layers.map((layer) => ({
    digest: layer.digest,
    mediaType: layer.mediaType,
    async open() {
      if (!(await store.hasBlob(layer.digest))) throw new Error(`${input}: layer ${layer.digest} is missing from the local store`);
      return createReadStream(store.blobPath(layer.digest), { highWaterMark: 256 * 1024 });
    },
  }));
  return unpackLayers(layers, dir, options);
}
