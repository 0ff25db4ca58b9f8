// The folder-level import graph of src/ and the rules it must follow, for
// test/architecture.test.ts. Imports are read with TypeScript's own pre-processor
// (static imports, `export … from`, `import type`, dynamic `import('…')` of a literal),
// so comments and strings that look like imports are not counted.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of a file in one folder from a file in another: `from` and `to` are folders under src/. */
export interface FolderImport {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly specifier: string;
}

/** Every import in `sourceRoot` that crosses from one top-level folder to another. */
export function folderImports(sourceRoot: string): FolderImport[] {
  const root = resolve(sourceRoot);
  const found: FolderImport[] = [];
  for (const file of typescriptFiles(root)) {
    const from = folderOf(root, file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName: specifier } of importedFiles) {
      if (!specifier.startsWith('.')) continue; // packages and node: builtins
      const target = resolve(dirname(file), specifier);
      if (!target.startsWith(root + sep)) continue; // package.json and the like
      const to = folderOf(root, target);
      if (to !== from) found.push({ from, to, file: relative(root, file), specifier });
    }
  }
  return found;
}

function typescriptFiles(directory: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) files.push(...typescriptFiles(path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** The top-level folder under src/ a file belongs to; '.' for a file directly in src/. */
function folderOf(root: string, file: string): string {
  const parts = relative(root, file).split(sep);
  return parts.length > 1 ? parts[0]! : '.';
}

/** The top-level folders of `sourceRoot`. */
export function sourceFolders(sourceRoot: string): string[] {
  return readdirSync(resolve(sourceRoot), { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** Folder → the folders it may import, as docs/architecture.md writes it. */
export type AllowedImports = ReadonlyMap<string, ReadonlySet<string>>;

const TABLE_START = '<!-- allowed-imports:start -->';
const TABLE_END = '<!-- allowed-imports:end -->';

/**
 * Reads the table between the allowed-imports markers of the architecture document:
 * rows `| \`folder\` | layer | \`a\`, \`b\` |` (the last cell "nothing" for none). The
 * document is the rule; this only reads it, so the two cannot drift apart.
 */
export function parseAllowedImports(markdown: string): AllowedImports {
  const start = markdown.indexOf(TABLE_START);
  const end = markdown.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`the architecture document has no table between ${TABLE_START} and ${TABLE_END}`);
  const allowed = new Map<string, Set<string>>();
  for (const line of markdown.slice(start + TABLE_START.length, end).split('\n')) {
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => cell.trim());
    if (cells.length < 3 || !cells[0]!.startsWith('`')) continue; // the header, the rule, prose
    const folder = names(cells[0]!)[0]!;
    if (allowed.has(folder)) throw new Error(`the table lists ${folder} twice`);
    allowed.set(folder, new Set(names(cells[cells.length - 1]!)));
  }
  if (allowed.size === 0) throw new Error('the allowed-imports table is empty');
  return allowed;
}

function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/^src\//, '').replace(/\/$/, ''));
}

/** The folder cycles of a graph (each as its folders in order, the first repeated last), one per strongly connected group. */
export function folderCycles(edges: Iterable<{ readonly from: string; readonly to: string }>): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, new Set());
    next.get(from)!.add(to);
  }
  const cycles: string[][] = [];
  const reported = new Set<string>();
  for (const start of [...next.keys()].sort()) {
    if (reported.has(start)) continue;
    const path = shortestPath(next, start, start);
    if (path) {
      cycles.push(path);
      for (const folder of path) reported.add(folder);
    }
  }
  return cycles;
}

/** A shortest path from `from` back to `to` (at least one step), by breadth-first search. */
function shortestPath(next: ReadonlyMap<string, ReadonlySet<string>>, from: string, to: string): string[] | null {
  const cameFrom = new Map<string, string>();
  const queue = [from];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const neighbour of [...(next.get(current) ?? [])].sort()) {
      if (neighbour === to) {
        const path = [to];
        for (let step = current; step !== from; step = cameFrom.get(step)!) path.unshift(step);
        return [from, ...path];
      }
      if (!cameFrom.has(neighbour) && neighbour !== from) {
        cameFrom.set(neighbour, current);
        queue.push(neighbour);
      }
    }
  }
  return null;
}

/** Every problem of an import graph against the table: unlisted folders, imports against the layering, cycles. */
export function dependencyProblems(folders: readonly string[], imports: readonly FolderImport[], allowed: AllowedImports): string[] {
  const problems: string[] = [];
  for (const folder of folders) {
    if (!allowed.has(folder)) problems.push(`src/${folder} is not in the allowed-imports table of docs/architecture.md: add its row (which layer, what it may import)`);
  }
  for (const [folder, targets] of allowed) {
    for (const target of targets) if (!allowed.has(target)) problems.push(`the table lets ${folder} import ${target}, which has no row of its own`);
  }
  for (const cycle of folderCycles([...allowed].flatMap(([from, targets]) => [...targets].map((to) => ({ from, to }))))) {
    problems.push(`the table itself allows a cycle: ${cycle.join(' → ')}`);
  }
  for (const edge of imports) {
    if (allowed.get(edge.from)?.has(edge.to) !== true) problems.push(`src/${edge.file} imports ${edge.specifier}: ${edge.from} may not import ${edge.to}`);
  }
  for (const cycle of folderCycles(imports)) problems.push(`folder cycle: ${cycle.join(' → ')}`);
  return problems;
}
