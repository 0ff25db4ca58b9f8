// GET /v2/ without credentials: what every client sees first. A registry answers 200
// (open) or 401 with a challenge naming how to authenticate; its headers tell the API
// version, HSTS and whether the signatures extension API is there. Certificates are not
// verified here (the TLS probe judges them) and no credentials are sent, so looking is
// safe even at a registry that turns out not to deserve trust.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseWwwAuthenticate } from '../../client/registry-client/index.ts';
import type { ApiReport } from './report.ts';

export async function probeApi(endpoint: string, timeoutMs = 10_000): Promise<ApiReport & { error: string | null }> {
  let response: IncomingMessage;
  try {
    response = await get(new URL('/v2/', endpoint), timeoutMs);
  } catch (error) {
    return { reachable: false, status: null, apiVersion: null, auth: null, hsts: null, signaturesExtension: false, referrers: null, error: (error as Error).message };
  }
  response.resume();
  const header = (name: string): string | null => {
    const value = response.headers[name];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  const status = response.statusCode ?? 0;
  const challenge = parseWwwAuthenticate(response.headers['www-authenticate'])[0];
  return {
    reachable: status === 200 || (status === 401 && challenge !== undefined),
    status,
    apiVersion: header('docker-distribution-api-version'),
    auth: challenge === undefined ? null : { scheme: challenge.scheme, realm: challenge.params.realm ?? null, service: challenge.params.service ?? null },
    hsts: header('strict-transport-security'),
    signaturesExtension: header('x-registry-supports-signatures') === '1',
    referrers: null,
    error: null,
  };
}

function get(url: URL, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { method: 'GET', headers: { 'user-agent': 'custody-evaluate' }, agent: false as const, timeout: timeoutMs };
    const request = url.protocol === 'https:' ? httpsRequest(url, { ...options, rejectUnauthorized: false }, resolve) : httpRequest(url, options, resolve);
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
    request.end();
  });
}
