// Java packages, from the archives themselves (JAR, WAR, EAR, Jenkins plugins). Maven
// writes `META-INF/maven/<groupId>/<artifactId>/pom.properties` into every artifact it
// builds, and a shaded ("uber") jar keeps those of everything it absorbed, so each one is
// a package. An archive with none (Gradle builds, hand-made jars) is named by its
// `META-INF/MANIFEST.MF` (Implementation-Title/Version, or the OSGi Bundle-SymbolicName
// and Bundle-Version). Archives nested one level deep are read too: Spring Boot's
// BOOT-INF/lib/*.jar, WAR WEB-INF/lib/*.jar, EAR modules; deeper nesting is not followed.
// Every package is reported at the outer archive's path, the file that is in the image.
import { decodeText, type FoundPackage } from './found-package.ts';
import { mavenPurl } from './purl.ts';
import { readZipEntry, zipEntries, ZipFormatError, type ZipEntry } from './zip.ts';

/** pom.properties and MANIFEST.MF are a few KiB; anything larger is not metadata. */
const MAX_METADATA_BYTES = 1024 * 1024;
/** A nested archive is inflated into memory, one at a time, up to this size. */
export const MAX_NESTED_ARCHIVE_BYTES = 64 * 1024 * 1024;
/** Bounds the total inflated nested bytes per outer archive (a zip of many big jars). */
const MAX_NESTED_TOTAL_BYTES = 512 * 1024 * 1024;

const ARCHIVE_SUFFIXES = ['.jar', '.war', '.ear', '.jpi', '.hpi'];

export function isJavaArchivePath(path: string): boolean {
  const lower = path.toLowerCase();
  return ARCHIVE_SUFFIXES.some((s) => lower.endsWith(s));
}

/** Parses Java properties (`key=value`, `key: value`, `#` and `!` comments, backslash
 * continuations and escapes), as pom.properties is written. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, '');
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]\s*(.*)$/.exec(line);
    const key = unescape(m !== null ? m[1]! : line);
    out.set(key, unescape(m !== null ? m[2]! : ''));
  }
  return out;
}

function unescape(value: string): string {
  return value.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(parseInt(c.slice(1), 16));
    return c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'f' ? '\f' : c;
  });
}

/** Parses a JAR manifest's main section: `Name: value` lines wrapped at 72 bytes, a
 * continuation starting with one space; the main section ends at the first blank line. */
export function parseJarManifest(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | null = null;
  for (const line of text.split(/\r?\n|\r/)) {
    if (line === '') break;
    if (line.startsWith(' ')) {
      if (last !== null) out.set(last, out.get(last)! + line.slice(1));
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim();
    out.set(last, line.slice(colon + 1).trim());
  }
  return out;
}

interface MavenCoordinates {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
  readonly licenses?: readonly string[];
}

function fromManifest(manifest: Map<string, string>): MavenCoordinates | null {
  // Bundle-SymbolicName may carry directives: `org.example.bundle;singleton:=true`.
  const symbolic = manifest.get('Bundle-SymbolicName')?.split(';')[0]?.trim();
  const title = manifest.get('Implementation-Title');
  const version = manifest.get('Implementation-Version') ?? manifest.get('Bundle-Version');
  const artifactId = title ?? symbolic;
  if (artifactId === undefined || artifactId === '' || version === undefined || version === '') return null;
  const groupId = manifest.get('Implementation-Vendor-Id') ?? '';
  const license = manifest.get('Bundle-License');
  // Bundle-License is often a URL; only a bare identifier names a license.
  const licenses = license !== undefined && license !== '' && !/^https?:/.test(license) ? [license] : undefined;
  return { groupId, artifactId, version, ...(licenses !== undefined ? { licenses } : {}) };
}

/** The Maven coordinates an archive's own metadata declares (no nested archives). */
function archiveCoordinates(data: Buffer, entries: readonly ZipEntry[]): MavenCoordinates[] {
  const out: MavenCoordinates[] = [];
  for (const entry of entries) {
    if (!/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(entry.name)) continue;
    const bytes = readZipEntry(data, entry, MAX_METADATA_BYTES);
    if (bytes === null) continue;
    const props = parseProperties(decodeText(bytes));
    const groupId = props.get('groupId') ?? '';
    const artifactId = props.get('artifactId') ?? '';
    const version = props.get('version') ?? '';
    if (artifactId !== '' && version !== '') out.push({ groupId, artifactId, version });
  }
  if (out.length > 0) return out;
  const manifestEntry = entries.find((e) => e.name === 'META-INF/MANIFEST.MF');
  if (manifestEntry === undefined) return out;
  const bytes = readZipEntry(data, manifestEntry, MAX_METADATA_BYTES);
  const coordinates = bytes === null ? null : fromManifest(parseJarManifest(decodeText(bytes)));
  return coordinates === null ? out : [coordinates];
}

/** Parses a Java archive (and the archives nested in it, one level) into Maven packages
 * at `path`. Not a zip, or a corrupt one: no packages. */
export function parseJavaArchive(path: string, data: Buffer): FoundPackage[] {
  let entries: ZipEntry[];
  try {
    entries = zipEntries(data);
  } catch (error) {
    if (error instanceof ZipFormatError || error instanceof RangeError) return [];
    throw error;
  }
  const found = archiveCoordinates(data, entries);
  let nestedBudget = MAX_NESTED_TOTAL_BYTES;
  for (const entry of entries) {
    if (!isJavaArchivePath(entry.name) || entry.size > MAX_NESTED_ARCHIVE_BYTES || entry.size > nestedBudget) continue;
    const inner = readZipEntry(data, entry, MAX_NESTED_ARCHIVE_BYTES);
    if (inner === null) continue;
    nestedBudget -= entry.size;
    try {
      found.push(...archiveCoordinates(inner, zipEntries(inner)));
    } catch (error) {
      if (!(error instanceof ZipFormatError || error instanceof RangeError)) throw error;
    }
  }
  const seen = new Set<string>();
  const out: FoundPackage[] = [];
  for (const c of found) {
    // OSV and the GitHub advisory database name Maven packages `groupId:artifactId`.
    const name = c.groupId === '' ? c.artifactId : `${c.groupId}:${c.artifactId}`;
    const key = `${name}@${c.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      ecosystem: 'maven',
      name,
      version: c.version,
      ...(c.licenses !== undefined ? { licenses: c.licenses } : {}),
      path,
      purl: mavenPurl(c.groupId, c.artifactId, c.version),
    });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
}
