// Configuration: YAML file, CUSTODY_* environment and flags, with precedence
// flags > env > file > default, and every mistake reported at once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, SETTINGS, envName, flagName, loadConfig, parseDuration, parseListen, type ConfigSources } from '../src/config/config.ts';
import { runCustody } from './support/custody-server.ts';

let directory: string;
let counter = 0;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'custody-config-'));
});
after(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function yamlFile(text: string): Promise<string> {
  const path = join(directory, `config-${++counter}.yaml`);
  await writeFile(path, text);
  return path;
}

/** The problems loadConfig reports, or a failure if it accepts the input. */
function problemsOf(sources: ConfigSources): readonly string[] {
  try {
    loadConfig(sources);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({ env: {} });
    assert.deepEqual(config.listen, { host: '0.0.0.0', port: 5000 });
    assert.equal(config.dataDir, resolve('./data'));
    assert.equal(config.log.level, 'info');
    assert.equal(config.tls, undefined);
    assert.deepEqual(config.database, { driver: 'sqlite', path: resolve('./data', 'custody.db') });
    assert.deepEqual(config.storage, { driver: 'filesystem', path: resolve('./data'), minFreeBytes: 1024 * 1024 * 1024 });
    assert.deepEqual(config.limits, { maxManifestBytes: 4 * 1024 * 1024, maxBlobBytes: undefined, maxPageSize: 10_000, bodyIdleTimeoutMs: 30_000, maxConnectionsPerAddress: 256 });
    assert.deepEqual(config.uploads, { automaticMount: true, expireAfterMs: 24 * 3_600_000 });
    assert.deepEqual(config.gc, { online: false, intervalMs: 3_600_000, gracePeriodMs: 3_600_000, deleteUntagged: false });
    assert.equal(config.shutdownTimeoutMs, 30_000);
  });

  it('reads single sign-on (oidc.*) and refuses an issuer without its client', () => {
    assert.equal(loadConfig({ env: {} }).oidc, undefined);
    const config = loadConfig({ env: { CUSTODY_OIDC_ISSUER: 'https://idp.example.test/realms/acme', CUSTODY_OIDC_CLIENT_ID: 'custody', CUSTODY_OIDC_CLIENT_SECRET: 's', CUSTODY_OIDC_GROUPS_CLAIM: 'roles' } });
    assert.deepEqual(config.oidc, { issuer: 'https://idp.example.test/realms/acme', clientId: 'custody', clientSecret: 's', groupsClaim: 'roles', scopes: 'openid profile email', displayName: 'single sign-on' });
    assert.deepEqual(problemsOf({ env: { CUSTODY_OIDC_ISSUER: 'https://idp.example.test', CUSTODY_OIDC_CLIENT_ID: 'custody' } }), ['oidc: set oidc.clientId and oidc.clientSecret with oidc.issuer']);
    assert.deepEqual(problemsOf({ env: { CUSTODY_OIDC_ISSUER: 'idp.example.test', CUSTODY_OIDC_CLIENT_ID: 'c', CUSTODY_OIDC_CLIENT_SECRET: 's' } }), ['oidc.issuer: expected https://host[/path]']);
  });

  it('derives env and flag names from setting paths', () => {
    assert.equal(envName('limits.maxManifestBytes'), 'CUSTODY_LIMITS_MAX_MANIFEST_BYTES');
    assert.equal(flagName('limits.maxManifestBytes'), 'limits-max-manifest-bytes');
    assert.equal(envName('dataDir'), 'CUSTODY_DATA_DIR');
    assert.equal(flagName('tls.certFile'), 'tls-cert-file');
    assert.equal(envName('gc.gracePeriod'), 'CUSTODY_GC_GRACE_PERIOD');
    // Every setting has distinct names.
    assert.equal(new Set(SETTINGS.map((setting) => envName(setting.path))).size, SETTINGS.length);
    assert.equal(new Set(SETTINGS.map((setting) => flagName(setting.path))).size, SETTINGS.length);
  });

  it('reads a YAML file', async () => {
    const file = await yamlFile(
      [
        'listen: "127.0.0.1:6000"',
        'dataDir: /var/lib/custody',
        'log:',
        '  level: debug',
        'database:',
        '  url: postgres://custody@db.internal:5432/custody',
        'storage:',
        '  path: /srv/blobs',
        '  minFreeBytes: 0',
        'limits:',
        '  maxManifestBytes: 1048576',
        '  maxBlobBytes: 10737418240',
        '  maxPageSize: 500',
        '  bodyIdleTimeout: 2m',
        '  maxConnectionsPerAddress: 32',
        'uploads:',
        '  automaticMount: false',
        '  expireAfter: 2h',
        'gc:',
        '  online: true',
        '  interval: 30m',
        '  gracePeriod: 90s',
        '  deleteUntagged: yes',
        'shutdownTimeout: 1500ms',
        '',
      ].join('\n'),
    );
    const config = loadConfig({ file, env: {} });
    assert.deepEqual(config.listen, { host: '127.0.0.1', port: 6000 });
    assert.equal(config.dataDir, '/var/lib/custody');
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.database, { driver: 'postgres', url: 'postgres://custody@db.internal:5432/custody' });
    assert.deepEqual(config.storage, { driver: 'filesystem', path: '/srv/blobs', minFreeBytes: 0 });
    assert.deepEqual(config.limits, { maxManifestBytes: 1_048_576, maxBlobBytes: 10_737_418_240, maxPageSize: 500, bodyIdleTimeoutMs: 120_000, maxConnectionsPerAddress: 32 });
    assert.deepEqual(config.uploads, { automaticMount: false, expireAfterMs: 7_200_000 });
    assert.deepEqual(config.gc, { online: true, intervalMs: 1_800_000, gracePeriodMs: 90_000, deleteUntagged: true });
    assert.equal(config.shutdownTimeoutMs, 1500);
  });

  it('an empty file, or a section left empty, is all defaults', async () => {
    assert.equal(loadConfig({ file: await yamlFile(''), env: {} }).listen.port, 5000);
    assert.equal(loadConfig({ file: await yamlFile('# nothing yet\n'), env: {} }).log.level, 'info');
    const config = loadConfig({ file: await yamlFile('tls:\n  # certFile: /etc/custody/cert.pem\ngc: {}\n'), env: {} });
    assert.equal(config.tls, undefined);
  });

  it('precedence: flags > env > file > default', async () => {
    const file = await yamlFile('listen: ":7000"\nlog:\n  level: warn\nshutdownTimeout: 5s\ngc:\n  gracePeriod: 2h\n');
    const env = { CUSTODY_LISTEN: ':8000', CUSTODY_LOG_LEVEL: 'error', CUSTODY_GC_INTERVAL: '10m' };
    const flags = { listen: ':9000' };
    const config = loadConfig({ file, env, flags });
    assert.equal(config.listen.port, 9000, 'flag beats env and file');
    assert.equal(config.log.level, 'error', 'env beats file');
    assert.equal(config.shutdownTimeoutMs, 5000, 'file beats default');
    assert.equal(config.gc.gracePeriodMs, 7_200_000, 'file');
    assert.equal(config.gc.intervalMs, 600_000, 'env beats default');
    assert.equal(config.gc.online, false, 'default');
    // Without the flag, env wins; without env, the file.
    assert.equal(loadConfig({ file, env }).listen.port, 8000);
    assert.equal(loadConfig({ file, env: {} }).listen.port, 7000);
    // An empty environment variable or an absent flag is not a setting.
    assert.equal(loadConfig({ file, env: { CUSTODY_LISTEN: '' }, flags: { listen: undefined } }).listen.port, 7000);
    // Flags for settings deep in sections.
    assert.equal(loadConfig({ env: {}, flags: { 'limits-max-page-size': '42', 'gc-delete-untagged': 'true' } }).limits.maxPageSize, 42);
    assert.equal(loadConfig({ env: { CUSTODY_UPLOADS_AUTOMATIC_MOUNT: 'no' } }).uploads.automaticMount, false);
  });

  it('refuses unknown YAML keys', async () => {
    const problems = problemsOf({ file: await yamlFile('listen: ":5000"\nlisten_address: ":6000"\nlimits:\n  maxManifestSize: 10\ngc:\n  online: true\n  onLine: false\n'), env: {} });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0]!, /unknown setting "listen_address"/);
    assert.match(problems[1]!, /unknown setting "limits\.maxManifestSize"/);
    assert.match(problems[2]!, /unknown setting "gc\.onLine"/);
    for (const problem of problems) assert.match(problem, /^config file .*config-\d+\.yaml: /);
  });

  it('reports every mistake, each on its own line naming where it came from', async () => {
    const file = await yamlFile('listen: "host:port"\nlimits:\n  maxPageSize: 0\n  maxBlobBytes: -5\nbogus: 1\n');
    const problems = problemsOf({
      file,
      env: { CUSTODY_LOG_LEVEL: 'loud', CUSTODY_GC_GRACE_PERIOD: 'soon' },
      flags: { 'shutdown-timeout': '10', 'uploads-automatic-mount': 'maybe', 'database-url': 'mysql://root:hunter2@db/custody' },
    });
    const expected: Array<[RegExp, RegExp]> = [
      [/unknown setting "bogus"/, /^config file /],
      [/listen: expected host:port/, /^config file /],
      [/log\.level|CUSTODY_LOG_LEVEL: expected one of debug, info, warn, error, got "loud"/, /^environment CUSTODY_LOG_LEVEL/],
      [/expected postgres:\/\/\.\.\. or sqlite:PATH/, /^flag --database-url/],
      [/maxBlobBytes: expected a non-negative integer/, /^config file /],
      [/maxPageSize: must be at least 1/, /^config file /],
      [/expected true or false, got "maybe"/, /^flag --uploads-automatic-mount/],
      [/expected a duration .* got "soon"/, /^environment CUSTODY_GC_GRACE_PERIOD/],
      [/expected a duration .* got "10"/, /^flag --shutdown-timeout/],
    ];
    assert.equal(problems.length, expected.length, problems.join('\n'));
    for (const [what, where] of expected) {
      const line = problems.find((problem) => what.test(problem));
      assert.ok(line, `no problem matching ${what}:\n${problems.join('\n')}`);
      assert.match(line, where);
      assert.ok(!line.includes('\n'));
    }
    // The password in a refused URL is not echoed.
    assert.ok(!problems.join('\n').includes('hunter2'));
  });

  it('refuses a file that is not YAML, not a mapping, or not there', async () => {
    assert.match(problemsOf({ file: await yamlFile('listen: [unclosed\n'), env: {} })[0]!, /^config file .*config-\d+\.yaml: /);
    assert.match(problemsOf({ file: await yamlFile('- a\n- b\n'), env: {} })[0]!, /expected a mapping at the top level/);
    assert.match(problemsOf({ file: join(directory, 'missing.yaml'), env: {} })[0]!, /missing\.yaml: ENOENT/);
  });

  it('parses durations', () => {
    const cases: Array<[string, number | null]> = [
      ['250ms', 250],
      ['30s', 30_000],
      ['15m', 900_000],
      ['1h', 3_600_000],
      ['1.5h', 5_400_000],
      ['7d', 604_800_000],
      ['0s', 0],
      [' 2m ', 120_000],
      ['10', null],
      ['1w', null],
      ['-1s', null],
      ['1h30m', null],
      ['', null],
      ['s', null],
      ['1 h', null],
    ];
    for (const [text, expected] of cases) assert.equal(parseDuration(text), expected, JSON.stringify(text));
    assert.equal(loadConfig({ env: {}, flags: { 'gc-interval': '45s' } }).gc.intervalMs, 45_000);
    // YAML numbers are not durations: the unit is required.
    assert.throws(() => loadConfig({ env: { CUSTODY_SHUTDOWN_TIMEOUT: '30' } }), ConfigError);
  });

  it('parses listen addresses', async () => {
    const cases: Array<[string, { host: string; port: number } | null]> = [
      [':5000', { host: '0.0.0.0', port: 5000 }],
      ['5000', { host: '0.0.0.0', port: 5000 }],
      ['127.0.0.1:5000', { host: '127.0.0.1', port: 5000 }],
      ['[::1]:5000', { host: '::1', port: 5000 }],
      ['[::]:443', { host: '::', port: 443 }],
      ['localhost:0', { host: 'localhost', port: 0 }],
      ['0', { host: '0.0.0.0', port: 0 }],
      ['65535', { host: '0.0.0.0', port: 65535 }],
      ['65536', null],
      ['99999', null],
      ['nonsense', null],
      ['host:', null],
      ['::1:5000', null],
      ['127.0.0.1', null],
      ['', null],
      [':-1', null],
    ];
    for (const [text, expected] of cases) assert.deepEqual(parseListen(text), expected, JSON.stringify(text));
    assert.deepEqual(loadConfig({ env: {}, flags: { listen: '[::1]:5001' } }).listen, { host: '::1', port: 5001 });
    // A YAML number is a port.
    assert.deepEqual(loadConfig({ file: await yamlFile('listen: 5002\n'), env: {} }).listen, { host: '0.0.0.0', port: 5002 });
  });

  it('parses database URLs', () => {
    const database = (url: string) => loadConfig({ env: {}, flags: { 'database-url': url } }).database;
    assert.deepEqual(database('postgres://custody@127.0.0.1:5432/custody'), { driver: 'postgres', url: 'postgres://custody@127.0.0.1:5432/custody' });
    assert.deepEqual(database('postgresql://u:p@db/custody?sslmode=require'), { driver: 'postgres', url: 'postgresql://u:p@db/custody?sslmode=require' });
    assert.deepEqual(database('sqlite:/var/lib/custody/meta.db'), { driver: 'sqlite', path: '/var/lib/custody/meta.db' });
    assert.deepEqual(database('sqlite:///var/lib/custody/meta.db'), { driver: 'sqlite', path: '/var/lib/custody/meta.db' });
    assert.deepEqual(database('sqlite:relative/meta.db'), { driver: 'sqlite', path: resolve('relative/meta.db') });
    assert.deepEqual(database('sqlite::memory:'), { driver: 'sqlite', path: ':memory:' });
    for (const bad of ['sqlite:', 'mysql://root@db/custody', '/var/lib/custody.db', 'postgres://[broken', 'custody.db']) {
      const problems = problemsOf({ env: {}, flags: { 'database-url': bad } });
      assert.equal(problems.length, 1, bad);
      assert.match(problems[0]!, /^flag --database-url: /);
    }
  });

  it('integers, booleans and limits', () => {
    const config = loadConfig({ env: { CUSTODY_LIMITS_MAX_BLOB_BYTES: '1048576', CUSTODY_GC_ONLINE: '1' } });
    assert.equal(config.limits.maxBlobBytes, 1_048_576);
    assert.equal(config.gc.online, true);
    assert.equal(loadConfig({ env: { CUSTODY_LIMITS_MAX_BLOB_BYTES: '0' } }).limits.maxBlobBytes, undefined);
    assert.equal(problemsOf({ env: { CUSTODY_LIMITS_MAX_MANIFEST_BYTES: '4MB' } }).length, 1);
    assert.equal(problemsOf({ env: { CUSTODY_LIMITS_MAX_PAGE_SIZE: '1.5' } }).length, 1);
    assert.equal(problemsOf({ env: { CUSTODY_GC_ONLINE: 'on' } }).length, 1);
  });

  it('sizes in bytes or with a unit, and the indexing bounds', async () => {
    const defaults = loadConfig({ env: {} }).quality;
    assert.deepEqual(defaults.limits, { maxLayerBytes: 16 * 1024 ** 3, maxImageBytes: 32 * 1024 ** 3, maxEntries: 1_000_000 });
    assert.equal(defaults.timeBudgetMs, 300_000);
    const file = await yamlFile('quality:\n  maxLayerBytes: 512MiB\n  maxImageBytes: 2147483648\n  maxEntries: 5000\n  timeBudget: 90s\n');
    const fromFile = loadConfig({ file, env: {} }).quality;
    assert.deepEqual(fromFile.limits, { maxLayerBytes: 512 * 1024 ** 2, maxImageBytes: 2 * 1024 ** 3, maxEntries: 5000 });
    assert.equal(fromFile.timeBudgetMs, 90_000);
    const overridden = loadConfig({ file, env: { CUSTODY_QUALITY_MAX_IMAGE_BYTES: '20GB' }, flags: { 'quality-max-layer-bytes': '1.5 GiB', 'quality-time-budget': '2m' } }).quality;
    assert.deepEqual(overridden.limits, { maxLayerBytes: 1.5 * 1024 ** 3, maxImageBytes: 20e9, maxEntries: 5000 });
    assert.equal(overridden.timeBudgetMs, 120_000);
    const problems = problemsOf({ env: { CUSTODY_QUALITY_MAX_LAYER_BYTES: 'lots', CUSTODY_QUALITY_MAX_IMAGE_BYTES: '0', CUSTODY_QUALITY_MAX_ENTRIES: '0', CUSTODY_QUALITY_TIME_BUDGET: '0s' } });
    assert.deepEqual(problems, [
      'environment CUSTODY_QUALITY_MAX_LAYER_BYTES: expected a size in bytes, or with a unit such as 512MiB or 16GiB, got "lots"',
      'environment CUSTODY_QUALITY_MAX_IMAGE_BYTES: must be at least 1 byte',
      'environment CUSTODY_QUALITY_MAX_ENTRIES: must be at least 1',
      'environment CUSTODY_QUALITY_TIME_BUDGET: must be longer than 0s',
    ]);
  });

  it('tls needs both files, and readable ones', async () => {
    const cert = join(directory, 'cert.pem');
    const key = join(directory, 'key.pem');
    await writeFile(cert, 'certificate');
    await writeFile(key, 'key');
    assert.deepEqual(loadConfig({ env: {}, flags: { 'tls-cert-file': cert, 'tls-key-file': key } }).tls, { certFile: cert, keyFile: key });
    assert.deepEqual(problemsOf({ env: {}, flags: { 'tls-cert-file': cert } }), ['tls: set both tls.certFile and tls.keyFile, or neither']);
    assert.deepEqual(problemsOf({ env: { CUSTODY_TLS_KEY_FILE: key } }), ['tls: set both tls.certFile and tls.keyFile, or neither']);
    const missing = join(directory, 'missing.pem');
    const problems = problemsOf({ env: {}, flags: { 'tls-cert-file': missing, 'tls-key-file': key, listen: 'bad' } });
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.ok(problems.some((problem) => problem === `tls: cannot read ${missing}: ENOENT`));
    assert.ok(problems.some((problem) => problem.startsWith('flag --listen: ')));
  });
});

describe('custody serve with a bad configuration', () => {
  it('exits 2 printing one line per mistake, before touching anything', async () => {
    const dataDir = join(directory, 'never-created');
    const result = await runCustody(['serve', '--listen', 'nonsense', '--log-level', 'loud', '--data-dir', dataDir]);
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[0]!, /^custody serve: flag --listen: expected host:port, :port or port .*got "nonsense"$/);
    assert.match(lines[1]!, /^custody serve: flag --log-level: expected one of debug, info, warn, error, got "loud"$/);
    assert.equal(result.stdout, '');
    assert.equal(existsSync(dataDir), false);
  });

  it('reports file, environment and flag mistakes together', async () => {
    const file = await yamlFile('listen: ":5000"\nunknownThing: 1\n');
    const result = await runCustody(['serve', '--config', file, '--gc-interval', 'often'], { env: { CUSTODY_SHUTDOWN_TIMEOUT: 'never' } });
    assert.equal(result.code, 2, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 3, result.stderr);
    assert.ok(lines.every((line) => line.startsWith('custody serve: ')));
    assert.ok(lines.some((line) => line.includes('unknown setting "unknownThing"')));
    assert.ok(lines.some((line) => line.includes('flag --gc-interval')));
    assert.ok(lines.some((line) => line.includes('environment CUSTODY_SHUTDOWN_TIMEOUT')));
  });

  it('an unknown flag is one line and exit 2', async () => {
    const result = await runCustody(['serve', '--no-such-flag']);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /^custody serve: .*no-such-flag/);
  });
});
