// Copy progress on a terminal: one line per blob (kind, short digest, bytes done/total, a
// bar, rate) redrawn in place with ANSI cursor movement, at most 10 redraws a second
// (a trailing redraw shows the last state), then a summary line. Nothing at all is
// written when the stream is not a TTY or when quiet: scripts and logs see no escape
// codes. Fed by copyImage's onEvent and onProgress (pull can feed it the same way).
import { formatBytes } from '../core/size.ts';
import type { CopyEvent } from './copy.ts';
import type { BlobInfo } from '../image/transport.ts';

/** What the renderer writes to: process.stderr, or a fake in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface ProgressOptions {
  /** Write nothing (--quiet). */
  readonly quiet?: boolean;
  /** Minimum milliseconds between redraws (default 100: ≤10 redraws/s). */
  readonly intervalMs?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

type LineState = 'copying' | 'done' | 'skipped' | 'mounted';

interface Line {
  readonly label: string;
  readonly digest: string;
  readonly total: number;
  bytes: number;
  state: LineState;
  readonly started: number;
  finished: number | undefined;
}

const BAR_WIDTH = 24;

export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : digest.slice(colon + 1, colon + 13);
}

function bar(done: number, total: number): string {
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.floor(fraction * BAR_WIDTH);
  if (filled >= BAR_WIDTH) return `[${'='.repeat(BAR_WIDTH)}]`;
  return `[${'='.repeat(filled)}>${' '.repeat(BAR_WIDTH - filled - 1)}]`;
}

function rate(bytes: number, ms: number): string {
  return ms <= 0 ? '' : `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
}

export class ProgressRenderer {
  /** Whether anything is drawn (a TTY, not quiet). */
  readonly enabled: boolean;
  readonly #stream: ProgressStream;
  readonly #interval: number;
  readonly #now: () => number;
  readonly #lines: Line[] = [];
  readonly #byDigest = new Map<string, Line>();
  readonly #started: number;
  #manifest: string | undefined;
  /** Lines on screen from the last redraw (the cursor is below them). */
  #drawn = 0;
  #lastDraw = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #dirty = false;
  #closed = false;

  constructor(stream: ProgressStream, options: ProgressOptions = {}) {
    this.#stream = stream;
    this.enabled = options.quiet !== true && stream.isTTY === true;
    this.#interval = options.intervalMs ?? 100;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
  }

  /** A copyImage onEvent handler. */
  readonly onEvent = (event: CopyEvent): void => {
    if (!this.enabled || this.#closed) return;
    if (event.kind === 'manifest') {
      this.#manifest = event.digest;
    } else {
      const line = this.#line(event.blob);
      if (event.kind === 'blob-copied') {
        line.state = 'done';
        line.bytes = line.total;
        line.finished = this.#now();
      } else if (event.kind === 'blob-skipped') {
        line.state = event.reason === 'exists' ? 'skipped' : 'mounted';
        line.finished = this.#now();
      }
    }
    this.#changed();
  };

  /** A copyImage onProgress handler: `bytes` of the blob have gone through so far. */
  readonly onProgress = (blob: BlobInfo, bytes: number): void => {
    if (!this.enabled || this.#closed) return;
    this.#line(blob).bytes = bytes;
    this.#changed();
  };

  #line(blob: BlobInfo): Line {
    let line = this.#byDigest.get(blob.digest);
    if (line === undefined) {
      const label = blob.mediaType !== undefined && /config|container\.image/.test(blob.mediaType) ? 'config' : 'blob';
      line = { label, digest: blob.digest, total: blob.size, bytes: 0, state: 'copying', started: this.#now(), finished: undefined };
      this.#lines.push(line);
      this.#byDigest.set(blob.digest, line);
    }
    return line;
  }

  #changed(): void {
    this.#dirty = true;
    const wait = this.#lastDraw + this.#interval - this.#now();
    if (wait <= 0) {
      this.#draw();
      return;
    }
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#dirty && !this.#closed) this.#changed();
      }, wait);
      this.#timer.unref();
    }
  }

  /** The lines as they would be drawn now (for tests and the final state). */
  lines(): string[] {
    const now = this.#now();
    const out = this.#lines.map((line) => {
      const head = `Copying ${line.label} ${shortDigest(line.digest)}`;
      if (line.state === 'skipped') return `${head} skipped: already exists`;
      if (line.state === 'mounted') return `${head} skipped: mounted`;
      const amount = `${formatBytes(line.bytes)} / ${formatBytes(line.total)}`;
      const elapsed = (line.finished ?? now) - line.started;
      const speed = rate(line.bytes, elapsed);
      const tail = line.state === 'done' ? 'done' : speed;
      return `${head} ${bar(line.bytes, line.total)} ${amount}${tail === '' ? '' : `  ${tail}`}`;
    });
    if (this.#manifest !== undefined) out.push(`Writing manifest ${shortDigest(this.#manifest)}`);
    return out;
  }

  #fit(text: string): string {
    const columns = this.#stream.columns;
    // One character short of the width, so that no line wraps (the cursor arithmetic counts lines).
    return columns !== undefined && columns > 1 && text.length >= columns ? text.slice(0, columns - 1) : text;
  }

  #draw(): void {
    this.#dirty = false;
    this.#lastDraw = this.#now();
    const lines = this.lines();
    let out = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    for (const line of lines) out += `\r\x1b[2K${this.#fit(line)}\n`;
    this.#drawn = lines.length;
    if (out !== '') this.#stream.write(out);
  }

  /** Draws the final state and, when given, a summary line; stops redrawing. */
  finish(summary?: string): void {
    if (!this.enabled || this.#closed) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#draw();
    this.#closed = true;
    if (summary !== undefined) this.#stream.write(`${summary}\n`);
  }

  /** A summary of what was copied: bytes moved, time and average rate. */
  summary(digest: string, copied: number, skipped: number): string {
    const bytes = this.#lines.reduce((sum, line) => sum + (line.state === 'done' || line.state === 'copying' ? line.bytes : 0), 0);
    const ms = this.#now() - this.#started;
    const speed = rate(bytes, ms);
    return `Copied ${digest} (${copied} blobs copied, ${skipped} skipped; ${formatBytes(bytes)} in ${(ms / 1000).toFixed(1)}s${speed === '' ? '' : `, ${speed}`})`;
  }
}
