// The copy progress renderer (src/client/progress.ts) on a fake terminal: one line per
// blob redrawn in place with cursor-up and erase-line codes, at most one redraw per
// interval (a trailing redraw shows the last state), lines cut to the terminal width, a
// final state and summary; nothing at all on a non-TTY or when quiet. And copyImage's
// onProgress: byte counts per blob ending at the blob's size, without changing the copy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressRenderer, type ProgressStream } from '../src/client/progress.ts';
import { copyImage, type CopyEvent } from '../src/client/copy.ts';
import { OciLayoutDestination, OciLayoutSource, type BlobInfo } from '../src/image/transports/index.ts';
import { debianLayout, layoutEntry, layoutImage, ociRef } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';

const newDir = tempDirs('custody-progress-');

class FakeTty implements ProgressStream {
  readonly isTTY: boolean;
  readonly columns: number;
  readonly writes: string[] = [];
  constructor(isTTY = true, columns = 120) {
    this.isTTY = isTTY;
    this.columns = columns;
  }
  write(text: string): boolean {
    this.writes.push(text);
    return true;
  }
  get output(): string {
    return this.writes.join('');
  }
  /** The screen as a terminal would show it (cursor up, erase line, carriage return, newline). */
  screen(): string[] {
    const rows: string[] = [];
    let row = 0;
    const text = this.output;
    for (let i = 0; i < text.length; ) {
      const escape = /^\x1b\[(\d*)([AK])/.exec(text.slice(i));
      if (escape !== null) {
        if (escape[2] === 'A') row -= Number(escape[1] || '1');
        else rows[row] = '';
        i += escape[0].length;
      } else if (text[i] === '\r') {
        i += 1;
      } else if (text[i] === '\n') {
        row += 1;
        i += 1;
      } else {
        rows[row] = (rows[row] ?? '') + text[i];
        i += 1;
      }
    }
    return rows.map((line) => line ?? '');
  }
}

const MiB = 1024 * 1024;
const layer: BlobInfo = { digest: `sha256:${'a'.repeat(64)}`, size: 10 * MiB, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
const config: BlobInfo = { digest: `sha256:${'c'.repeat(64)}`, size: 1000, mediaType: 'application/vnd.oci.image.config.v1+json' };
const present: BlobInfo = { digest: `sha256:${'b'.repeat(64)}`, size: 5 * MiB, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };

describe('ProgressRenderer', () => {
  it('draws a line per blob in place, throttled, with a final state and summary', async () => {
    const tty = new FakeTty();
    let now = 0;
    const progress = new ProgressRenderer(tty, { now: () => now, intervalMs: 100 });
    assert.equal(progress.enabled, true);
    progress.onEvent({ kind: 'blob-skipped', blob: present, reason: 'exists' });
    progress.onEvent({ kind: 'blob-start', blob: layer });
    const first = tty.writes.length;
    assert.equal(first, 1, 'the first change is drawn at once');
    // Within the interval: no redraw, however many updates.
    for (let i = 1; i <= 50; i += 1) progress.onProgress(layer, i * 1024);
    assert.equal(tty.writes.length, first);
    now = 1000;
    progress.onProgress(layer, 5 * MiB);
    assert.equal(tty.writes.length, first + 1);
    assert.match(tty.writes.at(-1)!, /^\x1b\[1A/, 'moves the cursor up over the one line drawn before');
    const screen = tty.screen();
    assert.equal(screen.length, 2);
    assert.equal(screen[0], 'Copying blob bbbbbbbbbbbb skipped: already exists');
    assert.equal(screen[1], 'Copying blob aaaaaaaaaaaa [============>           ] 5.0 MiB / 10.0 MiB  5.0 MiB/s');
    now = 1050;
    progress.onEvent({ kind: 'blob-copied', blob: layer });
    progress.onEvent({ kind: 'blob-start', blob: config });
    progress.onProgress(config, 1000);
    progress.onEvent({ kind: 'blob-copied', blob: config });
    progress.onEvent({ kind: 'manifest', digest: `sha256:${'d'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    assert.equal(tty.writes.length, first + 1, 'throttled');
    now = 2000;
    progress.finish(progress.summary(`sha256:${'d'.repeat(64)}`, 2, 1));
    assert.deepEqual(tty.screen(), [
      'Copying blob bbbbbbbbbbbb skipped: already exists',
      'Copying blob aaaaaaaaaaaa [========================] 10.0 MiB / 10.0 MiB  done',
      'Copying config cccccccccccc [========================] 1000 B / 1000 B  done',
      'Writing manifest dddddddddddd',
      `Copied sha256:${'d'.repeat(64)} (2 blobs copied, 1 skipped; 10.0 MiB in 2.0s, 5.0 MiB/s)`,
    ]);
    // Nothing after finish.
    const writes = tty.writes.length;
    progress.onProgress(layer, 1);
    progress.finish('again');
    assert.equal(tty.writes.length, writes);
  });

  it('redraws the last state after the interval without further events', async () => {
    const tty = new FakeTty();
    const progress = new ProgressRenderer(tty, { intervalMs: 30 });
    progress.onEvent({ kind: 'blob-start', blob: layer });
    progress.onProgress(layer, 3 * MiB);
    assert.equal(tty.writes.length, 1);
    await sleep(80);
    assert.equal(tty.writes.length, 2);
    assert.match(tty.screen()[0]!, /3\.0 MiB \/ 10\.0 MiB/);
    progress.finish();
  });

  it('cuts lines to the terminal width so that none wraps', () => {
    const tty = new FakeTty(true, 40);
    const progress = new ProgressRenderer(tty);
    progress.onEvent({ kind: 'blob-start', blob: layer });
    progress.finish();
    for (const line of tty.screen()) assert.ok(line.length < 40, line);
  });

  it('writes nothing when the stream is not a TTY, or with quiet', () => {
    for (const [tty, quiet] of [[new FakeTty(false), false], [new FakeTty(true), true]] as const) {
      const progress = new ProgressRenderer(tty, { quiet });
      assert.equal(progress.enabled, false);
      progress.onEvent({ kind: 'blob-start', blob: layer });
      progress.onProgress(layer, 100);
      progress.onEvent({ kind: 'blob-copied', blob: layer });
      progress.finish(progress.summary('sha256:x', 1, 0));
      assert.deepEqual(tty.writes, []);
    }
  });
});

describe('copyImage onProgress', () => {
  it('reports growing byte counts ending at each copied blob\'s size; the copy is unchanged', async () => {
    const layout = join(newDir(), 'out');
    const seen = new Map<string, number[]>();
    const events: CopyEvent[] = [];
    const src = new OciLayoutSource(ociRef(debianLayout(), 'bookworm-curl').slice('oci:'.length));
    const dst = new OciLayoutDestination(`${layout}:curl`);
    const result = await copyImage(src, dst, {
      onEvent: (event) => events.push(event),
      onProgress: (blob, bytes) => seen.set(blob.digest, [...(seen.get(blob.digest) ?? []), bytes]),
    });
    await src.close();
    await dst.close();
    const image = await layoutImage(debianLayout(), 'bookworm-curl');
    assert.equal(result.digest, (await layoutEntry(debianLayout(), 'bookworm-curl')).digest);
    assert.equal((await layoutEntry(layout, 'curl')).digest, result.digest);
    for (const blob of [image.manifest.config, ...image.manifest.layers]) {
      const counts = seen.get(blob.digest);
      assert.ok(counts !== undefined && counts.length > 0, `progress for ${blob.digest}`);
      assert.deepEqual([...counts].sort((a, b) => a - b), counts, 'non-decreasing');
      assert.equal(counts.at(-1), blob.size);
    }
    assert.equal(events.filter((event) => event.kind === 'blob-copied').length, seen.size);
  });
});
