// The shape of a `custody admin` command: a projection of one or more operations of the
// management route table (src/management/routes.ts), which admin-command.ts interprets.
// Arguments named like a path parameter of the route (`name`, `org`, `team`, `account`,
// `robot`, `repository`, `id`) fill it; `params` adds what comes from flags instead.

export interface AdminFlags {
  readonly email?: string;
  readonly superuser?: string;
  readonly disabled?: string;
  readonly description?: string;
  readonly role?: string;
  readonly 'ldap-group'?: string;
  readonly visibility?: string;
  readonly user?: string;
  readonly robot?: string;
  readonly team?: string;
  readonly direct?: boolean;
  readonly expires?: string;
  readonly all?: boolean;
  readonly json?: boolean;
  readonly namespace?: string;
  readonly repository?: string;
  readonly format?: string;
  readonly events?: string;
  readonly secret?: string;
  readonly name?: string;
  readonly warn?: string;
  readonly reject?: string;
  readonly 'keep-last'?: string;
  readonly 'keep-pushed'?: string;
  readonly 'keep-pulled'?: string;
  readonly include?: string;
  readonly exclude?: string;
  readonly 'dry-run'?: boolean;
  readonly interval?: string;
  readonly 'remote-user'?: string;
}

/** What a command works from: its arguments by name, the flags, and the new password (read from stdin). */
export interface AdminInput {
  readonly args: Readonly<Record<string, string>>;
  readonly operands: readonly string[];
  readonly flags: AdminFlags;
  /** The second stdin line when the command takes a password and --password-stdin is given. */
  newPassword(): string | undefined;
}

/** Calls an operation of the route table (for commands that look something up first). */
export type AdminCall = <T>(operationId: string, params?: Readonly<Record<string, string>>) => Promise<T>;

/**
 * How a command prints. The answer is the operation's JSON response (its shape is the
 * route's response schema); each command types the fields it reads, hence `any` here.
 */
export interface AdminOutput {
  /** Whether --json prints the answer as JSON instead of the notes and text (default true). */
  readonly json?: boolean;
  /** Lines for standard error, each as `custody admin: LINE`. */
  readonly note?: (answer: any, input: AdminInput) => string | readonly string[];
  /** The text for standard output: a table, a value, a token shown once. */
  readonly out?: (answer: any, input: AdminInput) => string | undefined;
}

export interface AdminCommand {
  /** The words after `custody admin`. */
  readonly words: string;
  /** Positional arguments by name, in order. */
  readonly args: readonly string[];
  /** The arguments as the help and usage errors show them (default: none). */
  readonly usage?: string;
  /** Optional flags as the help shows them. */
  readonly options?: string;
  /** A remark at the end of the help line. */
  readonly remark?: string;
  /** Flags the command takes beyond the connection ones (--registry, --token, --username, --password-stdin, --json). */
  readonly flags?: readonly (keyof AdminFlags)[];
  /** Reads a new password from stdin with --password-stdin (its second line when --username is given too). */
  readonly newPassword?: boolean;
  /** Every operation the command may call; `route` chooses among them when there are several. */
  readonly operations: readonly string[];
  readonly route?: (input: AdminInput, call: AdminCall) => string | Promise<string>;
  /** Checks the positional arguments instead of counting them against `args`. */
  readonly arity?: (input: AdminInput) => void;
  /** Checks argument values before anything is sent. */
  readonly check?: (input: AdminInput) => void;
  /** Path parameters that do not come from an argument of the same name. */
  readonly params?: (input: AdminInput) => Readonly<Record<string, string>>;
  readonly body?: (input: AdminInput) => unknown;
  /** Query parameters of the request. */
  readonly query?: (input: AdminInput) => Readonly<Record<string, string>>;
  /** The answer is a page of this list: ask with n=1000 and follow `next` to the end. */
  readonly pages?: string;
  readonly print: AdminOutput;
}


export const json = (value: unknown): string => JSON.stringify(value, null, 2);
/** Prints the answer as JSON, with or without --json. */
export const SHOW_JSON: AdminOutput = { out: json };

/** `--flag` given: its value, empty becoming null (clears the field). */
export function cleared(value: string | undefined): string | null | undefined {
  return value === undefined ? undefined : value === '' ? null : value;
}

/** An object of the entries that are given (not undefined). */
export function fields(entries: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined));
}
