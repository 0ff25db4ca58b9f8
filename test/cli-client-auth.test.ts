// custody login/logout/inspect against Debian's docker-registry (CNCF Distribution) with
// htpasswd Basic auth over TLS from a test CA kept in a certs.d-style directory: auth
// files written by podman are read by custody and the other way round with skopeo; wrong
// passwords and untrusted certificates fail with one line. stdin is never a terminal.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCustody } from './support/custody-server.ts';
import { startDistribution, type DistributionRegistry } from './support/distribution-registry.ts';
import { debianLayout, ociRef } from './support/images.ts';
import { createTestCa, type TestCa } from './support/tls-ca.ts';
import { httpsStatus } from './support/tls-ca.ts';
import { containersConfig, explain, requireTool, run, runOk, type ContainersConfig } from './support/tools.ts';

describe('custody login / inspect with htpasswd over TLS (docker-registry)', () => {
  let ca: TestCa;
  let registry: DistributionRegistry;
  let work: string;
  let certDir: string;
  let config: ContainersConfig;
  let skopeoBin: string;
  let podmanBin: string;
  let podmanGlobals: string[];
  let podmanEnv: Record<string, string>;
  let pushedDigest: string;

  const custody = (args: readonly string[], input?: string) => runCustody(args, { env: config.env, ...(input === undefined ? {} : { input }) });
  const oneLine = (stderr: string): void => assert.equal(stderr.trimEnd().split('\n').length, 1, `one line expected, got: ${stderr}`);

  before(async () => {
    skopeoBin = requireTool('skopeo');
    podmanBin = requireTool('podman');
    const htpasswd = requireTool('htpasswd');
    ca = await createTestCa();
    const server = await ca.issue('registry', { server: true });
    registry = await startDistribution({
      extraConfig: async (host, dir) => {
        const file = join(dir, 'htpasswd');
        await writeFile(file, (await runOk(htpasswd, ['-Bbn', 'alice', 's3cret'])).stdout);
        return ['http:', `  addr: ${host}`, '  tls:', `    certificate: ${server.certPath}`, `    key: ${server.keyPath}`, 'auth:', '  htpasswd:', '    realm: custody-test', `    path: ${file}`];
      },
      ready: async (host) => (await httpsStatus(`https://${host}/v2/`, ca.cert)) === 401,
    });
    work = await mkdtemp(join(tmpdir(), 'custody-cli-auth-'));
    config = await containersConfig(join(work, 'config'));
    certDir = join(work, 'home', '.config', 'containers', 'certs.d', registry.host);
    await mkdir(certDir, { recursive: true });
    await writeFile(join(certDir, 'ca.crt'), ca.cert);
    const storage = join(work, 'storage');
    const runroot = join(work, 'run');
    await mkdir(join(work, 'tmp'), { recursive: true });
    const storageConf = join(config.dir, 'storage.conf');
    await writeFile(storageConf, `[storage]\ndriver = "vfs"\ngraphroot = "${storage}"\nrunroot = "${runroot}"\n`);
    podmanEnv = { ...config.env, CONTAINERS_STORAGE_CONF: storageConf, TMPDIR: join(work, 'tmp') };
    podmanGlobals = ['--root', storage, '--runroot', runroot, '--storage-driver', 'vfs', '--tmpdir', join(work, 'libpod-tmp'), '--cgroup-manager=cgroupfs', '--events-backend=file'];
    await runOk(skopeoBin, ['--policy', config.policy, 'copy', '--dest-creds', 'alice:s3cret', '--dest-cert-dir', certDir, ociRef(debianLayout(), 'bookworm-curl'), `docker://${registry.host}/auth/debian:curl`], {
      env: config.env,
      timeoutMs: 60_000,
    });
    const raw = await runOk(skopeoBin, ['inspect', '--raw', '--creds', 'alice:s3cret', '--cert-dir', certDir, `docker://${registry.host}/auth/debian:curl`], { env: config.env });
    pushedDigest = `sha256:${(await import('node:crypto')).createHash('sha256').update(raw.stdout).digest('hex')}`;
  });

  after(async () => {
    await registry?.dispose();
    await ca?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('podman login writes the auth file; custody inspect --authfile uses it', async () => {
    const authFile = join(work, 'podman-auth.json');
    const login = await run(podmanBin, [...podmanGlobals, 'login', '--authfile', authFile, '--cert-dir', certDir, '--username', 'alice', '--password-stdin', registry.host], {
      env: podmanEnv,
      input: 's3cret\n',
      timeoutMs: 60_000,
    });
    assert.equal(login.code, 0, explain(login));
    const inspected = await custody(['inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${registry.host}/auth/debian:curl`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const body = JSON.parse(inspected.stdout) as { Digest: string; RepoTags: string[]; Name: string };
    assert.equal(body.Digest, pushedDigest);
    assert.deepEqual(body.RepoTags, ['curl']);
    assert.equal(body.Name, `${registry.host}/auth/debian`);
    const tags = await custody(['list-tags', '--authfile', authFile, '--cert-dir', certDir, `docker://${registry.host}/auth/debian`]);
    assert.equal(tags.code, 0, tags.stderr);
    assert.deepEqual(JSON.parse(tags.stdout), { Repository: `${registry.host}/auth/debian`, Tags: ['curl'] });
  });

  test('custody login --password-stdin writes an auth file skopeo uses; logout removes it', async () => {
    const authFile = join(work, 'custody-auth.json');
    const login = await custody(['login', '--authfile', authFile, '--cert-dir', certDir, '--username', 'alice', '--password-stdin', registry.host], 's3cret\n');
    assert.equal(login.code, 0, login.stderr);
    assert.equal((await stat(authFile)).mode & 0o777, 0o600);
    const inspected = await runOk(skopeoBin, ['inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${registry.host}/auth/debian:curl`], { env: config.env });
    assert.equal((JSON.parse(inspected.stdout) as { Digest: string }).Digest, pushedDigest);
    // Without --cert-dir the certs.d roots are searched: ~/.config/containers/certs.d/HOST first.
    const viaRoot = await runCustody(['inspect', '--authfile', authFile, `docker://${registry.host}/auth/debian:curl`], { env: { ...config.env, HOME: join(work, 'home') } });
    assert.equal(viaRoot.code, 0, viaRoot.stderr);
    assert.equal((JSON.parse(viaRoot.stdout) as { Digest: string }).Digest, pushedDigest);
    const logout = await custody(['logout', '--authfile', authFile, registry.host]);
    assert.equal(logout.code, 0, logout.stderr);
    assert.deepEqual((JSON.parse(await readFile(authFile, 'utf8')) as { auths: object }).auths, {});
    const again = await custody(['logout', '--authfile', authFile, registry.host]);
    assert.equal(again.code, 1);
    oneLine(again.stderr);
    const anonymous = await custody(['inspect', '--authfile', authFile, '--cert-dir', certDir, `docker://${registry.host}/auth/debian:curl`]);
    assert.equal(anonymous.code, 1);
    oneLine(anonymous.stderr);
  });

  test('a wrong password: exit 1, one line, nothing saved', async () => {
    const authFile = join(work, 'wrong-auth.json');
    const login = await custody(['login', '--authfile', authFile, '--cert-dir', certDir, '--username', 'alice', '--password-stdin', registry.host], 'wrong\n');
    assert.equal(login.code, 1);
    oneLine(login.stderr);
    assert.match(login.stderr, new RegExp(`login failed: invalid username or password for ${registry.host.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(login.stderr, /wrong/);
    await assert.rejects(stat(authFile), { code: 'ENOENT' });
  });

  test('without the CA: one line naming the certificate problem; --tls-verify=false works', async () => {
    const authFile = join(work, 'noca-auth.json');
    const login = await custody(['login', '--authfile', authFile, '--username', 'alice', '--password-stdin', registry.host], 's3cret\n');
    assert.equal(login.code, 1);
    oneLine(login.stderr);
    assert.match(login.stderr, /certificate/i);
    const inspected = await custody(['inspect', '--creds', 'alice:s3cret', `docker://${registry.host}/auth/debian:curl`]);
    assert.equal(inspected.code, 1);
    oneLine(inspected.stderr);
    assert.match(inspected.stderr, /certificate/i);
    const insecure = await custody(['inspect', '--creds', 'alice:s3cret', '--tls-verify=false', `docker://${registry.host}/auth/debian:curl`]);
    assert.equal(insecure.code, 0, insecure.stderr);
    assert.equal((JSON.parse(insecure.stdout) as { Digest: string }).Digest, pushedDigest);
  });

  test('usage mistakes without a terminal: one line, exit 2', async () => {
    const noUser = await custody(['login', '--authfile', join(work, 'x.json'), registry.host]);
    assert.equal(noUser.code, 2);
    oneLine(noUser.stderr);
    assert.match(noUser.stderr, /no terminal/);
    const noPassword = await custody(['login', '--authfile', join(work, 'x.json'), '--username', 'alice', registry.host]);
    assert.equal(noPassword.code, 2);
    oneLine(noPassword.stderr);
    const missing = await custody(['login']);
    assert.equal(missing.code, 2);
    oneLine(missing.stderr);
  });
});
