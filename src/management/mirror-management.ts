// Repository mirrors in the management API: superusers create, list, inspect, delete and
// trigger mirrors and read their sync history. The mirroring itself is src/mirror's
// MirrorService, which the composition root passes in as a `MirrorAdministration` (this
// folder does not import src/mirror). A mirror's credential secret is never shown.
import { validateRepositoryName } from '../core/names.ts';
import type { MirrorRecord, MirrorRun, NewMirror } from '../metadata/mirror-store.ts';
import type { ManagementContext, Caller } from './management-context.ts';
import { invalid, notFound } from './input-checks.ts';

/** What creating a mirror takes: the store's own input type. */
export type NewMirrorInput = NewMirror;

/** What the mirror module offers the API (MirrorService implements it). */
export interface MirrorAdministration {
  create(input: NewMirrorInput): Promise<MirrorRecord>;
  list(): Promise<MirrorRecord[]>;
  get(repository: string): Promise<MirrorRecord>;
  delete(repository: string): Promise<void>;
  sync(repository: string): Promise<{ readonly run: number; readonly status: string; readonly tagsCopied: number; readonly tagsSkipped: number; readonly bytes: number; readonly errors: readonly string[] }>;
  runs(repository: string, limit?: number): Promise<MirrorRun[]>;
}

export interface MirrorView {
  readonly repository: string;
  readonly remoteRegistry: string;
  readonly remoteRepository: string;
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly intervalMs: number;
  readonly username: string | null;
  readonly hasSecret: boolean;
  readonly enabled: boolean;
  readonly createdAt: string;
  readonly lastRunAt: string | null;
  readonly lastStatus: string | null;
  readonly lastError: string | null;
}

export interface MirrorRunView {
  readonly id: number;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly status: string;
  readonly tagsCopied: number;
  readonly bytes: number;
  readonly error: string | null;
}

const REMOTE_REGISTRY = /^(https?:\/\/)?[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

export class MirrorManagementService {
  private readonly context: ManagementContext;
  private readonly mirrors: MirrorAdministration | undefined;

  constructor(context: ManagementContext, mirrors: MirrorAdministration | undefined) {
    this.context = context;
    this.mirrors = mirrors;
  }

  async create(caller: Caller, input: NewMirrorInput): Promise<MirrorView> {
    const mirrors = this.available(caller, 'create mirrors');
    try {
      validateRepositoryName(input.repository);
      validateRepositoryName(input.remoteRepository);
    } catch (error) {
      throw invalid((error as Error).message);
    }
    if (!REMOTE_REGISTRY.test(input.remoteRegistry)) throw invalid('remoteRegistry: expected host[:port], or http(s)://host[:port]');
    if ((input.username === undefined) !== (input.password === undefined)) throw invalid('username and password go together');
    if (input.intervalMs !== undefined && input.intervalMs < 1000) throw invalid('intervalMs: at least 1000');
    const source = `${input.remoteRegistry}/${input.remoteRepository}`;
    return this.context.change(
      caller,
      'repository',
      { action: 'mirror', source },
      async () => {
        // The repository exists with an owner before content arrives, as when a superuser
        // creates one: an unowned namespace becomes the caller's organization.
        await this.context.access.claimNamespace(caller, input.repository, { ip: caller.ip, userAgent: caller.userAgent });
        await this.context.identity.ensureRepository(input.repository, 'private');
        return mirrorView(await mirrors.create(input));
      },
      input.repository,
    );
  }

  async list(caller: Caller): Promise<MirrorView[]> {
    return (await this.available(caller, 'list mirrors').list()).map(mirrorView);
  }

  async get(caller: Caller, repository: string): Promise<MirrorView> {
    return mirrorView(await this.available(caller, 'read mirrors').get(repository));
  }

  async delete(caller: Caller, repository: string): Promise<void> {
    const mirrors = this.available(caller, 'delete mirrors');
    await this.context.change(caller, 'repository', { action: 'unmirror' }, () => mirrors.delete(repository), repository);
  }

  async sync(caller: Caller, repository: string): Promise<MirrorRunView> {
    const mirrors = this.available(caller, 'sync mirrors');
    const report = await mirrors.sync(repository);
    const [run] = (await mirrors.runs(repository, 20)).filter((entry) => entry.id === report.run);
    if (!run) throw notFound(`run ${report.run} of mirror ${repository} is gone`);
    return runView(run);
  }

  async runs(caller: Caller, repository: string): Promise<MirrorRunView[]> {
    const mirrors = this.available(caller, 'read mirrors');
    await mirrors.get(repository);
    return (await mirrors.runs(repository, 100)).map(runView);
  }

  private available(caller: Caller, what: string): MirrorAdministration {
    this.context.superuser(caller, what);
    if (!this.mirrors) throw notFound('repository mirroring is not enabled on this server');
    return this.mirrors;
  }
}

function iso(time: number | undefined): string | null {
  return time === undefined ? null : new Date(time).toISOString();
}

export function mirrorView(record: MirrorRecord): MirrorView {
  return {
    repository: record.repository,
    remoteRegistry: record.remoteRegistry,
    remoteRepository: record.remoteRepository,
    include: record.include,
    exclude: record.exclude,
    intervalMs: record.intervalMs,
    username: record.username ?? null,
    hasSecret: record.sealedSecret !== undefined,
    enabled: record.enabled,
    createdAt: new Date(record.createdAt).toISOString(),
    lastRunAt: iso(record.lastRunAt),
    lastStatus: record.lastStatus ?? null,
    lastError: record.lastError ?? null,
  };
}

function runView(run: MirrorRun): MirrorRunView {
  return { id: run.id, startedAt: new Date(run.startedAt).toISOString(), finishedAt: iso(run.finishedAt), status: run.status, tagsCopied: run.tagsCopied, bytes: run.bytes, error: run.error ?? null };
}
