// Signatures travelling with a copy, as skopeo copy does by default: each manifest's
// signatures are read from the source (while its blobs copy) and written next to the
// manifest at the destination; --remove-signatures drops them; a conversion (--format)
// that would change the signed manifest is refused while signatures exist, since they
// would no longer verify. New signatures (--sign-by, --sign-by-sigstore-private-key) are
// made over each written manifest for the destination's Docker reference.
import type { KeyObject } from 'node:crypto';
import { VERSION } from '../../core/version.ts';
import type { GpgSignature, SigstoreSignature } from '../../core/signatures.ts';
import type { ManifestStep } from '../../client/copy.ts';
import { DockerImageDestination } from '../../client/transports/docker.ts';
import { DirImageDestination, type ImageDestination, type ManifestData } from '../../image/transports/index.ts';
import { writeSigstoreSignature, type AttachmentTarget } from '../sigstore/attachments.ts';
import { writeDirSignature } from '../sigstore/dir-attachments.ts';
import { createSigstoreSignature } from '../sigstore/sign.ts';
import type { SourceSignatures } from './source-signatures.ts';

/** Stores GPG signatures of a written manifest at the destination (lookaside, extension API, dir: files). */
export type GpgSignatureWriter = (destination: ImageDestination, manifest: ManifestData, instanceDigest: string | undefined, signatures: readonly GpgSignature[]) => Promise<void>;

export interface SigningRequest {
  /** A loaded sigstore private key (--sign-by-sigstore-private-key). */
  readonly sigstoreKey?: KeyObject | undefined;
  /** Makes a GPG simple-signing message over a payload (--sign-by FINGERPRINT). */
  readonly gpgSign?: ((dockerReference: string, manifestDigest: string) => Promise<Buffer>) | undefined;
  /** --sign-identity: the reference signatures claim (default: the destination's). */
  readonly identity?: string | undefined;
}

export interface SignatureTransferOptions {
  readonly sourceSignatures: SourceSignatures;
  readonly destination: ImageDestination;
  /** --remove-signatures. */
  readonly remove: boolean;
  readonly signing?: SigningRequest;
  /** Writes GPG signatures; undefined for destinations that cannot hold them (oci:, archives). */
  readonly writeGpg?: GpgSignatureWriter | undefined;
  /** One-line warnings (signatures a destination cannot hold). */
  readonly warn: (message: string) => void;
}

interface Found {
  readonly sigstore: SigstoreSignature[];
  readonly gpg: GpgSignature[];
}

export class SignatureTransfer {
  readonly #options: SignatureTransferOptions;
  readonly #found = new Map<string, Promise<Found>>();
  #target: Promise<AttachmentTarget> | undefined;

  constructor(options: SignatureTransferOptions) {
    this.#options = options;
    const identity = options.signing?.identity;
    const signs = options.signing?.sigstoreKey !== undefined || options.signing?.gpgSign !== undefined;
    if (signs && identity === undefined && !(options.destination instanceof DockerImageDestination)) {
      throw new Error(`Cannot determine canonical Docker reference for destination ${options.destination.name}: give --sign-identity`);
    }
    if (options.signing?.gpgSign !== undefined && options.writeGpg === undefined) {
      // Refused before anything is copied rather than after the image is written.
      throw new Error(`--sign-by: storing GPG signatures at ${options.destination.name} is not supported yet`);
    }
  }

  /** Starts reading the source's signatures of this manifest (called as the manifest's copy starts). */
  prefetch(step: ManifestStep): void {
    if (this.#options.remove || this.#found.has(step.source.digest)) return;
    const provider = this.#options.sourceSignatures.for(step.source.digest, step.sourceInstance);
    const found = Promise.all([provider.sigstore(), provider.simpleSigning()]).then(([sigstore, gpg]) => ({ sigstore: [...sigstore], gpg: [...gpg] }));
    found.catch(() => {}); // awaited in before(); a failure must not surface as unhandled meanwhile
    this.#found.set(step.source.digest, found);
  }

  async #signatures(step: ManifestStep): Promise<Found> {
    if (this.#options.remove) return { sigstore: [], gpg: [] };
    this.prefetch(step);
    try {
      return await this.#found.get(step.source.digest)!;
    } catch (error) {
      // Custody looks for signatures on every copy (skopeo only where registries.d says so),
      // so a registry that cannot answer must not fail a copy the policy allowed: say so.
      this.#options.warn(`copying without signatures: ${(error as Error).message}`);
      const none: Found = { sigstore: [], gpg: [] };
      this.#found.set(step.source.digest, Promise.resolve(none));
      return none;
    }
  }

  /** Refuses to write a changed manifest when the source's signatures of it would be lost. */
  async before(step: ManifestStep, written: ManifestData): Promise<void> {
    const found = await this.#signatures(step);
    if (written.digest !== step.source.digest && found.sigstore.length + found.gpg.length > 0) {
      throw new Error(
        `${step.source.digest} has signatures, and converting its manifest (to ${written.mediaType}) would invalidate them; copy with --remove-signatures to drop them`,
      );
    }
  }

  /** Copies the source's signatures of the manifest and adds the requested new ones. */
  async after(step: ManifestStep, written: ManifestData): Promise<void> {
    const found = await this.#signatures(step);
    const sigstore = [...found.sigstore];
    const gpg = [...found.gpg];
    const signing = this.#options.signing;
    const identity = signing?.identity ?? (this.#options.destination instanceof DockerImageDestination ? this.#options.destination.reference.toString() : undefined);
    if (signing?.sigstoreKey !== undefined && identity !== undefined) {
      sigstore.push(
        createSigstoreSignature(signing.sigstoreKey, {
          identity,
          manifestDigest: written.digest,
          // What containers/image records: who signed and when (seconds).
          optional: { creator: `custody ${VERSION}`, timestamp: Math.floor(Date.now() / 1000) },
        }),
      );
    }
    if (signing?.gpgSign !== undefined && identity !== undefined) gpg.push({ format: 'simple-signing', message: await signing.gpgSign(identity, written.digest) });
    if (sigstore.length > 0) await this.#writeSigstore(step, written, sigstore);
    if (gpg.length > 0) await this.#writeGpg(step, written, gpg, signing?.gpgSign !== undefined);
  }

  async #writeSigstore(step: ManifestStep, written: ManifestData, signatures: readonly SigstoreSignature[]): Promise<void> {
    const destination = this.#options.destination;
    if (destination instanceof DockerImageDestination) {
      const target = await this.#dockerTarget(destination);
      const subject = { mediaType: written.mediaType, digest: written.digest, size: written.bytes.length };
      // The `.sig` tag only, as skopeo writes and reads sigstore attachments.
      for (const signature of signatures) await writeSigstoreSignature(target, subject, signature, 'tag');
    } else if (destination instanceof DirImageDestination) {
      for (const signature of signatures) await writeDirSignature(destination.path, signature, step.destinationInstance ? written.digest : undefined);
    } else {
      this.#options.warn(`${signatures.length} sigstore signature(s) of ${written.digest} not copied: ${destination.name} cannot hold signatures`);
    }
  }

  async #writeGpg(step: ManifestStep, written: ManifestData, signatures: readonly GpgSignature[], requested: boolean): Promise<void> {
    const writer = this.#options.writeGpg;
    if (writer === undefined) {
      const problem = `${this.#options.destination.name} cannot hold GPG signatures`;
      if (requested) throw new Error(`--sign-by: ${problem}`);
      this.#options.warn(`${signatures.length} GPG signature(s) of ${written.digest} not copied: ${problem}`);
      return;
    }
    await writer(this.#options.destination, written, step.destinationInstance ? written.digest : undefined, signatures);
  }

  /** The destination repository, through the destination's own client (one token, one resolution). */
  #dockerTarget(destination: DockerImageDestination): Promise<AttachmentTarget> {
    this.#target ??= destination.endpoint().then((endpoint) => ({ client: endpoint.client, repository: endpoint.repository }));
    return this.#target;
  }
}
