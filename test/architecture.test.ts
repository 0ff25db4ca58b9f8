// The layering as docs/architecture.md writes it: every import across folders of src/ is
// one the document's table allows, and no folder cycle exists.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dependencyProblems, folderCycles, folderImports, parseAllowedImports, sourceFolders, type FolderImport } from './support/import-graph.ts';

const root = new URL('../', import.meta.url);
const source = new URL('src/', root).pathname;
const allowed = parseAllowedImports(readFileSync(new URL('docs/architecture.md', root), 'utf8'));

describe('architecture', () => {
  it('src/ imports only what the table in docs/architecture.md allows, without folder cycles', () => {
    const imports = folderImports(source);
    // Something was read: an empty graph would pass anything.
    assert.ok(imports.some((edge) => edge.from === 'cli' && edge.to === 'core'), 'the import graph of src/ is read');
    assert.deepEqual(dependencyProblems(sourceFolders(source), imports, allowed), []);
  });

  it('the table holds the layers the standards name', () => {
    assert.deepEqual([...allowed.get('core')!], [], 'the core imports nothing');
    for (const store of ['storage', 'metadata']) {
      for (const above of ['registry', 'scan', 'server', 'cli', 'app']) assert.ok(!allowed.get(store)!.has(above), `${store} may not import ${above}`);
    }
    for (const domain of ['registry', 'scan', 'trust', 'client', 'image', 'audit', 'auth', 'events', 'jobs', 'management', 'delivery']) {
      for (const entry of ['server', 'cli', 'ui', 'app']) assert.ok(!allowed.get(domain)!.has(entry), `${domain} may not import ${entry}`);
    }
    assert.ok(!allowed.get('server')!.has('cli') && !allowed.get('server')!.has('app'));
  });

  it('fails on a cycle and on an import against the layering', () => {
    const edge = (from: string, to: string): FolderImport => ({ from, to, file: `${from}/x.ts`, specifier: `../${to}/y.ts` });
    const folders = ['core', 'metadata', 'registry', 'server'];
    const small = parseAllowedImports(['<!-- allowed-imports:start -->', '| folder | layer | may import |', '|---|---|---|', '| `core` | core | nothing |', '| `metadata` | stores | `core` |', '| `registry` | domain | `core`, `metadata` |', '| `server` | entry | `core`, `registry` |', '<!-- allowed-imports:end -->'].join('\n'));
    assert.deepEqual(dependencyProblems(folders, [edge('registry', 'metadata'), edge('server', 'registry')], small), []);
    assert.deepEqual(dependencyProblems(folders, [edge('registry', 'metadata'), edge('registry', 'server')], small), ['src/registry/x.ts imports ../server/y.ts: registry may not import server']);
    const cyclic = dependencyProblems(folders, [edge('registry', 'server'), edge('server', 'registry')], small);
    assert.ok(cyclic.includes('folder cycle: registry → server → registry'), cyclic.join('\n'));
    assert.deepEqual(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')]), [['a', 'b', 'c', 'a']]);
    assert.match(dependencyProblems([...folders, 'proxy'], [], small)[0]!, /src\/proxy is not in the allowed-imports table/);
    // A table that allows a cycle is itself refused.
    const loose = new Map([...small, ['metadata', new Set(['core', 'registry'])]]);
    assert.ok(dependencyProblems(folders, [], loose).some((problem) => problem.startsWith('the table itself allows a cycle')));
  });
});
