// A throw-away certificate authority made with openssl, for TLS tests: a CA certificate
// and leaf certificates it signs (a server certificate for 127.0.0.1/localhost, or a
// signing certificate for a token server).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, runOk } from './tools.ts';
import { request as httpsRequest } from 'node:https';

export interface IssuedCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM. */
  readonly cert: string;
  readonly key: string;
}

export interface TestCa {
  readonly dir: string;
  readonly certPath: string;
  /** The CA certificate, PEM. */
  readonly cert: string;
  /** Issues an EC P-256 certificate; `server` ones carry SANs 127.0.0.1/localhost and serverAuth. */
  issue(name: string, options?: { server?: boolean }): Promise<IssuedCertificate>;
  dispose(): Promise<void>;
}

export async function createTestCa(): Promise<TestCa> {
  const openssl = requireTool('openssl');
  const dir = await mkdtemp(join(tmpdir(), 'custody-ca-'));
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  await runOk(openssl, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=Custody Test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  let serial = 1;
  return {
    dir,
    certPath,
    cert: await readFile(certPath, 'utf8'),
    async issue(name, options = {}) {
      const leafKey = join(dir, `${name}.key`);
      const leafCsr = join(dir, `${name}.csr`);
      const leafCert = join(dir, `${name}.crt`);
      const extensions = join(dir, `${name}.ext`);
      await runOk(openssl, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', leafKey, '-out', leafCsr, '-subj', `/CN=${name}`]);
      await writeFile(
        extensions,
        [
          'basicConstraints=critical,CA:FALSE',
          options.server ? 'keyUsage=critical,digitalSignature,keyEncipherment' : 'keyUsage=critical,digitalSignature',
          ...(options.server ? ['extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost'] : []),
          '',
        ].join('\n'),
      );
      await runOk(openssl, ['x509', '-req', '-in', leafCsr, '-CA', certPath, '-CAkey', keyPath, '-set_serial', String(++serial), '-days', '2', '-sha256', '-extfile', extensions, '-out', leafCert]);
      return { certPath: leafCert, keyPath: leafKey, cert: await readFile(leafCert, 'utf8'), key: await readFile(leafKey, 'utf8') };
    },
    async dispose() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The status of a GET over HTTPS trusting only `ca`: a readiness probe for TLS registries. */
export function httpsStatus(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
