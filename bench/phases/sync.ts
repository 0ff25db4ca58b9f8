// The sync phase: `custody sync` against `skopeo sync` of the same 50-tag repository from the
// Custody registry, into a directory (`--dest dir`) and into another repository of the
// registry (`--dest docker`). Each tag is a small image of its own (one 256 KiB layer), so
// the time is mostly per-image work: listing, manifests, signatures lookups, blob transfers.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, skopeoVersion, type ToolRun } from '../lib/client-copy.ts';
import { OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, OciClient, sha256Digest } from '../lib/oci-client.ts';
import type { RegistryProcess } from '../lib/processes.ts';
import { median } from '../lib/stats.ts';
import type { Settings } from '../settings.ts';
import { rows, raw, log, problem } from '../lib/measure.ts';

const SOURCE = 'bench/sync-source';
type Tool = 'skopeo' | 'custody';

export async function syncPhase(settings: Settings, server: RegistryProcess, parent: string, custodyDir: string, tagCount = 50): Promise<void> {
  const skopeo = skopeoVersion();
  if (skopeo === null) {
    problem('phase sync: skopeo is not installed (it is the baseline); skipped');
    return;
  }
  const work = join(parent, 'sync');
  mkdirSync(work, { recursive: true });
  const registry = new URL(server.url).host;
  const client = new OciClient(server.url, 8);
  try {
    log(`pushing ${tagCount} tags of distinct small images to ${SOURCE} (not timed)`);
    for (let index = 0; index < tagCount; index++) {
      const layer = randomBytes(256 * 1024);
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(layer)] }, config: { Labels: { index: String(index) } } }));
      await client.pushBlob(SOURCE, layer, sha256Digest(layer));
      await client.pushBlob(SOURCE, config, sha256Digest(config));
      const manifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: OCI_CONFIG, digest: sha256Digest(config), size: config.length },
        layers: [{ mediaType: OCI_LAYER, digest: sha256Digest(layer), size: layer.length }],
      }));
      await client.putManifest(SOURCE, `t${String(index).padStart(3, '0')}`, manifest);
    }
    const section = `sync: custody sync vs ${skopeo.replace(/ version /, ' ')}, ${tagCount} tags of 256 KiB images`;
    let runs = 0;
    const runOne = async (tool: Tool, destinationKind: 'dir' | 'docker'): Promise<ToolRun> => {
      const scratch = join(work, `scratch-${runs++}`);
      mkdirSync(scratch, { recursive: true });
      const destination = destinationKind === 'dir' ? join(scratch, 'out') : `${registry}/bench/sync-${tool}-${runs}`;
      const args = ['sync', '--src', 'docker', '--dest', destinationKind, '--src-tls-verify=false', ...(destinationKind === 'docker' ? ['--dest-tls-verify=false'] : []), `${registry}/${SOURCE}`, destination];
      try {
        if (tool === 'custody') return await runTool(process.execPath, [join(custodyDir, 'bin', 'custody.js'), ...args, '--quiet'], process.env, scratch);
        const env = { ...process.env, XDG_DATA_HOME: scratch, ...(process.getuid?.() === 0 ? { _CONTAINERS_ROOTLESS_UID: '65534' } : {}) };
        return await runTool('skopeo', ['--insecure-policy', ...args], env, scratch);
      } finally {
        if (destinationKind === 'dir') {
          const copied = readdirSync(join(scratch, 'out')).length;
          if (copied !== tagCount) problem(`sync with ${tool} wrote ${copied} image directories, expected ${tagCount}`);
        }
        rmSync(scratch, { recursive: true, force: true });
      }
    };
    const results: Record<string, Record<Tool, ToolRun[]>> = {};
    for (const destinationKind of ['dir', 'docker'] as const) {
      const runsByTool: Record<Tool, ToolRun[]> = { skopeo: [], custody: [] };
      for (let round = 0; round < settings.rounds; round++) {
        const order: Tool[] = round % 2 === 0 ? ['skopeo', 'custody'] : ['custody', 'skopeo'];
        for (const tool of order) {
          const run = await runOne(tool, destinationKind);
          runsByTool[tool].push(run);
          log(`sync --dest ${destinationKind} round ${round + 1}/${settings.rounds} ${tool}: ${run.seconds.toFixed(2)} s`);
        }
      }
      results[destinationKind] = runsByTool;
      const wall = { skopeo: median(runsByTool.skopeo.map((run) => run.seconds)), custody: median(runsByTool.custody.map((run) => run.seconds)) };
      rows.push({
        section,
        metric: `registry → ${destinationKind === 'dir' ? 'dir' : 'registry (new repository)'} wall time`,
        unit: 's',
        distribution: [wall.skopeo],
        custody: [wall.custody],
        higherIsBetter: false,
        baseline: 'skopeo',
        note: `target ratio ≤ 1.0: ${wall.custody / wall.skopeo <= 1 ? 'PASS' : 'FAIL'}`,
      });
    }
    raw.sync = { skopeo, tagCount, results };
  } finally {
    client.close();
    rmSync(work, { recursive: true, force: true });
  }
}
