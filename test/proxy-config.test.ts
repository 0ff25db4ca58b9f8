// The pull-through cache's settings (issue 15): upstreams from the YAML list, the repeatable
// --proxy-upstream flag and the comma-separated CUSTODY_PROXY_UPSTREAM; every mistake
// reported, credentials never echoed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, ConfigError } from '../src/config/config.ts';

test('quick-start upstreams: the repeatable flag and the comma-separated environment; mistakes reported, secrets never echoed', () => {
  const config = loadConfig({ env: { CUSTODY_PROXY_UPSTREAM: 'cache/quay.io=https://quay.io, cache/ghcr.io=ghcr.io' }, flags: { 'proxy-upstream': ['cache/docker.io=https://u:p%40ss@registry-1.docker.io'] } });
  assert.deepEqual(
    config.proxy.upstreams.map((upstream) => [upstream.namespace, upstream.url, upstream.ttlMs]),
    [
      ['cache/docker.io', 'https://registry-1.docker.io', 15 * 60_000],
    ],
    'a flag replaces the environment, as for every setting',
  );
  assert.equal(config.proxy.upstreams[0]!.username, 'u');
  assert.equal(config.proxy.upstreams[0]!.password, 'p@ss');
  const fromEnv = loadConfig({ env: { CUSTODY_PROXY_UPSTREAM: 'cache/quay.io=https://quay.io, cache/ghcr.io=ghcr.io', CUSTODY_PROXY_TTL: '1m' } });
  assert.deepEqual(fromEnv.proxy.upstreams.map((upstream) => [upstream.namespace, upstream.url, upstream.ttlMs]), [
    ['cache/quay.io', 'https://quay.io', 60_000],
    ['cache/ghcr.io', 'https://ghcr.io', 60_000],
  ]);
  assert.throws(
    () => loadConfig({ env: { CUSTODY_PROXY_UPSTREAM: 'cache=https://a.example,cache/b=https://u:secret@b.example,nothing', CUSTODY_PROXY_DEFAULT: 'elsewhere' } }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /namespaces "cache" and "cache\/b" overlap/);
      assert.match(error.message, /expected NAMESPACE=URL, got "nothing"/);
      assert.match(error.message, /proxy\.default: "elsewhere"/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

test('the YAML list: credentials from a file, TLS settings, per-upstream TTL; unknown keys refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'custody-proxy-config-'));
  try {
    const passwordFile = join(dir, 'password');
    await writeFile(passwordFile, 'from-the-file\n', { mode: 0o600 });
    const file = join(dir, 'custody.yaml');
    await writeFile(
      file,
      [
        'proxy:',
        '  default: cache/docker.io',
        '  maxBytes: 2GiB',
        '  upstreams:',
        '    - namespace: cache/docker.io',
        '      url: https://registry-1.docker.io',
        '      username: robot',
        `      passwordFile: ${passwordFile}`,
        '      ttl: 5m',
        '    - namespace: cache/lab',
        '      url: https://lab.example:5000',
        '      tlsVerify: false',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file });
    const [hub, lab] = config.proxy.upstreams;
    assert.deepEqual([hub!.namespace, hub!.username, hub!.password, hub!.ttlMs, hub!.tlsVerify], ['cache/docker.io', 'robot', 'from-the-file', 5 * 60_000, true]);
    assert.deepEqual([lab!.url, lab!.tlsVerify, lab!.ttlMs], ['https://lab.example:5000', false, 15 * 60_000]);
    assert.equal(config.proxy.defaultNamespace, 'cache/docker.io');
    assert.equal(config.proxy.maxBytes, 2 * 1024 ** 3);
    await writeFile(file, ['proxy:', '  upstreams:', '    - namespace: cache/x', '      url: https://x.example', '      pasword: typo', '      username: only', ''].join('\n'));
    assert.throws(() => loadConfig({ file }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /unknown setting "pasword"/);
      assert.match(error.message, /set both username and password/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
