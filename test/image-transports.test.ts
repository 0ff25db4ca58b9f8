// The transport round-trip contract (test/suites/transport-suite.ts) on all six image
// transports: dir:, oci:, oci-archive:, docker-archive:, the local store, and docker://
// against a real `custody serve`. The named ones are opened by name, as the commands do.
import { after, before } from 'node:test';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { ClientOptions } from '../src/client/image-resolver.ts';
import { openDestination, openSource } from '../src/client/transports/index.ts';
import { LocalStore, LocalStoreDestination, LocalStoreSource } from '../src/client/local-store/index.ts';
import { startCustody, type CustodyServer } from './support/custody-server.ts';
import { tempDirs } from './support/temp-files.ts';
import { EVERY_KIND_BUT_ARCHIVE, transportSuite } from './suites/transport-suite.ts';

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
