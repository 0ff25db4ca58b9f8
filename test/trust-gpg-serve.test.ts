// GPG simple signing end to end through `custody serve`: `custody sign --sign-by` stores
// the signature in the registry's signature extension, skopeo's `signedBy` policy accepts
// the image, and `custody copy` enforces the same policy.json (and refuses another key).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { gpgHome, type GpgHome } from './support/gpg.ts';
import { containersConfig, requireTool, run, runOk, type ContainersConfig } from './support/tools.ts';

describe('GPG signatures through custody serve', () => {
  let server: CustodyServer;
  let work: string;
  let keys: GpgHome;
  let fingerprint: string;
  let config: ContainersConfig;
  let trusted: string;
  let other: string;

  before(async () => {
    requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-gpg-serve-'));
    keys = await gpgHome(join(work, 'gnupg'));
    fingerprint = await keys.generate('Custody Signer <signer@example.com>', 'ed25519', 'sign', 'never');
    const otherFingerprint = await keys.generate('Someone Else <else@example.com>', 'ed25519', 'sign', 'never');
    trusted = join(work, 'trusted.gpg');
    other = join(work, 'other.gpg');
    await writeFile(trusted, await keys.exportKeys([fingerprint]));
    await writeFile(other, await keys.exportKeys([otherFingerprint]));
    config = await containersConfig(join(work, 'containers'));
    server = await startCustody();
    await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), `docker://${server.host}/acme/app:1`], { env: config.env });
  });
  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function policy(name: string, keyPath: string): Promise<string> {
    const file = join(work, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: { [server.host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath }] },
          dir: { '': [{ type: 'insecureAcceptAnything' }] },
          oci: { '': [{ type: 'insecureAcceptAnything' }] },
        },
      }),
    );
    return file;
  }

  it('custody sign --sign-by stores the signature in the registry; skopeo and custody copy verify it with policy.json', async () => {
    const image = `docker://${server.host}/acme/app:1`;
    const trustedPolicy = await policy('trusted', trusted);
    const otherPolicy = await policy('other', other);

    // Unsigned: both refuse.
    const unsigned = await runCustody(['copy', '--quiet', '--policy', trustedPolicy, '--src-tls-verify=false', image, `oci:${join(work, 'unsigned')}:x`], { env: { ...config.env, GNUPGHOME: keys.home } });
    assert.equal(unsigned.code, 1);
    assert.equal(unsigned.stderr.trim().split('\n').length, 1, unsigned.stderr);
    assert.match(unsigned.stderr, /rejected|signature/i);

    const signed = await runCustody(['sign', '--tls-verify=false', image, '--sign-by', fingerprint], { env: { ...config.env, GNUPGHOME: keys.home } });
    assert.equal(signed.code, 0, signed.stderr);

    // The registry holds it in its signature extension.
    const inspected = await runOk('skopeo', ['inspect', '--raw', '--tls-verify=false', image], { env: config.env });
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(inspected.stdout).digest('hex')}`;
    const stored = (await (await fetch(`${server.url}/extensions/v2/acme/app/signatures/${digest}`)).json()) as { signatures: unknown[] };
    assert.equal(stored.signatures.length, 1);

    // skopeo (containers/image, gpgme) accepts it under signedBy.
    await runOk('skopeo', ['--policy', trustedPolicy, 'copy', '-q', '--src-tls-verify=false', image, `dir:${join(work, 'by-skopeo')}`], { env: { ...config.env, GNUPGHOME: keys.home } });
    const refusedBySkopeo = await run('skopeo', ['--policy', otherPolicy, 'copy', '-q', '--src-tls-verify=false', image, `dir:${join(work, 'refused')}`], { env: { ...config.env, GNUPGHOME: keys.home } });
    assert.notEqual(refusedBySkopeo.code, 0);

    // custody verify with the keyring: exit status tells, one line when it fails.
    const verified = await runCustody(['verify', '--tls-verify=false', image, '--key', trusted], { env: config.env });
    assert.equal(verified.code, 0, verified.stderr);
    const notVerified = await runCustody(['verify', '--tls-verify=false', image, '--key', other], { env: config.env });
    assert.equal(notVerified.code, 1);
    assert.equal(notVerified.stderr.trim().split('\n').length, 1, notVerified.stderr);
    assert.match(notVerified.stderr, /signed by another key/);

    // custody evaluate lists it and what the policy decides.
    const evaluated = await runCustody(['evaluate', '--format', 'json', '--tls-verify=false', '--policy', trustedPolicy, image], { env: config.env });
    assert.equal(evaluated.code, 0, evaluated.stderr);
    const report = JSON.parse(evaluated.stdout) as { image: { signed: boolean; signatures: { format: string; keyId: string | null; identity: string | null }[]; policy: { allowed: boolean } | null } };
    assert.equal(report.image.signed, true);
    assert.deepEqual(
      report.image.signatures.map((entry) => [entry.format, entry.keyId, entry.identity]),
      [['simple-signing', fingerprint, `${server.host}/acme/app:1`]],
    );
    assert.equal(report.image.policy?.allowed, true);

    // Custody enforces the same policy file.
    const accepted = await runCustody(['copy', '--quiet', '--policy', trustedPolicy, '--src-tls-verify=false', image, `oci:${join(work, 'by-custody')}:x`], { env: config.env });
    assert.equal(accepted.code, 0, accepted.stderr);
    const refused = await runCustody(['copy', '--quiet', '--policy', otherPolicy, '--src-tls-verify=false', image, `oci:${join(work, 'other')}:x`], { env: config.env });
    assert.equal(refused.code, 1);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  });
});
