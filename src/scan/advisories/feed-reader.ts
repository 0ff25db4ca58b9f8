// Turns files, directories and URLs into feed documents, recognising each publisher's
// format by content (not by name): CSAF, OSV, the Debian tracker JSON and DSA/DLA lists,
// Alpine secdb YAML and Custody bundles; gzip is undone first. Debian's tracker and its
// lists are read together (the lists fill in fixes) once a whole input has been seen.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FeedDocument } from '../../metadata/advisory-store.ts';
import type { Severity } from '../../core/quality.ts';
import { isCsaf, parseCsaf } from './importers/csaf-redhat.ts';
import { isOsv, parseOsv } from './importers/osv.ts';
import { isDebianList, isDebianTracker, listAdvisories, parseDebianList, trackerAdvisories, trackerSeverities } from './importers/debian.ts';
import { isAlpineSecdb, parseAlpineYaml, secdbAdvisories } from './importers/alpine-secdb.ts';
import { isBundle, readBundle } from './bundle.ts';

export interface FeedInput {
  /** Where it came from (a path or URL), for messages and document keys. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Bumped whenever an importer reads a document differently (source rpm entries, VEX
 * states, Debian dates...): a database then re-imports every document once, although
 * the documents themselves did not change. */
const IMPORTER_REVISION = 'importers-2';

/** A document's hash: its content and the importers' revision. */
function sha256(...parts: (Uint8Array | string)[]): string {
  const hash = createHash('sha256').update(IMPORTER_REVISION).update('\u0000');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

function decode(bytes: Uint8Array): string {
  const plain = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
  return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8');
}

/**
 * Reads inputs into documents. Inputs that are not a known format are reported through
 * `skipped` (a directory of feeds may hold READMEs and signatures).
 */
export class FeedReader {
  private readonly debianLists: { name: string; text: string; hash: string }[] = [];
  private readonly debianTrackers: { name: string; value: unknown; hash: string }[] = [];
  readonly skipped: string[] = [];

  /** The documents of one input; Debian inputs are held back until `finish`. */
  *read(input: FeedInput): Generator<FeedDocument> {
    const text = decode(input.bytes);
    const hash = sha256(text);
    if (isBundle(text)) {
      yield* readBundle(text);
      return;
    }
    if (isDebianList(text)) {
      this.debianLists.push({ name: input.name, text, hash });
      return;
    }
    const trimmed = text.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        this.skipped.push(input.name);
        return;
      }
      // An OSV export may hold a list of vulnerabilities.
      const values = Array.isArray(value) ? value : [value];
      for (const item of values) {
        if (isCsaf(item)) {
          const advisory = parseCsaf(item);
          yield { source: 'redhat', key: `redhat:${advisory.id}`, hash: values.length === 1 ? hash : sha256(JSON.stringify(item)), advisories: [advisory] };
        } else if (isOsv(item)) {
          const advisory = parseOsv(item);
          yield { source: 'osv', key: `osv:${advisory.id}`, hash: values.length === 1 ? hash : sha256(JSON.stringify(item)), advisories: [advisory] };
        } else if (isAlpineSecdb(item) && values.length === 1) {
          // secdb as secdb.alpinelinux.org serves it (v3.N/main.json): the YAML's content.
          yield { source: 'alpine', key: `alpine:${item.distroversion}/${item.reponame ?? basename(input.name).replace(/\.json(\.gz)?$/, '')}`, hash, advisories: secdbAdvisories(item) };
        } else if (isDebianTracker(item)) {
          this.debianTrackers.push({ name: input.name, value: item, hash });
        } else {
          this.skipped.push(input.name);
        }
      }
      return;
    }
    const secdb = tryYaml(text);
    if (secdb) {
      yield { source: 'alpine', key: `alpine:${secdb.distroversion}/${secdb.reponame ?? basename(input.name).replace(/\.ya?ml(\.gz)?$/, '')}`, hash, advisories: secdbAdvisories(secdb) };
      return;
    }
    this.skipped.push(input.name);
  }

  /** The Debian documents: each list (DSAs rated by the tracker's urgencies) and the
   * tracker with the lists' fixes merged in. Their hashes cover what they were derived
   * from, so a new DSA list re-imports the tracker's merge. */
  *finish(): Generator<FeedDocument> {
    const lists = this.debianLists.map((list) => ({ ...list, entries: parseDebianList(list.text) }));
    const allEntries = lists.flatMap((list) => list.entries);
    const trackerHash = this.debianTrackers.map((tracker) => tracker.hash).join(',');
    const severities = new Map<string, Severity>();
    for (const tracker of this.debianTrackers) {
      for (const [cve, severity] of trackerSeverities(tracker.value as Parameters<typeof trackerSeverities>[0])) severities.set(cve, severity);
    }
    for (const list of lists) {
      const kind = list.entries[0]?.id.startsWith('DLA-') ? 'DLA' : 'DSA';
      yield { source: 'debian', key: `debian:${kind}`, hash: sha256(list.hash, trackerHash), advisories: listAdvisories(list.entries, severities) };
    }
    const listHash = lists.map((list) => list.hash).join(',');
    for (const tracker of this.debianTrackers) {
      yield { source: 'debian', key: 'debian:tracker', hash: sha256(tracker.hash, listHash), advisories: trackerAdvisories(tracker.value as Parameters<typeof trackerAdvisories>[0], allEntries) };
    }
    this.debianLists.length = 0;
    this.debianTrackers.length = 0;
  }
}

function tryYaml(text: string): ReturnType<typeof parseAlpineYaml> {
  if (!/^distroversion:/m.test(text)) return null;
  try {
    return parseAlpineYaml(text);
  } catch {
    return null;
  }
}

/** Files of a path: the file itself, or every file under a directory (sorted, recursive,
 * hidden entries skipped). */
export async function* walkFiles(path: string): AsyncGenerator<string> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    yield path;
    return;
  }
  const entries = (await readdir(path, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) yield* walkFiles(child);
    else if (entry.isFile()) yield child;
  }
}

/** Every document of a file, directory or http(s) URL. */
export async function* readFeeds(target: string, fetchImpl: typeof fetch = fetch): AsyncGenerator<FeedDocument, string[]> {
  const reader = new FeedReader();
  if (/^https?:\/\//.test(target)) {
    const response = await fetchImpl(target);
    if (!response.ok) throw new Error(`${target}: HTTP ${response.status}`);
    yield* reader.read({ name: target, bytes: new Uint8Array(await response.arrayBuffer()) });
  } else {
    for await (const file of walkFiles(target)) yield* reader.read({ name: file, bytes: await readFile(file) });
  }
  yield* reader.finish();
  return reader.skipped;
}
