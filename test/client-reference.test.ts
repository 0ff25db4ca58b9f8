import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isShortName, makeReference, parseReference, parseShortName, ReferenceError } from '../src/client/reference.ts';
import { UsageError } from '../src/core/errors.ts';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference: Docker Hub normalisation', () => {
  const cases: [string, string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20', 'alpine:3.20'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['library/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['index.docker.io/user/app:1', 'docker.io/user/app:1', 'user/app:1'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest', 'localhost:5000/app:latest'],
    ['quay.io/ns/repo:v1', 'quay.io/ns/repo:v1', 'quay.io/ns/repo:v1'],
    ['registry:5000/repo', 'registry:5000/repo:latest', 'registry:5000/repo:latest'],
    ['[::1]:5000/repo', '[::1]:5000/repo:latest', '[::1]:5000/repo:latest'],
    ['10.0.0.1:5000/a/b/c', '10.0.0.1:5000/a/b/c:latest', '10.0.0.1:5000/a/b/c:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    it(`${input} → ${full}`, () => {
      const ref = parseReference(input);
      assert.equal(ref.toString(), full);
      assert.equal(ref.familiar(), familiar);
    });
  }

  it('splits registry, repository, tag and digest', () => {
    const ref = parseReference(`example.com:443/ns/repo:v1@${D}`);
    assert.equal(ref.registry, 'example.com:443');
    assert.equal(ref.repository, 'ns/repo');
    assert.equal(ref.tag, 'v1');
    assert.equal(ref.digest, D);
    assert.equal(ref.name, 'example.com:443/ns/repo');
    assert.equal(ref.toString(), `example.com:443/ns/repo:v1@${D}`);
  });

  it('defaults the tag to latest only when neither tag nor digest is given', () => {
    assert.equal(parseReference(`alpine@${D}`).tag, undefined);
    assert.equal(parseReference(`alpine@${D}`).toString(), `docker.io/library/alpine@${D}`);
    assert.equal(parseReference(`alpine@${D}`).familiar(), `alpine@${D}`);
    assert.equal(parseReference('alpine').tag, 'latest');
    assert.equal(parseReference('alpine', { defaultTag: false }).tag, undefined);
  });

  it('a first component without . or : that is not localhost is a namespace', () => {
    assert.equal(parseReference('myregistry/app').registry, 'docker.io');
    assert.equal(parseReference('myregistry/app').repository, 'myregistry/app');
  });

  it('makeReference builds and validates', () => {
    assert.equal(makeReference('example.com', 'a/b', 't').toString(), 'example.com/a/b:t');
    assert.throws(() => makeReference('example.com', 'A'), ReferenceError);
  });
});

describe('parseReference: validation', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Alpine', /must be lowercase/],
    ['example.com/Ns/Repo', /must be lowercase/],
    ['alpine:-bad', /invalid tag/],
    [`alpine:${'a'.repeat(129)}`, /invalid tag/],
    ['alpine@sha256:abc', /sha256/],
    ['alpine@md5:abcd', /unsupported digest algorithm/],
    ['alpine@', /digest/],
    [`example.com/${'a'.repeat(250)}`, /longer than 255/],
    ['example.com//repo', /empty path component/],
    ['example.com/repo/', /empty path component/],
    ['https://example.com/repo', /URL scheme/],
    ['a b', /whitespace/],
    ['example.com/re..po', /invalid repository path component/],
    ['exa_mple.com/repo', /invalid registry/],
    ['-x.com/repo', /invalid registry/],
    ['a'.repeat(64), /image ID/],
    [':tag', /missing repository/],
    ['example.com/', /missing repository|empty path/],
  ];
  for (const [input, pattern] of bad) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(() => parseReference(input), (error: unknown) => {
        assert.ok(error instanceof ReferenceError);
        assert.ok(error instanceof UsageError);
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes('\n'));
        return true;
      });
    });
  }

  it('accepts separators allowed by the grammar', () => {
    for (const name of ['a_b', 'a__b', 'a.b', 'a-b', 'a---b', 'a0/b-c/d_e']) assert.doesNotThrow(() => parseReference(`example.com/${name}`), name);
    for (const name of ['a___b', '_a', 'a-', 'a.-b']) assert.throws(() => parseReference(`example.com/${name}`), ReferenceError, name);
  });

  it('accepts a 255-character name and 128-character tag', () => {
    const name = `example.com/${'a'.repeat(255 - 'example.com/'.length)}`;
    assert.equal(parseReference(`${name}:${'t'.repeat(128)}`).name, name);
  });
});

describe('short names', () => {
  it('isShortName', () => {
    for (const name of ['alpine', 'alpine:3', `alpine@${D}`, 'user/app', 'library/alpine', 'a/b/c']) assert.equal(isShortName(name), true, name);
    for (const name of ['docker.io/alpine', 'localhost/x', 'host:5000/x', 'quay.io/a/b', 'Alpine', '']) assert.equal(isShortName(name), false, name);
  });

  it('parseShortName keeps the repository as typed', () => {
    assert.deepEqual(parseShortName('user/app:1'), { repository: 'user/app', tag: '1', digest: undefined });
    assert.deepEqual(parseShortName(`alpine@${D}`), { repository: 'alpine', tag: undefined, digest: D });
    assert.throws(() => parseShortName('quay.io/app'), /not a short name/);
    assert.throws(() => parseShortName('Bad'), /lowercase/);
  });
});
