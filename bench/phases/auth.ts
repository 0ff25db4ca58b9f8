// The auth phase: what token authentication costs a manifest GET, and token issue rates.
import { runLoad, type LoadResult } from '../lib/load.ts';
import { OciClient } from '../lib/oci-client.ts';
import { startCustody, type RegistryProcess } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log, describeLoad } from '../lib/measure.ts';
import { type BaseImage, BASE_REPO, pushBaseImage } from '../lib/base-image.ts';

/**
 * The cost of authentication: manifest GETs against a second Custody with token auth on
 * (bearer token; basic credentials on every request), next to the same load on the
 * Custody without auth, alternating round by round; and token issue requests/s.
 */
export async function authPhase(settings: Settings, plain: RegistryProcess, parent: string, custodyDir: string, image: BaseImage): Promise<void> {
  const password = 'bench-admin-password';
  const secured = await startCustody(parent, 'custody-auth', custodyDir, { CUSTODY_AUTH_ENABLED: 'true', CUSTODY_ADMIN_PASSWORD: password });
  const basic = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  const clients: OciClient[] = [];
  try {
    const admin = new OciClient(secured.url, 128, { authorization: basic });
    clients.push(admin);
    await pushBaseImage(admin, image);
    const tokenUrl = `${secured.url}/auth/token?service=custody&scope=${encodeURIComponent(`repository:${BASE_REPO}:pull`)}`;
    const tokenResponse = await fetch(tokenUrl, { headers: { authorization: basic } });
    if (tokenResponse.status !== 200) throw new Error(`token endpoint answered ${tokenResponse.status}`);
    const { token } = (await tokenResponse.json()) as { token: string };
    const bearer = new OciClient(secured.url, 128, { authorization: `Bearer ${token}` });
    const open = new OciClient(plain.url);
    clients.push(bearer, open);
    const section = 'authentication (Custody with token auth; baseline: Custody with auth off)';
    const concurrency = 16;
    const variants = [
      { metric: `manifest GET c=${concurrency}, bearer token`, client: bearer },
      { metric: `manifest GET c=${concurrency}, basic auth on every request`, client: admin },
    ];
    const measure = (client: OciClient): Promise<LoadResult> =>
      runLoad({ concurrency, durationMs: settings.manifestMs, warmupMs: settings.warmupMs, op: async () => void (await client.getManifest(BASE_REPO, 'latest')) });
    for (const variant of variants) {
      const off: number[] = [];
      const on: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        // Alternate which goes first, as the side-by-side rows do.
        const order = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const which of order) {
          const result = await measure(which === 'off' ? open : variant.client);
          (which === 'off' ? off : on).push(result.rate);
          log(`${variant.metric} round ${round + 1}/${settings.rounds} auth ${which}: ${describeLoad(result)}`);
        }
      }
      rows.push({ section, metric: variant.metric, unit: 'req/s', distribution: [median(off)], custody: [median(on)], higherIsBetter: true, baseline: 'Custody, auth off', note: 'target: overhead ≤ 10% (ratio ≥ 0.90) for bearer tokens' });
      raw[`auth ${variant.metric}`] = { off, on };
    }
    const issued: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      const result = await runLoad({
        concurrency,
        durationMs: settings.manifestMs,
        warmupMs: settings.warmupMs,
        op: async () => {
          const response = await fetch(tokenUrl, { headers: { authorization: basic } });
          if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}`);
          await response.arrayBuffer();
        },
      });
      issued.push(result.rate);
      log(`token issue c=${concurrency} round ${round + 1}/${settings.rounds}: ${describeLoad(result)}`);
    }
    rows.push({ section, metric: `token issue c=${concurrency} (GET /auth/token, basic, one scope)`, unit: 'req/s', distribution: [], custody: [median(issued)], higherIsBetter: null });
    raw['auth token issue'] = issued;
  } finally {
    for (const client of clients) client.close();
    await secured.stop();
  }
}
