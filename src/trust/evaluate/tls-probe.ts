// Looks at a registry's TLS the way a careful client would, without trusting it yet:
// one handshake that accepts any certificate (so the certificate can be shown even when
// it is bad), judged against the system's roots and then, if that fails, against the CA
// certificates certs.d has for this registry; the hostname is checked separately, so
// each problem gets its own name (unknown CA, expired, hostname mismatch).
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { checkServerIdentity, connect, getCACertificates, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { ChainProblem, TlsReport } from './report.ts';

export interface TlsProbeOptions {
  readonly host: string;
  readonly port: number;
  /** CA certificates (PEM) from certs.d for this registry, and the directory they came from. */
  readonly certsDirCas?: readonly string[];
  readonly certsDir?: string | null;
  readonly timeoutMs?: number;
}

interface Handshake {
  readonly socket: TLSSocket;
  readonly authorized: boolean;
  readonly errorCode: string | null;
}

const DAY_MS = 86_400_000;

export async function probeTls(options: TlsProbeOptions): Promise<TlsReport> {
  const systemRoots = [...new Set([...getCACertificates('default'), ...getCACertificates('system')])];
  let first: Handshake;
  try {
    first = await handshake(options, systemRoots);
  } catch (error) {
    return { available: false, error: describeConnectError(error), protocol: null, cipher: null, certificate: null, chain: null };
  }
  const socket = first.socket;
  const peer = socket.getPeerCertificate(true);
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher()?.name ?? null;
  socket.destroy();

  let authorized = first.authorized;
  let errorCode = first.errorCode;
  let trustedBy: 'system' | 'certs.d' | null = authorized ? 'system' : null;
  if (!authorized && (options.certsDirCas?.length ?? 0) > 0) {
    try {
      const second = await handshake(options, [...systemRoots, ...options.certsDirCas!]);
      second.socket.destroy();
      if (second.authorized) {
        authorized = true;
        trustedBy = 'certs.d';
        errorCode = null;
      } else {
        errorCode = second.errorCode;
      }
    } catch {
      // The first handshake worked: a second failure is the network's, the first result stands.
    }
  }
  const certificate = peer && peer.raw ? certificateReport(peer) : null;
  let problem: ChainProblem | null = authorized ? null : chainProblem(errorCode);
  // Node checks the name only when it rejects unauthorized peers: check it here, always.
  const mismatch = peer && peer.raw ? checkServerIdentity(options.host, peer) : undefined;
  if (mismatch !== undefined && problem === null) {
    problem = 'hostname mismatch';
    errorCode = (mismatch as NodeJS.ErrnoException).code ?? 'ERR_TLS_CERT_ALTNAME_INVALID';
  }
  return {
    available: true,
    error: null,
    protocol,
    cipher,
    certificate,
    chain: { valid: problem === null, trustedBy: problem === null ? trustedBy : null, certsDir: options.certsDir ?? null, problem, errorCode: problem === null ? null : errorCode },
  };
}

function handshake(options: TlsProbeOptions, ca: readonly string[]): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
      ca: [...ca],
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(options.timeoutMs ?? 10_000, () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      socket.setTimeout(0);
      const error = socket.authorizationError as unknown;
      const code = error === null || error === undefined ? null : typeof error === 'string' ? error : ((error as NodeJS.ErrnoException).code ?? String((error as Error).message));
      resolve({ socket, authorized: socket.authorized, errorCode: code });
    });
    socket.once('error', reject);
  });
}

function certificateReport(peer: PeerCertificate): TlsReport['certificate'] {
  const x509 = new X509Certificate(peer.raw);
  const validTo = new Date(x509.validTo);
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    subjectAltNames: (x509.subjectAltName ?? '').split(/,\s*/).filter((entry) => entry !== ''),
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: validTo.toISOString(),
    daysLeft: Math.floor((validTo.getTime() - Date.now()) / DAY_MS),
    fingerprint256: x509.fingerprint256,
  };
}

/** OpenSSL's verification codes, in words a newcomer can act on. */
function chainProblem(code: string | null): ChainProblem {
  switch (code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return 'unknown CA';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'self-signed certificate';
    case 'CERT_HAS_EXPIRED':
      return 'expired';
    case 'CERT_NOT_YET_VALID':
      return 'not yet valid';
    case 'CERT_REVOKED':
      return 'revoked';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'hostname mismatch';
    default:
      return 'invalid';
  }
}

export function describeConnectError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? String(error);
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ETIMEDOUT') return 'timed out';
  if (code === 'ECONNRESET') return 'the connection was reset during the TLS handshake';
  if (/wrong version number|packet length too long|http request/i.test(message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO') return 'the server does not speak TLS on this port';
  return message.split('\n')[0]!;
}
