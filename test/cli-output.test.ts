// The CLI's one table layout and the one byte formatter, as commands print them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../src/cli/output.ts';
import { formatBytes } from '../src/core/size.ts';

describe('table', () => {
  it('aligns columns two spaces apart; the last column is neither padded nor cut, and no line ends in blanks', () => {
    const text = table([
      ['NAME', 'EMAIL', 'SOURCE'],
      ['alice', 'alice@example.com', 'local'],
      ['bob', '', ''],
    ]);
    assert.equal(text, ['NAME   EMAIL              SOURCE', 'alice  alice@example.com  local', 'bob'].join('\n'));
  });

  it('measures coloured cells by what a terminal shows', () => {
    const red = '\x1b[31mCritical\x1b[0m';
    assert.equal(table([['SEVERITY', 'ID'], [red, 'DSA-1'], ['Low', 'DSA-2']]), ['SEVERITY  ID', `${red}  DSA-1`, 'Low       DSA-2'].join('\n'));
  });

  it('cuts long cells of the other columns to maxColumnWidth with an ellipsis', () => {
    assert.equal(table([['A', 'B'], ['abcdefgh', 'a long last column stays whole']], { maxColumnWidth: 5 }), ['A      B', 'abcd…  a long last column stays whole'].join('\n'));
  });
});

describe('formatBytes', () => {
  it('shows a measured amount with one decimal past bytes', () => {
    assert.equal(formatBytes(1000), '1000 B');
    assert.equal(formatBytes(4 * 1024 ** 2), '4.0 MiB');
    assert.equal(formatBytes(1.25 * 1024 ** 3), '1.3 GiB');
    assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB');
  });

  it('shows a limit as configured when exact, else rounded down so it never overstates', () => {
    assert.equal(formatBytes(64 * 1024 ** 2, { limit: true }), '64 MiB');
    assert.equal(formatBytes(1.99 * 1024 ** 3, { limit: true }), '1.9 GiB');
    assert.equal(formatBytes(5000, { limit: true }), '5000 B');
  });
});
