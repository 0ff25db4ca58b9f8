// The vulndb phase: `custody vulndb update` of Red Hat CSAF at the publisher's size (40,000
// advisories; 2,000 with --quick) from a local server laid out as Red Hat's (archive_latest.txt,
// a .tar.zst of every document, changes.csv, .sha256 beside each document), side by side
// with `custody vulndb import` of the same documents as files: documents/s and peak RSS of
// each (target under 256 MiB), then an increment of 100 changed advisories (target < 5 s).
// Into SQLite. Not measured here yet: OSV at 1,000,000 records, the full Debian JSON,
// PostgreSQL, and re-grading 10,000 stored images after an increment.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT, readMemory } from '../lib/processes.ts';
import { log, problem, raw, rows } from '../lib/measure.ts';
import { MiB } from '../lib/stats.ts';

const DOCUMENTS = { default: 40_000, quick: 2_000 } as const;
const CHANGED = 100;
const RSS_TARGET = 256 * MiB;
const INCREMENT_TARGET_SECONDS = 5;
const DAY = '2026-01-01';
const SAMPLE = join(REPO_ROOT, '..', 'shared', 'feeds', 'redhat-csaf', 'rhsa-2024_6163.json');

interface Run {
  readonly seconds: number;
  readonly peakRss: number;
  readonly output: string;
}

/** Runs the CLI, sampling its VmHWM until it exits (the last reading is its peak). */
async function runCli(args: readonly string[]): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'custody.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let peak = 0;
  const sampler = setInterval(() => {
    const memory = child.pid === undefined ? null : readMemory(child.pid);
    if (memory && Number.isFinite(memory.hwm)) peak = Math.max(peak, memory.hwm);
  }, 25);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`custody ${args.slice(0, 2).join(' ')} exited ${code}: ${output.slice(-1000)}`);
  return { seconds: (performance.now() - started) / 1000, peakRss: peak, output };
}

function documentText(template: Record<string, unknown>, index: number, title: string): string {
  const document = structuredClone(template) as { document: { title: string; tracking: { id: string; current_release_date: string } } };
  document.document.tracking.id = `RHSA-2099:${String(index).padStart(5, '0')}`;
  document.document.title = title;
  return JSON.stringify(document);
}

/** A static server over `root`, with ETags; .sha256 files are computed on request. */
function serve(root: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    const wantsSum = path.endsWith('.sha256');
    const file = join(root, wantsSum ? path.slice(0, -'.sha256'.length) : path);
    let body: Buffer;
    try {
      body = readFileSync(file);
    } catch {
      response.writeHead(404).end();
      return;
    }
    if (wantsSum) body = Buffer.from(`${createHash('sha256').update(body).digest('hex')}  ${path.split('/').pop()!.slice(0, -7)}\n`);
    const info = statSync(file);
    const etag = `"${info.size}-${info.mtimeMs}${wantsSum ? '-sum' : ''}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { etag, 'content-length': String(body.length) }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

export async function vulndbPhase(quick: boolean, parent: string): Promise<void> {
  const count = quick ? DOCUMENTS.quick : DOCUMENTS.default;
  const work = join(parent, 'vulndb');
  const site = join(work, 'site');
  const year = join(site, '2099');
  mkdirSync(year, { recursive: true });
  const template = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Record<string, unknown>;
  log(`generating ${count} CSAF documents and their archive (not timed)`);
  for (let i = 0; i < count; i++) writeFileSync(join(year, `rhsa-2099_${String(i).padStart(5, '0')}.json`), documentText(template, i, `Generated advisory ${i}`));
  const archive = `csaf_advisories_${DAY}.tar.zst`;
  execFileSync('sh', ['-c', `tar --sort=name -cf - -C "${site}" 2099 | zstd -q -3 -o "${join(site, archive)}"`]);
  writeFileSync(join(site, 'archive_latest.txt'), `${archive}\n`);
  writeFileSync(join(site, 'changes.csv'), '');
  writeFileSync(join(site, 'deletions.csv'), '');
  const { server, url } = await serve(site);
  try {
    const updated = await runCli(['vulndb', 'update', '--db', join(work, 'updated.sqlite'), '--source', `redhat-csaf=${url}`]);
    const imported = await runCli(['vulndb', 'import', '--db', join(work, 'imported.sqlite'), year]);
    // An increment: 100 advisories revised today, named in changes.csv.
    const now = new Date().toISOString();
    const changes: string[] = [];
    for (let i = 0; i < CHANGED; i++) {
      const name = `rhsa-2099_${String(i * Math.floor(count / CHANGED)).padStart(5, '0')}.json`;
      writeFileSync(join(year, name), documentText(template, i * Math.floor(count / CHANGED), `Revised advisory ${i}`));
      changes.push(`"2099/${name}","${now}"\n`);
    }
    writeFileSync(join(site, 'changes.csv'), changes.join(''));
    const increment = await runCli(['vulndb', 'update', '--db', join(work, 'updated.sqlite'), '--source', `redhat-csaf=${url}`]);
    const section = 'advisory updater (SQLite)';
    rows.push({ section, metric: `first load of ${count} Red Hat CSAF documents by vulndb update (archive over HTTP)`, unit: 'documents/s', distribution: [], custody: [count / updated.seconds], higherIsBetter: true, note: `vulndb import of the same files: ${(count / imported.seconds).toFixed(0)} documents/s` });
    rows.push({ section, metric: 'peak RSS of vulndb update during the first load', unit: 'MiB', distribution: [], custody: [updated.peakRss / MiB], higherIsBetter: false, note: `target < 256 MiB: ${updated.peakRss < RSS_TARGET ? 'PASS' : 'FAIL'}; vulndb import: ${(imported.peakRss / MiB).toFixed(0)} MiB` });
    rows.push({ section, metric: `increment of ${CHANGED} changed advisories (changes.csv, each document and its .sha256)`, unit: 's', distribution: [], custody: [increment.seconds], higherIsBetter: false, note: `target < ${INCREMENT_TARGET_SECONDS} s: ${increment.seconds < INCREMENT_TARGET_SECONDS ? 'PASS' : 'FAIL'}` });
    raw.vulndb = { documents: count, update: { seconds: updated.seconds, peakRss: updated.peakRss }, import: { seconds: imported.seconds, peakRss: imported.peakRss }, increment: { changed: CHANGED, seconds: increment.seconds } };
    log(`update ${updated.seconds.toFixed(1)} s (${(updated.peakRss / MiB).toFixed(0)} MiB), import ${imported.seconds.toFixed(1)} s (${(imported.peakRss / MiB).toFixed(0)} MiB), increment ${increment.seconds.toFixed(2)} s`);
    if (updated.peakRss >= RSS_TARGET) problem(`vulndb update peaked at ${(updated.peakRss / MiB).toFixed(0)} MiB, over the 256 MiB target`);
    if (increment.seconds >= INCREMENT_TARGET_SECONDS) problem(`an increment of ${CHANGED} advisories took ${increment.seconds.toFixed(1)} s, over the ${INCREMENT_TARGET_SECONDS} s target`);
  } finally {
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
