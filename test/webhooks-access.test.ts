// Who may manage which webhooks, through /api/v1 with authentication on: repository admins
// their repository's hooks, organization admins their namespace's, superusers all and the
// registry-wide ones; anyone else is told a hook is not found (whether it exists or not),
// and secrets are shown once, never listed. Changes are in the action log.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_PASSWORD, startCustody, type CustodyServer } from './support/custody-server.ts';
import { AccessFixtures, basic } from './support/access-fixtures.ts';
import { WebhookReceiver } from './support/webhook-receiver.ts';

const PASSWORD = 'password-for-webhook-tests';

describe('webhook access', () => {
  let server: CustodyServer;
  let fixtures: AccessFixtures;
  const receiver = new WebhookReceiver();

  async function api(user: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: basic(user, user === 'admin' ? ADMIN_PASSWORD : PASSWORD), 'x-custody-request': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
  }

  before(async () => {
    await receiver.start();
    server = await startCustody({ auth: true, env: { CUSTODY_AUDIT_FLUSH_INTERVAL: '50ms' } });
    fixtures = new AccessFixtures(server.dataDir);
    const orgAdmin = await fixtures.user('orgadmin', PASSWORD);
    const repoAdmin = await fixtures.user('repoadmin', PASSWORD);
    const member = await fixtures.user('member', PASSWORD);
    await fixtures.user('stranger', PASSWORD);
    const acme = await fixtures.organization('acme');
    await fixtures.team(acme, 'owners', 'admin', [orgAdmin]);
    await fixtures.team(acme, 'devs', 'member', [member]);
    await fixtures.identity.ensureRepository('acme/app', 'private');
    await fixtures.permission('acme/app', { kind: 'account', id: repoAdmin }, 'admin');
    await fixtures.permission('acme/app', { kind: 'account', id: member }, 'write');
  });
  after(async () => {
    await fixtures?.close();
    await server?.dispose();
    await receiver.stop();
  });

  it('lets each administrator manage their own hooks, and no one else', async () => {
    const repoHook = await api('repoadmin', 'POST', '/api/v1/webhooks', { repository: 'acme/app', url: `${receiver.url}/repo` });
    assert.equal(repoHook.status, 201, JSON.stringify(repoHook.json));
    assert.match(repoHook.json.secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(repoHook.json.webhook.signed, true);
    const id = repoHook.json.webhook.id as number;

    assert.equal((await api('repoadmin', 'POST', '/api/v1/webhooks', { namespace: 'acme', url: `${receiver.url}/ns` })).status, 403, 'a repository admin does not manage the namespace');
    assert.equal((await api('member', 'POST', '/api/v1/webhooks', { repository: 'acme/app', url: `${receiver.url}/x` })).status, 403, 'write is not admin');
    assert.equal((await api('stranger', 'POST', '/api/v1/webhooks', { url: `${receiver.url}/x` })).status, 403, 'registry-wide hooks are superusers\'');
    const nsHook = await api('orgadmin', 'POST', '/api/v1/webhooks', { namespace: 'acme', url: `${receiver.url}/ns`, format: 'slack', events: ['manifest.pushed'] });
    assert.equal(nsHook.status, 201);
    assert.equal((await api('admin', 'POST', '/api/v1/webhooks', { url: `${receiver.url}/all`, events: ['quota.exceeded'] })).status, 201);
    assert.equal((await api('orgadmin', 'POST', '/api/v1/webhooks', { namespace: 'acme', url: 'ftp://x/' })).status, 400);
    assert.equal((await api('orgadmin', 'POST', '/api/v1/webhooks', { namespace: 'acme', url: `${receiver.url}/x`, events: ['nope'] })).status, 400);

    // The organization admin sees the namespace's hooks, the repository admin the repository's.
    const listed = await api('orgadmin', 'GET', '/api/v1/webhooks?namespace=acme');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json.map((hook: { id: number }) => hook.id).sort(), [id, nsHook.json.webhook.id].sort());
    assert.ok(listed.json.every((hook: Record<string, unknown>) => !('secret' in hook)), 'secrets are never listed');
    assert.equal((await api('repoadmin', 'GET', '/api/v1/webhooks?repository=acme/app')).json.length, 1);
    assert.equal((await api('stranger', 'GET', '/api/v1/webhooks?namespace=acme')).status, 403);
    assert.equal((await api('stranger', 'GET', '/api/v1/webhooks')).status, 400, 'only superusers list everything');

    // Anyone else: not found, the same as for a hook that does not exist.
    for (const user of ['stranger', 'member']) {
      for (const [method, path] of [['GET', `/api/v1/webhooks/${id}`], ['DELETE', `/api/v1/webhooks/${id}`], ['POST', `/api/v1/webhooks/${id}/test`], ['GET', `/api/v1/webhooks/${id}/deliveries`]] as const) {
        const answer = await api(user, method, path);
        assert.equal(answer.status, 404, `${user} ${method} ${path}`);
        assert.equal(answer.json.errors[0].message, `webhook ${id} not found`);
      }
    }
    assert.equal((await api('stranger', 'GET', '/api/v1/webhooks/99999')).json.errors[0].message, 'webhook 99999 not found');

    // The repository admin tests, reads the log, disables and deletes its hook.
    const test = await api('repoadmin', 'POST', `/api/v1/webhooks/${id}/test`);
    assert.equal(test.status, 200);
    assert.equal(test.json.status, 'delivered');
    assert.equal(receiver.on('/repo').length, 1);
    assert.equal((await api('repoadmin', 'GET', `/api/v1/webhooks/${id}/deliveries`)).json[0].event, 'webhook.test');
    assert.equal((await api('repoadmin', 'PATCH', `/api/v1/webhooks/${id}`, { enabled: false })).json.enabled, false);
    assert.equal((await api('repoadmin', 'DELETE', `/api/v1/webhooks/${id}`)).status, 204);
    assert.equal((await api('repoadmin', 'GET', `/api/v1/webhooks/${id}`)).status, 404);

    // The action log has the changes and the refusals.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const actions = (await fixtures.actions(0)).filter((action) => action.kind === 'webhook').map((action) => ({ ...action, detail: JSON.parse(action.detail ?? '{}') as { action?: string } }));
    assert.ok(actions.some((action) => action.actor_name === 'repoadmin' && action.result === 'success' && action.detail.action === 'create' && action.repository === 'acme/app'));
    assert.ok(actions.some((action) => action.actor_name === 'member' && action.result === 'denied'));
    assert.ok(actions.some((action) => action.detail.action === 'delete'));
    assert.ok(actions.some((action) => action.detail.action === 'test'));
  });
});
