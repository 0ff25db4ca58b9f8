// Where the client's advisory database lives: shared by `custody vulndb` (which fills it)
// and `custody scan`/`grade`/`errata` (which read it).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** $CUSTODY_VULNDB, else $XDG_DATA_HOME/custody/vulndb.sqlite (~/.local/share by default). */
export function defaultVulnDbPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.CUSTODY_VULNDB !== undefined && env.CUSTODY_VULNDB !== '') return env.CUSTODY_VULNDB;
  const data = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== '' ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), '.local', 'share');
  return join(data, 'custody', 'vulndb.sqlite');
}
