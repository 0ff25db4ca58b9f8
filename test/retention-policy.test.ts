// Retention's judgement of a repository's tags (pure): which rules keep what, patterns,
// signed tags and what kept indexes reference, attachment tags, and policy validation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Digest } from '../src/core/digest.ts';
import { judge, parsePolicy, policyJson } from '../src/lifecycle/retention-policy.ts';
import type { RetentionTag } from '../src/metadata/retention-store.ts';

const NOW = 1_700_000_000_000;
const DAY = 86_400_000;
const d = (name: string): Digest => `sha256:${name.padEnd(64, '0')}` as Digest;
const tag = (name: string, ageDays: number, extra: Partial<RetentionTag> = {}): RetentionTag => ({ tag: name, digest: d(name.replace(/[^a-f0-9]/g, 'a')), pushedAt: NOW - ageDays * DAY, pulledAt: null, signed: false, ...extra });
const gone = (policy: Parameters<typeof parsePolicy>[0], tags: RetentionTag[], edges: Array<{ parent: Digest; child: Digest }> = []): string[] =>
  judge(parsePolicy(policy), tags, edges, NOW).remove.map((entry) => entry.tag).sort();

describe('retention policy', () => {
  const tags = [tag('v1', 40, { digest: d('1') }), tag('v2', 30, { digest: d('2') }), tag('v3', 20, { digest: d('3') }), tag('v4', 10, { digest: d('4') }), tag('v5', 1, { digest: d('5') })];

  it('keeps the N most recent; a policy without keep rules removes nothing', () => {
    assert.deepEqual(gone({ keepLast: 2 }, tags), ['v1', 'v2', 'v3']);
    assert.deepEqual(gone({ keepLast: 0 }, tags), ['v1', 'v2', 'v3', 'v4', 'v5']);
    assert.deepEqual(gone({}, tags), []);
    assert.deepEqual(gone({ include: ['v*'] }, tags), []);
  });

  it('keeps what was pushed or pulled within a duration; rules add up', () => {
    assert.deepEqual(gone({ keepPushedWithin: '15d' }, tags), ['v1', 'v2', 'v3']);
    const pulled = tags.map((entry) => (entry.tag === 'v1' ? { ...entry, pulledAt: NOW - DAY } : entry));
    assert.deepEqual(gone({ keepPushedWithin: '15d', keepPulledWithin: '1w' }, pulled), ['v2', 'v3']);
    assert.deepEqual(gone({ keepLast: 1, keepPushedWithin: '25d' }, tags), ['v1', 'v2']);
  });

  it('judges only included tags and never excluded ones', () => {
    const mixed = [...tags, tag('dev-1', 50, { digest: d('d1') }), tag('dev-2', 49, { digest: d('d2') }), tag('stable', 90, { digest: d('5ab') })];
    assert.deepEqual(gone({ keepLast: 1, include: ['dev-*'] }, mixed), ['dev-1']);
    assert.deepEqual(gone({ keepLast: 1, exclude: ['stable', 'v*'] }, mixed), ['dev-1']);
  });

  it('always keeps signed tags, what kept indexes reference (to any depth), and attachment tags', () => {
    const signed = tags.map((entry) => (entry.tag === 'v1' ? { ...entry, signed: true } : entry));
    assert.deepEqual(gone({ keepLast: 1 }, signed), ['v2', 'v3', 'v4']);
    // v5 is an index of v4's manifest, which is an index of v3's.
    assert.deepEqual(gone({ keepLast: 1 }, tags, [{ parent: d('5'), child: d('4') }, { parent: d('4'), child: d('3') }]), ['v1', 'v2']);
    const sig = tag(`sha256-${'a'.repeat(64)}.sig`, 100, { digest: d('51') });
    assert.deepEqual(gone({ keepLast: 5 }, [...tags, sig]), []);
  });

  it('validates and round-trips the policy', () => {
    assert.throws(() => parsePolicy({ keepLast: -1 }), /keepLast/);
    assert.throws(() => parsePolicy({ keepPushedWithin: 'soon' }), /keepPushedWithin/);
    assert.throws(() => parsePolicy({ include: ['bad pattern'] }), /include/);
    const policy = { keepLast: 3, keepPushedWithin: '2w', keepPulledWithin: '30d', include: ['v*'], exclude: ['v1'] };
    assert.deepEqual(policyJson(parsePolicy(policy)), { ...policy, keepPulledWithin: '30d' });
  });
});
