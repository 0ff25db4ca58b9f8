// containers-policy.json(5) in Custody: strict parsing (every requirement and identity
// form, unknown fields and bad JSON named by path), scope precedence, signedIdentity
// matching (containers/image's policy_reference_match tables), evaluation with fixture
// signatures, and enforcement by `custody copy`, `pull` and `inspect --verify` against a
// real Custody registry, with signatures made by skopeo and by Custody.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseReference } from '../src/client/reference.ts';
import { parsePolicy, PolicyFormatError, loadPolicy, BUILT_IN_POLICY, type SignedIdentity } from '../src/trust/policy/policy-file.ts';
import { identityMatches, matchesPrefix, remapReference } from '../src/trust/policy/identity.ts';
import { dockerScopes, pathScopes } from '../src/trust/policy/scopes.ts';
import { evaluatePolicy, requirementsFor, UntrustedKeyError, type PolicyImage, type SignatureVerifiers } from '../src/trust/policy/evaluate.ts';
import { realVerifiers } from '../src/trust/policy/verifiers.ts';
import { createSigstoreSignature } from '../src/trust/sigstore/sign.ts';
import { COSIGN_PRIVATE_KEY_PEM, generateKeyPair } from '../src/trust/sigstore/keys.ts';
import type { GpgSignature, SigstoreSignature, VerifiedSignature } from '../src/core/signatures.ts';
import { digestOf } from '../src/core/digest.ts';
import { startCustody, runCustody, type CustodyServer } from './support/custody-server.ts';
import { requireTool, run } from './support/tools.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';
import { gpgHome } from './support/gpg.ts';
import { serializePayload } from '../src/trust/sigstore/payload.ts';
import { createSigstore, legacyKeylessAnnotations } from './support/sigstore-fixtures.ts';

const newDir = tempDirs('custody-policy-');

function parseError(text: string): string {
  try {
    parsePolicy(text, 'policy.json');
  } catch (error) {
    assert.ok(error instanceof PolicyFormatError, String(error));
    return error.message;
  }
  assert.fail(`parsed: ${text}`);
}

const ACCEPT = '[{"type":"insecureAcceptAnything"}]';

describe('policy.json parsing', () => {
  it('reads every requirement type and signedIdentity form', () => {
    const key = Buffer.from('key bytes').toString('base64');
    const policy = parsePolicy(
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            '': [{ type: 'insecureAcceptAnything' }],
            'registry.example/gpg': [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/k.gpg' }],
            'registry.example/gpgs': [{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: ['/a.gpg', '/b.gpg'], signedIdentity: { type: 'matchExact' } }],
            'registry.example/gpgdata': [{ type: 'signedBy', keyType: 'GPGKeys', keyData: key, signedIdentity: { type: 'matchRepository' } }],
            'registry.example/exact': [{ type: 'sigstoreSigned', keyPath: '/k.pub', signedIdentity: { type: 'exactReference', dockerReference: 'registry.example/app:1' } }],
            'registry.example/repo': [{ type: 'sigstoreSigned', keyData: key, signedIdentity: { type: 'exactRepository', dockerRepository: 'registry.example/app' } }],
            'registry.example/remap': [{ type: 'sigstoreSigned', keyPaths: ['/a.pub'], signedIdentity: { type: 'remapIdentity', prefix: 'mirror.example', signedPrefix: 'registry.example/vendor' } }],
            'registry.example/mrdoe': [{ type: 'sigstoreSigned', keyDatas: [key], signedIdentity: { type: 'matchRepoDigestOrExact' } }],
            'registry.example/fulcio': [
              {
                type: 'sigstoreSigned',
                fulcio: { caPath: '/ca.pem', oidcIssuer: 'https://issuer.example', subjectEmail: 'me@example.com' },
                rekorPublicKeyPath: '/rekor.pub',
              },
            ],
            '*.example.com': [{ type: 'reject' }],
          },
          dir: { '/srv/images': [{ type: 'reject' }] },
          oci: { '/srv/layouts:tag': [{ type: 'reject' }] },
          'docker-archive': { '': [{ type: 'reject' }] },
          'containers-storage': { anything: [{ type: 'reject' }] },
        },
      }),
    );
    assert.deepEqual(policy.default, [{ type: 'reject' }]);
    const docker = policy.transports.get('docker')!;
    const gpg = docker.get('registry.example/gpg')![0]!;
    assert.equal(gpg.type, 'signedBy');
    assert.deepEqual(gpg.type === 'signedBy' && gpg.keys.paths, ['/k.gpg']);
    assert.deepEqual(gpg.type === 'signedBy' && gpg.signedIdentity, { type: 'matchRepoDigestOrExact' }, 'the default signedIdentity');
    const data = docker.get('registry.example/gpgdata')![0]!;
    assert.equal(data.type === 'signedBy' && data.keys.data[0]!.toString(), 'key bytes');
    const identities = ['gpgs', 'gpgdata', 'exact', 'repo', 'remap', 'mrdoe'].map((scope) => {
      const requirement = docker.get(`registry.example/${scope}`)![0]!;
      return 'signedIdentity' in requirement ? requirement.signedIdentity.type : undefined;
    });
    assert.deepEqual(identities, ['matchExact', 'matchRepository', 'exactReference', 'exactRepository', 'remapIdentity', 'matchRepoDigestOrExact']);
    const fulcio = docker.get('registry.example/fulcio')![0]!;
    assert.equal(fulcio.type === 'sigstoreSigned' && fulcio.fulcio?.subjectEmail, 'me@example.com');
    assert.deepEqual(fulcio.type === 'sigstoreSigned' && fulcio.rekorPublicKeys?.paths, ['/rekor.pub']);
  });

  it('refuses unknown fields, wrong types and missing or conflicting fields, naming the JSON path', () => {
    const cases: [unknown, RegExp][] = [
      [{ default: JSON.parse(ACCEPT), extra: 1 }, /policy\.json: \.extra: unknown field "extra"/],
      [{ transports: {} }, /\(top level\): missing field "default"/],
      [{ default: [] }, /\.default: the list of requirements must not be empty/],
      [{ default: [{ type: 'insecureAcceptAnything', keyPath: '/x' }] }, /\.default\[0\]\.keyPath: unknown field "keyPath"/],
      [{ default: [{ type: 'acceptEverything' }] }, /\.default\[0\]\.type: unknown requirement type "acceptEverything"/],
      [{ default: [{}] }, /\.default\[0\]: missing field "type"/],
      [{ default: [{ type: 'signedBy', keyPath: '/k' }] }, /\.default\[0\]: missing field "keyType"/],
      [{ default: [{ type: 'signedBy', keyType: 'PGP', keyPath: '/k' }] }, /\.default\[0\]\.keyType: unknown key type "PGP"/],
      [{ default: [{ type: 'signedBy', keyType: 'GPGKeys' }] }, /one of "keyPath", "keyPaths" and "keyData" must be given/],
      [{ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: '/a', keyData: 'AAAA' }] }, /"keyPath" and "keyData" are exclusive/],
      [{ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: [] }] }, /\.default\[0\]\.keyPaths: must not be empty/],
      [{ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyData: 'not base64!' }] }, /\.default\[0\]\.keyData: expected base64 data/],
      [{ default: [{ type: 'sigstoreSigned' }] }, /exactly one of "keyPath", "keyPaths", "keyData", "keyDatas", "fulcio" and "pki"/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', keyPth: '/k' }] }, /\.default\[0\]\.keyPth: unknown field "keyPth"/],
      [{ default: [{ type: 'sigstoreSigned', fulcio: { caPath: '/ca', oidcIssuer: 'i', subjectEmail: 'e' } }] }, /with "fulcio", one of "rekorPublicKeyPath"/],
      [{ default: [{ type: 'sigstoreSigned', fulcio: { oidcIssuer: 'i', subjectEmail: 'e' }, rekorPublicKeyPath: '/r' }] }, /\.default\[0\]\.fulcio: exactly one of "caPath" and "caData"/],
      [{ default: [{ type: 'sigstoreSigned', fulcio: { caPath: '/ca', oidcIssuer: 'i', subjectEmail: 'e', extra: 1 } , rekorPublicKeyPath: '/r' }] }, /\.default\[0\]\.fulcio\.extra: unknown field/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'matchEverything' } }] }, /\.default\[0\]\.signedIdentity\.type: unknown signedIdentity type "matchEverything"/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'matchExact', dockerReference: 'x:1' } }] }, /\.signedIdentity\.dockerReference: unknown field/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'exactReference' } }] }, /\.signedIdentity: missing field "dockerReference"/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'exactReference', dockerReference: 'example.com/app' } }] }, /has neither a tag nor a digest/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'exactRepository', dockerRepository: 'UPPER/Case' } }] }, /\.signedIdentity\.dockerRepository: invalid image reference/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'remapIdentity', prefix: 'busybox:latest', signedPrefix: 'x.example' } }] }, /\.signedIdentity\.prefix: "busybox:latest" is neither a host/],
      [{ default: [{ type: 'sigstoreSigned', keyPath: '/k', signedIdentity: { type: 'remapIdentity', prefix: 'x.example', signedPrefix: 'library/busybox' } }] }, /\.signedIdentity\.signedPrefix:/],
      [{ default: JSON.parse(ACCEPT), transports: { docker: { 'quay.io': [{ type: 'reject', why: 1 }] } } }, /\.transports\.docker\["quay\.io"\]\[0\]\.why: unknown field "why"/],
      [{ default: JSON.parse(ACCEPT), transports: { docker: { 'quay.*.io': JSON.parse(ACCEPT) } } }, /\.transports\.docker\["quay\.\*\.io"\]: invalid scope "quay\.\*\.io": a wildcard scope/],
      [{ default: JSON.parse(ACCEPT), transports: { dir: { relative: JSON.parse(ACCEPT) } } }, /\.transports\.dir\.relative: invalid scope "relative": must be an absolute path/],
      [{ default: JSON.parse(ACCEPT), transports: { dir: { '/': JSON.parse(ACCEPT) } } }, /use the transport's default scope ""/],
      [{ default: JSON.parse(ACCEPT), transports: { oci: { '/a/../b': JSON.parse(ACCEPT) } } }, /not in canonical form; perhaps "\/b"/],
      [{ default: JSON.parse(ACCEPT), transports: { 'docker-archive': { '/x.tar': JSON.parse(ACCEPT) } } }, /docker-archive: does not support any scopes except the default ""/],
      [{ default: JSON.parse(ACCEPT), transports: { docker: [] } }, /\.transports\.docker: expected an object, got an array/],
      [{ default: JSON.parse(ACCEPT), transports: { docker: { x: { type: 'reject' } } } }, /\.transports\.docker\.x: expected an array of requirements/],
    ];
    for (const [policy, expected] of cases) assert.match(parseError(JSON.stringify(policy)), expected, JSON.stringify(policy));
  });

  it('reports bad JSON with line and column, and duplicate keys with their path', () => {
    assert.match(parseError('{\n  "default": [\n    {"type": "reject",}\n  ]\n}'), /policy\.json: invalid JSON at line 3, column 23: unexpected "}", expected a key/);
    assert.match(parseError('{"default": [{"type": "reject"}]'), /invalid JSON at line 1, column 33: unexpected end of input/);
    assert.match(parseError('{"default": [{"type": "reject"}]} x'), /after the JSON value/);
    assert.match(parseError('{"default": [{"type": "reject", "type": "insecureAcceptAnything"}]}'), /\.default\[0\]: duplicate key "type"/);
    assert.match(parseError('{"default": [{"type": "reject"}], "default": []}'), /\(top level\): duplicate key "default"/);
    assert.match(parseError('{"default": [{"type": "reject"}], "transports": {"docker": {"a": [], "a": []}}}'), /\.transports\.docker: duplicate key "a"/);
  });

  it('finds the file as skopeo does, and accepts anything when there is none', async () => {
    const home = newDir();
    assert.equal(loadPolicy({ env: { HOME: home } }).path === undefined || loadPolicy({ env: { HOME: home } }).path === '/etc/containers/policy.json', true);
    await mkdir(join(home, '.config/containers'), { recursive: true });
    await writeFile(join(home, '.config/containers/policy.json'), '{"default":[{"type":"reject"}]}');
    const loaded = loadPolicy({ env: { HOME: home } });
    assert.equal(loaded.path, join(home, '.config/containers/policy.json'));
    assert.deepEqual(loaded.policy.default, [{ type: 'reject' }]);
    assert.throws(() => loadPolicy({ path: join(home, 'missing.json') }), /reading the policy .*missing\.json: no such file/);
    assert.deepEqual(BUILT_IN_POLICY.default, [{ type: 'insecureAcceptAnything' }]);
  });
});

describe('scope precedence', () => {
  const policy = parsePolicy(
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          '': ACCEPT_JSON(),
          'example.com:5000/ns/app:1': ACCEPT_JSON(),
          'example.com:5000/ns/app': ACCEPT_JSON(),
          'example.com:5000/ns': ACCEPT_JSON(),
          'example.com:5000': ACCEPT_JSON(),
          'example.com/ns/app@sha256:1111111111111111111111111111111111111111111111111111111111111111': ACCEPT_JSON(),
          'docker.io/library': ACCEPT_JSON(),
          '*.sub.example.org': ACCEPT_JSON(),
          '*.example.org': ACCEPT_JSON(),
          '*.org': ACCEPT_JSON(),
        },
        dir: { '/srv/images/trusted': ACCEPT_JSON(), '/srv': ACCEPT_JSON() },
        oci: { '/srv/layouts': ACCEPT_JSON() },
      },
    }),
  );
  function ACCEPT_JSON(): unknown {
    return JSON.parse(ACCEPT);
  }
  const docker = (reference: string): string => requirementsFor(policy, { transport: 'docker', scopes: dockerScopes(parseReference(reference)) }).scopePath;

  it('picks the most specific docker scope: reference, repository, namespaces, host:port, wildcards, transport default, default', () => {
    const table: [string, string][] = [
      ['example.com:5000/ns/app:1', '.transports.docker["example.com:5000/ns/app:1"]'],
      ['example.com:5000/ns/app:2', '.transports.docker["example.com:5000/ns/app"]'],
      ['example.com:5000/ns/other:1', '.transports.docker["example.com:5000/ns"]'],
      ['example.com:5000/ns/deeper/app:1', '.transports.docker["example.com:5000/ns"]'],
      ['example.com:5000/top:1', '.transports.docker["example.com:5000"]'],
      ['example.com/ns/app@sha256:1111111111111111111111111111111111111111111111111111111111111111', '.transports.docker["example.com/ns/app@sha256:1111111111111111111111111111111111111111111111111111111111111111"]'],
      ['example.com/ns/app:1', '.transports.docker[""]'],
      ['busybox', '.transports.docker["docker.io/library"]'],
      ['user/busybox', '.transports.docker[""]'],
      ['a.sub.example.org/app:1', '.transports.docker["*.sub.example.org"]'],
      ['sub.example.org/app:1', '.transports.docker["*.example.org"]'],
      ['registry.example.org:443/app:1', '.transports.docker["*.example.org"]'],
      ['other.org/app:1', '.transports.docker["*.org"]'],
      ['quay.io/app:1', '.transports.docker[""]'],
    ];
    for (const [reference, expected] of table) assert.equal(docker(reference), expected, reference);
  });

  it('lists docker scopes from the reference down to wildcard domains', () => {
    assert.deepEqual(dockerScopes(parseReference('a.b.example.com:5000/ns/app:1')), [
      'a.b.example.com:5000/ns/app:1',
      'a.b.example.com:5000/ns/app',
      'a.b.example.com:5000/ns',
      'a.b.example.com:5000',
      '*.b.example.com',
      '*.example.com',
      '*.com',
    ]);
  });

  it('uses path scopes for dir: and oci:, the transport default, then the global default', () => {
    const pick = (transport: string, path: string): string => requirementsFor(policy, { transport, scopes: pathScopes(path) }).scopePath;
    assert.equal(pick('dir', '/srv/images/trusted/app'), '.transports.dir["/srv/images/trusted"]');
    assert.equal(pick('dir', '/srv/images/other'), '.transports.dir["/srv"]');
    assert.equal(pick('dir', '/home/me/image'), '.default');
    assert.equal(pick('oci', '/srv/layouts'), '.transports.oci["/srv/layouts"]');
    assert.equal(pick('oci-archive', '/srv/layouts/x.tar'), '.default');
    assert.deepEqual(pathScopes('/a/b/../c'), ['/a/c', '/a']);
  });
});

// containers/image signature/policy_reference_match_test.go, with Custody's digests.
const fullRHELRef = 'registry.access.redhat.com/rhel7/rhel:7.2.3';
const untaggedRHELRef = 'registry.access.redhat.com/rhel7/rhel';
const digestSuffix = '@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const digestSuffixOther = '@sha256:1111111111111111111111111111111111111111111111111111111111111111';

const exactMatchTable: [string, string, boolean][] = [
  ['busybox:latest', 'busybox:latest', true],
  [fullRHELRef, fullRHELRef, true],
  ['busybox' + digestSuffix, 'busybox' + digestSuffix, true],
  ['library/busybox:latest', 'busybox:latest', true],
  ['docker.io/library/busybox:latest', 'busybox:latest', true],
  ['library/busybox' + digestSuffix, 'busybox' + digestSuffix, true],
  ['busybox:latest', 'busybox:notlatest', false],
  ['busybox:latest', 'notbusybox:latest', false],
  ['busybox:latest', 'hostname/library/busybox:notlatest', false],
  ['hostname/library/busybox:latest', 'busybox:notlatest', false],
  ['busybox:latest', fullRHELRef, false],
  ['busybox' + digestSuffix, 'notbusybox' + digestSuffix, false],
  ['busybox:latest', 'busybox' + digestSuffix, false],
  ['busybox' + digestSuffix, 'busybox' + digestSuffixOther, false],
  ['busybox', 'busybox:latest', false],
  ['busybox', 'busybox' + digestSuffix, false],
  ['busybox', 'busybox', false],
  ['busybox:latest' + digestSuffix, 'busybox:latest' + digestSuffix, true],
  ['busybox:latest' + digestSuffix, 'busybox:latest' + digestSuffixOther, false],
  ['busybox:latest' + digestSuffix, 'busybox:notlatest' + digestSuffix, false],
  ['busybox:latest' + digestSuffix, 'busybox' + digestSuffix, false],
  ['busybox:latest' + digestSuffix, 'busybox:latest', false],
  ['UPPERCASE_IS_INVALID_IN_DOCKER_REFERENCES', 'busybox:latest', false],
  ['', 'UPPERCASE_IS_INVALID_IN_DOCKER_REFERENCES', false],
  ['INVALID', 'INVALID', false],
];

const repositoryMatchTable: [string, string, boolean][] = [
  ['busybox:latest', 'busybox:latest', true],
  [fullRHELRef, fullRHELRef, true],
  ['busybox' + digestSuffix, 'busybox' + digestSuffix, true],
  ['library/busybox:latest', 'busybox:latest', true],
  ['docker.io/library/busybox:latest', 'busybox:latest', true],
  ['library/busybox' + digestSuffix, 'busybox' + digestSuffix, true],
  ['busybox:latest', 'busybox:notlatest', true],
  [fullRHELRef + 'tagsuffix', fullRHELRef, true],
  ['library/busybox:latest', 'busybox:notlatest', true],
  ['busybox:latest', 'library/busybox:notlatest', true],
  ['docker.io/library/busybox:notlatest', 'busybox:latest', true],
  ['busybox:notlatest', 'docker.io/library/busybox:latest', true],
  ['busybox:latest', 'busybox' + digestSuffix, true],
  ['busybox' + digestSuffix, 'busybox' + digestSuffixOther, true],
  ['busybox', 'busybox:notlatest', true],
  [fullRHELRef, untaggedRHELRef, true],
  ['busybox', 'busybox' + digestSuffix, true],
  ['library/busybox', 'busybox', true],
  ['docker.io/library/busybox', 'busybox', true],
  ['busybox:latest', 'notbusybox:latest', false],
  ['hostname/library/busybox:latest', 'busybox:notlatest', false],
  ['busybox:latest', fullRHELRef, false],
  ['busybox' + digestSuffix, 'notbusybox' + digestSuffix, false],
  ['busybox:latest' + digestSuffix, 'busybox:latest' + digestSuffix, true],
  ['busybox:latest' + digestSuffix, 'busybox:latest' + digestSuffixOther, true],
  ['busybox:latest' + digestSuffix, 'busybox:notlatest' + digestSuffix, true],
  ['busybox:latest' + digestSuffix, 'busybox' + digestSuffix, true],
  ['busybox:latest' + digestSuffix, 'busybox:latest', true],
  ['UPPERCASE_IS_INVALID_IN_DOCKER_REFERENCES', 'busybox:latest', false],
  ['', 'UPPERCASE_IS_INVALID_IN_DOCKER_REFERENCES', false],
  ['INVALID', 'INVALID', false],
];

const repoDigestOrExactAsymmetric: [string, string, boolean][] = [
  ['busybox:latest', 'busybox:notlatest', false],
  [fullRHELRef + 'tagsuffix', fullRHELRef, false],
  ['library/busybox:latest', 'busybox:notlatest', false],
  ['busybox:latest', 'library/busybox:notlatest', false],
  ['docker.io/library/busybox:notlatest', 'busybox:latest', false],
  ['busybox:notlatest', 'docker.io/library/busybox:latest', false],
  ['busybox', 'busybox:latest', false],
  ['busybox:latest', 'busybox', false],
  ['busybox', 'busybox' + digestSuffix, false],
  ['busybox' + digestSuffix, 'busybox', false],
  [fullRHELRef, untaggedRHELRef, false],
  ['busybox', 'busybox', false],
  ['busybox:latest', 'busybox' + digestSuffix, false],
  ['busybox' + digestSuffix, 'busybox:latest', true],
  ['busybox' + digestSuffix, 'busybox' + digestSuffixOther, true],
  ['busybox:latest' + digestSuffix, 'busybox:latest', false],
  ['busybox:latest' + digestSuffix, 'busybox:notlatest', false],
  ['busybox:latest', 'busybox:latest' + digestSuffix, false],
  ['busybox:latest' + digestSuffix, 'busybox:latest' + digestSuffixOther, false],
  ['busybox:latest' + digestSuffix, 'busybox:notlatest' + digestSuffixOther, false],
];

/** The image side, as containers/image's tests parse it (an invalid image reference cannot occur). */
function imageRef(value: string): ReturnType<typeof parseReference> | undefined {
  try {
    return parseReference(value, { defaultTag: false });
  } catch {
    return undefined;
  }
}

function checkImageAndSig(identity: SignedIdentity, image: string, signature: string, expected: boolean): void {
  const intended = imageRef(image);
  if (intended === undefined) return;
  assert.equal(identityMatches(identity, intended, signature), expected, `${identity.type}: image ${image} vs. signature ${signature}`);
}

describe('signedIdentity matching (containers/image policy_reference_match cases)', () => {
  it('matchExact', () => {
    for (const [a, b, result] of exactMatchTable) {
      checkImageAndSig({ type: 'matchExact' }, a, b, result);
      checkImageAndSig({ type: 'matchExact' }, b, a, result);
    }
    assert.equal(identityMatches({ type: 'matchExact' }, undefined, ''), false, 'unidentified images are rejected');
  });

  it('matchRepoDigestOrExact', () => {
    const identity: SignedIdentity = { type: 'matchRepoDigestOrExact' };
    for (const [a, b, result] of exactMatchTable.filter(([, , result]) => result)) {
      checkImageAndSig(identity, a, b, result);
      checkImageAndSig(identity, b, a, result);
    }
    for (const [a, b, result] of repositoryMatchTable.filter(([, , result]) => !result)) {
      checkImageAndSig(identity, a, b, result);
      checkImageAndSig(identity, b, a, result);
    }
    for (const [image, signature, result] of repoDigestOrExactAsymmetric) checkImageAndSig(identity, image, signature, result);
  });

  it('matchRepository', () => {
    for (const [a, b, result] of repositoryMatchTable) {
      checkImageAndSig({ type: 'matchRepository' }, a, b, result);
      checkImageAndSig({ type: 'matchRepository' }, b, a, result);
    }
    assert.equal(identityMatches({ type: 'matchRepository' }, undefined, ''), false);
  });

  it('exactReference and exactRepository (no image reference needed)', () => {
    for (const [a, b, result] of exactMatchTable) {
      assert.equal(identityMatches({ type: 'exactReference', dockerReference: a }, undefined, b), result, `exactReference ${a} vs. ${b}`);
      assert.equal(identityMatches({ type: 'exactReference', dockerReference: b }, undefined, a), result, `exactReference ${b} vs. ${a}`);
    }
    for (const [a, b, result] of repositoryMatchTable) {
      assert.equal(identityMatches({ type: 'exactRepository', dockerRepository: a }, undefined, b), result, `exactRepository ${a} vs. ${b}`);
      assert.equal(identityMatches({ type: 'exactRepository', dockerRepository: b }, undefined, a), result, `exactRepository ${b} vs. ${a}`);
    }
  });

  it('remapIdentity: prefix matching', () => {
    const table: [string, string, boolean][] = [
      ['docker.io/image', 'docker.io', true],
      ['docker.io/image', 'example.com', false],
      ['example.com:5000/image', 'example.com:5000', true],
      ['example.com:50000/image', 'example.com:5000', false],
      ['example.com:5000/image', 'example.com', false],
      ['example.com/foo', 'example.com', true],
      ['example.com/foo/bar', 'example.com', true],
      ['example.com/foo/bar:baz', 'example.com', true],
      ['example.com/foo/bar' + digestSuffix, 'example.com', true],
      ['docker.io/ns/image', 'docker.io/library', false],
      ['example.com/library', 'docker.io/library', false],
      ['docker.io/libraryy/image', 'docker.io/library', false],
      ['docker.io/library/busybox', 'docker.io/library', true],
      ['example.com/ns/image', 'example.com/ns', true],
      ['example.com/ns2/image', 'example.com/ns', false],
      ['example.com/n2/image', 'example.com/ns', false],
      ['example.com:5000/ns/image', 'example.com/ns', false],
      ['example.com/ns/image', 'example.com:5000/ns', false],
      ['docker.io/library/busybox', 'docker.io/library/busybox', true],
      ['example.com/library/busybox', 'docker.io/library/busybox', false],
      ['docker.io/library/busybox2', 'docker.io/library/busybox', false],
      ['example.com/ns/image', 'example.com/ns/image', true],
      ['example.com/ns/imag2', 'example.com/ns/image', false],
      ['example.com/ns/imagee', 'example.com/ns/image', false],
      ['example.com:5000/ns/image', 'example.com/ns/image', false],
      ['example.com/ns/image', 'example.com:5000/ns/image', false],
      ['example.com/ns/image:tag', 'example.com/ns/image', true],
      ['example.com/ns/image' + digestSuffix, 'example.com/ns/image', true],
      ['example.com/ns/image:tag' + digestSuffix, 'example.com/ns/image', true],
    ];
    for (const [reference, prefix, expected] of table) assert.equal(matchesPrefix(parseReference(reference, { defaultTag: false }).name, prefix), expected, `${reference} vs. ${prefix}`);
  });

  it('remapIdentity: rewriting', () => {
    const table: [string, string, string, string | undefined][] = [
      ['mirror.example', 'vendor.example', 'mirror.example/ns/image:tag', 'vendor.example/ns/image:tag'],
      ['mirror.example', 'vendor.example', 'different.com/ns/image:tag', 'different.com/ns/image:tag'],
      ['mirror.example/ns', 'vendor.example/vendor-ns', 'mirror.example/different-ns/image:tag', 'mirror.example/different-ns/image:tag'],
      ['docker.io', 'not-docker-signed.example/ns', 'busybox', 'not-docker-signed.example/ns/library/busybox'],
      ['example.com/mirror', 'example.com/vendor', 'example.com/mirror/image:tag', 'example.com/vendor/image:tag'],
      ['example.com/ns/mirror', 'example.com/ns/vendor', 'example.com/ns/mirror:tag', 'example.com/ns/vendor:tag'],
      ['mirror.example', 'vendor.example', 'prefixmirror.example/ns/image:tag', 'prefixmirror.example/ns/image:tag'],
      ['docker.io', 'not-docker-signed.example', 'busybox', 'not-docker-signed.example/library/busybox'],
      ['docker.io/library', 'not-docker-signed.example/ns', 'busybox', 'not-docker-signed.example/ns/busybox'],
      ['docker.io/library/busybox', 'not-docker-signed.example/ns/notbusybox', 'busybox', 'not-docker-signed.example/ns/notbusybox'],
      ['mirror.example', 'vendor.example', 'mirror.example/image', 'vendor.example/image'],
      ['mirror.example', 'vendor.example', 'mirror.example/image' + digestSuffix, 'vendor.example/image' + digestSuffix],
      ['mirror.example', 'vendor.example', 'mirror.example/image:tag' + digestSuffix, 'vendor.example/image:tag' + digestSuffix],
      ['mirror.example/ns/image', 'vendor.example:5000', 'mirror.example/ns/image:tag', undefined],
      ['mirror.example/ns/image', 'vendor.example:5000', 'mirror.example/ns/image' + digestSuffix, undefined],
      ['mirror.example/ns/image', 'notlocalhost', 'mirror.example/ns/image:tag', undefined],
    ];
    for (const [prefix, signedPrefix, reference, expected] of table) {
      assert.equal(remapReference(parseReference(reference, { defaultTag: false }), prefix, signedPrefix)?.toString(), expected, `${prefix} → ${signedPrefix}: ${reference}`);
    }
  });

  it('remapIdentity: matching', () => {
    const table: [string, string, string, string, boolean][] = [
      ['does-not-match.com', 'does-not-match.rewritten', 'busybox:latest', 'busybox:latest', true],
      ['does-not-match.com', 'does-not-match.rewritten', 'busybox:latest', 'notbusybox:latest', false],
      ['mirror.example', 'public.com', 'mirror.example/busybox:1', 'public.com/busybox:1', true],
      ['mirror.example', 'public.com', 'mirror.example/busybox:1', 'public.com/busybox:not1', false],
      ['mirror.example', 'docker.io/library', 'mirror.example/busybox:latest', 'busybox:latest', true],
      ['mirror.example', 'docker.io/library', 'mirror.example/alpine:latest', 'busybox:latest', false],
      ['docker.io/library', 'original.com', 'copied:latest', 'original.com/copied:latest', true],
      ['docker.io/library', 'original.com', 'copied:latest', 'original.com/ns/copied:latest', false],
      ['busybox', 'example.com/busybox', 'busybox:latest', 'example.com/busybox:latest', false],
      ['docker.io/library/busybox', 'busybox', 'docker.io/library/busybox:latest', 'busybox:latest', false],
      ['UPPERCASE', 'example.com', 'example.com/foo:latest', 'example.com/foo:latest', true],
      ['example.com', 'UPPERCASE', 'example.com/foo:latest', 'UPPERCASE/foo:latest', false],
    ];
    for (const [prefix, signedPrefix, image, signature, expected] of table) checkImageAndSig({ type: 'remapIdentity', prefix, signedPrefix }, image, signature, expected);
    // Without a rewrite it behaves as matchRepoDigestOrExact.
    const identity: SignedIdentity = { type: 'remapIdentity', prefix: 'never-causes-a-rewrite.example', signedPrefix: 'never-causes-a-rewrite.example' };
    for (const [image, signature, result] of repoDigestOrExactAsymmetric) checkImageAndSig(identity, image, signature, result);
    assert.equal(identityMatches({ type: 'remapIdentity', prefix: 'docker.io', signedPrefix: 'docker.io' }, undefined, ''), false);
  });
});

describe('policy evaluation with fixture signatures', () => {
  const keysDir = newDir();
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPath = join(keysDir, 'key.pub');
  const otherPath = join(keysDir, 'other.pub');
  const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}');
  const digest = digestOf(manifest);
  const reference = parseReference('registry.example/ns/app:1');

  before(async () => {
    await writeFile(keyPath, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(otherPath, other.publicKey.export({ type: 'spki', format: 'pem' }));
  });

  function image(sigstore: SigstoreSignature[], gpg: GpgSignature[] = [], overrides: Partial<PolicyImage> = {}): PolicyImage & { fetched: string[] } {
    const fetched: string[] = [];
    return {
      transport: 'docker',
      name: 'docker://registry.example/ns/app:1',
      scopes: dockerScopes(reference),
      dockerReference: reference,
      manifest,
      signatures: {
        sigstore: async () => (fetched.push('sigstore'), sigstore),
        simpleSigning: async () => (fetched.push('gpg'), gpg),
      },
      fetched,
      ...overrides,
    };
  }
  const sign = (identity = 'registry.example/ns/app:1', manifestDigest: string = digest, key = pair.privateKey): SigstoreSignature => createSigstoreSignature(key, { identity, manifestDigest });
  const sigstorePolicy = (extra: Record<string, unknown> = {}, path = keyPath): ReturnType<typeof parsePolicy> =>
    parsePolicy(JSON.stringify({ default: [{ type: 'sigstoreSigned', keyPath: path, ...extra }] }));

  it('insecureAcceptAnything fetches no signature; reject names the image and the requirement', async () => {
    const accepting = image([]);
    const decision = await evaluatePolicy(parsePolicy('{"default":[{"type":"insecureAcceptAnything"}]}'), accepting, realVerifiers);
    assert.equal(decision.allowed, true);
    assert.deepEqual(accepting.fetched, []);
    const rejected = await evaluatePolicy(parsePolicy('{"default":[{"type":"reject"}]}'), image([]), realVerifiers);
    assert.equal(rejected.allowed, false);
    assert.equal(rejected.message, 'Running image docker://registry.example/ns/app:1 is rejected by policy (policy requirement .default[0]: reject)');
  });

  it('sigstoreSigned accepts a signature by the key for this manifest and identity', async () => {
    const decision = await evaluatePolicy(sigstorePolicy(), image([sign('registry.example/other:9'), sign()]), realVerifiers);
    assert.equal(decision.allowed, true, decision.message);
    assert.equal(decision.results[0]!.signatures!.length, 1);
    assert.equal(decision.results[0]!.signatures![0]!.payload.critical.identity['docker-reference'], 'registry.example/ns/app:1');
  });

  it('sigstoreSigned refuses, saying why: no signature, another key, another digest, another identity', async () => {
    const message = async (signatures: SigstoreSignature[], policy = sigstorePolicy()): Promise<string> => {
      const decision = await evaluatePolicy(policy, image(signatures), realVerifiers);
      assert.equal(decision.allowed, false);
      return decision.message!;
    };
    assert.match(await message([]), /^A signature was required, but no sigstore signature exists for docker:\/\/registry\.example\/ns\/app:1 \(policy requirement \.default\[0\]: sigstoreSigned keyPath .*key\.pub\)$/);
    assert.match(await message([sign(undefined, undefined, other.privateKey)]), new RegExp(`^none of the sigstore signatures is signed by a key in ${keyPath} `));
    const otherDigest = digestOf('another manifest');
    assert.match(await message([sign(undefined, otherDigest)]), new RegExp(`Signature for digest ${otherDigest} does not match`));
    assert.match(await message([sign('registry.example/ns/app:2')]), /Signature for identity "registry\.example\/ns\/app:2" is not accepted/);
    assert.match(await message([sign()], sigstorePolicy({}, join(keysDir, 'absent.pub'))), /reading the key .*absent\.pub: no such file/);
    const tampered = { ...sign(), payload: Buffer.from(sign().payload.toString().replace('app:1', 'app:2')) };
    assert.match(await message([tampered]), /none of the sigstore signatures is signed by a key/);
  });

  it('sigstoreSigned with keyPaths or keyData accepts any of the keys; identity forms apply', async () => {
    const keyData = Buffer.from(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string).toString('base64');
    const both = parsePolicy(JSON.stringify({ default: [{ type: 'sigstoreSigned', keyPaths: [otherPath, keyPath] }] }));
    assert.equal((await evaluatePolicy(both, image([sign()]), realVerifiers)).allowed, true);
    const inline = parsePolicy(JSON.stringify({ default: [{ type: 'sigstoreSigned', keyData }] }));
    assert.equal((await evaluatePolicy(inline, image([sign()]), realVerifiers)).allowed, true);
    const repository = sigstorePolicy({ signedIdentity: { type: 'matchRepository' } });
    assert.equal((await evaluatePolicy(repository, image([sign('registry.example/ns/app:other')]), realVerifiers)).allowed, true);
    const remapped = sigstorePolicy({ signedIdentity: { type: 'remapIdentity', prefix: 'registry.example', signedPrefix: 'vendor.example' } });
    assert.equal((await evaluatePolicy(remapped, image([sign('vendor.example/ns/app:1')]), realVerifiers)).allowed, true);
    // An image without a Docker reference (dir:) is accepted only by exactReference/exactRepository.
    const dirImage = { transport: 'dir', name: 'dir:/tmp/x', scopes: [], dockerReference: undefined };
    const plain = await evaluatePolicy(sigstorePolicy(), image([sign()], [], dirImage), realVerifiers);
    assert.match(plain.message!, /Docker reference match attempted on image dir:\/tmp\/x with no known Docker reference identity/);
    const exact = sigstorePolicy({ signedIdentity: { type: 'exactReference', dockerReference: 'registry.example/ns/app:1' } });
    assert.equal((await evaluatePolicy(exact, image([sign()], [], dirImage), realVerifiers)).allowed, true);
  });

  it('sigstoreSigned with fulcio and rekorPublicKeyPath: a keyless signature of the identity, logged by the Rekor key, is accepted offline', async () => {
    const store = await createSigstore();
    const caPath = join(keysDir, 'fulcio-root.pem');
    await writeFile(caPath, store.fulcio.root.toString('pem'));
    const rekorPath = join(keysDir, 'rekor.pub');
    await writeFile(rekorPath, store.rekor.publicKeyPem);
    const keylessSign = async (options: Parameters<typeof legacyKeylessAnnotations>[2] = {}, identity = 'registry.example/ns/app:1'): Promise<SigstoreSignature> => {
      const payload = serializePayload(identity, digest);
      const annotations = await legacyKeylessAnnotations(store, payload, options);
      return { format: 'sigstore', payload, signature: Buffer.from(annotations['dev.cosignproject.cosign/signature']!, 'base64'), annotations };
    };
    const policy = (fulcio: Record<string, unknown> = {}, rekor: Record<string, unknown> = { rekorPublicKeyPath: rekorPath }) =>
      parsePolicy(JSON.stringify({ default: [{ type: 'sigstoreSigned', fulcio: { caPath, oidcIssuer: 'https://accounts.example.com', subjectEmail: 'alice@example.com', ...fulcio }, ...rekor }] }));
    // The CA file holds the root; the intermediate comes from the signature's chain annotation.
    const accepted = await evaluatePolicy(policy(), image([await keylessSign()]), realVerifiers);
    assert.equal(accepted.allowed, true, accepted.message);
    assert.equal(accepted.results[0]!.signatures![0]!.keyId, 'alice@example.com (issuer https://accounts.example.com)');
    const message = async (policyValue: ReturnType<typeof parsePolicy>, signatures: SigstoreSignature[]): Promise<string> => {
      const decision = await evaluatePolicy(policyValue, image(signatures), realVerifiers);
      assert.equal(decision.allowed, false);
      return decision.message!;
    };
    assert.match(await message(policy({ subjectEmail: 'bob@example.com' }), [await keylessSign()]), /certificate identity mismatch: the certificate is for "alice@example\.com", not "bob@example\.com"/);
    assert.match(await message(policy({ oidcIssuer: 'https://other.example' }), [await keylessSign()]), /certificate issuer mismatch/);
    // Another log's key does not vouch for the entry.
    const otherRekor = join(keysDir, 'other-rekor.pub');
    await writeFile(otherRekor, (await createSigstore()).rekor.publicKeyPem);
    assert.match(await message(policy({}, { rekorPublicKeyPath: otherRekor }), [await keylessSign()]), /inclusion promise could not be verified/);
    // Another CA's certificate is refused; so is a certificate expired when the entry was logged.
    const stranger = await createSigstore();
    const strangerPayload = serializePayload('registry.example/ns/app:1', digest);
    const strangerAnnotations = await legacyKeylessAnnotations(stranger, strangerPayload);
    assert.match(await message(policy(), [{ format: 'sigstore', payload: strangerPayload, signature: Buffer.from(strangerAnnotations['dev.cosignproject.cosign/signature']!, 'base64'), annotations: strangerAnnotations }]), /certificate chain|inclusion promise/);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const expired = await store.fulcio.issue({ subject: 'alice@example.com', issuer: 'https://accounts.example.com', notBefore: hourAgo, notAfter: new Date(hourAgo.getTime() + 600_000) });
    assert.match(await message(policy(), [await keylessSign({ certificate: expired })]), /not valid or expired at the specified date/);
    // signedIdentity still applies to the payload.
    assert.match(await message(policy(), [await keylessSign({}, 'registry.example/ns/app:2')]), /Signature for identity "registry\.example\/ns\/app:2" is not accepted/);
    // A key-signed signature with rekorPublicKeyPath must carry a log entry.
    assert.match(await message(sigstorePolicy({ rekorPublicKeyPath: rekorPath }), [sign()]), /expected 1 tlog entries, got 0/);
    // pki stays unimplemented, said clearly.
    const pki = parsePolicy(JSON.stringify({ default: [{ type: 'sigstoreSigned', pki: { caRootsPath: '/ca', subjectEmail: 'a@b' } }] }));
    assert.match(await message(pki, [sign()]), /X\.509 \(pki\) sigstore verification is not supported/);
  });

  it('signedBy: GPG signatures through the injected verifier; every requirement of the scope must pass', async () => {
    const fake: SignatureVerifiers = {
      verifySigstore: realVerifiers.verifySigstore,
      verifySigstoreFulcio: realVerifiers.verifySigstoreFulcio,
      async verifySimpleSigning(message): Promise<VerifiedSignature> {
        const [key, identity, signed] = message.toString().split(' ') as [string, string, string];
        if (key !== 'trusted') throw new UntrustedKeyError(`signature by ${key}, which is not in the keyring`);
        return {
          format: 'simple-signing',
          keyId: 'ABCDEF',
          payload: { critical: { identity: { 'docker-reference': identity }, image: { 'docker-manifest-digest': signed }, type: 'atomic container signature' } },
        };
      },
    };
    const gpg = (text: string): GpgSignature => ({ format: 'simple-signing', message: Buffer.from(text) });
    const policy = parsePolicy(JSON.stringify({ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: keyPath }, { type: 'sigstoreSigned', keyPath }] }));
    const good = gpg(`trusted registry.example/ns/app:1 ${digest}`);
    assert.equal((await evaluatePolicy(policy, image([sign()], [good]), fake)).allowed, true);
    const onlyGpg = await evaluatePolicy(policy, image([], [good]), fake);
    assert.equal(onlyGpg.allowed, false);
    assert.match(onlyGpg.message!, /no sigstore signature exists .*\.default\[1\]: sigstoreSigned/);
    const untrusted = await evaluatePolicy(policy, image([sign()], [gpg(`stranger registry.example/ns/app:1 ${digest}`)]), fake);
    assert.match(untrusted.message!, /^none of the simple signing signatures is signed by a key in .*key\.pub \(policy requirement \.default\[0\]: signedBy GPGKeys/);
    const x509 = parsePolicy(JSON.stringify({ default: [{ type: 'signedBy', keyType: 'X509Certificates', keyPath }] }));
    assert.match((await evaluatePolicy(x509, image([]), fake)).message!, /Unimplemented "keyType" value "X509Certificates"/);
  });
});

describe('enforcement by custody copy, pull and inspect --verify', { timeout: 300_000 }, () => {
  const skopeoBin = requireTool('skopeo');
  let server: CustodyServer;
  const dir = newDir();
  const policies = join(dir, 'policies');
  const password = 'key-password';
  let publicKey: string;
  let privateKey: string;
  let otherPublicKey: string;
  let passwordFile: string;
  let registriesD: string;

  const writePolicy = async (name: string, policy: unknown): Promise<string> => {
    const path = join(policies, `${name}.json`);
    await writeFile(path, JSON.stringify(policy));
    return path;
  };
  const image = (name: string): string => `docker://${server.host}/${name}`;
  const custody = (args: string[]): ReturnType<typeof runCustody> => runCustody(args, { env: { HOME: dir } });

  before(async () => {
    server = await startCustody();
    await mkdir(policies, { recursive: true });
    const pair = await generateKeyPair(Buffer.from(password), { label: COSIGN_PRIVATE_KEY_PEM });
    const otherPair = await generateKeyPair(Buffer.from(password));
    privateKey = join(dir, 'cosign.key');
    publicKey = join(dir, 'cosign.pub');
    otherPublicKey = join(dir, 'other.pub');
    passwordFile = join(dir, 'password');
    await writeFile(privateKey, pair.privateKeyPem);
    await writeFile(publicKey, pair.publicKeyPem);
    await writeFile(otherPublicKey, otherPair.publicKeyPem);
    await writeFile(passwordFile, `${password}\n`);
    registriesD = join(dir, 'registries.d');
    await mkdir(registriesD);
    await writeFile(join(registriesD, 'default.yaml'), 'default-docker:\n  use-sigstore-attachments: true\n');
    // One unsigned image, and one signed by skopeo with the cosign key.
    const push = async (name: string): Promise<void> => {
      const result = await run(skopeoBin, ['--insecure-policy', 'copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), image(name)], { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr);
    };
    await push('team/unsigned:1');
    // Debian's skopeo 1.9 is built without sigstore signing ("Debian-local change: sigstore
    // disabled"), so the signed image is made by Custody's own signer.
    const signing = await custody([
      'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--insecure-policy',
      '--sign-by-sigstore-private-key', privateKey, '--sign-passphrase-file', passwordFile,
      image('team/unsigned:1'), image('team/signed:1'),
    ]);
    assert.equal(signing.code, 0, signing.stderr);
  });
  after(async () => {
    await server?.dispose();
  });

  const copyTo = async (policy: string | undefined, from: string, extra: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> => {
    const target = join(newDir(), 'image');
    return custody(['copy', '--src-tls-verify=false', ...(policy === undefined ? [] : ['--policy', policy]), ...extra, from, `dir:${target}`]);
  };

  it('reject fails with one line naming the requirement; insecureAcceptAnything passes', async () => {
    const reject = await writePolicy('reject', { default: [{ type: 'insecureAcceptAnything' }], transports: { docker: { [`${server.host}/team`]: [{ type: 'reject' }] } } });
    const refused = await copyTo(reject, image('team/unsigned:1'));
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `custody copy: Source image rejected: Running image ${image('team/unsigned:1')} is rejected by policy (policy requirement .transports.docker["${server.host}/team"][0]: reject)\n`,
    );
    const accept = await writePolicy('accept', { default: [{ type: 'insecureAcceptAnything' }] });
    const copied = await copyTo(accept, image('team/unsigned:1'));
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal((await copyTo(reject, image('team/unsigned:1'), ['--insecure-policy'])).code, 2, '--policy with --insecure-policy is a usage error');
    const insecure = await copyTo(undefined, image('team/unsigned:1'), ['--insecure-policy']);
    assert.equal(insecure.code, 0, insecure.stderr);
    const pulled = await custody(['pull', '--tls-verify=false', '--storage', newDir(), '--policy', reject, `${server.host}/team/unsigned:1`]);
    assert.equal(pulled.code, 1);
    assert.match(pulled.stderr, /^custody pull: Source image rejected: Running image .* is rejected by policy \(policy requirement .*: reject\)\n$/);
  });

  it('a malformed policy is a usage error naming the path', async () => {
    const bad = await writePolicy('bad', { default: [{ type: 'sigstoreSigned', keyPth: publicKey }] });
    const result = await copyTo(bad, image('team/unsigned:1'));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^custody copy: invalid policy in .*bad\.json: \.default\[0\]\.keyPth: unknown field "keyPth" \(known: .*\)\n$/);
  });

  it('sigstoreSigned passes only for images signed with the key', async () => {
    const signedBy = await writePolicy('sigstore', { default: [{ type: 'sigstoreSigned', keyPath: publicKey }] });
    const signed = await copyTo(signedBy, image('team/signed:1'));
    assert.equal(signed.code, 0, signed.stderr);
    const unsigned = await copyTo(signedBy, image('team/unsigned:1'));
    assert.equal(unsigned.code, 1);
    assert.match(unsigned.stderr, /^custody copy: Source image rejected: A signature was required, but no sigstore signature exists for .* \(policy requirement \.default\[0\]: sigstoreSigned keyPath .*cosign\.pub\)\n$/);
    const otherKey = await writePolicy('other-key', { default: [{ type: 'sigstoreSigned', keyPath: otherPublicKey }] });
    const wrong = await copyTo(otherKey, image('team/signed:1'));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, new RegExp(`Source image rejected: none of the sigstore signatures is signed by a key in ${otherPublicKey} `));
    const verify = await custody(['inspect', '--verify', '--tls-verify=false', '--policy', signedBy, image('team/signed:1')]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /Requirement: {3}\.default\[0\]: sigstoreSigned keyPath .*cosign\.pub: accepted\n {2}signed by sha256:[0-9a-f]{64} for 127\.0\.0\.1:\d+\/team\/signed:1/);
    assert.match(verify.stdout, /Verdict: {7}accepted\n$/);
    const rejected = await custody(['inspect', '--verify', '--tls-verify=false', '--format', 'json', '--policy', signedBy, image('team/unsigned:1')]);
    assert.equal(rejected.code, 1);
    assert.equal((JSON.parse(rejected.stdout) as { Allowed: boolean }).Allowed, false);
    assert.match(rejected.stderr, /^custody inspect: Source image rejected: A signature was required/);
  });

  it('signatures travel with the copy (registry to registry, to dir:), --remove-signatures drops them, --format refuses to break them', async () => {
    const signedBy = await writePolicy('sigstore-travel', { default: [{ type: 'sigstoreSigned', keyPath: publicKey, signedIdentity: { type: 'matchRepository' } }] });
    const copied = await custody(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--policy', signedBy, image('team/signed:1'), image('team/copied:1')]);
    assert.equal(copied.code, 0, copied.stderr);
    // The copied signatures still name the original repository: another repository needs exactRepository.
    const original = await writePolicy('original-repo', { default: [{ type: 'sigstoreSigned', keyPath: publicKey, signedIdentity: { type: 'exactRepository', dockerRepository: `${server.host}/team/signed` } }] });
    const elsewhere = await custody(['inspect', '--verify', '--tls-verify=false', '--policy', signedBy, image('team/copied:1')]);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /Signature for identity "127\.0\.0\.1:\d+\/team\/signed:1" is not accepted/);
    const onCopy = await custody(['inspect', '--verify', '--tls-verify=false', '--policy', original, image('team/copied:1')]);
    assert.equal(onCopy.code, 0, onCopy.stderr + onCopy.stdout);
    const target = join(newDir(), 'image');
    const toDir = await custody(['copy', '--src-tls-verify=false', '--policy', signedBy, image('team/signed:1'), `dir:${target}`]);
    assert.equal(toDir.code, 0, toDir.stderr);
    assert.ok((await readdir(target)).includes('signature-1'));
    const fromDir = await custody(['inspect', '--verify', '--policy', original, `dir:${target}`]);
    assert.equal(fromDir.code, 0, fromDir.stderr + fromDir.stdout);
    const removed = await custody(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--remove-signatures', '--policy', signedBy, image('team/signed:1'), image('team/stripped:1')]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await custody(['inspect', '--verify', '--tls-verify=false', '--policy', original, image('team/stripped:1')])).code, 1);
    const converted = await custody(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--format', 'v2s2', '--policy', signedBy, image('team/signed:1'), image('team/converted:1')]);
    assert.equal(converted.code, 1);
    assert.match(converted.stderr, /has signatures, and converting its manifest .* would invalidate them; copy with --remove-signatures/);
  });

  it('custody copy --sign-by-sigstore-private-key signs where skopeo looks (the .sig tag); a wrong passphrase fails first', async () => {
    const signedBy = await writePolicy('sigstore-own', { default: [{ type: 'sigstoreSigned', keyPath: publicKey }] });
    const signing = await custody([
      'copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--insecure-policy',
      '--sign-by-sigstore-private-key', privateKey, '--sign-passphrase-file', passwordFile,
      image('team/unsigned:1'), image('team/custody-signed:1'),
    ]);
    assert.equal(signing.code, 0, signing.stderr);
    const ours = await copyTo(signedBy, image('team/custody-signed:1'));
    assert.equal(ours.code, 0, ours.stderr);
    // Debian's skopeo cannot verify sigstore signatures (built without sigstore), but it
    // reads the attachment Custody wrote under cosign's tag, with the payload layer.
    const digest = (JSON.parse((await run(skopeoBin, ['inspect', '--tls-verify=false', image('team/custody-signed:1')])).stdout) as { Digest: string }).Digest;
    const attachment = await run(skopeoBin, ['inspect', '--tls-verify=false', '--raw', image(`team/custody-signed:${digest.replace(':', '-')}.sig`)]);
    assert.equal(attachment.code, 0, attachment.stderr);
    assert.match(attachment.stdout, /application\/vnd\.dev\.cosign\.simplesigning\.v1\+json/);
    assert.match(attachment.stdout, /dev\.cosignproject\.cosign\/signature/);
    const wrongPassword = join(dir, 'wrong-password');
    await writeFile(wrongPassword, 'nope\n');
    const bad = await custody(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--insecure-policy', '--sign-by-sigstore-private-key', privateKey, '--sign-passphrase-file', wrongPassword, image('team/unsigned:1'), image('team/never:1')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^custody copy: --sign-by-sigstore-private-key .*cosign\.key: /);
  });
  it('GPG: custody copy --sign-by to dir: verifies under signedBy in Custody and in skopeo', async () => {
    const keys = await gpgHome(join(newDir(), 'gnupg'));
    const env = { GNUPGHOME: keys.home };
    const fingerprint = await keys.generate('Policy Test <policy@example.com>', 'ed25519', 'sign', 'never');
    const keyring = join(dir, 'signer.gpg');
    await writeFile(keyring, await keys.exportKeys([fingerprint], true));
    const target = join(newDir(), 'image');
    const signing = await runCustody(['copy', '--insecure-policy', '--sign-by', fingerprint, '--sign-identity', 'example.com/app:1', ociRef(debianLayout(), 'bookworm-minbase'), `dir:${target}`], { env: { HOME: dir, ...env } });
    assert.equal(signing.code, 0, signing.stderr);
    const policy = (reference: string): Promise<string> =>
      writePolicy(`gpg-${reference.replace(/\W/g, '-')}`, { default: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: keyring, signedIdentity: { type: 'exactReference', dockerReference: reference } }] });
    const good = await policy('example.com/app:1');
    const verified = await custody(['inspect', '--verify', '--policy', good, `dir:${target}`]);
    assert.equal(verified.code, 0, verified.stderr + verified.stdout);
    assert.match(verified.stdout, new RegExp(`signed by ${fingerprint} for example\\.com/app:1`));
    const wrong = await custody(['inspect', '--verify', '--policy', await policy('example.com/app:2'), `dir:${target}`]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Signature for identity "example\.com\/app:1" is not accepted/);
    const skopeo = await run(skopeoBin, ['--policy', good, 'copy', `dir:${target}`, `dir:${join(newDir(), 'again')}`], { timeoutMs: 120_000 });
    assert.equal(skopeo.code, 0, skopeo.stderr);
  });
});
