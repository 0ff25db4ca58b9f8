// Where an archive writer's tar goes: a stream, or a file written atomically (a temporary
// file beside it, renamed into place when the archive is complete and removed when it is
// abandoned, so a failed copy never leaves a partial archive).
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TarWriter } from './tar-writer.ts';

export class ArchiveOutput {
  readonly tar = new TarWriter();
  private readonly done: Promise<void>;
  private readonly temporary: string | undefined;
  private readonly target: string | undefined;

  constructor(destination: Writable, file?: { readonly temporary: string; readonly target: string }) {
    this.done = pipeline(this.tar.output, destination);
    this.done.catch(() => {});
    this.temporary = file?.temporary;
    this.target = file?.target;
  }

  static toFile(path: string): ArchiveOutput {
    const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
    return new ArchiveOutput(createWriteStream(temporary, { mode: 0o644 }), { temporary, target: path });
  }

  /** Ends the tar; renames the file into place. Abandons the archive if anything fails. */
  async finish(): Promise<void> {
    try {
      await this.tar.finish();
      await this.done;
      if (this.temporary && this.target) await rename(this.temporary, this.target);
    } catch (error) {
      await this.abort(error as Error);
      throw error;
    }
  }

  async abort(error: Error): Promise<void> {
    this.tar.abort(error);
    await this.done.catch(() => {});
    if (this.temporary) await rm(this.temporary, { force: true });
  }
}
