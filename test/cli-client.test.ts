// The client commands (inspect, list-tags, delete) against a real Custody server, compared
// with skopeo's answers for the same images; short names, blocked registries and mirrors
// resolved through registries.conf. stdin is never a terminal here (runCustody pipes it).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { containersConfig, requireTool, run, runOk, type ContainersConfig, type RunResult } from './support/tools.ts';
import { buildMultiArchLayout, debianLayout, ociRef, type MultiArchLayout } from './support/images.ts';

/** Every field skopeo printed is equal (RepoTags in any order); LayersData is the only extra one (skopeo 1.9 predates it). */
function assertLikeSkopeo(actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  const extra = Object.keys(actual).filter((key) => !(key in expected));
  assert.deepEqual(extra.filter((key) => key !== 'LayersData'), [], 'fields skopeo does not print');
  for (const key of Object.keys(expected)) {
    const normalise = (value: unknown): unknown => (key === 'RepoTags' ? [...(value as string[])].sort() : value);
    assert.deepEqual(normalise(actual[key]), normalise(expected[key]), `field ${key}`);
  }
}

describe('custody inspect / list-tags / delete against Custody, compared with skopeo', () => {
  let skopeoBin: string;
  let server: CustodyServer;
  let work: string;
  let config: ContainersConfig;
  let multi: MultiArchLayout;

  const skopeo = (args: readonly string[]): Promise<RunResult> => runOk(skopeoBin, ['--policy', config.policy, ...args], { env: config.env, timeoutMs: 60_000 });
  const custody = (args: readonly string[], env: Record<string, string> = {}) => runCustody(args, { env: { ...config.env, ...env } });
  const image = (path: string): string => `docker://${server.host}/${path}`;
  const oneLine = (stderr: string): void => assert.equal(stderr.trimEnd().split('\n').length, 1, `one line expected, got: ${stderr}`);

  before(async () => {
    skopeoBin = requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-cli-client-'));
    config = await containersConfig(join(work, 'config'));
    server = await startCustody();
    multi = await buildMultiArchLayout(join(work, 'multi-layout'));
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-curl'), image('debian:curl')]);
    await skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', image('debian:curl'), image('debian:stable')]);
  });

  after(async () => {
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('inspect prints what skopeo inspect prints, field for field', async () => {
    const expected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', image('debian:curl')])).stdout) as Record<string, unknown>;
    const result = await custody(['inspect', '--tls-verify=false', image('debian:curl')]);
    assert.equal(result.code, 0, result.stderr);
    const actual = JSON.parse(result.stdout) as Record<string, unknown>;
    assertLikeSkopeo(actual, expected);
    // LayersData (newer skopeo; this skopeo predates it) describes the manifest's layers.
    const manifest = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', image('debian:curl')])).stdout) as {
      layers: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      actual.LayersData,
      manifest.layers.map((layer) => ({ MIMEType: layer.mediaType, Digest: layer.digest, Size: layer.size, Annotations: layer.annotations ?? null })),
    );
    // --format json is the same document.
    const formatted = await custody(['inspect', '--tls-verify=false', '--format', 'json', image('debian:curl')]);
    assert.deepEqual(JSON.parse(formatted.stdout), actual);
  });

  test('inspect --raw and --config match skopeo byte for byte / value for value', async () => {
    const raw = await custody(['inspect', '--raw', '--tls-verify=false', image('debian:curl')]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, (await skopeo(['inspect', '--raw', '--tls-verify=false', image('debian:curl')])).stdout);
    const configRaw = await custody(['inspect', '--config', '--raw', '--tls-verify=false', image('debian:curl')]);
    assert.equal(configRaw.stdout, (await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', image('debian:curl')])).stdout);
    const config = await custody(['inspect', '--config', '--tls-verify=false', image('debian:curl')]);
    assert.deepEqual(JSON.parse(config.stdout), JSON.parse(configRaw.stdout));
  });

  test('inspect of a multi-arch index describes the linux/amd64 instance like skopeo', async () => {
    await skopeo(['copy', '--all', '--dest-tls-verify=false', multi.ref, image('multi:v1')]);
    const expected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', image('multi:v1')])).stdout) as Record<string, unknown>;
    const result = await custody(['inspect', '--tls-verify=false', image('multi:v1')]);
    assert.equal(result.code, 0, result.stderr);
    assertLikeSkopeo(JSON.parse(result.stdout) as Record<string, unknown>, expected);
    const arm = await custody(['inspect', '--tls-verify=false', '--override-arch', 'arm64', '--override-os', 'linux', image('multi:v1')]);
    const expectedArm = await run(skopeoBin, ['--policy', config.policy, '--override-arch', 'arm64', '--override-os', 'linux', 'inspect', '--tls-verify=false', image('multi:v1')], { env: config.env });
    assert.equal(arm.code === 0, expectedArm.code === 0, `${arm.stderr} / ${expectedArm.stderr}`);
    if (expectedArm.code === 0) assertLikeSkopeo(JSON.parse(arm.stdout) as Record<string, unknown>, JSON.parse(expectedArm.stdout) as Record<string, unknown>);
  });

  test('list-tags prints what skopeo list-tags prints', async () => {
    const expected = JSON.parse((await skopeo(['list-tags', '--tls-verify=false', image('debian')])).stdout) as unknown;
    const result = await custody(['list-tags', '--tls-verify=false', image('debian')]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), expected);
    const tagged = await custody(['list-tags', '--tls-verify=false', image('debian:curl')]);
    assert.equal(tagged.code, 2);
    oneLine(tagged.stderr);
  });

  test('delete resolves the tag to its digest and deletes by digest, like skopeo', async () => {
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), image('doomed:v1')]);
    await skopeo(['copy', '--dest-tls-verify=false', ociRef(debianLayout(), 'bookworm-minbase'), image('doomed2:v1')]);
    const result = await custody(['delete', '--tls-verify=false', image('doomed:v1')]);
    assert.equal(result.code, 0, result.stderr);
    await skopeo(['delete', '--tls-verify=false', image('doomed2:v1')]);
    for (const repo of ['doomed', 'doomed2']) {
      const gone = await run(skopeoBin, ['--policy', config.policy, 'inspect', '--raw', '--tls-verify=false', image(`${repo}:v1`)], { env: config.env });
      assert.notEqual(gone.code, 0, `${repo}:v1 still there`);
    }
    const again = await custody(['delete', '--tls-verify=false', image('doomed:v1')]);
    assert.equal(again.code, 1);
    oneLine(again.stderr);
  });

  test('registries.conf: insecure registry, short-name alias, location rewrite and mirrors', async () => {
    const conf = join(work, 'resolve.conf');
    await writeFile(
      conf,
      [
        `unqualified-search-registries = ["${server.host}"]`,
        '[aliases]',
        `"deb" = "${server.host}/debian"`,
        '[[registry]]',
        `location = "${server.host}"`,
        'insecure = true',
        '[[registry]]',
        'prefix = "example.invalid/images"',
        `location = "${server.host}"`,
        'insecure = true',
        '[[registry.mirror]]',
        'location = "127.0.0.1:1"',
        'insecure = true',
        '',
      ].join('\n'),
    );
    const env = { CONTAINERS_REGISTRIES_CONF: conf };
    const expected = JSON.parse((await skopeo(['inspect', '--tls-verify=false', '--no-tags', image('debian:curl')])).stdout) as Record<string, unknown>;
    // No --tls-verify=false: the registry is insecure in registries.conf.
    const direct = await custody(['inspect', '--no-tags', image('debian:curl')], env);
    assert.equal(direct.code, 0, direct.stderr);
    assertLikeSkopeo(JSON.parse(direct.stdout) as Record<string, unknown>, expected);
    const aliased = await custody(['inspect', '--no-tags', 'deb:curl'], env);
    assert.equal(aliased.code, 0, aliased.stderr);
    assert.equal((JSON.parse(aliased.stdout) as { Digest: string }).Digest, expected.Digest);
    // A dead mirror first, then the rewritten primary answers.
    const mirrored = await custody(['inspect', '--no-tags', 'docker://example.invalid/images/debian:curl'], env);
    assert.equal(mirrored.code, 0, mirrored.stderr);
    const body = JSON.parse(mirrored.stdout) as { Digest: string; Name: string };
    assert.equal(body.Digest, expected.Digest);
    assert.equal(body.Name, 'example.invalid/images/debian');
  });

  test('a blocked registry and an ambiguous short name without a terminal: one-line errors', async () => {
    const conf = join(work, 'strict.conf');
    await writeFile(
      conf,
      [
        `unqualified-search-registries = ["${server.host}", "registry.example.invalid"]`,
        'short-name-mode = "enforcing"',
        '[[registry]]',
        'location = "blocked.example.invalid"',
        'blocked = true',
        '',
      ].join('\n'),
    );
    const env = { CONTAINERS_REGISTRIES_CONF: conf };
    const blocked = await custody(['inspect', 'docker://blocked.example.invalid/app:v1'], env);
    assert.notEqual(blocked.code, 0);
    oneLine(blocked.stderr);
    assert.match(blocked.stderr, /blocked by the \[\[registry\]\] prefix "blocked\.example\.invalid"/);
    assert.ok(blocked.stderr.includes(conf), blocked.stderr);
    const ambiguous = await custody(['inspect', 'debian:curl'], env);
    assert.notEqual(ambiguous.code, 0);
    oneLine(ambiguous.stderr);
    assert.match(ambiguous.stderr, /ambiguous.*enforcing.*no terminal/);
    // oci:, dir: and the archives are inspected (test/cli-inspect-transports.test.ts); others are not.
    const transport = await custody(['inspect', 'docker-daemon:debian:curl']);
    assert.equal(transport.code, 2);
    oneLine(transport.stderr);
  });
});
