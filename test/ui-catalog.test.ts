// The web catalog in a real Chromium (Debian's, driven by playwright-core; no browser is
// downloaded): a newcomer's journey through `custody serve` with real images pushed by
// skopeo and advisories imported by `custody vulndb import`; what an anonymous visitor
// sees; a hostile image rendered inert; axe-core on every page; screenshots for the README.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, runCustody, startCustody, type CustodyServer } from './support/custody-server.ts';
import { debianLayout, ociRef, sha256, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from './support/images.ts';
import { LAYER_A, tarOf } from './support/hostile-images.ts';
import { gzipSync } from 'node:zlib';
import { requireTool, runOk } from './support/tools.ts';
import { checkAccessibility, watchPage } from './support/catalog-browser.ts';
import { repoRoot, sharedDir } from './support/paths.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOTS = join(repoRoot, 'docs', 'screenshots');
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const DAY = 86_400_000;
/** The image's own build file, where Red Hat images keep it (hostile too). */
const BUILDINFO_LAYER = gzipSync(tarOf({ 'root/buildinfo/Dockerfile-hostile-1.0-1': `FROM registry.example/base\nRUN echo '${HOSTILE}'\n` }));

describe('web catalog in Chromium', () => {
  let server: CustodyServer;
  let work: string;
  let browser: Browser;
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, { ...init, headers: { authorization: basic, ...(init.headers ?? {}) } });
  }

  async function pushBlob(repository: string, body: Buffer): Promise<void> {
    const response = await api(`/v2/${repository}/blobs/uploads/?digest=${sha256(body)}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(response.status, 201, await response.text());
  }

  /** An image whose labels, annotations and history are hostile HTML. */
  async function pushHostileImage(repository: string, tag: string): Promise<void> {
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: new Date().toISOString(),
      config: { Labels: { 'org.opencontainers.image.vendor': HOSTILE, evil: HOSTILE }, Env: [`X=${HOSTILE}`], Cmd: [HOSTILE] },
      rootfs: { type: 'layers', diff_ids: [] },
      history: [{ created_by: `/bin/sh -c echo '${HOSTILE}'` }],
    }));
    await pushBlob(repository, config);
    await pushBlob(repository, LAYER_A);
    await pushBlob(repository, BUILDINFO_LAYER);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(LAYER_A), size: LAYER_A.length }, { mediaType: OCI_LAYER_GZIP, digest: sha256(BUILDINFO_LAYER), size: BUILDINFO_LAYER.length }],
      annotations: { 'org.opencontainers.image.description': `# Hostile\n${HOSTILE}\n[click](javascript:window.__pwned=3)` },
    }));
    const response = await api(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(response.status, 201, await response.text());
  }

  async function newPage(context?: BrowserContext): Promise<{ page: Page; context: BrowserContext; problems: string[] }> {
    const ctx = context ?? (await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true }));
    const page = await ctx.newPage();
    const problems = watchPage(page);
    return { page, context: ctx, problems };
  }


  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function logIn(page: Page): Promise<void> {
    await page.goto(`${server.url}/login`);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(`${server.url}/`);
  }

  async function waitGraded(repository: string, tag: string, grade: string): Promise<void> {
    const manifest = await api(`/v2/${repository}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST } });
    const digest = manifest.headers.get('docker-content-digest')!;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const response = await api(`/api/v1/repositories/${repository}/-/manifests/${digest}/grade`);
      if (response.status === 200 && ((await response.json()) as { grade: string }).grade === grade) return;
      assert.ok(Date.now() < deadline, `${repository}:${tag} not graded ${grade} after 90 s`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  before(async () => {
    requireTool('skopeo');
    work = await mkdtemp(join(tmpdir(), 'custody-ui-'));
    await mkdir(SCREENSHOTS, { recursive: true });
    server = await startCustody({ auth: true, env: { CUSTODY_AUTH_ANONYMOUS_PULL: 'true' } });
    for (const tag of ['bookworm-minbase', 'bookworm-curl']) {
      await runOk('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `admin:${ADMIN_PASSWORD}`, ociRef(debianLayout(), tag), `docker://${server.host}/admin/debian:${tag}`]);
    }
    await pushHostileImage('admin/hostile', 'latest');
    // The shared feed samples, and one advisory of our own (a Critical for curl published
    // ten days ago, fixed in a later version) so the journey meets a finding and a grade C.
    const feed = join(work, 'feed');
    await mkdir(feed);
    const published = new Date(Date.now() - 10 * DAY).toISOString();
    await writeFile(join(feed, 'OSV-CUSTODY-UI-1.json'), JSON.stringify({
      id: 'OSV-CUSTODY-UI-1', modified: published, published, aliases: ['CVE-2099-0001'], summary: 'test advisory for curl', database_specific: { severity: 'CRITICAL' },
      affected: [{ package: { ecosystem: 'Debian:12', name: 'curl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '7.88.1-10+deb12u99' }] }] }],
    }));
    for (const source of [sharedDir('feeds'), feed]) {
      const imported = await runCustody(['vulndb', 'import', '--db', join(server.dataDir, 'custody.db'), source]);
      assert.equal(imported.code, 0, imported.stderr);
    }
    await waitGraded('admin/debian', 'bookworm-curl', 'C');
    await waitGraded('admin/debian', 'bookworm-minbase', 'A');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a newcomer logs in, finds bookworm-curl, judges it, compares, copies the pinned pull and downloads the SBOM', async () => {
    const { page, context, problems } = await newPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.goto(`${server.url}/`);
    await checkAccessibility(page, 'explore (anonymous)');
    await page.goto(`${server.url}/login`);
    await screenshot(page, 'login');
    await checkAccessibility(page, 'login');
    await logIn(page);

    // 2. Search curl and open the repository, then the bookworm-curl tag.
    await page.fill('#f-q', 'curl');
    await page.click('form[role=search] button[type=submit]');
    await page.waitForURL(/\?q=curl/);
    assert.equal(await page.locator('table[aria-label=Repositories] tbody tr').count(), 1);
    await screenshot(page, 'explore');
    await checkAccessibility(page, 'explore');
    await page.click('a:has-text("admin/debian")');
    await page.waitForURL(/\/r\/admin\/debian$/);
    await screenshot(page, 'repository');
    await checkAccessibility(page, 'repository');
    await page.click('table[aria-label=Tags] a:has-text("bookworm-curl")');
    await page.waitForURL(/\/-\/image\/bookworm-curl$/);
    await screenshot(page, 'image-overview');
    await checkAccessibility(page, 'image overview');

    // 3. All 106 packages of the shared list, the findings and the grade.
    await page.click('.custody-tabs a:has-text("Packages")');
    const expected = (await readFile(sharedDir('images', 'debian-bookworm-curl.packages.tsv'), 'utf8')).split('\n').filter((line) => line && !line.startsWith('#')).map((line) => line.split('\t')[0]!).sort();
    assert.equal(expected.length, 106);
    const shown = (await page.locator('#packages tbody tr td:nth-child(2)').allTextContents()).sort();
    assert.deepEqual(shown, expected);
    await page.fill('#pkg-filter', 'libcurl4');
    assert.equal(await page.locator('#packages tbody tr:visible').count(), 1, 'filter as you type');
    await checkAccessibility(page, 'image packages');
    await page.click('.custody-tabs a:has-text("Security")');
    const findings = await page.locator('table[aria-label=Findings] tbody tr').allTextContents();
    assert.deepEqual(findings.map((row) => row.includes('OSV-CUSTODY-UI-1')), [true, true]);
    assert.ok(findings.some((row) => row.includes('libcurl4')) && findings.some((row) => row.includes('curl')));
    await screenshot(page, 'image-security');
    await checkAccessibility(page, 'image security');
    await page.click('.custody-tabs a:has-text("Health")');
    const meter = page.locator('[role=meter]').last();
    assert.equal(await meter.getAttribute('aria-valuenow'), '3');
    assert.match((await meter.getAttribute('aria-valuetext'))!, /Grade C/);
    assert.match(await page.locator('main').textContent() ?? '', /oldest unapplied Critical security erratum is OSV-CUSTODY-UI-1/);
    await screenshot(page, 'image-health');
    await checkAccessibility(page, 'image health');
    for (const tab of ['Containerfile', 'Layers', 'Signatures', 'Referrers']) {
      await page.click(`.custody-tabs a:has-text("${tab}")`);
      await checkAccessibility(page, `image ${tab}`);
      if (tab === 'Containerfile') {
        assert.match((await page.locator('#containerfile').textContent())!, /^(ADD|COPY|RUN|#)/m);
        await screenshot(page, 'image-containerfile');
      }
    }
    // On a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('.custody-tabs a:has-text("Overview")');
    await screenshot(page, 'image-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // 6. Download the SPDX SBOM (Referrers tab).
    await page.click('.custody-tabs a:has-text("Referrers")');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('a:has-text("SPDX 2.3")')]);
    const spdx = JSON.parse(await readFile((await download.path())!, 'utf8')) as { spdxVersion: string; packages: { name: string }[] };
    assert.equal(spdx.spdxVersion, 'SPDX-2.3');
    for (const name of expected) assert.ok(spdx.packages.some((p) => p.name === name), `SBOM lists ${name}`);

    // 4. Switch to bookworm-minbase with the tag selector, then compare the two tags.
    await page.click('.custody-tabs a:has-text("Overview")');
    await page.selectOption('#sel-tag', 'bookworm-minbase');
    await page.waitForURL(/ref=bookworm-minbase/);
    assert.match(await page.locator('h1').textContent() ?? '', /bookworm-minbase/);
    await page.goto(`${server.url}/r/admin/debian`);
    await page.selectOption('#cmp-from', 'bookworm-minbase');
    await page.selectOption('#cmp-to', 'bookworm-curl');
    await page.click('button:has-text("Compare tags")');
    await page.waitForURL(/compare\?from=bookworm-minbase&to=bookworm-curl/);
    const summary = await page.locator('section:has(h2:has-text("Summary"))').textContent();
    assert.match(summary!, /18 added, 0 removed, 0 updated/);
    assert.match(summary!, /1 introduced/);
    assert.equal(await page.locator('section:has(h2:has-text("Summary")) .custody-grade').allTextContents().then((g) => g.join('→')), 'A→C');
    await screenshot(page, 'compare');
    await checkAccessibility(page, 'compare');

    // 5. Copy the pinned pull command.
    await page.goto(`${server.url}/r/admin/debian/-/image/bookworm-curl`);
    await page.click('button[data-copy="cmd-podman-digest"]');
    const copied = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
    const digest = (await (await api('/v2/admin/debian/manifests/bookworm-curl', { method: 'HEAD', headers: { accept: OCI_MANIFEST } })).headers.get('docker-content-digest'))!;
    assert.equal(copied, `podman pull ${server.host}/admin/debian@${digest}`);

    // Package search: which images ship openssl, in which version.
    await page.goto(`${server.url}/packages?name=openssl`);
    const rows = await page.locator('table tbody tr').allTextContents();
    assert.ok(rows.some((row) => row.includes('bookworm-curl') && row.includes('3.0.22-1~deb12u2')), rows.join('\n'));
    await checkAccessibility(page, 'packages');
    await page.goto(`${server.url}/settings/tokens`);
    await checkAccessibility(page, 'tokens');

    // The same data in /api/v1/catalog.
    const compared = (await (await api('/api/v1/catalog/repositories/admin/debian/-/compare?from=bookworm-minbase&to=bookworm-curl')).json()) as { added: unknown[]; introduced: { advisoryId: string }[]; grade: { from: string; to: string } };
    assert.equal(compared.added.length, 18);
    assert.deepEqual(compared.introduced.map((a) => a.advisoryId), ['OSV-CUSTODY-UI-1']);
    assert.deepEqual(compared.grade, { from: 'A', to: 'C' });
    const shipping = (await (await api('/api/v1/catalog/packages?name=openssl')).json()) as { images: { tag: string; package: { name: string; version: string } }[] };
    assert.ok(shipping.images.some((hit) => hit.tag === 'bookworm-curl' && hit.package.name === 'openssl' && hit.package.version === '3.0.22-1~deb12u2'));
    // Filters and sorting of explore, through the API that carries the same search.
    const names = async (query: string): Promise<string[]> => ((await (await api(`/api/v1/catalog/repositories?${query}`)).json()) as { items: { name: string }[] }).items.map((item) => item.name);
    assert.deepEqual(await names('grade=C'), ['admin/debian']);
    assert.deepEqual(await names('grade=C&namespace=other'), []);
    assert.deepEqual(await names('signed=yes'), []);
    assert.deepEqual(await names('q=CURL&os=linux&arch=amd64&pushed=1'), ['admin/debian']);
    assert.deepEqual(await names('arch=arm64'), []);
    assert.deepEqual(await names('sort=grade'), ['admin/hostile', 'admin/debian'], 'A before C');
    assert.deepEqual(await names('perPage=1&page=2'), ['admin/hostile']);
    const image = (await (await api('/api/v1/catalog/repositories/admin/debian/-/images/bookworm-curl')).json()) as { image: { layers: unknown[]; containerfile: string } };
    assert.equal(image.image.layers.length, 2);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('settings: an admin makes a repository public and sets its description; a token is shown once and revoked', async () => {
    const { page, context, problems } = await newPage();
    // A session id planted before login is not the one the login uses.
    const planted = 'p'.repeat(43);
    await context.addCookies([{ name: 'custody_session', value: planted, url: server.url }]);
    await logIn(page);
    const session = (await context.cookies(server.url)).find((cookie) => cookie.name === 'custody_session')!;
    assert.notEqual(session.value, planted);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    await page.goto(`${server.url}/r/admin/hostile/-/settings`);
    await page.check('input[name=visibility][value=public]');
    await page.fill('#description', `Hostile **fixture**\n\n${HOSTILE}`);
    await page.click('button:has-text("Save")');
    await page.waitForURL(/\/-\/settings$/);
    assert.ok(await page.isChecked('input[name=visibility][value=public]'));
    await checkAccessibility(page, 'repository settings');
    await screenshot(page, 'settings');

    await page.goto(`${server.url}/settings/tokens`);
    await page.fill('#token-name', 'ci');
    await page.click('button:has-text("Create token")');
    const token = (await page.locator('#new-token').textContent())!;
    assert.match(token, /^cst_pat_/);
    assert.equal((await fetch(`${server.url}/api/v1/user`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
    await page.goto(`${server.url}/settings/tokens`);
    assert.equal(await page.locator('#new-token').count(), 0, 'shown once');
    await page.click('button[aria-label="Revoke ci"]');
    await page.waitForURL(/\/settings\/tokens$/);
    assert.equal(await page.locator('#token-name').count(), 1, 'still logged in after revoking');
    assert.equal((await fetch(`${server.url}/api/v1/user`, { headers: { authorization: `Bearer ${token}` } })).status, 401);

    // A form posted without its CSRF token is refused.
    const forged = await page.evaluate(async () => (await fetch('/settings/tokens', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=create&name=forged' })).status);
    assert.equal(forged, 403);
    problems.splice(0); // that 403 was asked for
    // Logging out ends the session.
    await page.click('button:has-text("Log out")');
    await page.goto(`${server.url}/settings/tokens`);
    assert.match(page.url(), /\/login/);
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('an anonymous visitor sees public repositories only, and a hostile image renders inert', async () => {
    const { page, context, problems } = await newPage();
    await page.goto(`${server.url}/`);
    const names = await page.locator('table[aria-label=Repositories] tbody tr td:first-child a').allTextContents();
    assert.deepEqual(names, ['admin/hostile']);
    assert.match((await page.locator('[role=status]').first().textContent())!, /^1 repository/);
    await page.goto(`${server.url}/?q=debian`);
    assert.equal(await page.locator('table[aria-label=Repositories]').count(), 0);
    const hidden = await page.goto(`${server.url}/r/admin/debian`);
    assert.equal(hidden!.status(), 404);
    const missing = await page.goto(`${server.url}/r/admin/nothing-here`);
    assert.equal(missing!.status(), 404);
    assert.equal(await page.locator('main').textContent(), await (async () => {
      await page.goto(`${server.url}/r/admin/debian`);
      return page.locator('main').textContent();
    })(), 'a private repository looks exactly like a missing one');
    // The API shows the same: public repositories only, the private one unknown.
    const listed = (await (await fetch(`${server.url}/api/v1/catalog/repositories`)).json()) as { total: number; items: { name: string }[] };
    assert.deepEqual(listed.items.map((item) => item.name), ['admin/hostile']);
    assert.equal(listed.total, 1);
    assert.equal((await fetch(`${server.url}/api/v1/catalog/repositories/admin/debian/-/tags`)).status, 404);
    // The 404s above were asked for.
    problems.splice(0);
    await page.goto(`${server.url}/packages?name=curl`);
    assert.equal(await page.locator('table').count(), 0, 'package search shows nothing private');

    for (const path of ['/r/admin/hostile', '/r/admin/hostile/-/image/latest', '/r/admin/hostile/-/image/latest?tab=containerfile']) {
      await page.goto(`${server.url}${path}`);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, `${path}: no script ran`);
      assert.equal(await page.locator('main img, main script').count(), 0, `${path}: no element from the image`);
      assert.ok((await page.locator('main').textContent())!.includes('<img src=x onerror='), `${path}: shown as text`);
    }
    // The build file the image ships is shown instead of the reconstruction.
    await page.goto(`${server.url}/r/admin/hostile/-/image/latest?tab=containerfile`);
    assert.match((await page.locator('main').textContent())!, /\/root\/buildinfo\/Dockerfile-hostile-1\.0-1/);
    assert.match((await page.locator('#containerfile').textContent())!, /^FROM registry\.example\/base\nRUN echo '<img src=x/);
    await page.goto(`${server.url}/r/admin/hostile`);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    await screenshot(page, 'hostile');
    await checkAccessibility(page, 'hostile repository');
    assert.deepEqual(problems, []);
    await context.close();
  });

  it('a page and its critical assets stay under 150 KB transferred; assets are immutable with hashed names', async () => {
    const get = (path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(`${server.url}${path}`, { headers: { 'accept-encoding': 'br, gzip', authorization: basic } }, (res) => {
          let bytes = 0;
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => { bytes += chunk.length; chunks.push(chunk); });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes, body: Buffer.concat(chunks).toString('latin1') }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/', '/r/admin/hostile', '/r/admin/hostile/-/image/latest']) {
      const page = await get(path);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
      const assets = [...page.body.matchAll(/(?:href|src)="(\/-\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.equal(assets.length, 3, 'stylesheet, font and script');
      let total = page.bytes;
      for (const asset of assets) {
        const response = await get(asset);
        assert.equal(response.status, 200);
        assert.match(String(response.headers['cache-control']), /immutable/);
        assert.match(asset, /\.[0-9a-f]{16}\.(css|js|woff2)$/);
        total += response.bytes;
      }
      assert.ok(total < 150 * 1024, `${path}: ${total} bytes`);
    }
  });
});
