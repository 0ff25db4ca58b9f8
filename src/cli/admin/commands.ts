// Every `custody admin` command, in the order the help lists them, and the operations of
// the management route table it leaves to the API.
import { ACCOUNT_COMMANDS } from './account-commands.ts';
import { CREDENTIAL_COMMANDS } from './credential-commands.ts';
import { REPOSITORY_COMMANDS } from './repository-commands.ts';
import { WEBHOOK_COMMANDS } from './webhook-commands.ts';
import { LIFECYCLE_COMMANDS } from './lifecycle-commands.ts';
import { MIRROR_COMMANDS } from './mirror-commands.ts';
import type { AdminCommand } from './command-spec.ts';

export const ADMIN_COMMANDS: readonly AdminCommand[] = [...ACCOUNT_COMMANDS, ...REPOSITORY_COMMANDS, ...MIRROR_COMMANDS, ...CREDENTIAL_COMMANDS, ...WEBHOOK_COMMANDS, ...LIFECYCLE_COMMANDS];

/** Operations of the route table that `custody admin` leaves to the API (or to other commands). */
export const API_ONLY_OPERATIONS: readonly string[] = [
  'getOpenApi',
  'updateCurrentUser',
  'updateOrganization',
  // `custody tag history|restore|expire` (tag-command.ts) calls these.
  'getTagHistory',
  'restoreTag',
  'setTagExpiry',
  'listTagExpiries',
];
