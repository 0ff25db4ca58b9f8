// Media types the registry understands.
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  OciLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerTarZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest]);
export const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.OciIndex, MediaType.DockerManifestList]);
/** Configurations of runnable images (anything else in `config` makes an artifact). */
export const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);
export const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MediaType.DockerSchema1, MediaType.DockerSchema1Signed]);

/** Layers that by design may live outside the registry (Windows base layers and the like). */
export const NON_DISTRIBUTABLE_LAYER_TYPES: ReadonlySet<string> = new Set([
  MediaType.DockerForeignLayer,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

/** The OCI 1.1 empty descriptor's content: `{}`. */
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
export const EMPTY_JSON_CONTENT = new TextEncoder().encode('{}');

const MEDIA_TYPE_GRAMMAR = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE_GRAMMAR.test(value);
}
