// Reloads the server's TLS certificate and key when their files change, without a
// restart: certificates are renewed (ACME, cert-manager, a cron job) far more often than
// registries should be restarted. New connections get the new pair; connections already
// open keep theirs.
//
// The directories holding the files are watched, not the files: renewals usually write a
// new file and rename it over the old one (or swap a Kubernetes `..data` symlink), which
// a watch on the old file's inode would never see. A slow stat poll backs the watch up
// where it is unsupported (some network filesystems) or misses an event. Changes are
// debounced, because the certificate and the key are written one after the other; a pair
// that does not parse or does not match (a half-finished renewal) is logged and the
// current one kept, so a mistake never takes HTTPS down.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from '../observability/logger.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What the reloader changes: a tls.Server or an http2 secure server. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export interface TlsReloaderOptions extends TlsFiles {
  readonly server: SecureContextTarget;
  readonly logger: Logger;
  /** Settings every context carries besides cert and key (minVersion). */
  readonly contextOptions?: SecureContextOptions;
  /** Quiet time after the last change before reloading; default 250 ms. */
  readonly debounceMs?: number;
  /** The stat poll's interval; default 10 s. */
  readonly pollIntervalMs?: number;
}

export interface TlsReloader {
  /** Reloads now; true when a new pair was installed, false when unchanged or refused. */
  reload(): Promise<boolean>;
  close(): void;
}

export function watchTlsFiles(options: TlsReloaderOptions): TlsReloader {
  const { certFile, keyFile, server, logger } = options;
  const debounceMs = options.debounceMs ?? 250;
  let current: string | undefined; // hash of the pair in use
  let lastStat = '';
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let again = false;
  let closed = false;

  const load = async (): Promise<boolean> => {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    } catch (error) {
      logger.error('TLS reload failed: cannot read the certificate or key; keeping the current one', { certFile, keyFile, error: (error as Error).message });
      return false;
    }
    const hash = createHash('sha256').update(cert).update('\0').update(key).digest('hex');
    if (hash === current) return false;
    const problem = checkPair(cert, key);
    if (problem !== null) {
      logger.error('TLS reload refused; keeping the current certificate', { certFile, keyFile, problem });
      return false;
    }
    try {
      server.setSecureContext({ ...options.contextOptions, cert, key });
    } catch (error) {
      logger.error('TLS reload refused; keeping the current certificate', { certFile, keyFile, problem: (error as Error).message });
      return false;
    }
    const leaf = new X509Certificate(cert);
    if (current !== undefined) logger.info('TLS certificate reloaded', { subject: leaf.subject, validTo: leaf.validTo, fingerprint256: leaf.fingerprint256 });
    current = hash;
    return true;
  };

  // One reload at a time; a change during a reload runs one more afterwards.
  const reload = (): Promise<boolean> => {
    if (running) {
      again = true;
      return running;
    }
    running = load().finally(() => {
      running = undefined;
      if (again && !closed) {
        again = false;
        void reload();
      }
    });
    return running;
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, debounceMs);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  const names = new Set([basename(certFile), basename(keyFile)]);
  for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        // No name (some platforms): anything may have changed.
        if (name === null || names.has(name.toString()) || name.toString().startsWith('..')) schedule();
      });
      watcher.on('error', (error) => logger.warn('TLS file watch failed; polling only', { dir, error: error.message }));
      watchers.push(watcher);
    } catch (error) {
      logger.warn('cannot watch the TLS files; polling only', { dir, error: (error as Error).message });
    }
  }

  const poll = setInterval(() => {
    void Promise.all([stat(certFile), stat(keyFile)]).then(
      ([a, b]) => {
        const signature = `${a.ino}:${a.size}:${a.mtimeMs}|${b.ino}:${b.size}:${b.mtimeMs}`;
        if (lastStat !== '' && signature !== lastStat) schedule();
        lastStat = signature;
      },
      () => {},
    );
  }, options.pollIntervalMs ?? 10_000);
  poll.unref();

  // The pair the server started with is the current one.
  void reload();

  return {
    reload,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(poll);
      for (const watcher of watchers) watcher.close();
    },
  };
}

/** Null when the PEM certificate chain and key parse and belong together, else why not. */
export function checkPair(cert: Buffer, key: Buffer): string | null {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    return `the certificate does not parse: ${(error as Error).message}`;
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    return `the key does not parse: ${(error as Error).message}`;
  }
  if (!leaf.checkPrivateKey(privateKey)) return 'the key does not belong to the certificate';
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    return (error as Error).message;
  }
  return null;
}
