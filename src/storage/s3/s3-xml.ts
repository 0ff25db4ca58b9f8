// The few S3 XML documents the driver reads and writes. S3's answers are machine-written
// with a fixed shape, and the keys in them are the driver's own (digests, upload ids), so
// element extraction is enough; entities are decoded, and anything unexpected is an error.

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface ObjectListing {
  readonly objects: ListedObject[];
  /** Continuation token for the next page, when the listing is truncated. */
  readonly next?: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? whole;
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** The text of the first `<tag>` element, decoded, or undefined. */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  return match ? decode(match[1]!) : undefined;
}

/** The inner XML of every `<tag>` element. */
export function xmlBlocks(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => match[1]!);
}

export function parseS3Error(status: number, body: string): { code: string; message: string } {
  const code = xmlText(body, 'Code');
  if (code) return { code, message: xmlText(body, 'Message') ?? '' };
  // HEAD answers and some proxies carry no XML.
  return { code: status === 404 ? 'NotFound' : `HTTP${status}`, message: body.slice(0, 200) };
}

export function parseListing(xml: string): ObjectListing {
  const objects = xmlBlocks(xml, 'Contents').map((block) => {
    const key = xmlText(block, 'Key');
    const size = Number(xmlText(block, 'Size'));
    const lastModified = new Date(xmlText(block, 'LastModified') ?? '');
    if (key === undefined || !Number.isSafeInteger(size) || Number.isNaN(lastModified.getTime())) throw new Error('malformed ListObjectsV2 answer');
    return { key, size, lastModified };
  });
  const truncated = xmlText(xml, 'IsTruncated') === 'true';
  const next = xmlText(xml, 'NextContinuationToken');
  if (truncated && !next) throw new Error('truncated ListObjectsV2 answer without a continuation token');
  return truncated ? { objects, next: next! } : { objects };
}

export function completeMultipartXml(parts: ReadonlyArray<{ readonly number: number; readonly etag: string }>): string {
  const body = parts.map((part) => `<Part><PartNumber>${part.number}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CompleteMultipartUpload>`;
}

export function deleteObjectsXml(keys: readonly string[]): string {
  const body = keys.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>${body}</Delete>`;
}

/** The per-key failures of a DeleteObjects answer (quiet mode lists only those). */
export function parseDeleteErrors(xml: string): Array<{ key: string; code: string; message: string }> {
  return xmlBlocks(xml, 'Error').map((block) => ({ key: xmlText(block, 'Key') ?? '', code: xmlText(block, 'Code') ?? 'Unknown', message: xmlText(block, 'Message') ?? '' }));
}
