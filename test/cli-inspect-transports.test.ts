// `custody inspect` on the local transports (dir:, oci:, oci-archive:, docker-archive:),
// compared with `skopeo inspect` on the same inputs: the JSON field for field (Name left
// out unless the reference names an image, RepoTags empty), --raw byte for byte and
// --config as skopeo prints it (Go's escaping of <, >, &), an index resolved to the
// current platform's instance or --override-arch's.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runCustody } from './support/custody-server.ts';
import { containersConfig, requireTool, runOk, type ContainersConfig } from './support/tools.ts';
import { buildMultiArchLayout, debianLayout, ociRef, type MultiArchLayout } from './support/images.ts';
import { tempDirs } from './support/temp-files.ts';

const skopeoBin = requireTool('skopeo');
const newDir = tempDirs('custody-inspect-transports-');
const CURL = ociRef(debianLayout(), 'bookworm-curl');
let config: ContainersConfig;
let work: string;
let multi: MultiArchLayout;

async function skopeo(args: readonly string[]): Promise<string> {
  return (await runOk(skopeoBin, ['--insecure-policy', ...args], { env: config.env, timeoutMs: 60_000 })).stdout;
}

async function custody(args: readonly string[]): Promise<string> {
  const result = await runCustody(args, { env: config.env });
  assert.equal(result.code, 0, `custody ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Every field skopeo printed is equal; LayersData is the only extra one (skopeo 1.9 predates it). */
function assertLikeSkopeo(actual: Record<string, unknown>, expected: Record<string, unknown>, ignore: readonly string[] = []): void {
  const extra = Object.keys(actual).filter((key) => !(key in expected));
  assert.deepEqual(extra.filter((key) => key !== 'LayersData'), [], 'fields skopeo does not print');
  for (const key of Object.keys(expected)) if (!ignore.includes(key)) assert.deepEqual(actual[key], expected[key], `field ${key}`);
}

/** inspect, --raw, --config and --config --raw against skopeo's answers. */
async function compare(ref: string, extra: readonly string[] = []): Promise<Record<string, unknown>> {
  const expected = JSON.parse(await skopeo(['inspect', ...extra, ref])) as Record<string, unknown>;
  const actual = JSON.parse(await custody(['inspect', ...extra, ref])) as Record<string, unknown>;
  assertLikeSkopeo(actual, expected);
  assert.deepEqual(actual.RepoTags, []);
  const manifest = JSON.parse(await custody(['inspect', '--raw', ref])) as { layers?: { mediaType: string; digest: string; size: number }[] };
  if (manifest.layers !== undefined) {
    assert.deepEqual(
      actual.LayersData,
      manifest.layers.map((layer) => ({ MIMEType: layer.mediaType, Digest: layer.digest, Size: layer.size, Annotations: null })),
    );
  }
  assert.equal(await custody(['inspect', '--raw', ref]), await skopeo(['inspect', '--raw', ref]), '--raw');
  assert.equal(await custody(['inspect', ...extra, '--config', ref]), await skopeo(['inspect', ...extra, '--config', ref]), '--config');
  assert.equal(await custody(['inspect', ...extra, '--config', '--raw', ref]), await skopeo(['inspect', ...extra, '--config', '--raw', ref]), '--config --raw');
  return actual;
}

before(async () => {
  work = newDir();
  config = await containersConfig(join(work, 'config'));
  multi = await buildMultiArchLayout(join(work, 'multi'));
});

describe('custody inspect on local transports, compared with skopeo inspect', () => {
  it('oci: (a tagged image manifest)', async () => {
    const actual = await compare(CURL);
    assert.equal(actual.Name, undefined);
    // --format json is the same document.
    assert.deepEqual(JSON.parse(await custody(['inspect', '--format', 'json', CURL])), actual);
  });

  it('oci: with an index: the current platform or --override-arch, Digest the index', async () => {
    const amd = await compare(multi.ref, ['--override-arch', 'amd64', '--override-os', 'linux']);
    assert.equal(amd.Digest, multi.indexDigest);
    assert.equal(amd.Architecture, 'amd64');
    const arm = await compare(multi.ref, ['--override-arch', 'arm64', '--override-os', 'linux', '--override-variant', 'v8']);
    // The fixture's arm64 entry is the (amd64) minbase image: another instance was chosen.
    assert.notDeepEqual(arm.Layers, amd.Layers);
  });

  it('dir: written by custody copy and by skopeo copy', async () => {
    const mine = join(newDir(), 'custody-dir');
    await custody(['copy', CURL, `dir:${mine}`]);
    await compare(`dir:${mine}`);
    const theirs = join(newDir(), 'skopeo-dir');
    await skopeo(['copy', '-q', CURL, `dir:${theirs}`]);
    await compare(`dir:${theirs}`);
  });

  it('oci-archive: with and without REF', async () => {
    const archive = join(newDir(), 'curl.tar');
    await custody(['copy', CURL, `oci-archive:${archive}:tag`]);
    await compare(`oci-archive:${archive}:tag`);
    await compare(`oci-archive:${archive}`);
  });

  it('docker-archive: the made-up manifest and its Digest are skopeo\'s, for archives written by skopeo and by custody', async () => {
    const theirs = join(newDir(), 'skopeo-docker.tar');
    await skopeo(['copy', '-q', CURL, `docker-archive:${theirs}:x:y`]);
    const mine = join(newDir(), 'custody-docker.tar');
    await custody(['copy', CURL, `docker-archive:${mine}:x:y`]);
    for (const archive of [theirs, mine]) {
      for (const ref of [`docker-archive:${archive}:x:y`, `docker-archive:${archive}`, `docker-archive:${archive}:@0`]) {
        const expected = JSON.parse(await skopeo(['inspect', ref])) as Record<string, unknown>;
        const actual = JSON.parse(await custody(['inspect', ref])) as Record<string, unknown>;
        assertLikeSkopeo(actual, expected);
        assert.equal(actual.Digest, expected.Digest, `${ref}: Digest`);
        // containers/image's manifest: Go's compact JSON, every layer labelled .tar.gzip.
        const raw = await custody(['inspect', '--raw', ref]);
        assert.equal(raw, await skopeo(['inspect', '--raw', ref]), `${ref}: --raw`);
        assert.equal(actual.Digest, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
        assert.equal(await custody(['inspect', '--config', ref]), await skopeo(['inspect', '--config', ref]), '--config');
        assert.equal(await custody(['inspect', '--config', '--raw', ref]), await skopeo(['inspect', '--config', '--raw', ref]), '--config --raw');
      }
      assert.equal((JSON.parse(await custody(['inspect', `docker-archive:${archive}:x:y`])) as { Name: string }).Name, 'docker.io/library/x');
    }
  });

  it('a missing layout fails with a message', async () => {
    const result = await runCustody(['inspect', `oci:${join(newDir(), 'nothing')}:x`], { env: config.env });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /index\.json/);
  });
});
