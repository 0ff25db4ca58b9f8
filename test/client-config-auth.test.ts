// containers-auth.json lookup/login/logout, credential helpers, and certs.d.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect } from 'node:tls';
import {
  authFilePaths,
  authFileWritePath,
  authKeysFor,
  getCredentials,
  removeAllCredentials,
  removeCredentials,
  storeCredentials,
  validateAuthKey,
  type HelperRunner,
} from '../src/client/config/auth-file.ts';
import { defaultCertsRoots, findRegistryCerts, registryTlsOptions } from '../src/client/config/certs-d.ts';
import { parseReference } from '../src/client/reference.ts';
import { tempDirs, write } from './support/temp-files.ts';
import { requireTool, run, runOk } from './support/tools.ts';

const tempDir = tempDirs('custody-auth-');
const b64 = (text: string) => Buffer.from(text).toString('base64');
const authJson = (auths: Record<string, unknown>, extra: Record<string, unknown> = {}) => JSON.stringify({ auths, ...extra });

describe('auth file: lookup order', () => {
  it('explicit --authfile, then REGISTRY_AUTH_FILE, each alone', () => {
    assert.deepEqual(authFilePaths({ authFile: '/x/a.json', env: { REGISTRY_AUTH_FILE: '/y/b.json', HOME: '/h' } }), [{ path: '/x/a.json', legacy: false }]);
    assert.deepEqual(authFilePaths({ env: { REGISTRY_AUTH_FILE: '/y/b.json', HOME: '/h' } }), [{ path: '/y/b.json', legacy: false }]);
    assert.equal(authFileWritePath({ env: { REGISTRY_AUTH_FILE: '/y/b.json' } }), '/y/b.json');
  });

  it('runtime dir, config home, docker config, legacy dockercfg', () => {
    const dir = tempDir();
    const runtime = join(dir, 'run');
    mkdirSync(runtime);
    assert.deepEqual(authFilePaths({ env: { HOME: '/h', XDG_RUNTIME_DIR: runtime } }), [
      { path: join(runtime, 'containers/auth.json'), legacy: false },
      { path: '/h/.config/containers/auth.json', legacy: false },
      { path: '/h/.docker/config.json', legacy: false },
      { path: '/h/.dockercfg', legacy: true },
    ]);
    assert.deepEqual(
      authFilePaths({ env: { HOME: '/h', XDG_CONFIG_HOME: '/cfg', DOCKER_CONFIG: '/dc' }, uid: 1234 }).map((p) => p.path),
      ['/run/containers/1234/auth.json', '/cfg/containers/auth.json', '/dc/config.json', '/h/.dockercfg'],
    );
    // a missing XDG_RUNTIME_DIR is skipped for reading and refused for writing
    assert.equal(authFilePaths({ env: { HOME: '/h', XDG_RUNTIME_DIR: join(dir, 'nope') } })[0]!.path, '/h/.config/containers/auth.json');
    assert.throws(() => authFileWritePath({ env: { XDG_RUNTIME_DIR: join(dir, 'nope') } }), /XDG_RUNTIME_DIR .* does not exist/);
    assert.equal(authFileWritePath({ env: { XDG_RUNTIME_DIR: runtime } }), join(runtime, 'containers/auth.json'));
  });

  it('the first file with an entry wins', async () => {
    const dir = tempDir();
    const runtime = join(dir, 'run');
    const home = join(dir, 'home');
    mkdirSync(runtime);
    write(join(home, '.config/containers/auth.json'), authJson({ 'a.example.com': { auth: b64('config:1') } }));
    write(join(home, '.docker/config.json'), authJson({ 'a.example.com': { auth: b64('docker:2') }, 'b.example.com': { auth: b64('docker:3') } }));
    write(join(home, '.dockercfg'), JSON.stringify({ 'https://c.example.com/v1/': { auth: b64('legacy:4'), email: 'x@y' } }));
    const options = { env: { HOME: home, XDG_RUNTIME_DIR: runtime } };
    assert.equal((await getCredentials('a.example.com', options))?.username, 'config');
    assert.equal((await getCredentials('b.example.com', options))?.password, '3');
    const legacy = await getCredentials('c.example.com', options);
    assert.deepEqual(legacy, { username: 'legacy', password: '4', source: join(home, '.dockercfg') });
    assert.equal(await getCredentials('d.example.com', options), undefined);
  });
});

describe('auth file: keys', () => {
  it('tries host/ns/repo, host/ns, host', async () => {
    assert.deepEqual(authKeysFor('example.com/a/b/c'), ['example.com/a/b/c', 'example.com/a/b', 'example.com/a', 'example.com']);
    assert.deepEqual(authKeysFor(parseReference('alpine:3')), ['docker.io/library/alpine', 'docker.io/library', 'docker.io']);
    const dir = tempDir();
    const file = write(
      join(dir, 'auth.json'),
      authJson({
        'example.com': { auth: b64('host:h') },
        'example.com/team': { auth: b64('team:t') },
        'example.com/team/app': { auth: b64('app:a') },
      }),
    );
    const user = async (target: string) => (await getCredentials(target, { authFile: file }))?.username;
    assert.equal(await user('example.com/team/app'), 'app');
    assert.equal(await user('example.com/team/app/sub'), 'app');
    assert.equal(await user('example.com/team/other'), 'team');
    assert.equal(await user('example.com/teamx'), 'host');
    assert.equal(await user('example.com'), 'host');
    assert.equal((await getCredentials(parseReference('example.com/team/app:1'), { authFile: file }))?.username, 'app');
  });

  it('matches Docker-style URL keys by host, and Docker Hub aliases', async () => {
    const dir = tempDir();
    const file = write(
      join(dir, 'config.json'),
      authJson({
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'https://registry.example.com': { auth: b64('u:p') },
      }),
    );
    assert.equal((await getCredentials(parseReference('user/app'), { authFile: file }))?.username, 'hubuser');
    assert.equal((await getCredentials('registry.example.com/x', { authFile: file }))?.username, 'u');
    assert.equal(validateAuthKey('index.docker.io'), 'docker.io');
  });

  it('decodes auth (password may contain ":"), identitytoken, and skips empty entries', async () => {
    const dir = tempDir();
    const file = write(
      join(dir, 'auth.json'),
      authJson({
        'a.com': { auth: b64('user:pa:ss') },
        'b.com': { auth: b64('user:secret'), identitytoken: 'refresh-token' },
        'c.com': {},
        'd.com': { auth: b64('nocolon') },
      }),
    );
    assert.deepEqual(await getCredentials('a.com', { authFile: file }), { username: 'user', password: 'pa:ss', source: file });
    assert.equal((await getCredentials('b.com', { authFile: file }))?.identityToken, 'refresh-token');
    assert.equal(await getCredentials('c.com', { authFile: file }), undefined);
    assert.equal(await getCredentials('d.com', { authFile: file }), undefined);
  });

  it('rejects bad keys and bad files without echoing secrets', async () => {
    assert.throws(() => validateAuthKey('https://example.com'), /without http:\/\//);
    assert.throws(() => validateAuthKey('example.com/app:tag'), /tag or digest/);
    assert.throws(() => validateAuthKey('user/app'), /first component must be a registry/);
    assert.throws(() => validateAuthKey('example.com/App'), /lowercase/);
    const dir = tempDir();
    const file = write(join(dir, 'auth.json'), '{"auths": {"a.com": {"auth": "c2VjcmV0LXZhbHVl"');
    await assert.rejects(getCredentials('a.com', { authFile: file }), (error: Error) => /not valid JSON/.test(error.message) && !error.message.includes('c2VjcmV0'));
    write(file, '[]');
    await assert.rejects(getCredentials('a.com', { authFile: file }), /must contain a JSON object/);
  });
});

describe('auth file: login and logout', () => {
  it('writes atomically with mode 0600 in a 0700 directory, preserving other keys', async () => {
    const dir = tempDir();
    const file = join(dir, 'new/containers/auth.json');
    assert.equal(await storeCredentials('example.com', 'alice', 's3cret', { authFile: file }), file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'new/containers')).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { auths: { 'example.com': { auth: b64('alice:s3cret') } } });

    write(file, JSON.stringify({ auths: { 'other.com': { auth: b64('o:p'), email: 'kept' } }, credHelpers: { 'helped.com': 'x' }, 'custom-key': { a: 1 } }));
    await storeCredentials('example.com/team', 'bob', 'pw', { authFile: file, identityToken: 'tok' });
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(doc['custom-key'], { a: 1 });
    assert.deepEqual(doc.credHelpers, { 'helped.com': 'x' });
    assert.equal(doc.auths['other.com'].email, 'kept');
    assert.deepEqual(doc.auths['example.com/team'], { auth: b64('bob:pw'), identitytoken: 'tok' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(dir, 'new/containers')), ['auth.json'], 'no temporary files left');

    assert.equal(await removeCredentials('example.com/team', { authFile: file }), true);
    assert.equal(await removeCredentials('example.com/team', { authFile: file }), false);
    const after = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(after.auths), ['other.com']);
    assert.deepEqual(after['custom-key'], { a: 1 });
    removeAllCredentials({ authFile: file });
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).auths, {});
    assert.equal(await removeCredentials('example.com', { authFile: join(dir, 'missing.json') }), false);
  });

  it('logs in to the runtime-dir file by default', async () => {
    const dir = tempDir();
    const runtime = join(dir, 'run');
    mkdirSync(runtime);
    const options = { env: { XDG_RUNTIME_DIR: runtime, HOME: join(dir, 'home') } };
    await storeCredentials('localhost:5000', 'u', 'p', options);
    assert.ok(existsSync(join(runtime, 'containers/auth.json')));
    assert.equal((await getCredentials('localhost:5000/x/y', options))?.password, 'p');
    await assert.rejects(storeCredentials('example.com', 'a:b', 'p', options), /must not contain ":"/);
  });
});

describe('credential helpers', () => {
  let helperDir: string;
  let env: Record<string, string>;
  before(() => {
    helperDir = tempDir();
    // A helper speaking the docker-credential-helpers protocol, storing into files.
    write(
      join(helperDir, 'docker-credential-fake'),
      `#!/bin/sh
dir="$(dirname "$0")"
case "$1" in
  get)
    read -r url || true
    if [ -f "$dir/stored-$url" ]; then cat "$dir/stored-$url"; exit 0; fi
    if [ "$url" = "tok.example.com" ]; then printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok"}' "$url"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  store)
    input="$(cat)"
    url="$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/')"
    printf '%s' "$input" > "$dir/stored-$url" ;;
  erase)
    read -r url || true
    if [ -f "$dir/stored-$url" ]; then rm "$dir/stored-$url"; exit 0; fi
    echo "credentials not found in native keychain"; exit 1 ;;
  *) exit 2 ;;
esac
`,
    );
    chmodSync(join(helperDir, 'docker-credential-fake'), 0o755);
    write(join(helperDir, 'docker-credential-broken'), '#!/bin/sh\necho "backend exploded" >&2\nexit 3\n');
    chmodSync(join(helperDir, 'docker-credential-broken'), 0o755);
    env = { PATH: `${helperDir}:${process.env.PATH ?? ''}` };
  });

  it('credHelpers in the auth file: store, get, erase through the helper process', async () => {
    const file = write(join(tempDir(), 'auth.json'), JSON.stringify({ credHelpers: { 'helped.example.com': 'fake' }, auths: {} }));
    const options = { authFile: file, env };
    assert.equal(await getCredentials('helped.example.com/a', options), undefined);
    assert.equal(await storeCredentials('helped.example.com', 'hu', 'hs', options), 'docker-credential-fake');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).auths, {}, 'the secret is not written to the file');
    assert.deepEqual(await getCredentials('helped.example.com/a/b', options), { username: 'hu', password: 'hs', source: 'docker-credential-fake' });
    assert.equal(await removeCredentials('helped.example.com', options), true);
    assert.equal(await getCredentials('helped.example.com', options), undefined);
    await assert.rejects(storeCredentials('helped.example.com/ns', 'u', 'p', options), /per registry/);
  });

  it('credsStore is the fallback; "<token>" means an identity token', async () => {
    const file = write(join(tempDir(), 'config.json'), JSON.stringify({ credsStore: 'fake', auths: { 'direct.com': { auth: b64('d:p') }, 'tok.example.com': {} } }));
    const options = { authFile: file, env };
    assert.equal((await getCredentials('direct.com', options))?.username, 'd');
    assert.deepEqual(await getCredentials('tok.example.com', options), { username: '', password: '', identityToken: 'idtok', source: 'docker-credential-fake' });
    assert.equal(await getCredentials('none.example.com', options), undefined);
  });

  it('registries.conf credential-helpers are consulted in order', async () => {
    const file = write(join(tempDir(), 'auth.json'), authJson({ 'tok.example.com': { auth: b64('file:p') } }));
    assert.equal((await getCredentials('tok.example.com', { authFile: file, env, credentialHelpers: ['containers-auth.json', 'fake'] }))?.username, 'file');
    assert.equal((await getCredentials('tok.example.com', { authFile: file, env, credentialHelpers: ['fake', 'containers-auth.json'] }))?.identityToken, 'idtok');
    assert.equal(await storeCredentials('x.example.com', 'xu', 'xs', { authFile: file, env, credentialHelpers: ['fake'] }), 'docker-credential-fake');
    assert.equal((await getCredentials('x.example.com', { authFile: file, env, credentialHelpers: ['fake'] }))?.password, 'xs');
  });

  it('reports helper failures with the helper message, never the secret', async () => {
    const file = write(join(tempDir(), 'auth.json'), JSON.stringify({ credHelpers: { 'b.com': 'broken', 'm.com': 'missing-helper' } }));
    await assert.rejects(getCredentials('b.com', { authFile: file, env }), /docker-credential-broken get for b\.com failed \(exit 3\): backend exploded/);
    await assert.rejects(getCredentials('m.com', { authFile: file, env }), /docker-credential-missing-helper not found/);
    await assert.rejects(storeCredentials('b.com', 'u', 'TOPSECRET', { authFile: file, env }), (error: Error) => !error.message.includes('TOPSECRET'));
  });

  it('accepts an injected runner', async () => {
    const calls: string[] = [];
    const runHelper: HelperRunner = async (helper, action, input) => {
      calls.push(`${helper} ${action} ${input}`);
      return { exitCode: 0, stdout: JSON.stringify({ ServerURL: input, Username: 'inj', Secret: 'sec' }), stderr: '' };
    };
    const creds = await getCredentials('quay.io/a', { credentialHelpers: ['mem'], runHelper });
    assert.equal(creds?.username, 'inj');
    assert.deepEqual(calls, ['mem get quay.io']);
  });
});

describe('auth file interop with skopeo', () => {
  it('skopeo reads what we write, and we read what skopeo logout leaves', { timeout: 15_000 }, async () => {
    const skopeo = requireTool('skopeo');
    const dir = tempDir();
    const file = join(dir, 'auth.json');
    await storeCredentials('registry.example.com:5000', 'carol', 'pw', { authFile: file });
    await storeCredentials('other.example.com', 'dave', 'pw2', { authFile: file });
    const env = { HOME: dir };
    const login = await runOk(skopeo, ['login', '--get-login', '--authfile', file, 'registry.example.com:5000'], { env });
    assert.equal(login.stdout.trim(), 'carol');
    await runOk(skopeo, ['logout', '--authfile', file, 'registry.example.com:5000'], { env });
    assert.equal(await getCredentials('registry.example.com:5000', { authFile: file }), undefined);
    assert.equal((await getCredentials('other.example.com', { authFile: file }))?.username, 'dave');
    const after = await run(skopeo, ['login', '--get-login', '--authfile', file, 'registry.example.com:5000'], { env });
    assert.notEqual(after.code, 0);
    assert.match(after.stderr, /not logged into/);
  });
});

describe('certs.d', () => {
  let certs: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  before(() => {
    const dir = tempDir();
    const openssl = requireTool('openssl');
    const ssl = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test-ca');
    const leaf = (name: string, cn: string, ext: string) => {
      ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
      write(join(dir, `${name}.ext`), ext);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    };
    leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'client', 'extendedKeyUsage=clientAuth\n');
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    certs = { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key') };
  });

  it('uses the first root that has a directory for host[:port]', () => {
    const dir = tempDir();
    const roots = [join(dir, 'user'), join(dir, 'etc-containers'), join(dir, 'etc-docker')];
    write(join(roots[1]!, 'reg.example.com:5000/ca.crt'), 'x');
    write(join(roots[2]!, 'reg.example.com:5000/other.crt'), 'x');
    write(join(roots[2]!, 'reg.example.com/docker.crt'), 'x');
    assert.equal(findRegistryCerts('reg.example.com:5000', roots).dir, join(roots[1]!, 'reg.example.com:5000'));
    assert.deepEqual(findRegistryCerts('reg.example.com', roots).caFiles, [join(roots[2]!, 'reg.example.com/docker.crt')]);
    assert.deepEqual(findRegistryCerts('none.example.com', roots), { dir: undefined, caFiles: [], clientPairs: [] });
    assert.deepEqual(registryTlsOptions('none.example.com', roots), {});
    assert.deepEqual(defaultCertsRoots('/home/u'), ['/home/u/.config/containers/certs.d', '/etc/containers/certs.d', '/etc/docker/certs.d']);
    assert.throws(() => findRegistryCerts('../etc', roots), /invalid registry host/);
  });

  it('pairs .cert with .key and refuses unpaired ones', () => {
    const dir = tempDir();
    write(join(dir, 'h/a.crt'), 'x');
    write(join(dir, 'h/client.cert'), 'x');
    write(join(dir, 'h/client.key'), 'x');
    write(join(dir, 'h/readme.txt'), 'x');
    assert.deepEqual(findRegistryCerts('h', [dir]), {
      dir: join(dir, 'h'),
      caFiles: [join(dir, 'h/a.crt')],
      clientPairs: [{ cert: join(dir, 'h/client.cert'), key: join(dir, 'h/client.key') }],
    });
    write(join(dir, 'lonely/ca.cert'), 'x');
    assert.throws(() => findRegistryCerts('lonely', [dir]), /missing key ca\.key for client certificate ca\.cert \(CA certificates must use the \.crt extension\)/);
    write(join(dir, 'keyonly/c.key'), 'x');
    assert.throws(() => findRegistryCerts('keyonly', [dir]), /missing client certificate c\.cert for key c\.key/);
  });

  it('produces tls options that verify a server and present a client certificate', async () => {
    const dir = tempDir();
    const server = createServer({ cert: certs.serverCert, key: certs.serverKey, ca: [certs.ca], requestCert: true, rejectUnauthorized: true }, (socket) => {
      socket.end(String(socket.getPeerCertificate().subject?.CN ?? 'none'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const host = `localhost:${port}`;
    write(join(dir, `${host}/ca.crt`), certs.ca);
    write(join(dir, `${host}/client.cert`), certs.clientCert);
    write(join(dir, `${host}/client.key`), certs.clientKey);
    try {
      const options = registryTlsOptions(host, [dir]);
      assert.ok(options.ca!.length > 1, 'system roots are kept');
      assert.equal(registryTlsOptions(host, [dir], { includeSystemRoots: false }).ca!.length, 1);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
          let data = '';
          socket.on('data', (chunk) => (data += chunk));
          socket.on('end', () => resolve(data));
        });
        socket.on('error', reject);
      });
      assert.equal(reply, 'client');
      // without the CA the server is not trusted
      await assert.rejects(
        new Promise((resolve, reject) => connect({ host: '127.0.0.1', port, servername: 'localhost' }, () => resolve(undefined)).on('error', reject)),
        /self-signed|unable to (get|verify)/,
      );
    } finally {
      server.close();
    }
    write(join(dir, 'bad/x.crt'), 'not a cert');
    assert.throws(() => registryTlsOptions('bad', [dir]), /not a PEM certificate/);
  });
});
