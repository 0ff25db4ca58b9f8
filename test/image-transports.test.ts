// The transport round-trip contract (test/suites/transport-suite.ts) on all six image
// transports: dir:, oci:, oci-archive:, docker-archive:, the local store, and docker://
// against a real `custody serve`; and on the registry's own stores as a destination and
// a source. The named ones are opened by name, as the commands do.
import { after, before } from 'node:test';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { ClientOptions } from '../src/client/image-resolver.ts';
import { openDestination, openSource } from '../src/client/transports/index.ts';
import { LocalStore, LocalStoreDestination, LocalStoreSource } from '../src/client/local-store/index.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { tempDirs } from './support/temp-files.ts';
import { EVERY_KIND_BUT_ARCHIVE, transportSuite } from './suites/transport-suite.ts';
import type { ImageSource } from '../src/image/transport.ts';
import { FilesystemBlobStore } from '../src/storage/filesystem-blob-store.ts';
import { SqliteClient } from '../src/metadata/sqlite-client.ts';
import { migrate } from '../src/metadata/migrations.ts';
import { SqlMetadataStore } from '../src/metadata/sql-metadata-store.ts';
import { CoreRegistry } from '../src/registry/registry.ts';
import { RegistryImageSource } from '../src/scan/registry-image-source.ts';
import { RegistryImageDestination } from '../src/mirror/registry-image-destination.ts';

const tempDir = tempDirs('custody-transports-');

/** Client options that read no file of this machine: an empty registries.conf, no stored credentials. */
function isolatedClient(): ClientOptions {
  const home = tempDir();
  const registriesConf = join(home, 'registries.conf');
  writeFileSync(registriesConf, '');
  return { registriesConf, authFile: join(home, 'auth.json'), env: { HOME: home }, tlsVerify: false, isTTY: false };
}

let count = 0;
/** A place named `prefix` + a fresh path. */
function named(prefix: string, suffix = ''): { destination: () => ReturnType<typeof openDestination>; source: () => ReturnType<typeof openSource> } {
  const client = isolatedClient();
  const name = `${prefix}${join(tempDir(), `image-${++count}`)}${suffix}`;
  return { destination: () => openDestination(name, client), source: () => openSource(name, client) };
}

transportSuite({ name: 'dir:', kinds: EVERY_KIND_BUT_ARCHIVE, place: async () => named('dir:') });
transportSuite({ name: 'oci:', kinds: EVERY_KIND_BUT_ARCHIVE, place: async () => named('oci:', ':v1') });
transportSuite({ name: 'oci-archive:', kinds: EVERY_KIND_BUT_ARCHIVE, place: async () => named('oci-archive:', '.tar:v1') });
transportSuite({ name: 'docker-archive:', kinds: ['docker-archive-image'], place: async () => named('docker-archive:', '.tar:localhost/round-trip:v1') });

transportSuite({
  name: 'local store',
  kinds: EVERY_KIND_BUT_ARCHIVE,
  place: async () => {
    const store = new LocalStore(tempDir());
    const ref = `localhost/round-trip:v${++count}`;
    return { destination: () => new LocalStoreDestination(store, () => ref), source: () => new LocalStoreSource(store, ref) };
  },
});

let server: CustodyServer;
before(async () => {
  server = await startCustody();
});
after(async () => {
  await server.dispose();
});

transportSuite({
  name: 'docker:// (custody serve)',
  kinds: EVERY_KIND_BUT_ARCHIVE,
  place: async () => {
    const client = isolatedClient();
    const name = `docker://${server.host}/round-trip/image-${++count}:v1`;
    return { destination: () => openDestination(name, client), source: () => openSource(name, client) };
  },
});

// The registry's own stores: written through RegistryImageDestination (what mirroring
// copies into), read back through RegistryImageSource (what the scanner reads).
let registry: CoreRegistry | undefined;
let registrySql: SqliteClient | undefined;
before(async () => {
  const directory = tempDir();
  const blobs = new FilesystemBlobStore(join(directory, 'blobs'));
  await blobs.init();
  registrySql = new SqliteClient(join(directory, 'db.sqlite'));
  await migrate(registrySql);
  registry = new CoreRegistry(blobs, new SqlMetadataStore(registrySql), { maxManifestBytes: 1 << 22, maxPageSize: 100, automaticMount: true });
});
after(async () => {
  await registrySql?.close();
});
transportSuite({
  name: 'the registry (RegistryImageDestination, RegistryImageSource)',
  kinds: EVERY_KIND_BUT_ARCHIVE,
  place: async () => {
    const repository = `round-trip/image-${++count}`;
    return {
      destination: () => new RegistryImageDestination(registry!, repository, 'v1'),
      source: () => {
        // The source reads by digest: the tag is looked up when the top-level manifest is asked for.
        let inner: RegistryImageSource | undefined;
        const open = async (): Promise<RegistryImageSource> => (inner ??= new RegistryImageSource(registry!, repository, (await registry!.headManifest(repository, 'v1')).digest));
        return {
          name: `custody:${repository}:v1`,
          getManifest: async (instance?: string) => (await open()).getManifest(instance),
          getBlob: async (blob) => (await open()).getBlob(blob),
          close: async () => {},
        } satisfies ImageSource;
      },
    };
  },
});
