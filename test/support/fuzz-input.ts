// Seeded generators of hostile registry input for the edge fuzz test: repository names,
// digests, tags, Range and Content-Range headers, query strings, credentials, and
// mutations of valid manifests. One seed, one sequence: a failure replays exactly.
export interface Fixture {
  /** Digests of blobs the registry holds. */
  readonly blobs: readonly string[];
  /** Digests of manifests it holds (the image first). */
  readonly manifests: readonly string[];
  /** Valid manifests to mutate: an image, an index, an artifact with a subject. */
  readonly image: object;
  readonly index: object;
  readonly artifact: object;
}

const HEX = '0123456789abcdef';
const NAME_PARTS = ['admin', 'app', 'fuzz', 'a', 'b0', 'x.y', 'x_y', 'x__y', 'x-y', 'x--y', 'library', 'ns/deep/er'];
/** Characters that break names, paths, SQL or JSON in one way or another. */
const HOSTILE = ['\0', '%', '%00', '%2F', '%2e%2e', '..', '/', '//', ' ', '\t', '\n', '"', "'", '\\', ';', '*', '?', '#', '&', '=', '+', ':', '@', 'A', 'é', 'ẞ', '\u202e', '\ud83d\ude00', '\ufeff', '\u0085', '\x7f', '{}', '[]', 'NULL', "' OR 1=1 --"];
const MEDIA_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.oci.empty.v1+json',
  'application/json',
  'text/plain',
  'application/vnd.custody.fuzz',
];

export class FuzzInput {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** mulberry32: small, fast, and the same everywhere. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += HEX[this.int(16)];
    return out;
  }

  /** Free text: empty, plain, hostile characters, long, or any code point. */
  text(): string {
    switch (this.int(7)) {
      case 0:
        return '';
      case 1:
        return this.pick(NAME_PARTS);
      case 2:
        return this.pick(HOSTILE);
      case 3:
        return `${this.pick(NAME_PARTS)}${this.pick(HOSTILE)}${this.pick(NAME_PARTS)}`;
      case 4:
        return 'x'.repeat(this.pick([64, 129, 256, 1000, 5000]));
      case 5: {
        let out = '';
        for (let i = this.int(12); i > 0; i--) out += String.fromCodePoint(this.pick([this.int(0x20), 0x20 + this.int(0x5f), 0x80 + this.int(0x780), 0xd800 + this.int(0x800), 0x10000 + this.int(0x1000)]));
        return out;
      }
      default:
        return String(this.pick([-1, 0, 1, 2 ** 31, 2 ** 53, 1e21, Number.NaN]));
    }
  }

  repositoryName(): string {
    if (this.chance(0.4)) {
      const depth = 1 + this.int(3);
      return Array.from({ length: depth }, () => this.pick(NAME_PARTS)).join('/');
    }
    const base = this.chance(0.5) ? `admin/${this.pick(NAME_PARTS)}` : this.pick(NAME_PARTS);
    switch (this.int(5)) {
      case 0:
        return `${base}${this.pick(HOSTILE)}`;
      case 1:
        return `${this.pick(HOSTILE)}${base}`;
      case 2:
        return `${base}/${'a'.repeat(this.pick([200, 250, 256, 300]))}`;
      case 3:
        return base.toUpperCase();
      default:
        return this.text();
    }
  }

  tag(): string {
    switch (this.int(6)) {
      case 0:
      case 1:
        return this.pick(['v1', 'latest', 'index', 'sbom', 'v1.2.3', '_x', 'A-b.c']);
      case 2:
        return `t${this.hex(this.int(8))}`;
      case 3:
        return this.pick(['.hidden', '-dash', 'a'.repeat(128), 'a'.repeat(129), 'ta\0g', 'sha256', 'sha256:', '']);
      default:
        return this.text();
    }
  }

  digest(fixture: Fixture): string {
    switch (this.int(8)) {
      case 0:
        return this.pick(fixture.blobs);
      case 1:
        return this.pick(fixture.manifests);
      case 2:
        return `sha256:${this.hex(64)}`;
      case 3:
        return `sha512:${this.hex(128)}`;
      case 4:
        return this.pick([`sha256:${this.hex(63)}`, `sha256:${this.hex(65)}`, `sha256:${this.hex(64).toUpperCase()}`, 'sha256:', `md5:${this.hex(32)}`, `sha256+b64:${this.hex(43)}`, `SHA256:${this.hex(64)}`, `sha256:${this.hex(62)}\0x`]);
      case 5:
        return `${this.pick(fixture.blobs).slice(0, 20)}${this.pick(HOSTILE)}`;
      default:
        return this.text();
    }
  }

  mediaType(): string {
    return this.chance(0.7) ? this.pick(MEDIA_TYPES) : this.text();
  }

  /** A Range header value, well-formed or not. */
  range(): string {
    const n = (): string => String(this.pick([0, 1, 2, 5, 100, 10_000, 2 ** 32, 2 ** 53, 2 ** 64]));
    return this.pick([
      `bytes=${n()}-${n()}`,
      `bytes=-${n()}`,
      `bytes=${n()}-`,
      `bytes=${n()}-${n()},${n()}-${n()}`,
      'bytes=-',
      'bytes=abc-def',
      `items=0-${n()}`,
      ` bytes = 1 - 2 `,
      `bytes=${'9'.repeat(40)}-`,
      `bytes=-0`,
      headerSafe(this.text()),
    ]);
  }

  /** A Content-Range header value for a chunk of `length` bytes. */
  contentRange(length: number): string {
    const end = Math.max(length - 1, 0);
    return this.pick([`0-${end}`, `bytes 0-${end}/*`, `0-${end + 1}`, `5-${end}`, `${end}-0`, `-1-${end}`, '0-', `0-${'9'.repeat(30)}`, headerSafe(this.text())]);
  }

  pageSize(): string | undefined {
    return this.pick([undefined, '0', '1', '2', '100', '10001', '-1', '1e3', '0x10', ' 5', '99999999999999999999', this.text()]);
  }

  bytes(): Buffer {
    const length = this.pick([0, 1, 7, 100, 4096]);
    return Buffer.from(Array.from({ length }, () => this.int(256)));
  }

  /** A query string of the defined values, percent-encoded (so NUL is %00). */
  query(values: Record<string, string | undefined>): string {
    const parts = Object.entries(values)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => `${key}=${encodeComponent(value)}`);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  }

  /** A path segment the HTTP client accepts: characters outside visible ASCII are percent-encoded. */
  pathSafe(value: string): string {
    return [...value].map((char) => (/^[\x21-\x7e]$/.test(char) && char !== '?' && char !== '#' ? char : encodeComponent(char))).join('');
  }

  /** Credentials other than the administrator's: none, wrong, malformed, or a bogus token. */
  authorization(): Record<string, string> {
    const encode = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
    const value = this.pick([
      undefined,
      `Basic ${encode(`${this.text()}:${this.text()}`)}`,
      `Basic ${encode('a\0b:secret')}`,
      `Basic ${encode('admin')}`,
      'Basic !!!notbase64',
      `Bearer ${this.hex(40)}`,
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
      `Digest ${this.hex(8)}`,
    ]);
    return value === undefined ? {} : { Authorization: value };
  }
}

/** Keeps a header value to what an HTTP client may send (latin-1 without controls). */
export function headerSafe(value: string): string {
  return [...value].map((char) => (/^[\x20-\x7e\xa0-\xff]$/.test(char) ? char : '?')).join('');
}

function encodeComponent(value: string): string {
  // Lone surrogates cannot be encoded as UTF-8; send their replacement.
  return encodeURIComponent(value.toWellFormed());
}

/** A valid manifest changed in one to three random ways, and the Content-Type to send it with. */
export function mutateManifest(input: FuzzInput, fixture: Fixture): { body: Buffer; contentType: string } {
  const base = input.pick([fixture.image, fixture.index, fixture.artifact]) as Record<string, unknown>;
  const document = structuredClone(base);
  const contentType = input.chance(0.8) ? String(document.mediaType) : input.mediaType();
  for (let i = 1 + input.int(3); i > 0; i--) mutate(input, document, fixture);
  let text = JSON.stringify(document);
  if (input.chance(0.15)) {
    // Byte-level damage: the JSON may no longer parse.
    const at = input.int(text.length);
    text = input.pick([text.slice(0, at), `${text.slice(0, at)}${input.pick(['"', '{', ']', '\\u0000', '\u0000', '\ud800', ',,'])}${text.slice(at)}`, text.slice(0, at) + text.slice(at + 1 + input.int(5))]);
  }
  return { body: Buffer.from(text, 'utf8'), contentType: headerSafe(contentType) };
}

function randomValue(input: FuzzInput, fixture: Fixture): unknown {
  switch (input.int(10)) {
    case 0:
      return null;
    case 1:
      return input.pick([-1, 0, 1.5, 2 ** 53, 1e308, -0]);
    case 2:
      return input.text();
    case 3:
      return input.digest(fixture);
    case 4:
      return input.mediaType();
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return { mediaType: input.mediaType(), digest: input.digest(fixture), size: input.pick([0, 2, -1, 2 ** 53, 1.5]) };
    case 8:
      return Object.fromEntries(Array.from({ length: 1 + input.int(3) }, () => [input.text(), input.text()]));
    default:
      return input.chance(0.5);
  }
}

function mutate(input: FuzzInput, node: Record<string, unknown>, fixture: Fixture): void {
  // Walk down a random path of objects and arrays, then change what is there.
  let target: Record<string, unknown> | unknown[] = node;
  for (let depth = input.int(4); depth > 0; depth--) {
    const keys = Object.keys(target);
    if (keys.length === 0) break;
    const child = (target as Record<string, unknown>)[input.pick(keys)];
    if (child === null || typeof child !== 'object') break;
    target = child as Record<string, unknown> | unknown[];
  }
  const keys = Object.keys(target);
  const key = keys.length > 0 && input.chance(0.7) ? input.pick(keys) : input.pick(['schemaVersion', 'mediaType', 'artifactType', 'config', 'layers', 'manifests', 'subject', 'annotations', 'platform', 'urls', input.text()]);
  const record = target as Record<string, unknown>;
  switch (input.int(5)) {
    case 0:
      delete record[key];
      break;
    case 1:
      if (Array.isArray(record[key])) (record[key] as unknown[]).push(...Array.from({ length: input.pick([1, 2, 50]) }, () => structuredClone((record[key] as unknown[])[0] ?? randomValue(input, fixture))));
      else record[key] = randomValue(input, fixture);
      break;
    case 2:
      record.annotations = Object.fromEntries(Array.from({ length: 1 + input.int(4) }, () => [input.text(), input.chance(0.8) ? input.text() : randomValue(input, fixture)]));
      break;
    case 3:
      record.subject = { mediaType: input.mediaType(), digest: input.chance(0.5) ? input.pick(fixture.manifests) : input.digest(fixture), size: input.pick([1, 0, -5, 2 ** 60]) };
      break;
    default:
      record[key] = randomValue(input, fixture);
  }
}

