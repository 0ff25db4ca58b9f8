// The image's filesystem as the layers build it up: every path's metadata (type, size,
// mode, link target, the layer that last wrote it), content only for the files an
// analyzer wants, and the removals (whiteouts, opaque directories, replaced directories)
// so that a finding in a file a later layer deleted can say which layer deleted it.
// Paths resolve inside the image root the way the image's own kernel would: symlinks in
// parent components are followed, absolute targets mean the image's root, and `..` never
// climbs above it.
import type { EntryType, FinalEntry, FinalFile, FinalFiles, WalkedLayer } from './analyzer.ts';

/** Like the kernel's limit on nested symlinks: a loop ends in "not found", not a hang. */
const MAX_SYMLINK_HOPS = 40;

interface Version {
  readonly layerIndex: number;
  readonly content: Buffer | null;
}

interface Node {
  type: EntryType;
  size: number;
  mode: number;
  linkTarget: string;
  /** The layer that last wrote this path. */
  layerIndex: number;
  /** Every layer that wrote this node, when more than one (for fateAfter). */
  writes?: number[];
  children?: Map<string, Node>;
  /** Undefined when the content was not kept (nobody wanted it); null when over the cap. */
  content?: Buffer | null;
  versions?: Version[];
}

interface Removal {
  readonly layerIndex: number;
  /** whiteout: the path and everything under it; opaque: only what is under it; replaced: a directory replaced by a non-directory. */
  readonly kind: 'whiteout' | 'opaque' | 'replaced';
}

export interface NewEntry {
  readonly type: EntryType;
  readonly size: number;
  readonly mode: number;
  readonly linkTarget: string;
  /** Undefined: not kept. */
  readonly content?: Buffer | null | undefined;
}

/** `/a//./b/` → ['a', 'b']; null when a `..` component could climb anywhere (such entries are ignored). */
export function pathParts(name: string): string[] | null {
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  return parts.includes('..') ? null : parts;
}

function newDir(layerIndex: number): Node {
  return { type: 'dir', size: 0, mode: 0o755, linkTarget: '', layerIndex, children: new Map() };
}

export class FileTree implements FinalFiles {
  readonly layers: WalkedLayer[] = [];
  readonly #root: Node = newDir(-1);
  readonly #removals = new Map<string, Removal[]>();

  /**
   * Resolves `parts`: symlinks in parent components are always followed, the last one only
   * when `followLast`. With `createLayer`, missing parent directories are created (a tar
   * may omit them) and non-directories in the way replaced, as extraction would.
   * Returns the node (undefined if absent) and its real path components.
   */
  #resolve(parts: readonly string[], followLast: boolean, createLayer?: number): { node: Node | undefined; parent: Node | undefined; real: string[] } {
    const queue = [...parts];
    const stack: Node[] = [this.#root];
    const real: string[] = [];
    let hops = 0;
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        if (real.length > 0) {
          real.pop();
          stack.pop();
        }
        continue;
      }
      const dir = stack[stack.length - 1]!;
      const last = queue.length === 0;
      let child = dir.children?.get(name);
      if (child?.type === 'symlink' && (!last || followLast)) {
        if (++hops > MAX_SYMLINK_HOPS) return { node: undefined, parent: undefined, real: [] };
        if (child.linkTarget.startsWith('/')) {
          stack.length = 1;
          real.length = 0;
        }
        queue.unshift(...child.linkTarget.split('/'));
        continue;
      }
      if (last) return { node: child, parent: dir, real: [...real, name] };
      if (child === undefined || child.type !== 'dir') {
        if (createLayer === undefined) return { node: undefined, parent: undefined, real: [] };
        if (child !== undefined) this.#recordRemoval([...real, name].join('/'), { layerIndex: createLayer, kind: 'replaced' });
        child = newDir(createLayer);
        dir.children!.set(name, child);
      }
      stack.push(child);
      real.push(name);
    }
    // The root itself.
    return { node: this.#root, parent: undefined, real: [] };
  }

  #recordRemoval(path: string, removal: Removal): void {
    const list = this.#removals.get(path);
    if (list === undefined) this.#removals.set(path, [removal]);
    else list.push(removal);
  }

  /** The real path a layer entry lands on (parent symlinks followed, missing parents created). */
  place(parts: readonly string[], layerIndex: number): { parent: Node; name: string; real: string } | null {
    if (parts.length === 0) return null;
    const { parent, real } = this.#resolve(parts, false, layerIndex);
    if (parent === undefined || real.length === 0) return null;
    return { parent, name: real[real.length - 1]!, real: real.join('/') };
  }

  /** Writes a layer entry at a place from `place`. */
  put(place: { parent: Node; name: string; real: string }, entry: NewEntry, layerIndex: number): void {
    const existing = place.parent.children!.get(place.name);
    if (existing !== undefined && existing.type === 'dir' && entry.type === 'dir') {
      // A directory restated: its content stays.
      existing.mode = entry.mode;
      existing.writes = [...(existing.writes ?? [existing.layerIndex]), layerIndex];
      existing.layerIndex = layerIndex;
      return;
    }
    if (existing?.type === 'dir') this.#recordRemoval(place.real, { layerIndex, kind: 'replaced' });
    const node: Node = { type: entry.type === 'hardlink' ? 'file' : entry.type, size: entry.size, mode: entry.mode, linkTarget: entry.linkTarget, layerIndex };
    if (entry.type === 'dir') node.children = new Map();
    if (existing !== undefined && existing.type !== 'dir') node.writes = [...(existing.writes ?? [existing.layerIndex]), layerIndex];
    if (entry.content !== undefined) {
      node.content = entry.content;
      // Versions continue the history of the file this one overwrites, so a database
      // rewritten by a later layer can be compared entry by entry with the earlier one.
      const earlier = existing !== undefined && existing.type !== 'dir' ? (existing.versions ?? []) : [];
      node.versions = [...earlier, { layerIndex, content: entry.content }];
    }
    place.parent.children!.set(place.name, node);
  }

  /** The node a hard link points at (a regular file; no symlink followed at the end). */
  hardlinkTarget(parts: readonly string[]): { size: number; content: Buffer | null | undefined } | undefined {
    const { node } = this.#resolve(parts, false);
    if (node === undefined || node.type !== 'file') return undefined;
    return { size: node.size, content: node.content };
  }

  /** `.wh.NAME`: deletes NAME from the layers below (a same-layer entry stays, as the spec says). */
  whiteout(directory: readonly string[], name: string, layerIndex: number): void {
    const { node: dir, real } = this.#resolve(directory, true);
    const child = dir?.children?.get(name);
    if (dir === undefined || child === undefined || child.layerIndex >= layerIndex) return;
    dir.children!.delete(name);
    this.#recordRemoval([...real, name].join('/'), { layerIndex, kind: 'whiteout' });
  }

  /** `.wh..wh..opq`: the directory keeps only what this layer put in it. */
  opaque(directory: readonly string[], layerIndex: number): void {
    const { node: dir, real } = this.#resolve(directory, true);
    if (dir === undefined || dir.type !== 'dir') return;
    const prune = (node: Node): void => {
      for (const [name, child] of node.children!) {
        if (child.type === 'dir') prune(child);
        const keptChildren = child.type === 'dir' && child.children!.size > 0;
        if (child.layerIndex < layerIndex && !keptChildren) node.children!.delete(name);
      }
    };
    prune(dir);
    this.#recordRemoval(real.join('/'), { layerIndex, kind: 'opaque' });
  }

  // ---- FinalFiles ---------------------------------------------------------------------

  #entry(node: Node, real: readonly string[]): FinalEntry {
    return { path: real.join('/'), type: node.type, size: node.size, mode: node.mode, linkTarget: node.linkTarget, layer: this.#layer(node.layerIndex) };
  }

  #layer(index: number): WalkedLayer {
    return this.layers[index] ?? { digest: '', mediaType: '', size: 0, index };
  }

  #file(node: Node, real: readonly string[]): FinalFile {
    return {
      ...this.#entry(node, real),
      content: node.content ?? null,
      versions: (node.versions ?? []).map((version) => ({ layer: this.#layer(version.layerIndex), content: version.content })),
    };
  }

  file(path: string): FinalFile | undefined {
    const parts = pathParts(path);
    if (parts === null) return undefined;
    const { node, real } = this.#resolve(parts, true);
    if (node === undefined || node.type !== 'file' || node.content === undefined) return undefined;
    return this.#file(node, real);
  }

  stat(path: string, options: { readonly noFollow?: boolean } = {}): FinalEntry | undefined {
    const parts = pathParts(path);
    if (parts === null) return undefined;
    const { node, real } = this.#resolve(parts, options.noFollow !== true);
    return node === undefined ? undefined : this.#entry(node, real);
  }

  *wantedFiles(): Iterable<FinalFile> {
    const found: Array<{ node: Node; real: string[] }> = [];
    const visit = (node: Node, real: string[]): void => {
      for (const [name, child] of node.children!) {
        if (child.type === 'dir') visit(child, [...real, name]);
        else if (child.type === 'file' && child.content !== undefined) found.push({ node: child, real: [...real, name] });
      }
    };
    visit(this.#root, []);
    found.sort((a, b) => (a.real.join('/') < b.real.join('/') ? -1 : 1));
    for (const { node, real } of found) yield this.#file(node, real);
  }

  list(directory: string): string[] {
    const parts = pathParts(directory);
    if (parts === null) return [];
    const { node } = this.#resolve(parts, true);
    if (node?.type !== 'dir') return [];
    return [...node.children!].filter(([, child]) => child.type === 'file').map(([name]) => name).sort();
  }

  fateAfter(path: string, layerIndex: number): { readonly how: 'deleted' | 'replaced'; readonly layer: WalkedLayer } | null {
    const parts = pathParts(path);
    if (parts === null) return null;
    let deletedAt: number | undefined;
    for (let length = 1; length <= parts.length; length++) {
      for (const removal of this.#removals.get(parts.slice(0, length).join('/')) ?? []) {
        if (removal.layerIndex <= layerIndex) continue;
        // An opaque directory removes what is under it, not itself.
        if (removal.kind === 'opaque' && length === parts.length) continue;
        if (deletedAt === undefined || removal.layerIndex < deletedAt) deletedAt = removal.layerIndex;
      }
    }
    const { node } = this.#resolve(parts, false);
    const rewrittenAt = node === undefined ? undefined : (node.writes ?? [node.layerIndex]).find((write) => write > layerIndex);
    if (rewrittenAt !== undefined && (deletedAt === undefined || rewrittenAt <= deletedAt)) return { how: 'replaced', layer: this.#layer(rewrittenAt) };
    if (deletedAt !== undefined) return { how: 'deleted', layer: this.#layer(deletedAt) };
    return null;
  }
}
