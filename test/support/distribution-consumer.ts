// What a consumer of CNCF Distribution's notifications reads: the envelope
// (`{"events": [...]}`) decoded into Distribution's own Event structure (notifications/
// event.go: id, timestamp, action, target{mediaType, size, digest, length, repository,
// url, tag}, request{id, addr, host, method, useragent}, actor{name}, source{addr,
// instanceID}). Like Go's encoding/json, a field of the wrong type is an error; unknown
// fields are ignored.
import assert from 'node:assert/strict';

export interface DistributionEvent {
  id: string;
  timestamp: string;
  action: 'push' | 'pull' | 'mount' | 'delete';
  target: { mediaType?: string; size?: number; digest?: string; length?: number; repository: string; url?: string; tag?: string };
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

function field(object: Record<string, unknown>, name: string, type: 'string' | 'number', required = false): void {
  if (object[name] === undefined) {
    assert.ok(!required, `${name} is required`);
    return;
  }
  assert.equal(typeof object[name], type, `${name} must be a ${type}`);
  if (type === 'number') assert.ok(Number.isSafeInteger(object[name]), `${name} must be an int64`);
}

export function parseDistributionEnvelope(body: string): { events: DistributionEvent[] } {
  const envelope = JSON.parse(body) as { events?: unknown };
  assert.ok(Array.isArray(envelope.events), 'an envelope has an events array');
  for (const event of envelope.events as Record<string, unknown>[]) {
    field(event, 'id', 'string', true);
    field(event, 'timestamp', 'string', true);
    assert.match(event.timestamp as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/, 'RFC 3339 time');
    assert.ok(['push', 'pull', 'mount', 'delete'].includes(event.action as string), `known action ${String(event.action)}`);
    const target = event.target as Record<string, unknown>;
    assert.equal(typeof target, 'object');
    for (const name of ['mediaType', 'digest', 'url', 'tag']) field(target, name, 'string');
    for (const name of ['size', 'length']) field(target, name, 'number');
    field(target, 'repository', 'string', true);
    if (target.digest !== undefined) assert.match(target.digest as string, /^sha256:[0-9a-f]{64}$/);
    const request = event.request as Record<string, unknown>;
    for (const name of ['id', 'addr', 'host', 'method', 'useragent']) field(request, name, 'string');
    field(event.actor as Record<string, unknown>, 'name', 'string');
    const source = event.source as Record<string, unknown>;
    field(source, 'addr', 'string');
    field(source, 'instanceID', 'string');
  }
  return envelope as { events: DistributionEvent[] };
}
