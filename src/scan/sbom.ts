// SBOM export of an indexed image: SPDX 2.3 JSON and CycloneDX 1.6 JSON. Both are pure
// functions of the ImageIndex and the caller's options (the creation time included), so
// the same index always yields the same bytes: packages are sorted, and every identifier
// is derived from content (a hash of purl and path), never from a counter or a clock.
//
// The image is the described element (SPDX DESCRIBES; CycloneDX metadata.component), the
// operating system is its own element, distribution packages (deb, rpm, apk) hang under
// the operating system and language packages directly under the image, as Trivy and Syft
// arrange them, so consumers that understand one understand this.
import { createHash } from 'node:crypto';
import type { Ecosystem, ImageIndex, InstalledPackage } from '../core/quality.ts';

export interface SbomOptions {
  /** The image's name as the user knows it (`registry.example/app:1.0`); the document name. */
  readonly name: string;
  /** When the document was made (ms since the epoch). Passed in so output is reproducible. */
  readonly created: number;
  /** SPDX: the document namespace URI; default `https://custody.dev/spdx/<name>-<digest>`. */
  readonly documentNamespace?: string | undefined;
  /** The producing tool's version, written into the creator / tools fields. */
  readonly toolVersion?: string | undefined;
}

const OS_ECOSYSTEMS: ReadonlySet<Ecosystem> = new Set(['deb', 'rpm', 'apk']);
const TOOL = 'custody';

/** ISO 8601 in UTC without fractions: SPDX's schema pattern requires exactly seconds. */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A stable short identifier for a package occurrence (the same purl may sit at two paths). */
function packageKey(p: InstalledPackage): string {
  return sha256Hex(`${p.purl}\n${p.path}`).slice(0, 16);
}

/** Packages in a stable order, one per purl and path (a layer walk may report a package
 * twice when two analyzers see it; the SBOM lists an occurrence once). */
function orderedPackages(index: ImageIndex): InstalledPackage[] {
  const seen = new Set<string>();
  const out: InstalledPackage[] = [];
  for (const p of index.packages) {
    const key = `${p.purl}\n${p.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out.sort((a, b) => compare(a.purl, b.purl) || compare(a.path, b.path));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The image's own purl (`pkg:oci/<name>@<digest>?repository_url=<repository>`), as the
 * purl spec's oci type defines it: the last path segment is the name. */
export function imagePurl(imageName: string, manifestDigest: string): string {
  const withoutDigest = imageName.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  const repository = lastColon > lastSlash ? withoutDigest.slice(0, lastColon) : withoutDigest;
  const tag = lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : '';
  const name = repository.slice(repository.lastIndexOf('/') + 1).toLowerCase();
  const qualifiers = [`repository_url=${encodeURIComponent(repository.toLowerCase()).replace(/%2F/g, '/')}`];
  if (tag !== '') qualifiers.push(`tag=${encodeURIComponent(tag)}`);
  return `pkg:oci/${encodeURIComponent(name)}@${encodeURIComponent(manifestDigest)}?${qualifiers.sort().join('&')}`;
}

/** Whether a string is an SPDX license expression made of list identifiers (or
 * LicenseRefs) joined by AND, OR, WITH and parentheses; package metadata often holds
 * free text instead (`BSD License`, `GPL-2+`, a URL), which must not pass as one. */
function isSpdxExpression(value: string): boolean {
  const tokens = value.replace(/[()]/g, ' ').split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) return false;
  let expectId = true;
  for (const token of tokens) {
    if (expectId) {
      if (!/^(LicenseRef-[A-Za-z0-9.-]+|[A-Za-z0-9][A-Za-z0-9.-]*\+?)$/.test(token) || /^(AND|OR|WITH)$/i.test(token)) return false;
    } else if (!/^(AND|OR|WITH)$/.test(token)) {
      return false;
    }
    expectId = !expectId;
  }
  return !expectId && /[A-Za-z]/.test(value) && !/^[0-9.]+$/.test(tokens[0]!);
}

/** SPDX: one declared-license expression; free text becomes a LicenseRef whose text is
 * listed once in hasExtractedLicensingInfos. */
function spdxLicense(licenses: readonly string[] | undefined, extracted: Map<string, string>): string {
  if (licenses === undefined || licenses.length === 0) return 'NOASSERTION';
  const parts = licenses.map((license) => {
    if (isSpdxExpression(license)) return licenses.length > 1 && /\s/.test(license) ? `(${license})` : license;
    const id = `LicenseRef-${sha256Hex(license).slice(0, 12)}`;
    extracted.set(id, license);
    return id;
  });
  return parts.join(' AND ');
}

export interface SpdxDocument {
  readonly spdxVersion: 'SPDX-2.3';
  readonly dataLicense: 'CC0-1.0';
  readonly SPDXID: 'SPDXRef-DOCUMENT';
  readonly name: string;
  readonly documentNamespace: string;
  readonly creationInfo: { readonly created: string; readonly creators: readonly string[] };
  readonly packages: readonly Record<string, unknown>[];
  readonly relationships: readonly { readonly spdxElementId: string; readonly relationshipType: string; readonly relatedSpdxElement: string }[];
  readonly hasExtractedLicensingInfos?: readonly { readonly licenseId: string; readonly extractedText: string; readonly name: string }[];
}

/** SPDX 2.3 JSON of an indexed image. */
export function toSpdx(index: ImageIndex, options: SbomOptions): SpdxDocument {
  const digestHex = index.manifestDigest.replace(/^[a-z0-9]+:/, '');
  const namespace = options.documentNamespace ??
    `https://custody.dev/spdx/${encodeURIComponent(options.name.replace(/[^A-Za-z0-9._/-]/g, '-'))}-${digestHex}`;
  const extracted = new Map<string, string>();
  const imageId = 'SPDXRef-Image';
  const osId = 'SPDXRef-OperatingSystem';
  const packages: Record<string, unknown>[] = [];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [
    { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
  ];
  packages.push({
    SPDXID: imageId,
    name: options.name,
    versionInfo: index.manifestDigest,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    primaryPackagePurpose: 'CONTAINER',
    ...(index.manifestDigest.startsWith('sha256:') ? { checksums: [{ algorithm: 'SHA256', checksumValue: digestHex }] } : {}),
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: imagePurl(options.name, index.manifestDigest) }],
  });
  if (index.os !== null) {
    packages.push({
      SPDXID: osId,
      name: index.os.id,
      ...(index.os.versionId !== null ? { versionInfo: index.os.versionId } : {}),
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'OPERATING-SYSTEM',
      ...(index.os.prettyName !== null ? { description: index.os.prettyName } : {}),
    });
    relationships.push({ spdxElementId: imageId, relationshipType: 'CONTAINS', relatedSpdxElement: osId });
  }
  for (const p of orderedPackages(index)) {
    const id = `SPDXRef-Package-${packageKey(p)}`;
    packages.push({
      SPDXID: id,
      name: p.name,
      versionInfo: p.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: spdxLicense(p.licenses, extracted),
      copyrightText: 'NOASSERTION',
      primaryPackagePurpose: 'LIBRARY',
      ...(p.sourceName !== undefined ? { sourceInfo: `built from ${p.sourceName}${p.sourceVersion !== undefined ? ` ${p.sourceVersion}` : ''}` } : {}),
      comment: `found at ${p.path} in layer ${p.layer}`,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }],
    });
    const parent = OS_ECOSYSTEMS.has(p.ecosystem) && index.os !== null ? osId : imageId;
    relationships.push({ spdxElementId: parent, relationshipType: 'CONTAINS', relatedSpdxElement: id });
  }
  const tool = `Tool: ${TOOL}${options.toolVersion !== undefined ? `-${options.toolVersion}` : ''}`;
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: options.name,
    documentNamespace: namespace,
    creationInfo: { created: isoSeconds(options.created), creators: [tool] },
    packages,
    relationships,
    ...(extracted.size > 0
      ? { hasExtractedLicensingInfos: [...extracted].sort((a, b) => compare(a[0], b[0])).map(([licenseId, text]) => ({ licenseId, extractedText: text, name: text })) }
      : {}),
  };
}

/** An RFC 4122 version 5 UUID (SHA-1, URL namespace) of `name`: a serial number that is
 * the same for the same image and creation time, as reproducible output needs. */
function uuidV5(name: string): string {
  const namespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const hash = createHash('sha1').update(namespace).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function cyclonedxLicenses(licenses: readonly string[] | undefined): Record<string, unknown>[] | undefined {
  if (licenses === undefined || licenses.length === 0) return undefined;
  // CycloneDX allows either license objects or a single expression, not both.
  const compound = licenses.some((l) => isSpdxExpression(l) && /\s(AND|OR|WITH)\s/.test(l));
  if (compound && licenses.every(isSpdxExpression)) {
    return [{ expression: licenses.length === 1 ? licenses[0]! : licenses.map((l) => `(${l})`).join(' AND ') }];
  }
  return licenses.map((l) => (isSpdxExpression(l) && !/\s/.test(l) ? { license: { id: l } } : { license: { name: l } }));
}

export interface CycloneDxBom {
  readonly bomFormat: 'CycloneDX';
  readonly specVersion: '1.6';
  readonly serialNumber: string;
  readonly version: 1;
  readonly metadata: Record<string, unknown>;
  readonly components: readonly Record<string, unknown>[];
  readonly dependencies: readonly { readonly ref: string; readonly dependsOn: readonly string[] }[];
}

/** CycloneDX 1.6 JSON of an indexed image. */
export function toCycloneDx(index: ImageIndex, options: SbomOptions): CycloneDxBom {
  const imageRef = imagePurl(options.name, index.manifestDigest);
  const digestHex = index.manifestDigest.replace(/^[a-z0-9]+:/, '');
  const components: Record<string, unknown>[] = [];
  const imageDeps: string[] = [];
  const osDeps: string[] = [];
  const osRef = index.os !== null ? `os:${index.os.id}@${index.os.versionId ?? ''}` : null;
  if (index.os !== null && osRef !== null) {
    components.push({
      type: 'operating-system',
      'bom-ref': osRef,
      name: index.os.id,
      ...(index.os.versionId !== null ? { version: index.os.versionId } : {}),
      ...(index.os.prettyName !== null ? { description: index.os.prettyName } : {}),
    });
    imageDeps.push(osRef);
  }
  const packages = orderedPackages(index);
  const purlCount = new Map<string, number>();
  for (const p of packages) purlCount.set(p.purl, (purlCount.get(p.purl) ?? 0) + 1);
  for (const p of packages) {
    // bom-ref must be unique: the purl, unless the same package sits at several paths.
    const ref = purlCount.get(p.purl) === 1 ? p.purl : `${p.purl}|${packageKey(p)}`;
    const colon = p.ecosystem === 'maven' ? p.name.indexOf(':') : -1;
    const licenses = cyclonedxLicenses(p.licenses);
    components.push({
      type: 'library',
      'bom-ref': ref,
      ...(colon > 0 ? { group: p.name.slice(0, colon), name: p.name.slice(colon + 1) } : { name: p.name }),
      version: p.version,
      ...(licenses !== undefined ? { licenses } : {}),
      purl: p.purl,
      properties: [
        { name: 'custody:layer', value: p.layer },
        { name: 'custody:path', value: p.path },
        ...(p.sourceName !== undefined ? [{ name: 'custody:source-name', value: p.sourceName }] : []),
        ...(p.sourceVersion !== undefined ? [{ name: 'custody:source-version', value: p.sourceVersion }] : []),
      ],
    });
    if (OS_ECOSYSTEMS.has(p.ecosystem) && osRef !== null) osDeps.push(ref);
    else imageDeps.push(ref);
  }
  const dependencies = [{ ref: imageRef, dependsOn: imageDeps.sort() }];
  if (osRef !== null) dependencies.push({ ref: osRef, dependsOn: osDeps.sort() });
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${uuidV5(`${TOOL}:${index.manifestDigest}:${options.created}`)}`,
    version: 1,
    metadata: {
      timestamp: isoSeconds(options.created),
      tools: { components: [{ type: 'application', name: TOOL, ...(options.toolVersion !== undefined ? { version: options.toolVersion } : {}) }] },
      component: {
        type: 'container',
        'bom-ref': imageRef,
        name: options.name,
        version: index.manifestDigest,
        ...(index.manifestDigest.startsWith('sha256:') ? { hashes: [{ alg: 'SHA-256', content: digestHex }] } : {}),
        purl: imageRef,
      },
    },
    components: components.sort((a, b) => compare(a['bom-ref'] as string, b['bom-ref'] as string)),
    dependencies: dependencies.sort((a, b) => compare(a.ref, b.ref)),
  };
}
