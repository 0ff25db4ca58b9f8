// A local HTTP server laying out the advisory samples of ../shared/feeds as the
// publishers do, for `custody vulndb update --source NAME=http://127.0.0.1:PORT/...`:
//   /redhat-csaf/  archive_latest.txt, csaf_advisories_DAY.tar.zst (+ .sha256), changes.csv,
//                  deletions.csv, YEAR/rhsa-*.json with .sha256 beside each
//   /redhat-vex/   the same layout: csaf_vex_DAY.tar.zst holding 2099/cve-2099-1234.json
//   /debian/       data/json, data/DSA/list (no DLA list: 404)
//   /alpine/       an index page, v3.N/main.json and community.json (the secdb YAML as JSON)
//   /osv/          npm/all.zip, npm/modified_id.csv, npm/ID.json (records written here:
//                  the shared samples have no OSV)
// Every file has an ETag (304 on If-None-Match) and ranges are served (206 with If-Range).
// Faults are switched on per path: a 503 in the middle of a body (the connection cut),
// a 503 with Retry-After, a wrong .sha256, a truncated archive. Every request is logged.
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { sharedDir } from './paths.ts';
import { vexDocument } from './vex-fixture.ts';

export const ARCHIVE_DAY = '2026-03-20';
const ARCHIVE = `csaf_advisories_${ARCHIVE_DAY}.tar.zst`;

export interface MirrorRequest {
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  readonly range: string | null;
  readonly conditional: boolean;
  readonly at: number;
}

export type Fault =
  | { readonly kind: 'cut'; readonly afterBytes: number; times: number }
  | { readonly kind: 'retry-after'; readonly seconds: number; times: number }
  | { readonly kind: 'status'; readonly status: number; times: number };

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class FeedMirror {
  readonly files = new Map<string, Buffer>();
  readonly requests: MirrorRequest[] = [];
  readonly faults = new Map<string, Fault>();
  private server: Server | null = null;
  url = '';
  /** The sample directories as `custody vulndb import` reads them (alpine as YAML). */
  readonly samples: Record<'redhat' | 'vex' | 'debian' | 'alpine' | 'osv', string> = { redhat: '', vex: '', debian: '', alpine: '', osv: '' };
  private work = '';

  set(path: string, content: Buffer | string): void {
    this.files.set(path, Buffer.isBuffer(content) ? content : Buffer.from(content));
  }

  /** A Red Hat document with its .sha256 beside it. */
  setDocument(path: string, content: Buffer | string, checksum?: string): void {
    this.set(path, content);
    this.set(`${path}.sha256`, `${checksum ?? sha256(content)}  ${path.split('/').pop()}\n`);
  }

  async start(): Promise<void> {
    this.work = await mkdtemp(join(tmpdir(), 'custody-mirror-'));
    await this.buildRedHat();
    await this.buildVex();
    await this.buildDebian();
    await this.buildAlpine();
    await this.buildOsv();
    this.server = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      const log = (status: number, bytes: number): void => void this.requests.push({ path, status, bytes, range: (request.headers.range as string | undefined) ?? null, conditional: request.headers['if-none-match'] !== undefined, at: Date.now() });
      const fault = this.faults.get(path);
      if (fault && fault.times > 0 && fault.kind !== 'cut') {
        fault.times--;
        if (fault.kind === 'retry-after') response.writeHead(503, { 'retry-after': String(fault.seconds) }).end();
        else response.writeHead(fault.status).end();
        log(fault.kind === 'retry-after' ? 503 : fault.status, 0);
        return;
      }
      let body = this.files.get(path) ?? (path.endsWith('/') ? this.files.get(`${path}index.html`) : undefined);
      if (!body) {
        response.writeHead(404).end();
        log(404, 0);
        return;
      }
      const etag = `"${sha256(body).slice(0, 16)}"`;
      if (request.headers['if-none-match'] === etag) {
        response.writeHead(304, { etag }).end();
        log(304, 0);
        return;
      }
      let status = 200;
      const headers: Record<string, string> = { etag, 'accept-ranges': 'bytes' };
      const range = /^bytes=(\d+)-$/.exec((request.headers.range as string | undefined) ?? '');
      if (range && (request.headers['if-range'] === undefined || request.headers['if-range'] === etag)) {
        const from = Number(range[1]);
        headers['content-range'] = `bytes ${from}-${body.length - 1}/${body.length}`;
        body = body.subarray(from);
        status = 206;
      }
      headers['content-length'] = String(body.length);
      response.writeHead(status, headers);
      if (fault?.kind === 'cut' && fault.times > 0 && body.length > fault.afterBytes) {
        // A 503 in the middle of the body: the bytes so far, then the connection drops.
        fault.times--;
        response.write(body.subarray(0, fault.afterBytes), () => setTimeout(() => response.destroy(), 200));
        log(status, fault.afterBytes);
        return;
      }
      response.end(request.method === 'HEAD' ? undefined : body);
      log(status, body.length);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await rm(this.work, { recursive: true, force: true });
  }

  /** Six documents in the archive of ARCHIVE_DAY; the two modified later come through changes.csv. */
  private async buildRedHat(): Promise<void> {
    const source = sharedDir('feeds', 'redhat-csaf');
    this.samples.redhat = source;
    const tree = join(this.work, 'csaf-tree');
    const changes: [string, string][] = [];
    for (const name of (await readdir(source)).filter((file) => file.endsWith('.json')).sort()) {
      const content = await readFile(join(source, name));
      const modified = (JSON.parse(content.toString()) as { document: { tracking: { current_release_date: string } } }).document.tracking.current_release_date;
      const path = `${/rhsa-(\d{4})_/.exec(name)![1]}/${name}`;
      this.setDocument(`/redhat-csaf/${path}`, content);
      changes.push([path, modified]);
      if (Date.parse(modified) < Date.parse(`${ARCHIVE_DAY}T00:00:00Z`)) {
        await mkdir(join(tree, path.split('/')[0]!), { recursive: true });
        await writeFile(join(tree, path), content);
      }
    }
    const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=2026-03-20', '-cf', '-', '-C', tree, '.'], { maxBuffer: 256 * 1024 * 1024 });
    const archive = zstdCompressSync(tar);
    this.set(`/redhat-csaf/${ARCHIVE}`, archive);
    this.set(`/redhat-csaf/${ARCHIVE}.sha256`, `${sha256(archive)}  ${ARCHIVE}\n`);
    this.set('/redhat-csaf/archive_latest.txt', `${ARCHIVE}\n`);
    this.setChanges(changes);
    this.set('/redhat-csaf/deletions.csv', '');
  }

  /** One VEX document, in the archive and in changes.csv (modified the day before it). */
  private async buildVex(): Promise<void> {
    const dir = join(this.work, 'vex-samples');
    const tree = join(this.work, 'vex-tree', '2099');
    await mkdir(dir);
    await mkdir(tree, { recursive: true });
    const content = JSON.stringify(vexDocument());
    await writeFile(join(dir, 'cve-2099-1234.json'), content);
    await writeFile(join(tree, 'cve-2099-1234.json'), content);
    this.samples.vex = dir;
    this.setDocument('/redhat-vex/2099/cve-2099-1234.json', content);
    const archive = `csaf_vex_${ARCHIVE_DAY}.tar.zst`;
    const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--mtime=2026-03-20', '-cf', '-', '-C', join(this.work, 'vex-tree'), '.'], { maxBuffer: 64 * 1024 * 1024 });
    this.set(`/redhat-vex/${archive}`, zstdCompressSync(tar));
    this.set('/redhat-vex/archive_latest.txt', `${archive}\n`);
    this.set('/redhat-vex/changes.csv', '"2099/cve-2099-1234.json","2026-03-19T00:00:00+00:00"\n');
    this.set('/redhat-vex/deletions.csv', '');
  }

  /** changes.csv, newest first as Red Hat writes it. */
  setChanges(changes: readonly [string, string][]): void {
    const sorted = [...changes].sort((a, b) => Date.parse(b[1]) - Date.parse(a[1]));
    this.set('/redhat-csaf/changes.csv', sorted.map(([path, at]) => `"${path}","${at}"\n`).join(''));
  }

  private async buildDebian(): Promise<void> {
    const source = sharedDir('feeds', 'debian-security-tracker');
    this.samples.debian = source;
    this.set('/debian/data/json', await readFile(join(source, 'debian.json')));
    this.set('/debian/data/DSA/list', await readFile(join(source, 'DSA')));
  }

  private async buildAlpine(): Promise<void> {
    const source = sharedDir('feeds', 'alpine-secdb');
    this.samples.alpine = source;
    const releases = (await readdir(source)).sort();
    this.set('/alpine/index.html', `<html><body>${releases.map((release) => `<a href="${release}/">${release}/</a>`).join('\n')}</body></html>`);
    for (const release of releases) {
      for (const file of await readdir(join(source, release))) {
        const value: unknown = parseYaml(await readFile(join(source, release, file), 'utf8'), { schema: 'failsafe' });
        this.set(`/alpine/${release}/${file.replace(/\.yaml$/, '.json')}`, JSON.stringify(value));
      }
    }
  }

  /** Three npm records: two in all.zip, all three in modified_id.csv and as ID.json. */
  private async buildOsv(): Promise<void> {
    const dir = join(this.work, 'osv');
    await mkdir(dir);
    this.samples.osv = dir;
    const records = [
      osvRecord('GHSA-aaaa-0001', 'left-pad', '1.3.0', '2026-01-10T00:00:00Z'),
      osvRecord('GHSA-aaaa-0002', 'lodash', '4.17.21', '2026-02-10T00:00:00Z'),
    ];
    for (const record of records) await writeFile(join(dir, `${record.id}.json`), JSON.stringify(record));
    const zipDir = join(this.work, 'osv-zip');
    await mkdir(zipDir);
    for (const record of records) await writeFile(join(zipDir, `${record.id}.json`), JSON.stringify(record));
    execFileSync('zip', ['-q', '-X', '-r', join(this.work, 'all.zip'), '.'], { cwd: zipDir });
    this.set('/osv/npm/all.zip', await readFile(join(this.work, 'all.zip')));
    for (const record of records) this.set(`/osv/npm/${record.id}.json`, JSON.stringify(record));
    this.setOsvIndex(records);
  }

  setOsvIndex(records: readonly { id: string; modified: string }[]): void {
    const sorted = [...records].sort((a, b) => Date.parse(b.modified) - Date.parse(a.modified));
    this.set('/osv/npm/modified_id.csv', sorted.map((record) => `${record.modified},${record.id}\n`).join(''));
  }

  /** Requests since `from` (an index into `requests`). */
  since(from: number): MirrorRequest[] {
    return this.requests.slice(from);
  }
}

export function osvRecord(id: string, name: string, fixed: string, modified: string): { id: string; modified: string } & Record<string, unknown> {
  return {
    id,
    modified,
    published: modified,
    aliases: [`CVE-2026-${id.slice(-4)}`],
    summary: `test advisory for ${name}`,
    database_specific: { severity: 'HIGH' },
    affected: [{ package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed }] }] }],
  };
}
