// registries.conf loading/merging, pull sources, blocking, and short-name resolution.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadRegistriesConf,
  registriesConfFiles,
  registriesConfFromText,
  RegistriesConfError,
  RegistryBlockedError,
} from '../src/client/config/registries-conf.ts';
import { parseReference } from '../src/client/reference.ts';
import { resolveShortName, ShortNameError, defaultAliasCacheFile } from '../src/client/short-names.ts';
import { UsageError } from '../src/core/errors.ts';
import { tempDirs, write } from './support/temp-files.ts';
import { explain, requireTool, run } from './support/tools.ts';

const D = `sha256:${'b'.repeat(64)}`;
const tempDir = tempDirs('custody-regconf-');
const conf = (text: string, ...dropIns: string[]) =>
  registriesConfFromText({ path: 'main.conf', text }, ...dropIns.map((t, i) => ({ path: `drop${i}.conf`, text: t })));

describe('registries.conf: file selection', () => {
  it('uses the user file and only the user drop-in dir when the user file exists', () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const systemFile = write(join(dir, 'etc/registries.conf'), 'unqualified-search-registries = ["system.example.com"]\n');
    const systemDir = join(dir, 'etc/registries.conf.d');
    write(join(systemDir, '10-sys.conf'), 'short-name-mode = "disabled"\n');
    const options = { env: { HOME: home }, systemFile, systemDropInDir: systemDir };
    let loaded = loadRegistriesConf(options);
    assert.deepEqual(loaded.unqualifiedSearchRegistries, ['system.example.com']);
    assert.equal(loaded.shortNameMode, 'disabled');
    assert.deepEqual(loaded.files, [systemFile, join(systemDir, '10-sys.conf')]);

    const userFile = write(join(home, '.config/containers/registries.conf'), 'unqualified-search-registries = ["user.example.com"]\n');
    write(join(home, '.config/containers/registries.conf.d/50-user.conf'), 'short-name-mode = "enforcing"\n');
    loaded = loadRegistriesConf(options);
    assert.deepEqual(loaded.unqualifiedSearchRegistries, ['user.example.com']);
    assert.equal(loaded.shortNameMode, 'enforcing');
    assert.deepEqual(loaded.files, [userFile, join(home, '.config/containers/registries.conf.d/50-user.conf')]);
  });

  it('honours XDG_CONFIG_HOME for the user file', () => {
    const dir = tempDir();
    const xdg = join(dir, 'xdg');
    write(join(xdg, 'containers/registries.conf'), 'unqualified-search-registries = ["xdg.example.com"]\n');
    const loaded = loadRegistriesConf({ env: { HOME: join(dir, 'home'), XDG_CONFIG_HOME: xdg }, systemFile: join(dir, 'none') });
    assert.deepEqual(loaded.unqualifiedSearchRegistries, ['xdg.example.com']);
  });

  it('reads system drop-ins then user drop-ins, *.conf only, in lexical order', () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const systemDir = join(dir, 'sys.d');
    write(join(systemDir, '20-b.conf'), 'unqualified-search-registries = ["b.example.com"]\n');
    write(join(systemDir, '10-a.conf'), 'unqualified-search-registries = ["a.example.com"]\nshort-name-mode = "disabled"\n');
    write(join(systemDir, '30-ignored.txt'), 'unqualified-search-registries = ["ignored.example.com"]\n');
    mkdirSync(join(systemDir, '40-dir.conf'));
    write(join(home, '.config/containers/registries.conf.d/05-user.conf'), 'credential-helpers = ["pass"]\n');
    const loaded = loadRegistriesConf({ env: { HOME: home }, systemFile: join(dir, 'missing.conf'), systemDropInDir: systemDir });
    assert.deepEqual(loaded.unqualifiedSearchRegistries, ['b.example.com']);
    assert.equal(loaded.unqualifiedSearchRegistriesOrigin, join(systemDir, '20-b.conf'));
    assert.equal(loaded.shortNameMode, 'disabled');
    assert.deepEqual(loaded.credentialHelpers, ['pass']);
    assert.equal(loaded.files.length, 3);
  });

  it('CONTAINERS_REGISTRIES_CONF and an explicit path are read alone', () => {
    const dir = tempDir();
    const single = write(join(dir, 'single.conf'), 'unqualified-search-registries = ["single.example.com"]\n');
    const systemDir = join(dir, 'sys.d');
    write(join(systemDir, '10.conf'), 'unqualified-search-registries = ["dropin.example.com"]\n');
    const fromEnv = loadRegistriesConf({ env: { CONTAINERS_REGISTRIES_CONF: single, HOME: dir }, systemDropInDir: systemDir });
    assert.deepEqual(fromEnv.unqualifiedSearchRegistries, ['single.example.com']);
    assert.deepEqual(fromEnv.files, [single]);
    const explicit = loadRegistriesConf({ path: single, env: { CONTAINERS_REGISTRIES_CONF: join(dir, 'other') }, systemDropInDir: systemDir });
    assert.deepEqual(explicit.files, [single]);
    assert.deepEqual(registriesConfFiles({ path: single }).dropInDirs, []);
    assert.throws(() => loadRegistriesConf({ path: join(dir, 'nope.conf') }), /nope\.conf: file not found/);
  });

  it('no files at all is an empty configuration with the defaults', () => {
    const dir = tempDir();
    const loaded = loadRegistriesConf({ env: { HOME: dir }, systemFile: join(dir, 'x'), systemDropInDir: join(dir, 'y') });
    assert.deepEqual(loaded.files, []);
    assert.deepEqual(loaded.unqualifiedSearchRegistries, []);
    assert.equal(loaded.shortNameMode, 'permissive');
    assert.deepEqual(loaded.credentialHelpers, ['containers-auth.json']);
    assert.deepEqual(loaded.pullSources('example.com/a').map((s) => s.reference.toString()), ['example.com/a:latest']);
  });
});

describe('registries.conf: merging drop-ins', () => {
  it('replaces [[registry]] tables with the same prefix and adds others', () => {
    const merged = conf(
      `[[registry]]\nprefix = "example.com"\nlocation = "old.example.com"\ninsecure = true\n[[registry]]\nlocation = "keep.example.com"\n`,
      `[[registry]]\nprefix = "example.com"\nlocation = "new.example.com"\n[[registry]]\nlocation = "added.example.com"\nblocked = true\n`,
    );
    assert.deepEqual(merged.registries.map((r) => [r.prefix, r.location, r.insecure, r.origin]), [
      ['added.example.com', 'added.example.com', false, 'drop0.conf'],
      ['example.com', 'new.example.com', false, 'drop0.conf'],
      ['keep.example.com', 'keep.example.com', false, 'main.conf'],
    ]);
  });

  it('replaces arrays and scalars only when the drop-in sets them (even to empty)', () => {
    const merged = conf('unqualified-search-registries = ["a.io", "b.io"]\nshort-name-mode = "enforcing"\n', 'credential-helpers = ["x"]\n', 'unqualified-search-registries = []\n');
    assert.deepEqual(merged.unqualifiedSearchRegistries, []);
    assert.equal(merged.shortNameMode, 'enforcing');
    assert.deepEqual(merged.credentialHelpers, ['x']);
  });

  it('merges [aliases] key by key; an empty value removes an alias', () => {
    const merged = conf(
      '[aliases]\n"alpine" = "docker.io/library/alpine"\n"fedora" = "registry.fedoraproject.org/fedora"\n"ubi" = "registry.access.redhat.com/ubi9"\n',
      '[aliases]\n"alpine" = "quay.io/mirror/alpine"\n"fedora" = ""\n',
    );
    assert.equal(merged.aliases.get('alpine')?.value, 'quay.io/mirror/alpine');
    assert.equal(merged.aliases.get('alpine')?.origin, 'drop0.conf');
    assert.equal(merged.aliases.has('fedora'), false);
    assert.equal(merged.aliases.get('ubi')?.origin, 'main.conf');
  });
});

describe('registries.conf: validation', () => {
  const bad: [string, RegExp][] = [
    ['unqualified-search-registries = "docker.io"', /must be an array of strings/],
    ['unqualified-search-registries = ["https://docker.io"]', /URI schemes are not supported/],
    ['unqualified-search-registries = ["notaregistry"]', /not a registry/],
    ['short-name-mode = "strict"', /invalid short-name-mode "strict"/],
    ['credential-helpers = "pass"', /credential-helpers must be an array/],
    ['[[registry]]\ninsecure = true', /both location and prefix are unset/],
    ['[[registry]]\nprefix = "example.com"', /location may be empty only for a wildcard prefix/],
    ['[[registry]]\nlocation = "example.com"\ninsecure = "yes"', /insecure must be true or false/],
    ['[[registry]]\nprefix = "*.example.com/ns"', /wildcard prefix must have the form \*\.example\.com/],
    ['[[registry]]\nprefix = "example.*.com"\nlocation="x.com"', /wildcard prefix/],
    ['[[registry]]\nlocation = "*.example.com"', /wildcards are only allowed in prefix/],
    ['[[registry]]\nlocation = "example.com"\n[[registry]]\nlocation = "example.com/"', /prefix "example.com" is defined more than once/],
    ['[[registry]]\nprefix="a.com"\nlocation = "x.com"\ninsecure=true\n[[registry]]\nprefix="b.com"\nlocation = "x.com"', /conflicting "insecure"/],
    ['[[registry]]\nlocation = "example.com"\n[[registry.mirror]]\ninsecure = true', /mirror #1: location is required/],
    ['[[registry]]\nlocation = "example.com"\n[[registry.mirror]]\nlocation = "m.com"\npull-from-mirror = "sometimes"', /invalid pull-from-mirror "sometimes"/],
    ['[[registry]]\nlocation = "example.com"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.com"\npull-from-mirror = "tag-only"', /cannot both be set/],
    ['[aliases]\n"docker.io/alpine" = "docker.io/library/alpine"', /must not contain a registry/],
    ['[aliases]\n"alpine:3" = "docker.io/library/alpine"', /must not contain a tag/],
    ['[aliases]\n"alpine" = "alpine"', /must include a registry/],
    ['[aliases]\n"alpine" = "docker.io/library/alpine:3"', /must not contain a tag/],
    ['[aliases]\n"alpine" = 3', /value must be a string/],
    ['unqualified-search-registries = [', /main\.conf: Invalid TOML document.*\(line/],
  ];
  for (const [text, pattern] of bad) {
    it(`rejects ${JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)}`, () => {
      assert.throws(() => conf(text), (error: unknown) => {
        assert.ok(error instanceof RegistriesConfError);
        assert.ok(error instanceof UsageError);
        assert.match(error.message, /^main\.conf: /);
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes('\n'));
        return true;
      });
    });
  }

  it('names the drop-in file that is wrong', () => {
    assert.throws(() => conf('', 'short-name-mode = 1'), /^RegistriesConfError: drop0\.conf: invalid short-name-mode 1/);
    assert.throws(() => conf('', 'short-name-mode = 1'), (e: Error) => e.message.startsWith('drop0.conf:'));
  });

  it('keeps unknown keys as warnings, not errors', () => {
    const loaded = conf('something-new = 1\n[[registry]]\nlocation = "a.com"\nfuture = true\n');
    assert.equal(loaded.warnings.length, 2);
    assert.match(loaded.warnings[0]!, /unknown key "something-new"/);
  });

  it('strips trailing slashes from locations and prefixes', () => {
    const loaded = conf('[[registry]]\nprefix = "example.com/ns/"\nlocation = "mirror.com/ns/"\n');
    assert.equal(loaded.registries[0]!.prefix, 'example.com/ns');
    assert.equal(loaded.registries[0]!.location, 'mirror.com/ns');
  });
});

describe('registries.conf: v1 format', () => {
  it('converts a v1 main file', () => {
    const loaded = conf('[registries.search]\nregistries = ["docker.io", "quay.io"]\n[registries.insecure]\nregistries = ["insecure.example.com"]\n[registries.block]\nregistries = ["bad.example.com", "insecure.example.com"]\n');
    assert.deepEqual(loaded.unqualifiedSearchRegistries, ['docker.io', 'quay.io']);
    const insecure = loaded.findRegistry('insecure.example.com/x');
    assert.equal(insecure?.insecure, true);
    assert.equal(insecure?.blocked, true);
    assert.equal(loaded.isBlocked('bad.example.com/x').blocked, true);
  });

  it('refuses v1 in drop-ins and mixed with v2', () => {
    assert.throws(() => conf('', '[registries.search]\nregistries = ["docker.io"]\n'), /drop0\.conf: the v1 format .* not allowed in drop-in files/);
    assert.throws(() => conf('unqualified-search-registries = ["a.io"]\n[registries.search]\nregistries = ["docker.io"]\n'), /mixes the v1 format/);
  });
});

describe('registries.conf: prefix matching, rewriting, mirrors, blocking', () => {
  const loaded = conf(`
[[registry]]
prefix = "example.com"
location = "example.com"
[[registry.mirror]]
location = "mirror-all.local"
[[registry.mirror]]
location = "mirror-digest.local"
insecure = true
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "mirror-tag.local/sub"
pull-from-mirror = "tag-only"

[[registry]]
prefix = "example.com/team/app"
location = "internal.local:5000/apps/app"
insecure = true

[[registry]]
prefix = "example.com/team"
location = "team.local"

[[registry]]
location = "digests.example.com"
mirror-by-digest-only = true
[[registry.mirror]]
location = "dmirror.local"

[[registry]]
prefix = "*.corp.example"
blocked = true

[[registry]]
prefix = "*.rewrite.example"
location = "central.local"

[[registry]]
prefix = "exact.corp.example"
location = "exact.corp.example"

[[registry]]
prefix = "docker.io/library/busybox"
location = "docker.io/library/busybox"
blocked = true

[[registry]]
prefix = "docker.io/library/alpine:evil"
location = "docker.io/library/alpine:evil"
blocked = true

[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "hub-mirror.local"
`);

  const sources = (ref: string) => loaded.pullSources(ref).map((s) => `${s.reference.toString()}${s.insecure ? ' (insecure)' : ''}${s.mirror ? ' [mirror]' : ''}`);

  it('longest prefix wins, including exact repository prefixes', () => {
    assert.equal(loaded.findRegistry('example.com/team/app:1')?.prefix, 'example.com/team/app');
    assert.equal(loaded.findRegistry('example.com/team/other')?.prefix, 'example.com/team');
    assert.equal(loaded.findRegistry('example.com/team/app/sub')?.prefix, 'example.com/team/app');
    assert.equal(loaded.findRegistry('example.com/team/apple')?.prefix, 'example.com/team');
    assert.equal(loaded.findRegistry('example.com/teamx/a')?.prefix, 'example.com');
    assert.equal(loaded.findRegistry('example.community/a'), undefined);
    assert.equal(loaded.findRegistry('other.example/a'), undefined);
  });

  it('rewrites the matched prefix to the location', () => {
    assert.deepEqual(sources('example.com/team/app:1'), ['internal.local:5000/apps/app:1 (insecure)']);
    assert.deepEqual(sources(`example.com/team/app/sub@${D}`), [`internal.local:5000/apps/app/sub@${D} (insecure)`]);
    assert.deepEqual(sources('example.com/team/x/y:2'), ['team.local/x/y:2']);
  });

  it('orders mirrors and filters them by pull-from-mirror, primary last', () => {
    assert.deepEqual(sources('example.com/ns/img:1'), ['mirror-all.local/ns/img:1 [mirror]', 'mirror-tag.local/sub/ns/img:1 [mirror]', 'example.com/ns/img:1']);
    assert.deepEqual(sources(`example.com/ns/img@${D}`), [
      `mirror-all.local/ns/img@${D} [mirror]`,
      `mirror-digest.local/ns/img@${D} (insecure) [mirror]`,
      `example.com/ns/img@${D}`,
    ]);
    // tag and digest together count as digested
    assert.deepEqual(sources(`example.com/ns/img:1@${D}`).length, 3);
  });

  it('mirror-by-digest-only uses mirrors only for digested references', () => {
    assert.deepEqual(sources('digests.example.com/a:1'), ['digests.example.com/a:1']);
    assert.deepEqual(sources(`digests.example.com/a@${D}`), [`dmirror.local/a@${D} [mirror]`, `digests.example.com/a@${D}`]);
  });

  it('Docker Hub short forms are matched after normalisation', () => {
    assert.deepEqual(sources('alpine'), ['hub-mirror.local/library/alpine:latest [mirror]', 'docker.io/library/alpine:latest']);
    assert.deepEqual(loaded.isBlocked('busybox:1'), { blocked: true, prefix: 'docker.io/library/busybox', origin: 'main.conf' });
    assert.equal(loaded.isBlocked('library/busybox').blocked, true);
    assert.equal(loaded.isBlocked('busyboxx').blocked, false);
  });

  it('prefixes with a tag never match: containers/image matches names only (see the skopeo test)', () => {
    assert.equal(loaded.isBlocked('alpine:evil').blocked, false);
    assert.equal(loaded.findRegistry('alpine:evil')?.prefix, 'docker.io');
  });

  it('wildcard prefixes match subdomains only, explicit prefixes win ties', () => {
    assert.deepEqual(loaded.isBlocked('a.corp.example/x'), { blocked: true, prefix: '*.corp.example', origin: 'main.conf' });
    assert.equal(loaded.isBlocked('a.b.corp.example:5000/x').blocked, true);
    assert.equal(loaded.isBlocked('corp.example/x').blocked, false);
    assert.equal(loaded.isBlocked('exact.corp.example/x').prefix, 'exact.corp.example');
    assert.equal(loaded.isBlocked('exact.corp.example/x').blocked, false);
    assert.deepEqual(sources('x.rewrite.example/a/b:1'), ['central.local/a/b:1']);
  });

  it('pullSources refuses blocked references naming the prefix', () => {
    assert.throws(() => loaded.pullSources('a.corp.example/x'), (error: unknown) => {
      assert.ok(error instanceof RegistryBlockedError);
      assert.match(error.message, /"a\.corp\.example\/x:latest" is blocked by the \[\[registry\]\] prefix "\*\.corp\.example" in main\.conf/);
      return true;
    });
  });

  it('a host prefix also covers that host with a port (containers/image compatibility)', () => {
    assert.equal(loaded.findRegistry('example.com:5000/x')?.prefix, 'example.com');
  });

  it('unmatched references are pulled as they are', () => {
    assert.deepEqual(sources('quay.io/a/b'), ['quay.io/a/b:latest']);
    assert.equal(loaded.pushDestination('example.com/team/app:9').reference.toString(), 'internal.local:5000/apps/app:9');
    assert.equal(loaded.pushDestination(parseReference('example.com/a')).reference.toString(), 'example.com/a:latest');
  });
});

describe('short-name resolution', () => {
  const multi = (mode: string) =>
    conf(`unqualified-search-registries = ["registry.fedoraproject.org", "quay.io", "docker.io"]\nshort-name-mode = "${mode}"\n[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n"tools/x" = "quay.io/tools/x"\n`);
  const names = (r: { candidates: readonly { toString(): string }[] }) => r.candidates.map(String);

  it('uses fully-qualified names as they are', async () => {
    const r = await resolveShortName('quay.io/a/b', { conf: multi('enforcing'), isTTY: false });
    assert.equal(r.rationale, 'fully-qualified');
    assert.deepEqual(names(r), ['quay.io/a/b:latest']);
  });

  it('aliases win, keeping the tag or digest', async () => {
    let r = await resolveShortName('fedora:40', { conf: multi('enforcing'), isTTY: false });
    assert.equal(r.rationale, 'alias');
    assert.equal(r.origin, 'main.conf');
    assert.deepEqual(names(r), ['registry.fedoraproject.org/fedora:40']);
    r = await resolveShortName(`tools/x@${D}`, { conf: multi('enforcing'), isTTY: false });
    assert.deepEqual(names(r), [`quay.io/tools/x@${D}`]);
    r = await resolveShortName('fedora', { conf: multi('enforcing'), isTTY: false });
    assert.deepEqual(names(r), ['registry.fedoraproject.org/fedora:latest']);
  });

  it('the short-name-aliases.conf cache is read (first) when given', async () => {
    const dir = tempDir();
    const cache = write(join(dir, 'short-name-aliases.conf'), '[aliases]\n"fedora" = "quay.io/fedora/fedora"\n"nginx" = "docker.io/library/nginx"\n');
    let r = await resolveShortName('nginx', { conf: multi('enforcing'), isTTY: false, aliasCacheFile: cache });
    assert.deepEqual(names(r), ['docker.io/library/nginx:latest']);
    assert.equal(r.origin, cache);
    r = await resolveShortName('fedora', { conf: multi('enforcing'), isTTY: false, aliasCacheFile: cache });
    assert.deepEqual(names(r), ['quay.io/fedora/fedora:latest']);
    r = await resolveShortName('fedora', { conf: multi('enforcing'), isTTY: false, aliasCacheFile: join(dir, 'missing.conf') });
    assert.deepEqual(names(r), ['registry.fedoraproject.org/fedora:latest']);
    assert.equal(defaultAliasCacheFile({ HOME: '/home/u' }), '/home/u/.cache/containers/short-name-aliases.conf');
    assert.equal(defaultAliasCacheFile({ HOME: '/home/u', XDG_CACHE_HOME: '/c' }), '/c/containers/short-name-aliases.conf');
  });

  it('disabled: all search registries in order, never a prompt', async () => {
    let prompted = false;
    const r = await resolveShortName('alpine:3', { conf: multi('disabled'), isTTY: true, prompt: async () => ((prompted = true), parseReference('quay.io/alpine:3')) });
    assert.equal(prompted, false);
    assert.equal(r.rationale, 'search');
    assert.deepEqual(names(r), ['registry.fedoraproject.org/alpine:3', 'quay.io/alpine:3', 'docker.io/library/alpine:3']);
  });

  it('one search registry is unambiguous in every mode', async () => {
    for (const mode of ['enforcing', 'permissive', 'disabled']) {
      const r = await resolveShortName('user/app', { conf: conf(`unqualified-search-registries = ["docker.io"]\nshort-name-mode = "${mode}"\n`), isTTY: false });
      assert.deepEqual(names(r), ['docker.io/user/app:latest'], mode);
    }
  });

  it('enforcing without a TTY refuses, listing the candidates', async () => {
    await assert.rejects(resolveShortName('alpine', { conf: multi('enforcing'), isTTY: false }), (error: unknown) => {
      assert.ok(error instanceof ShortNameError);
      assert.match(error.message, /short name "alpine" is ambiguous: short-name-mode is "enforcing" \(set in main\.conf\)/);
      assert.match(error.message, /registry\.fedoraproject\.org\/alpine:latest, quay\.io\/alpine:latest, docker\.io\/library\/alpine:latest/);
      assert.deepEqual(error.candidates.length, 3);
      return true;
    });
    // a TTY without a prompt callback is no better
    await assert.rejects(resolveShortName('alpine', { conf: multi('enforcing'), isTTY: true }), /no prompt is available/);
  });

  it('permissive without a TTY tries every candidate in order', async () => {
    const r = await resolveShortName('alpine', { conf: multi('permissive'), isTTY: false, prompt: async () => assert.fail('no prompt without TTY') });
    assert.equal(names(r).length, 3);
  });

  it('with a TTY, enforcing and permissive prompt', async () => {
    for (const mode of ['enforcing', 'permissive']) {
      let offered: string[] = [];
      const r = await resolveShortName(`alpine@${D}`, {
        conf: multi(mode),
        isTTY: true,
        prompt: async (short, candidates) => {
          assert.equal(short, `alpine@${D}`);
          offered = candidates.map(String);
          return candidates[1]!;
        },
      });
      assert.equal(offered.length, 3);
      assert.equal(r.rationale, 'prompt');
      assert.equal(r.selectedByUser, true);
      assert.deepEqual(names(r), [`quay.io/alpine@${D}`]);
    }
    await assert.rejects(
      resolveShortName('alpine', { conf: multi('enforcing'), isTTY: true, prompt: async () => parseReference('evil.example/alpine') }),
      /not one of the candidates/,
    );
  });

  it('without aliases or search registries, says so', async () => {
    await assert.rejects(resolveShortName('alpine', { conf: conf(''), isTTY: false }), /did not resolve to an alias and no unqualified-search-registries are configured \(none are defined in main\.conf\)/);
  });

  it('invalid input is reported, not resolved', async () => {
    await assert.rejects(resolveShortName('Alpine', { conf: multi('disabled'), isTTY: false }), /must be lowercase/);
  });
});

// skopeo reads the same file format: check that it blocks exactly what we block.
describe('registries.conf interop with skopeo', () => {
  it('skopeo agrees on which references are blocked', { timeout: 15_000 }, async () => {
    const skopeo = requireTool('skopeo');
    const dir = tempDir();
    const path = write(join(dir, 'registries.conf'), `
[[registry]]
prefix = "127.0.0.1:9/blocked"
location = "127.0.0.1:9/blocked"
blocked = true
[[registry]]
prefix = "*.wild.invalid"
blocked = true
[[registry]]
prefix = "127.0.0.1:9/ns/app:bad"
location = "127.0.0.1:9/ns/app:bad"
blocked = true
`);
    const ours = loadRegistriesConf({ path });
    const refs = ['127.0.0.1:9/blocked/x:1', '127.0.0.1:9/blocked:1', '127.0.0.1:9/blockedx/y:1', 'a.wild.invalid/x:1', '127.0.0.1:9/ns/app:bad', '127.0.0.1:9/ns/app:good'];
    for (const ref of refs) {
      // Every reference fails (nothing listens on 127.0.0.1:9, *.invalid does not resolve);
      // the question is only whether skopeo says it is blocked.
      const result = await run(skopeo, ['--registries-conf', path, 'inspect', '--retry-times', '0', `docker://${ref}`], { env: { HOME: dir }, timeoutMs: 10_000 });
      assert.equal(/is blocked in/.test(result.stderr), ours.isBlocked(ref).blocked, `${ref}: ${explain(result)}`);
    }
  });
});
