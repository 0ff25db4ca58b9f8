// PEM blocks (RFC 7468) as Go's encoding/pem writes and reads them: 64-column base64,
// "-----BEGIN TYPE-----" / "-----END TYPE-----", text outside blocks ignored.

export interface PemBlock {
  readonly type: string;
  readonly bytes: Buffer;
}

export function encodePem(type: string, bytes: Buffer): string {
  const base64 = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** Every block in the text, in order. Headers (Proc-Type...) are skipped, as Go does. */
export function decodePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (const match of text.matchAll(pattern)) {
    const body = match[2]!.split(/\r?\n/).filter((line) => !line.includes(':')).join('');
    blocks.push({ type: match[1]!, bytes: Buffer.from(body.replace(/\s+/g, ''), 'base64') });
  }
  return blocks;
}
