// A sigstore of the test's own, offline: a Fulcio-like CA (root and intermediate, issuing
// short-lived code-signing certificates with the OIDC issuer extension and the identity as
// subject alternative name), a Rekor-like transparency log (an RFC 6962 Merkle tree with
// inclusion proofs, a signed checkpoint and signed entry timestamps), and the trusted root
// (sigstore's trusted_root.json) naming them. Certificates come from @peculiar/x509 (over
// WebCrypto), signatures from node:crypto. Also a test CA for notation signatures (JWS
// envelopes signed with `jose`).
import { createHash, createPrivateKey, generateKeyPairSync, sign as cryptoSign, webcrypto, type KeyObject as KeyObjectType } from 'node:crypto';
// @peculiar/x509 resolves its ASN.1 serializers through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const subtle = webcrypto.subtle;
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Fulcio's OIDC issuer extensions: v1 holds the raw string, v2 a DER UTF8String. */
const ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

async function ecKeys(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function der(certificate: x509.X509Certificate): Buffer {
  return Buffer.from(certificate.rawData);
}

function pem(certificate: x509.X509Certificate): string {
  return `${certificate.toString('pem')}\n`;
}

function utf8String(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 127) throw new Error('test issuer too long');
  return Buffer.concat([Buffer.from([0x0c, bytes.length]), bytes]);
}

export interface IssuedCertificate {
  readonly der: Buffer;
  readonly pem: string;
  readonly privateKey: KeyObjectType;
}

export interface CertificateRequest {
  /** An e-mail (email SAN) or a URI (URI SAN, as CI workflow identities are). */
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export class TestFulcio {
  readonly root: x509.X509Certificate;
  readonly intermediate: x509.X509Certificate;
  readonly #intermediateKey: CryptoKey;

  private constructor(root: x509.X509Certificate, intermediate: x509.X509Certificate, intermediateKey: CryptoKey) {
    this.root = root;
    this.intermediate = intermediate;
    this.#intermediateKey = intermediateKey;
  }

  static async create(name = 'test-fulcio'): Promise<TestFulcio> {
    const rootKeys = await ecKeys();
    const notBefore = new Date(Date.now() - 365 * 86_400_000);
    const notAfter = new Date(Date.now() + 365 * 86_400_000);
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${name} root, O=custody tests`,
      keys: rootKeys,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey)],
    });
    const intermediateKeys = await ecKeys();
    const intermediate = await x509.X509CertificateGenerator.create({
      subject: `CN=${name} intermediate, O=custody tests`,
      issuer: root.subject,
      publicKey: intermediateKeys.publicKey,
      signingKey: rootKeys.privateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
      ],
    });
    return new TestFulcio(root, intermediate, intermediateKeys.privateKey);
  }

  /** A Fulcio-style leaf: 10 minutes by default, from now. */
  async issue(request: CertificateRequest): Promise<IssuedCertificate> {
    const keys = await ecKeys();
    const notBefore = request.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = request.notAfter ?? new Date(notBefore.getTime() + 10 * 60_000);
    const san = request.subject.includes('@') && !request.subject.includes('://') ? { type: 'email' as const, value: request.subject } : { type: 'url' as const, value: request.subject };
    const certificate = await x509.X509CertificateGenerator.create({
      subject: '',
      issuer: this.intermediate.subject,
      publicKey: keys.publicKey,
      signingKey: this.#intermediateKey,
      notBefore,
      notAfter,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning]),
        new x509.SubjectAlternativeNameExtension([san], true),
        await x509.AuthorityKeyIdentifierExtension.create(await this.intermediate.publicKey.export()),
        new x509.Extension(ISSUER_V1, false, Buffer.from(request.issuer, 'ascii')),
        new x509.Extension(ISSUER_V2, false, utf8String(request.issuer)),
      ],
    });
    const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
    return { der: der(certificate), pem: pem(certificate), privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
  }

  /** The chain above a leaf, as cosign's chain annotation holds it (intermediate, root). */
  get chainPem(): string {
    return pem(this.intermediate) + pem(this.root);
  }

  trustedRootEntry(): unknown {
    return {
      subject: { organization: 'custody tests', commonName: 'test-fulcio' },
      uri: 'https://fulcio.custody.test',
      certChain: { certificates: [{ rawBytes: der(this.intermediate).toString('base64') }, { rawBytes: der(this.root).toString('base64') }] },
      validFor: { start: new Date(Date.now() - 365 * 86_400_000).toISOString() },
    };
  }
}

// ---- the transparency log -------------------------------------------------------------

const leafHash = (data: Buffer): Buffer => createHash('sha256').update(Buffer.from([0])).update(data).digest();
const nodeHash = (left: Buffer, right: Buffer): Buffer => createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();

/** RFC 6962 Merkle tree hash of leaves[from, to). */
function treeHash(leaves: readonly Buffer[], from: number, to: number): Buffer {
  if (to - from === 1) return leaves[from]!;
  const split = largestPowerOfTwoBelow(to - from);
  return nodeHash(treeHash(leaves, from, from + split), treeHash(leaves, from + split, to));
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 audit path for leaf `index` in leaves[from, to), bottom up. */
function auditPath(leaves: readonly Buffer[], index: number, from: number, to: number): Buffer[] {
  if (to - from <= 1) return [];
  const split = largestPowerOfTwoBelow(to - from);
  if (index < from + split) return [...auditPath(leaves, index, from, from + split), treeHash(leaves, from + split, to)];
  return [...auditPath(leaves, index, from + split, to), treeHash(leaves, from, from + split)];
}

export interface LogEntryJson {
  readonly logIndex: string;
  readonly logId: { readonly keyId: string };
  readonly kindVersion: { readonly kind: string; readonly version: string };
  readonly integratedTime: string;
  readonly inclusionPromise: { readonly signedEntryTimestamp: string };
  readonly inclusionProof: { readonly logIndex: string; readonly rootHash: string; readonly treeSize: string; readonly hashes: string[]; readonly checkpoint: { readonly envelope: string } };
  readonly canonicalizedBody: string;
}

export class TestRekor {
  readonly origin = 'rekor.custody.test';
  readonly baseUrl = `https://${this.origin}`;
  readonly privateKey: KeyObjectType;
  readonly publicKey: KeyObjectType;
  readonly logId: Buffer;
  readonly #leaves: Buffer[] = [];

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
    this.logId = createHash('sha256').update(this.publicKey.export({ type: 'spki', format: 'der' })).digest();
  }

  get publicKeyPem(): string {
    return this.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** Logs `body` (a Rekor entry) at `integratedTime` (s): the entry with its SET and inclusion proof. */
  append(body: object, integratedTime: number): LogEntryJson {
    const canonical = Buffer.from(canonicalJson(body));
    const index = this.#leaves.length;
    this.#leaves.push(leafHash(canonical));
    const size = this.#leaves.length;
    const root = treeHash(this.#leaves, 0, size);
    const note = `${this.origin}\n${size}\n${root.toString('base64')}\n`;
    const noteSignature = cryptoSign('sha256', Buffer.from(note), this.privateKey);
    const checkpoint = `${note}\n\u2014 ${this.origin} ${Buffer.concat([this.logId.subarray(0, 4), noteSignature]).toString('base64')}\n`;
    const promise = canonicalJson({ body: canonical.toString('base64'), integratedTime, logIndex: index, logID: this.logId.toString('hex') });
    const set = cryptoSign('sha256', Buffer.from(promise), this.privateKey);
    return {
      logIndex: String(index),
      logId: { keyId: this.logId.toString('base64') },
      kindVersion: { kind: (body as { kind: string }).kind, version: (body as { apiVersion: string }).apiVersion },
      integratedTime: String(integratedTime),
      inclusionPromise: { signedEntryTimestamp: set.toString('base64') },
      inclusionProof: { logIndex: String(index), rootHash: root.toString('base64'), treeSize: String(size), hashes: auditPath(this.#leaves, index, 0, size).map((hash) => hash.toString('base64')), checkpoint: { envelope: checkpoint } },
      canonicalizedBody: canonical.toString('base64'),
    };
  }

  trustedRootEntry(): unknown {
    return {
      baseUrl: this.baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: this.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: new Date(Date.now() - 365 * 86_400_000).toISOString() } },
      logId: { keyId: this.logId.toString('base64') },
    };
  }
}

/** RFC 8785-style canonical JSON for the values used here (sorted keys, no spaces). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

// ---- a sigstore deployment and what it signs -----------------------------------------

export interface Sigstore {
  readonly fulcio: TestFulcio;
  readonly rekor: TestRekor;
  readonly trustedRoot: string;
}

export async function createSigstore(): Promise<Sigstore> {
  const fulcio = await TestFulcio.create();
  const rekor = new TestRekor();
  const trustedRoot = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [rekor.trustedRootEntry()],
    certificateAuthorities: [fulcio.trustedRootEntry()],
    ctlogs: [],
    timestampAuthorities: [],
  });
  return { fulcio, rekor, trustedRoot };
}

const PAE = (type: string, payload: Buffer): Buffer => Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);

export interface KeylessOptions {
  readonly subject?: string;
  readonly issuer?: string;
  /** When the log records it (s); default now. */
  readonly integratedTime?: number;
  readonly certificate?: IssuedCertificate;
}

/** A keyless v0.3 bundle: a DSSE in-toto statement, the Fulcio certificate, a logged dsse entry. */
export async function keylessDsseBundle(store: Sigstore, statement: object, options: KeylessOptions = {}): Promise<Record<string, unknown>> {
  const certificate = options.certificate ?? (await store.fulcio.issue({ subject: options.subject ?? 'alice@example.com', issuer: options.issuer ?? 'https://accounts.example.com' }));
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  const signature = cryptoSign('sha256', PAE(payloadType, payload), certificate.privateKey);
  const body = {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(JSON.stringify({ payload: payload.toString('base64'), payloadType, signatures: [{ sig: signature.toString('base64') }] })).digest('hex') },
      payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
      signatures: [{ signature: signature.toString('base64'), verifier: Buffer.from(certificate.pem).toString('base64') }],
    },
  };
  const entry = store.rekor.append(body, options.integratedTime ?? Math.floor(Date.now() / 1000));
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { certificate: { rawBytes: certificate.der.toString('base64') }, tlogEntries: [entry], timestampVerificationData: {} },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType, signatures: [{ sig: signature.toString('base64'), keyid: '' }] },
  };
}

/** The annotations of a legacy keyless cosign signature (`.sig` layer) over `payload`. */
export async function legacyKeylessAnnotations(store: Sigstore, payload: Buffer, options: KeylessOptions = {}): Promise<Record<string, string>> {
  const certificate = options.certificate ?? (await store.fulcio.issue({ subject: options.subject ?? 'alice@example.com', issuer: options.issuer ?? 'https://accounts.example.com' }));
  const signature = cryptoSign('sha256', payload, certificate.privateKey);
  const body = {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(certificate.pem).toString('base64') } },
    },
  };
  const integratedTime = options.integratedTime ?? Math.floor(Date.now() / 1000);
  const entry = store.rekor.append(body, integratedTime);
  return {
    'dev.cosignproject.cosign/signature': signature.toString('base64'),
    'dev.sigstore.cosign/certificate': certificate.pem,
    'dev.sigstore.cosign/chain': store.fulcio.chainPem,
    'dev.sigstore.cosign/bundle': JSON.stringify({
      SignedEntryTimestamp: entry.inclusionPromise.signedEntryTimestamp,
      Payload: { body: entry.canonicalizedBody, integratedTime, logIndex: Number(entry.logIndex), logID: store.rekor.logId.toString('hex') },
    }),
  };
}

// ---- notation --------------------------------------------------------------------------

export interface NotationCa {
  readonly root: x509.X509Certificate;
  readonly rootPem: string;
  /** A code-signing leaf issued by the root, with its key. */
  issueSigner(subject: string): Promise<{ readonly chain: Buffer[]; readonly privateKey: KeyObjectType }>;
}

export async function createNotationCa(name: string): Promise<NotationCa> {
  const rootKeys = await ecKeys();
  const notBefore = new Date(Date.now() - 86_400_000);
  const notAfter = new Date(Date.now() + 365 * 86_400_000);
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}, O=custody tests, ST=WA, C=US`,
    keys: rootKeys,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return {
    root,
    rootPem: pem(root),
    async issueSigner(subject) {
      const keys = await ecKeys();
      const leaf = await x509.X509CertificateGenerator.create({
        subject,
        issuer: root.subject,
        publicKey: keys.publicKey,
        signingKey: rootKeys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: SIGNING,
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning])],
      });
      const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
      return { chain: [der(leaf), der(root)], privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
    },
  };
}

/** A notation JWS envelope (notary.x509) over `target`, signed by the leaf of `chain`. */
export async function notationEnvelope(target: { mediaType: string; digest: string; size: number }, signer: { chain: Buffer[]; privateKey: KeyObjectType }, options: { expiry?: Date } = {}): Promise<Buffer> {
  const { FlattenedSign } = await import('jose');
  const payload = Buffer.from(JSON.stringify({ targetArtifact: target }));
  const header: Record<string, unknown> = {
    alg: 'ES256',
    cty: 'application/vnd.cncf.notary.payload.v1+json',
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    crit: ['io.cncf.notary.signingScheme', ...(options.expiry ? ['io.cncf.notary.expiry'] : [])],
    ...(options.expiry ? { 'io.cncf.notary.expiry': options.expiry.toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
  };
  const jws = await new FlattenedSign(payload)
    .setProtectedHeader(header as { alg: string })
    .setUnprotectedHeader({ x5c: signer.chain.map((cert) => cert.toString('base64')), 'io.cncf.notary.signingAgent': 'custody-tests/1.0' })
    .sign(signer.privateKey, { crit: { 'io.cncf.notary.signingScheme': true, 'io.cncf.notary.expiry': true } });
  return Buffer.from(JSON.stringify(jws));
}
