// `custody sync` against a real Custody and skopeo sync: the same directory layout from a
// registry, every tag back into a registry with identical digests and working signatures,
// skopeo's YAML source with a tag pattern, a whole registry through its catalog, and bad
// input refused in one line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig } from './support/tools.ts';
import { debianLayout, layoutImage, ociRef } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';

const skopeoBin = requireTool('skopeo');
const TAGS = ['bookworm-curl', 'bookworm-minbase'];

describe('custody sync', () => {
  const temp = tempDirs('custody-sync-');
  let server: CustodyServer;
  let work: string;
  let config: ContainersConfig;
  const digests = new Map<string, string>();
  const creds = `admin:${ADMIN_PASSWORD}`;

  const custody = (args: readonly string[]) => runCustody(args, { cwd: work, env: { ...config.env, COSIGN_PASSWORD: 'sync password' } });
  const ok = async (args: readonly string[]): Promise<{ stdout: string; stderr: string }> => {
    const result = await custody(args);
    assert.equal(result.code, 0, `custody ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const tls = ['--src-tls-verify=false', '--dest-tls-verify=false', '--src-creds', creds, '--dest-creds', creds];
  const allTagsOf = async (repository: string): Promise<string[]> =>
    (JSON.parse((await ok(['list-tags', '--tls-verify=false', '--creds', creds, `docker://${server.host}/${repository}`])).stdout) as { Tags: string[] }).Tags.sort();
  /** The image tags, without cosign's signature tags (which travel with what they sign). */
  const tagsOf = async (repository: string): Promise<string[]> => (await allTagsOf(repository)).filter((tag) => !tag.endsWith('.sig'));
  const digestAt = async (reference: string): Promise<string> =>
    (JSON.parse((await ok(['inspect', '--tls-verify=false', '--creds', creds, `docker://${server.host}/${reference}`])).stdout) as { Digest: string }).Digest;

  before(async () => {
    work = temp();
    config = await containersConfig(join(work, 'containers'));
    server = await startCustody({ auth: true });
    for (const tag of TAGS) {
      digests.set(tag, (await layoutImage(debianLayout(), tag)).digest);
      await ok(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds, ociRef(debianLayout(), tag), `docker://${server.host}/upstream/debian:${tag}`]);
    }
    await ok(['key', 'generate']);
    await ok(['sign', '--tls-verify=false', '--creds', creds, `docker://${server.host}/upstream/debian:bookworm-curl`, '--key', 'cosign.key']);
  });
  after(async () => {
    await server?.dispose();
  });

  it('--src docker --dest dir lays out NAME:TAG directories exactly as skopeo sync does', async () => {
    const ours = join(work, 'ours');
    const theirs = join(work, 'theirs');
    const result = await ok(['sync', '--src', 'docker', '--dest', 'dir', ...tls, `${server.host}/upstream/debian`, ours]);
    assert.match(result.stderr, /Copying image ref 1\/2/);
    await runOk(skopeoBin, ['--insecure-policy', 'sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', '--src-creds', creds, `${server.host}/upstream/debian`, theirs], { env: config.env, timeoutMs: 120_000 });
    // skopeo also copies cosign's signature tag as an image of its own; Custody carries
    // signatures with the image they sign instead.
    const images = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((name) => !name.endsWith('.sig')).sort();
    assert.deepEqual(await images(ours), await images(theirs));
    assert.deepEqual((await readdir(ours)).sort(), TAGS.map((tag) => `debian:${tag}`));
    for (const tag of TAGS) {
      assert.deepEqual(await readFile(join(ours, `debian:${tag}`, 'manifest.json')), await readFile(join(theirs, `debian:${tag}`, 'manifest.json')));
    }
    const scoped = join(work, 'scoped');
    await ok(['sync', '--src', 'docker', '--dest', 'dir', '--scoped', ...tls, `${server.host}/upstream/debian:bookworm-minbase`, scoped]);
    assert.deepEqual(await readdir(join(scoped, server.host, 'upstream')), ['debian:bookworm-minbase']);
  });

  it('--src dir --dest docker pushes every tag back with identical digests', async () => {
    await ok(['sync', '--src', 'dir', '--dest', 'docker', ...tls, join(work, 'ours'), `${server.host}/mirror`]);
    assert.deepEqual(await tagsOf('mirror/debian'), TAGS);
    for (const tag of TAGS) assert.equal(await digestAt(`mirror/debian:${tag}`), digests.get(tag));
  });

  it('--src docker --dest docker carries signatures, which verify at the destination', async () => {
    await ok(['sync', '--src', 'docker', '--dest', 'docker', ...tls, `${server.host}/upstream/debian`, `${server.host}/copies`]);
    assert.deepEqual(await tagsOf('copies/debian'), TAGS);
    const curl = digests.get('bookworm-curl')!.replace(':', '-');
    assert.deepEqual((await allTagsOf('copies/debian')).filter((tag) => tag.endsWith('.sig')), [`${curl}.sig`], 'one signature, for the signed image');
    // The signature still names what was signed, as containers/image's signedIdentity asks.
    const copy = `docker://${server.host}/copies/debian:bookworm-curl`;
    const renamed = await custody(['verify', '--tls-verify=false', '--creds', creds, copy, '--key', 'cosign.pub']);
    assert.match(renamed.stderr, /identity mismatch: the signature is for .*upstream\/debian:bookworm-curl/);
    await ok(['verify', '--tls-verify=false', '--creds', creds, copy, '--key', 'cosign.pub', '--identity', `${server.host}/upstream/debian:bookworm-curl`]);
    const unsigned = await custody(['verify', '--tls-verify=false', '--creds', creds, `docker://${server.host}/copies/debian:bookworm-minbase`, '--key', 'cosign.pub']);
    assert.notEqual(unsigned.code, 0, 'the unsigned tag stays unsigned');
  });

  it('--src yaml follows skopeo\'s format: credentials, tls-verify and images-by-tag-regex', async () => {
    const file = join(work, 'sync.yml');
    await writeFile(file, [
      `${server.host}:`,
      '  tls-verify: false',
      '  credentials:',
      '    username: admin',
      `    password: ${ADMIN_PASSWORD}`,
      '  images-by-tag-regex:',
      '    upstream/debian: ^bookworm-c',
      '',
    ].join('\n'));
    await ok(['sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', '--dest-creds', creds, file, `${server.host}/fromyaml`]);
    assert.deepEqual(await tagsOf('fromyaml/debian'), ['bookworm-curl']);
  });

  it('a bare registry host syncs every repository of its catalog', async () => {
    const everything = join(work, 'everything');
    await ok(['sync', '--src', 'docker', '--dest', 'dir', '--scoped', '--dry-run', ...tls, server.host, everything]);
    const result = await ok(['sync', '--src', 'docker', '--dest', 'dir', '--scoped', ...tls, server.host, everything]);
    assert.match(result.stderr, /Synced \d+ of \d+ image/);
    for (const repository of ['upstream', 'mirror', 'copies']) {
      assert.deepEqual((await readdir(join(everything, server.host, repository))).filter((name) => name.startsWith('debian:')).sort(), TAGS.map((tag) => `debian:${tag}`));
    }
  });

  it('refuses bad input with one line and a non-zero exit', async () => {
    for (const args of [
      ['sync', '--src', 'ftp', '--dest', 'dir', 'a', 'b'],
      ['sync', '--src', 'docker', '--dest', 'oci', 'a', 'b'],
      ['sync', '--src', 'dir', '--dest', 'docker', join(work, 'missing'), `${server.host}/x`],
      ['sync', '--src', 'docker', '--dest', 'dir', `${server.host}/upstream/debian`],
    ]) {
      const result = await custody(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    const broken = join(work, 'broken.yml');
    await writeFile(broken, `${server.host}:\n  images-by-semver:\n    upstream/debian: ">= 1"\n`);
    const semver = await custody(['sync', '--src', 'yaml', '--dest', 'dir', broken, join(work, 'nowhere')]);
    assert.equal(semver.code, 2);
    assert.match(semver.stderr, /images-by-semver is not supported/);
  });
});
