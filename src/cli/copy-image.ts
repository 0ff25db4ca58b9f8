// One trusted copy from SRC to DST, as `custody copy` and `custody sync` both do it: the
// source checked against the trust policy before its blobs are read, its signatures carried
// (or removed, or added to by signing), progress on a terminal.
import { UsageError } from '../core/errors.ts';
import type { ClientOptions } from '../client/image-resolver.ts';
import { copyImage, type CopyResult, type ManifestFormat } from '../client/copy.ts';
import { ProgressRenderer } from '../client/progress.ts';
import { DockerImageDestination, openDestination, openSource } from '../client/transports/index.ts';
import { DirImageDestination, DirImageSource, DockerArchiveDestination, DockerArchiveSource, OciArchiveDestination, OciLayoutDestination } from '../image/transports/index.ts';
import { evaluateSource, type ClientPolicy } from '../trust/policy/enforcement.ts';
import { SourceSignatures } from '../trust/policy/source-signatures.ts';
import { gpgWriterFor, readGpgFromSource } from '../trust/policy/gpg-storage.ts';
import { SignatureTransfer } from '../trust/policy/signature-transfer.ts';
import type { SigningRequest } from '../trust/policy/signature-transfer.ts';

export interface CopySettings {
  readonly all: boolean;
  readonly format?: ManifestFormat | undefined;
  readonly platform: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
  readonly policy: ClientPolicy | undefined;
  readonly signing: SigningRequest | undefined;
  readonly removeSignatures: boolean;
  readonly quiet: boolean;
  /** The command's name for warnings (`custody copy`, `custody sync`). */
  readonly command: string;
}

export interface CopyEndpoints {
  readonly source: string;
  readonly destination: string;
  readonly sourceOptions: ClientOptions;
  readonly destinationOptions: ClientOptions;
}

export async function copyOneImage(endpoints: CopyEndpoints, settings: CopySettings): Promise<CopyResult> {
  const source = openSource(endpoints.source, endpoints.sourceOptions);
  const destination = openDestination(endpoints.destination, endpoints.destinationOptions);
  const progress = new ProgressRenderer(process.stderr, { quiet: settings.quiet });
  try {
    if (source instanceof DirImageSource && destination instanceof DirImageDestination && source.path === destination.path) {
      throw new UsageError(`${endpoints.source}: source and destination are the same directory`);
    }
    if (destination instanceof DockerArchiveDestination && settings.all) {
      throw new UsageError(`${endpoints.destination}: a docker-archive holds a single image; copy without --all`);
    }
    // A docker-archive's manifest is made up: Docker schema2 unless --format oci asks
    // otherwise or (as containers/image does) the destination holds OCI manifests only.
    const format = settings.format;
    if (source instanceof DockerArchiveSource && (format === 'oci' || (format === undefined && (destination instanceof OciLayoutDestination || destination instanceof OciArchiveDestination)))) {
      source.manifestFormat = 'oci';
    }
    // containers/image labels a docker-archive's uncompressed layers `.tar.gzip`, and skopeo
    // gzips them on the way to a registry; Custody pushes them as they are, so it tells the
    // registry their real type (`...rootfs.diff.tar`).
    if (source instanceof DockerArchiveSource && destination instanceof DockerImageDestination) source.layerTypes = 'stored';
    const signatures = new SourceSignatures(source, readGpgFromSource);
    const transfer = new SignatureTransfer({
      sourceSignatures: signatures,
      destination,
      remove: settings.removeSignatures,
      writeGpg: gpgWriterFor(destination),
      ...(settings.signing === undefined ? {} : { signing: settings.signing }),
      warn: (message) => process.stderr.write(`${settings.command}: warning: ${message}\n`),
    });
    const policy = settings.policy;
    const result = await copyImage(source, destination, {
      all: settings.all,
      ...(format === undefined ? {} : { format }),
      platform: settings.platform,
      ...(progress.enabled ? { onEvent: progress.onEvent, onProgress: progress.onProgress } : {}),
      checkImage: async (step) => {
        transfer.prefetch(step);
        if (policy !== undefined) await evaluateSource(policy, source, signatures, step, { enforce: true });
      },
      beforeManifest: (step, written) => transfer.before(step, written),
      afterManifest: (step, written) => transfer.after(step, written),
    });
    progress.finish(progress.summary(result.digest, result.blobsCopied, result.blobsSkipped));
    return result;
  } finally {
    progress.finish();
    await source.close();
    await destination.close();
  }
}
