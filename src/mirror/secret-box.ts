// Seals mirror credentials at rest: AES-256-GCM from node:crypto (no home-made crypto) with
// a 32-byte key kept in the data directory, mode 0600, created on first use. A sealed value
// is `v1.<iv>.<tag>.<ciphertext>` (base64url); the repository name is the associated data,
// so a sealed secret copied onto another mirror's row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const KEY_BYTES = 32;

export class SecretBox {
  private readonly key: Buffer;

  private constructor(key: Buffer) {
    this.key = key;
  }

  /** The box of `keyFile`, creating the key (exclusively, mode 0600) when it does not exist. */
  static async open(keyFile: string): Promise<SecretBox> {
    await mkdir(dirname(keyFile), { recursive: true });
    try {
      const handle = await open(keyFile, 'wx', 0o600);
      try {
        const key = randomBytes(KEY_BYTES);
        await handle.writeFile(key);
        await handle.sync();
        return new SecretBox(key);
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const key = await readFile(keyFile);
    if (key.length !== KEY_BYTES) throw new Error(`${keyFile}: a mirror secret key must be ${KEY_BYTES} bytes`);
    await chmod(keyFile, 0o600);
    return new SecretBox(key);
  }

  /** A box over a given key (tests, or a key from elsewhere). */
  static fromKey(key: Buffer): SecretBox {
    if (key.length !== KEY_BYTES) throw new Error(`a mirror secret key must be ${KEY_BYTES} bytes`);
    return new SecretBox(Buffer.from(key));
  }

  seal(secret: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  /** Throws when the value was not sealed by this key for this context. */
  open(sealed: string, context: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) throw new Error('not a sealed mirror secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  }
}
