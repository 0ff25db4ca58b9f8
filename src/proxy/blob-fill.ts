// Filling the cache with one blob from an upstream: ONE download per blob however many
// clients ask at once, streamed to them while it is stored.
//
// The bytes go from the upstream (verified as they stream by the registry client, resumed
// with Range after a dropped connection) into an upload of the core registry, which hashes
// them again and commits them under their digest only when they match: nothing partial is
// ever a blob, and the upload is removed when the download fails. Clients that ask while the
// fill runs are fed the same bytes: those who join early (the first REPLAY_BYTES are kept
// in memory) get them all as they arrive; later ones wait for the commit and read the
// stored blob. Each client is held one chunk behind, and the last chunk is only sent once
// the digest has verified (not waiting for the commit), so no client ever receives a whole
// body that is not the blob.
// A client that goes away leaves the fill running for the others and for the cache.
import { PassThrough } from 'node:stream';
import type { Digest } from '../core/digest.ts';
import { Unavailable } from '../core/errors.ts';
import type { EventActor } from '../core/events.ts';
import type { BlobHandle, Registry } from '../registry/registry-interface.ts';
import type { UpstreamRoute } from './upstream-routes.ts';

/** Bytes of a running fill kept so that clients joining late still stream from the start. */
const REPLAY_BYTES = 8 * 1024 * 1024;
/**
 * How long a fill waits for its first client before it flows anyway (a HEAD, or the
 * background completion of an image): a client asking for the blob right after its
 * manifest then streams it from the first byte instead of waiting for the commit.
 */
const FIRST_CLIENT_WAIT_MS = 1000;

export const CACHE_ACTOR: EventActor = { kind: 'system', name: 'pull-through-cache' };

class Subscriber {
  readonly destination: NodeJS.WritableStream;
  held: Buffer | null = null;
  gone = false;
  constructor(destination: NodeJS.WritableStream) {
    this.destination = destination;
  }
  /** Writes the chunk held back and holds this one; false when the client needs to drain. */
  push(chunk: Buffer): boolean {
    const previous = this.held;
    this.held = chunk;
    return previous === null || this.gone ? true : this.destination.write(previous);
  }
}

export class BlobFill {
  readonly digest: Digest;
  readonly size: number;
  /** Settles when the blob is committed (or the fill failed). */
  readonly done: Promise<void>;
  #replay: Buffer[] | null = [];
  #replayBytes = 0;
  #flow: (() => void) | undefined;
  readonly #subscribers = new Set<Subscriber>();
  readonly #waiters = new Map<Subscriber, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(
    digest: Digest,
    size: number,
    start: (onChunk: (chunk: Buffer) => boolean, resumeWhenDrained: (resume: () => void) => void, onVerified: () => void) => Promise<void>,
  ) {
    this.digest = digest;
    this.size = size;
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    this.#flow = release;
    const timer = setTimeout(release, FIRST_CLIENT_WAIT_MS);
    this.done = first.then(() => {
      clearTimeout(timer);
      return start(
        (chunk) => this.#deliver(chunk),
        (resume) => this.#whenDrained(resume),
        () => this.#finish(null),
      );
    });
    this.done.then(
      () => this.#finish(null),
      (error: unknown) => this.#finish(error as Error),
    );
  }

  /**
   * Streams the whole blob to `destination` and ends it, when the fill can still give it
   * every byte; false when the client must wait for `done` and read the stored blob.
   */
  stream(destination: NodeJS.WritableStream): Promise<void> | false {
    if (this.#replay === null) return false;
    const subscriber = new Subscriber(destination);
    for (const chunk of this.#replay) subscriber.push(chunk);
    this.#subscribers.add(subscriber);
    const finished = new Promise<void>((resolve, reject) => this.#waiters.set(subscriber, { resolve, reject }));
    destination.on('close', () => {
      if (this.#subscribers.delete(subscriber)) {
        subscriber.gone = true;
        const waiter = this.#waiters.get(subscriber);
        this.#waiters.delete(subscriber);
        waiter?.reject(Object.assign(new Error('client went away before the blob was sent'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
      }
    });
    destination.on('error', () => {});
    this.#flow?.();
    return finished;
  }

  #deliver(chunk: Buffer): boolean {
    if (this.#replay !== null) {
      this.#replayBytes += chunk.length;
      if (this.#replayBytes <= REPLAY_BYTES) this.#replay.push(chunk);
      else this.#replay = null;
    }
    let ready = true;
    for (const subscriber of this.#subscribers) if (!subscriber.push(chunk)) ready = false;
    return ready;
  }

  #whenDrained(resume: () => void): void {
    // Every slow client must drain before more is read; one that leaves counts as drained.
    const waiting = [...this.#subscribers].filter((subscriber) => (subscriber.destination as { writableNeedDrain?: boolean }).writableNeedDrain === true);
    if (waiting.length === 0) return resume();
    let left = waiting.length;
    const one = (): void => {
      if (--left === 0) resume();
    };
    for (const subscriber of waiting) {
      let called = false;
      const once = (): void => {
        if (called) return;
        called = true;
        subscriber.destination.removeListener('drain', once);
        subscriber.destination.removeListener('close', once);
        one();
      };
      subscriber.destination.on('drain', once);
      subscriber.destination.on('close', once);
    }
  }

  #finish(error: Error | null): void {
    this.#replay = null;
    for (const subscriber of this.#subscribers) {
      const waiter = this.#waiters.get(subscriber);
      if (error === null) {
        if (subscriber.held !== null) subscriber.destination.write(subscriber.held);
        subscriber.destination.end();
        waiter?.resolve();
      } else {
        // Cut the connection: the client sees a short body, never a complete wrong one.
        (subscriber.destination as { destroy?: (error?: Error) => void }).destroy?.(error);
        waiter?.reject(error);
      }
    }
    this.#subscribers.clear();
    this.#waiters.clear();
  }
}

/** The fills running now, one per digest. */
export class BlobFills {
  readonly #registry: Registry;
  readonly #fills = new Map<string, Promise<BlobFill>>();

  /** `registry` is the core the cache writes through (uploads, links, events). */
  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** The running fill of a digest, if any. */
  active(digest: string): Promise<BlobFill> | undefined {
    return this.#fills.get(digest);
  }

  /**
   * Links a blob the store already holds (cached for another repository, or pushed) into
   * `route.local` instead of downloading it again; null when there is none to link (or the
   * registry does not mount automatically).
   */
  async link(route: UpstreamRoute, digest: Digest): Promise<BlobHandle | null> {
    if (!(await this.#registry.metadata.findBlob(digest))) return null;
    return this.#registry.mountBlob(route.local, digest, undefined, undefined, CACHE_ACTOR);
  }

  /**
   * Joins the fill of `digest` into `route.local`, starting it when none runs. Resolves
   * once the upstream answered (the size is known); rejects when it did not.
   */
  join(route: UpstreamRoute, digest: Digest): Promise<BlobFill> {
    const running = this.#fills.get(digest);
    if (running) return running;
    const fill = this.#start(route, digest);
    this.#fills.set(digest, fill);
    const forget = (): void => {
      if (this.#fills.get(digest) === fill) this.#fills.delete(digest);
    };
    fill.then((started) => started.done.then(forget, forget), forget);
    return fill;
  }

  async #start(route: UpstreamRoute, digest: Digest): Promise<BlobFill> {
    const reader = await route.upstream.getBlob(route.remote, digest);
    const size = reader.expectedSize;
    if (size === undefined) {
      reader.destroy();
      throw new Unavailable('upstream', `blob ${digest}: the upstream sent no Content-Length`);
    }
    reader.pause();
    return new BlobFill(digest, size, async (onChunk, whenDrained, onVerified) => {
      const body = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
      reader.on('data', (chunk: Buffer) => {
        const stored = body.write(chunk);
        const sent = onChunk(chunk);
        if (!stored || !sent) {
          reader.pause();
          let pending = (stored ? 0 : 1) + (sent ? 0 : 1);
          const resume = (): void => {
            if (--pending === 0) reader.resume();
          };
          if (!stored) body.once('drain', resume);
          if (!sent) whenDrained(resume);
        }
      });
      // The reader ends only once the digest verified: the clients streaming it get their
      // last chunk now, not after the store's fsync and commit (later clients wait for those).
      reader.on('end', () => {
        body.end();
        onVerified();
      });
      reader.on('error', (error) => body.destroy(error));
      reader.resume();
      try {
        await this.#registry.uploadMonolithic(route.local, digest, body, size, CACHE_ACTOR);
      } catch (error) {
        reader.destroy();
        // The download's own error says more than the store's "stream broke".
        throw (reader.errored as Error | null) ?? error;
      }
    });
  }
}
