// The lifecycle in the web catalog, in a real Chromium (Debian's, driven by playwright-core):
// the time machine (v1 pushed twice, deleted through the API, restored to A through the
// tag history page, and skopeo sees A), expiry and immutability in the tag table, webhooks
// created on the settings page receiving the test event in a receiver the test starts, the
// namespace quota, hostile values rendered inert, axe-core on the new pages, screenshots.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { sha256, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST } from './support/images.ts';
import { LAYER_A } from './support/hostile-images.ts';
import { requireTool, runOk } from './support/tools.ts';
import { checkAccessibility, watchPage } from './support/catalog-browser.ts';
import { repoRoot } from './support/paths.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';
import { verifyWebhookSignature } from '../src/webhooks/signature.ts';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOTS = join(repoRoot, 'docs', 'screenshots');
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const REPO = 'admin/webapp';

describe('lifecycle in the web catalog (Chromium)', () => {
  let server: CustodyServer;
  let browser: Browser;
  const receiver = new WebhookReceiver();
  const basic = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

  async function api(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${server.url}${path}`, { ...init, headers: { authorization: basic, ...(init.headers ?? {}) } });
  }

  async function pushBlob(repository: string, body: Buffer): Promise<void> {
    const response = await api(`/v2/${repository}/blobs/uploads/?digest=${sha256(body)}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(response.status, 201, await response.text());
  }

  /** A small image, distinct by `variant`; answers its manifest digest. */
  async function pushImage(repository: string, tag: string, variant: string): Promise<string> {
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date().toISOString(), config: { Labels: { variant } }, rootfs: { type: 'layers', diff_ids: [] } }));
    await pushBlob(repository, config);
    await pushBlob(repository, LAYER_A);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length }, layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(LAYER_A), size: LAYER_A.length }] }));
    const response = await api(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': OCI_MANIFEST } });
    assert.equal(response.status, 201, await response.text());
    return sha256(manifest);
  }

  async function newPage(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems = watchPage(page);
    return { page, problems, close: () => context.close() };
  }


  async function logIn(page: Page, user = 'admin', password = ADMIN_PASSWORD): Promise<void> {
    await page.goto(`${server.url}/login`);
    await page.fill('#username', user);
    await page.fill('#password', password);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(`${server.url}/`);
  }

  async function assertInert(page: Page, what: string): Promise<void> {
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined, `${what}: no script ran`);
    assert.equal(await page.locator('main img, main script').count(), 0, `${what}: no element from hostile input`);
  }

  before(async () => {
    requireTool('skopeo');
    await mkdir(SCREENSHOTS, { recursive: true });
    await receiver.start();
    server = await startCustody({ auth: true, env: { CUSTODY_QUALITY_ENABLED: 'false', CUSTODY_WEBHOOKS_DISPATCH_INTERVAL: '100ms' } });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    await receiver.stop();
  });

  it('time machine: v1 pushed as A then B, deleted through the API, restored to A on the tag history page; skopeo sees A', async () => {
    const a = await pushImage(REPO, 'v1', 'A');
    const b = await pushImage(REPO, 'v1', 'B');
    assert.notEqual(a, b);
    assert.equal((await api(`/v2/${REPO}/manifests/v1`, { method: 'DELETE' })).status, 202);
    // Expiry and immutability, set through the API, are shown in the tag table.
    await pushImage(REPO, 'stable', 'S');
    await pushImage(REPO, 'nightly', 'N');
    assert.equal((await api('/api/v1/namespaces/admin/immutability', { method: 'POST', body: JSON.stringify({ repository: REPO, tag: 'stable' }), headers: { 'content-type': 'application/json' } })).status, 201);
    assert.equal((await api(`/api/v1/repositories/${REPO}/-/tags/nightly/expiry`, { method: 'PUT', body: JSON.stringify({ in: '3d' }), headers: { 'content-type': 'application/json' } })).status, 200);

    const { page, problems, close } = await newPage();
    await logIn(page);
    await page.goto(`${server.url}/r/${REPO}`);
    const row = (tag: string) => page.locator('table[aria-label=Tags] tbody tr', { has: page.locator(`a:text-is("${tag}")`) });
    assert.match((await row('nightly').textContent())!, /expires in 3 days/);
    assert.match((await row('stable').textContent())!, /immutable/);
    assert.match((await row('stable').textContent())!, /never/);
    await checkAccessibility(page, 'repository with lifecycle');
    await page.screenshot({ path: join(SCREENSHOTS, 'repository-lifecycle.png'), fullPage: true });

    await page.click('a:has-text("Tag history")');
    await page.waitForURL(/\/-\/history$/);
    const hows = await page.locator('table[aria-label="Tag history"] tbody tr td:nth-child(3)').allTextContents();
    assert.deepEqual(hows.map((text) => text.trim()), ['push', 'push', 'delete', 'push', 'push'], 'newest first');
    // Restore v1 to A: the form on the push of B, whose "before" is A.
    await page.click('table[aria-label="Tag history"] a:text-is("v1")');
    await page.waitForURL(/\?tag=v1$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'tag-history.png'), fullPage: true });
    await page.click(`button[aria-label="Restore to ${a.slice(7, 19)} (tag v1)"]`);
    await page.waitForURL(/restored=/);
    assert.match((await page.locator('[role=status]').textContent())!, new RegExp(`Restored v1@${a}`));
    assert.equal((await page.locator('table[aria-label="Tag history"] tbody tr').first().locator('td:nth-child(3)').textContent())!.trim(), 'restore');
    assert.match(page.url(), /tag=v1/, 'back to the filtered history');
    await checkAccessibility(page, 'tag history');

    const inspected = await runOk('skopeo', ['inspect', '--tls-verify=false', '--creds', `admin:${ADMIN_PASSWORD}`, `docker://${server.host}/${REPO}:v1`]);
    assert.equal((JSON.parse(inspected.stdout) as { Digest: string }).Digest, a, 'skopeo sees A');
    const history = (await (await api(`/api/v1/repositories/${REPO}/-/tag-history?tag=v1`)).json()) as { how: string; who: string; digest: string }[];
    assert.deepEqual([history[0]!.how, history[0]!.who, history[0]!.digest], ['restore', 'admin', a], 'the API shows who restored, through the page');

    assert.deepEqual(problems, []);
    // A forged form (no CSRF token) is refused before anything happens.
    const forged = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', body: new URLSearchParams({ tag: 'v1', digest: 'sha256:' + '0'.repeat(64) }) })).status, `${server.url}/r/${REPO}/-/history`);
    assert.equal(forged, 403);
    assert.equal(((await (await api(`/api/v1/repositories/${REPO}/-/tag-history?tag=v1`)).json()) as unknown[]).length, history.length, 'nothing changed');
    await close();
  });

  it('a reader sees the history without Restore, and a restore posted anyway is refused by the same rule as the API', async () => {
    const json = { 'content-type': 'application/json' };
    assert.equal((await api('/api/v1/users', { method: 'POST', body: JSON.stringify({ name: 'reader', password: 'reader-password-1' }), headers: json })).status, 201);
    assert.equal((await api(`/api/v1/repositories/${REPO}/-/permissions/user/reader`, { method: 'PUT', body: JSON.stringify({ role: 'read' }), headers: json })).status, 200);
    const before = ((await (await api(`/api/v1/repositories/${REPO}/-/tag-history?tag=nightly`)).json()) as unknown[]).length;
    const { page, close } = await newPage();
    await logIn(page, 'reader', 'reader-password-1');
    await page.goto(`${server.url}/r/${REPO}`);
    assert.match((await page.locator('table[aria-label=Tags]').textContent())!, /expires in 3 days/, 'readers see expiry');
    assert.equal(await page.locator('a:has-text("Settings")').count(), 0);
    await page.goto(`${server.url}/r/${REPO}/-/history`);
    assert.ok((await page.locator('table[aria-label="Tag history"] tbody tr').count()) >= 5);
    assert.equal(await page.locator('form[method=post] button:has-text("Restore")').count(), 0, 'no Restore for a reader');
    // A restore posted with the reader's own valid CSRF token: the service says no.
    const csrf = (await page.locator('input[name=csrf]').first().getAttribute('value'))!;
    assert.ok(csrf, 'the page carries the session CSRF token (the logout form)');
    const answer = await page.evaluate(async ([url, csrfToken]) => {
      const response = await fetch(url!, { method: 'POST', body: new URLSearchParams({ csrf: csrfToken!, tag: 'nightly', digest: 'sha256:' + '1'.repeat(64) }) });
      return { status: response.status, text: await response.text() };
    }, [`${server.url}/r/${REPO}/-/history`, csrf]);
    assert.ok(answer.status === 400 || answer.status === 403, `refused: ${answer.status}`);
    assert.match(answer.text, /write access to repository/);
    assert.equal(((await (await api(`/api/v1/repositories/${REPO}/-/tag-history?tag=nightly`)).json()) as unknown[]).length, before, 'nothing changed');
    // Settings are for administrators: the reader is refused.
    const settings = await page.goto(`${server.url}/r/${REPO}/-/settings`);
    assert.notEqual(settings!.status(), 200);
    await close();
  });

  it('webhooks: created on the settings page (secret shown once), the test event reaches the receiver signed; hostile values inert; quota shown', async () => {
    assert.equal((await api('/api/v1/namespaces/admin/quota', { method: 'PUT', body: JSON.stringify({ warn: '1MiB', reject: '2MiB' }), headers: { 'content-type': 'application/json' } })).status, 200);
    const { page, problems, close } = await newPage();
    await logIn(page);
    await page.goto(`${server.url}/r/${REPO}/-/settings`);
    await page.fill('#wh-url', `${receiver.url}/hook?x=${encodeURIComponent(HOSTILE)}`);
    await page.fill('#wh-name', `CI ${HOSTILE}`);
    await page.selectOption('#wh-format', 'cloudevents');
    await page.check('input[name=events][value="manifest.pushed"]');
    await page.check('input[name=events][value="tag.deleted"]');
    await page.click('button:has-text("Create webhook")');
    const secret = (await page.locator('#new-webhook-secret').textContent())!;
    assert.ok(secret.length >= 32, 'a generated secret is shown');
    await assertInert(page, 'settings after create');
    assert.ok((await page.locator('main').textContent())!.includes(`CI ${HOSTILE}`), 'the hostile name is shown as text');
    await page.goto(`${server.url}/r/${REPO}/-/settings`);
    assert.equal(await page.locator('#new-webhook-secret').count(), 0, 'the secret is shown once');
    assert.match((await page.locator('.custody-webhook dl').textContent())!, /manifest\.pushed, tag\.deleted/);

    await page.click('button[aria-label^="Send test event to CI"]');
    await page.locator('[role=status]:has-text("Test event delivered")').waitFor();
    await receiver.waitFor(() => receiver.received.length >= 1, 10_000, 'the test event');
    const received = receiver.received[0]!;
    const event = JSON.parse(received.body) as { type: string; specversion: string };
    assert.equal(event.type, 'io.custody.webhook.test');
    assert.equal(event.specversion, '1.0');
    assert.ok(verifyWebhookSignature(secret, String(received.headers['custody-signature']), received.body), 'signed with the secret shown once');
    // The delivery log shows it: status, response code, latency.
    const log = page.locator('table[aria-label^="Deliveries of webhook"] tbody tr').first();
    assert.match((await log.textContent())!, /webhook\.test\s*delivered\s*204\s*\d+ ms/);
    await assertInert(page, 'settings with the delivery log');
    // The quota of the namespace, for the admin.
    assert.match((await page.locator('main').textContent())!, /Quota of namespace admin/);
    assert.match((await page.locator('main').textContent())!, /Warning at1\.0 MiB|Warning at1 MiB/);
    await checkAccessibility(page, 'repository settings with webhooks and quota');
    await page.screenshot({ path: join(SCREENSHOTS, 'settings-webhooks.png'), fullPage: true });

    // Disable, then enable, then delete.
    await page.click('button[aria-label^="Disable CI"]');
    await page.waitForURL(/\/-\/settings#webhooks$/);
    assert.match((await page.locator('.custody-webhook h3').textContent())!, /disabled/);
    await page.click('button[aria-label^="Enable CI"]');
    await page.waitForURL(/\/-\/settings#webhooks$/);
    assert.match((await page.locator('.custody-webhook h3').textContent())!, /enabled/);
    await page.click('button[aria-label^="Delete CI"]');
    await page.waitForURL(/\/-\/settings#webhooks$/);
    assert.equal(await page.locator('.custody-webhook').count(), 0);
    assert.deepEqual(((await (await api(`/api/v1/webhooks?repository=${REPO}`)).json()) as unknown[]).length, 0);
    assert.deepEqual(problems, []);
    await close();
  });
});
