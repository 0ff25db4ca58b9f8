// Reading and writing an image's sigstore signatures wherever the image is: the registry
// (attachments.ts: `.sig` tag and referrers) or a dir: image (dir-attachments.ts). For an
// index instance in dir:, containers/image's per-instance file names are used.
import type { SigstoreSignature } from '../../core/signatures.ts';
import { readSigstoreSignatures, writeSigstoreSignature, type AttachmentMode } from './attachments.ts';
import { readDirSignatures, writeDirSignature } from './dir-attachments.ts';
import { descriptorOf, type ManifestInfo, type SignableImage } from './image-target.ts';

export async function readImageSignatures(image: SignableImage, manifestDigest: string): Promise<SigstoreSignature[]> {
  if (image.kind === 'docker') return readSigstoreSignatures(image.target, manifestDigest);
  return readDirSignatures(image.path, manifestDigest === image.manifest.digest ? undefined : manifestDigest);
}

export async function writeImageSignature(image: SignableImage, manifest: ManifestInfo, signature: SigstoreSignature, mode: AttachmentMode = 'both'): Promise<void> {
  if (image.kind === 'docker') return writeSigstoreSignature(image.target, descriptorOf(manifest), signature, mode);
  await writeDirSignature(image.path, signature, manifest.digest === image.manifest.digest ? undefined : manifest.digest);
}
