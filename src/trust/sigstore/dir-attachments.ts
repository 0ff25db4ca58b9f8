// Sigstore signatures in a `dir:` image, as containers/image stores them: files
// `signature-1`, `signature-2`… (for an index's instance `<hex>.signature-N`), numbered
// together with GPG signatures. A sigstore file is containers/image's format-tagged blob:
// a 0 byte, "sigstore-json", a newline, then
//   {"mimeType":"application/vnd.dev.cosign.simplesigning.v1+json","payload":"<base64>","annotations":{…}}
// (Go's json.Marshal of sigstoreJSONRepresentation). Files in other formats (GPG) are
// left alone when reading and never overwritten when writing.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDigest } from '../../core/digest.ts';
import { SIGSTORE_PAYLOAD_MEDIA_TYPE, SIGSTORE_SIGNATURE_ANNOTATION, type SigstoreSignature } from '../../core/signatures.ts';
import { goJson } from './go-json.ts';

const PREFIX = Buffer.from('\x00sigstore-json\n', 'latin1');

function signaturePath(dir: string, index: number, instanceDigest?: string): string {
  const name = `signature-${index}`;
  return join(dir, instanceDigest === undefined ? name : `${parseDigest(instanceDigest).hex}.${name}`);
}

export function encodeSigstoreBlob(signature: SigstoreSignature): Buffer {
  // Go writes struct fields in declaration order (mimeType, payload, annotations), map keys sorted.
  const json = `{"mimeType":${goJson(SIGSTORE_PAYLOAD_MEDIA_TYPE)},"payload":${goJson(signature.payload.toString('base64'))},"annotations":${goJson(signature.annotations)}}`;
  return Buffer.concat([PREFIX, Buffer.from(json)]);
}

/** The sigstore signature in a containers/image signature blob, or undefined for other formats. */
export function decodeSigstoreBlob(blob: Buffer): SigstoreSignature | undefined {
  if (blob.length < PREFIX.length || !blob.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  const parsed = JSON.parse(blob.subarray(PREFIX.length).toString('utf8')) as { mimeType?: unknown; payload?: unknown; annotations?: unknown };
  if (parsed.mimeType !== SIGSTORE_PAYLOAD_MEDIA_TYPE || typeof parsed.payload !== 'string') return undefined;
  const annotations = (typeof parsed.annotations === 'object' && parsed.annotations !== null ? parsed.annotations : {}) as Record<string, string>;
  const encoded = annotations[SIGSTORE_SIGNATURE_ANNOTATION];
  if (typeof encoded !== 'string') return undefined;
  return { format: 'sigstore', payload: Buffer.from(parsed.payload, 'base64'), signature: Buffer.from(encoded, 'base64'), annotations };
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The sigstore signatures of a dir: image (or of one instance of its index). */
export async function readDirSignatures(dir: string, instanceDigest?: string): Promise<SigstoreSignature[]> {
  const signatures: SigstoreSignature[] = [];
  for (let index = 1; ; index++) {
    const blob = await readIfExists(signaturePath(dir, index, instanceDigest));
    if (blob === undefined) return signatures;
    const signature = decodeSigstoreBlob(blob);
    if (signature !== undefined) signatures.push(signature);
  }
}

/** Adds the signature as the next free `signature-N`; false when an identical one is there. */
export async function writeDirSignature(dir: string, signature: SigstoreSignature, instanceDigest?: string): Promise<boolean> {
  const blob = encodeSigstoreBlob(signature);
  for (let index = 1; ; index++) {
    const path = signaturePath(dir, index, instanceDigest);
    const existing = await readIfExists(path);
    if (existing === undefined) {
      await writeFile(path, blob, { flag: 'wx', mode: 0o644 });
      return true;
    }
    if (existing.equals(blob)) return false;
  }
}
