// The web catalog's small parts: escaping templates, safe Markdown, sessions, the
// Containerfile reconstruction, tag comparison and the asset bundle.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { html, safeUrl, trusted } from '../src/ui/html.ts';
import { renderMarkdown } from '../src/ui/markdown.ts';
import { sameToken } from '../src/ui/web-sessions.ts';
import { cookie } from '../src/ui/web-response.ts';
import { instructionOf, imageFacts, layersWithSteps } from '../src/catalog/image-config.ts';
import { compareImages, searchQueryFrom } from '../src/catalog/catalog-search.ts';
import { UiAssets } from '../src/ui/assets.ts';
import type { Finding, InstalledPackage } from '../src/core/quality.ts';

const HOSTILE = `<img src=x onerror="alert(1)"><script>alert(2)</script>'"\``;

describe('escaping templates', () => {
  it('escapes every interpolation, arrays included; Html passes through', () => {
    const out = html`<p title="${HOSTILE}">${HOSTILE}${[HOSTILE, html`<b>ok</b>`]}${null}${undefined}${false}${0}</p>`.text;
    assert.ok(!out.includes('<img') && !out.includes('<script') && !out.includes('"alert'), out);
    assert.match(out, /&lt;img src=x onerror=&quot;alert\(1\)&quot;&gt;/);
    assert.ok(out.includes('<b>ok</b>'));
    assert.ok(out.endsWith('0</p>'));
    assert.equal(html`${trusted('<i>x</i>')}`.text, '<i>x</i>');
  });

  it('keeps only same-site, http(s) and mailto URLs', () => {
    for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', 'data:text/html,x', '//evil.example/x', 'vbscript:x']) assert.equal(safeUrl(bad), '#', bad);
    for (const good of ['/r/acme/app', 'https://example.com/x', 'mailto:a@example.com', '#top']) assert.equal(safeUrl(good), good);
  });
});

describe('Markdown descriptions', () => {
  it('renders Markdown and shows raw HTML as text; links only to safe URLs; no images', () => {
    const out = renderMarkdown(`# Title\n\n**bold** ${HOSTILE}\n\n<div onclick="x()">block</div>\n\n[a](javascript:alert(1)) [b](https://example.com) ![i](https://evil.example/p.png)\n\n\`\`\`\n<script>x</script>\n\`\`\``).text;
    assert.ok(out.includes('<h1>Title</h1>') && out.includes('<strong>bold</strong>'));
    assert.ok(!/<(img|script|div)\b/i.test(out), out);
    assert.ok(!out.includes('javascript:'), out);
    assert.ok(out.includes('href="https://example.com"'));
    assert.ok(out.includes('&lt;div onclick'));
  });
});

describe('web session tokens (the store contract is in test/suites/web-session-suite.ts)', () => {
  it('session cookies are HttpOnly and SameSite, Secure under TLS', () => {
    assert.equal(cookie('custody_session', 'v', { secure: false }), 'custody_session=v; Path=/; HttpOnly; SameSite=Lax');
    assert.equal(cookie('custody_session', 'v', { secure: true }), 'custody_session=v; Path=/; HttpOnly; SameSite=Lax; Secure');
  });

  it('compares tokens in constant time, refusing missing ones', () => {
    assert.ok(sameToken('abc', 'abc'));
    assert.ok(!sameToken('abc', 'abd'));
    assert.ok(!sameToken(undefined, 'abc'));
    assert.ok(!sameToken('abc', 'abcd'));
  });
});

describe('image history', () => {
  it('turns Docker, buildah and BuildKit history into Containerfile instructions', () => {
    assert.equal(instructionOf('/bin/sh -c #(nop)  CMD ["bash"]'), 'CMD ["bash"]');
    assert.equal(instructionOf('/bin/sh -c apt-get update'), 'RUN apt-get update');
    assert.equal(instructionOf('|2 A=1 B=2 /bin/sh -c make'), 'RUN make');
    assert.equal(instructionOf('RUN /bin/sh -c make # buildkit'), 'RUN /bin/sh -c make');
    assert.equal(instructionOf('debootstrap --variant=minbase'), '# debootstrap --variant=minbase');
  });

  it('pairs layers with the history steps that made them, only when they line up', () => {
    const facts = imageFacts({ history: [{ created_by: '/bin/sh -c #(nop) ADD file:x in /' }, { created_by: '/bin/sh -c #(nop) CMD ["sh"]', empty_layer: true }, { created_by: '/bin/sh -c make' }] });
    const manifest = { layers: [{ mediaType: 'l', digest: 'sha256:1', size: 1 }, { mediaType: 'l', digest: 'sha256:2', size: 2 }] };
    assert.deepEqual(layersWithSteps(manifest, facts).map((layer) => layer.step), ['ADD file:x in /', 'RUN make']);
    assert.deepEqual(layersWithSteps({ layers: [manifest.layers[0]!] }, facts).map((layer) => layer.step), [null]);
  });
});

describe('comparing tags', () => {
  const pkg = (name: string, version: string): InstalledPackage => ({ ecosystem: 'deb', name, version, path: 'var/lib/dpkg/status', layer: 'sha256:1', purl: `pkg:deb/debian/${name}@${version}` });
  const finding = (id: string, name: string): Finding => ({ advisoryId: id, source: 'debian', kind: 'security', cves: [], severity: 'High', issued: null, package: { name, version: '1', ecosystem: 'deb', layer: 'sha256:1', path: 'p' }, fixedVersion: '2' });
  it('lists packages added, removed and updated, advisories fixed and introduced, and the grade change', () => {
    const result = compareImages(
      { packages: [pkg('a', '1'), pkg('b', '1'), pkg('c', '1')], findings: [finding('DSA-1', 'a'), finding('DSA-2', 'b')], grade: 'C' },
      { packages: [pkg('a', '2'), pkg('c', '1'), pkg('d', '1')], findings: [finding('DSA-2', 'b'), finding('DSA-3', 'd')], grade: 'B' },
    );
    assert.deepEqual(result.added.map((c) => c.name), ['d']);
    assert.deepEqual(result.removed.map((c) => c.name), ['b']);
    assert.deepEqual(result.updated.map((c) => `${c.name} ${c.from}->${c.to}`), ['a 1->2']);
    assert.deepEqual(result.fixed.map((a) => a.advisoryId), ['DSA-1']);
    assert.deepEqual(result.introduced.map((a) => a.advisoryId), ['DSA-3']);
    assert.deepEqual(result.grade, { from: 'C', to: 'B' });
  });

  it('reads search parameters defensively', () => {
    const query = searchQueryFrom(new URLSearchParams('q=%20curl%20&grade=Z&signed=maybe&sort=grade&page=-2&pushed=7'));
    assert.deepEqual({ ...query }, { text: 'curl', namespace: undefined, grade: undefined, signed: undefined, os: undefined, arch: undefined, pushedWithinDays: 7, sort: 'grade', page: undefined, perPage: undefined });
  });
});

describe('assets', () => {
  it('are named by their content hash, and the stylesheet, script and font stay small compressed', () => {
    const assets = new UiAssets();
    for (const asset of [assets.stylesheet, assets.script, assets.font]) {
      assert.match(asset.path, /^\/-\/assets\/[\w.-]+\.[0-9a-f]{16}\.(css|js|woff2)$/);
      assert.equal(assets.find(asset.path), asset);
    }
    assert.equal(assets.find(assets.stylesheet.path.replace(/[0-9a-f]{16}/, '0'.repeat(16))), undefined);
    // Even the quick compression made at start is within the budget.
    const transferred = assets.stylesheet.brotli!.length + assets.script.brotli!.length + assets.font.body.length;
    assert.ok(transferred < 130 * 1024, `${transferred} bytes`);
    assert.ok(assets.stylesheet.body.toString().includes(assets.font.path), 'the stylesheet names the hashed font');
  });
});
