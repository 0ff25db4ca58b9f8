// Repository mirrors and their sync history. The store holds what it is given: the
// credential's secret arrives sealed (src/mirror/secret-box.ts) and is never readable here.

export type MirrorRunStatus = 'running' | 'succeeded' | 'failed';

export interface MirrorDefinition {
  /** The local repository that follows the remote one. */
  readonly repository: string;
  /** `host[:port]` (HTTPS) or a URL (`http://host:port` for plain HTTP). */
  readonly remoteRegistry: string;
  readonly remoteRepository: string;
  /** Tag globs (`*`, `?`); a tag is mirrored when it matches one include and no exclude. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly intervalMs: number;
  readonly username?: string | undefined;
  /** The remote password or token, sealed. */
  readonly sealedSecret?: string | undefined;
  readonly enabled: boolean;
}

export interface MirrorRecord extends MirrorDefinition {
  readonly createdAt: number;
  readonly lastRunAt?: number | undefined;
  readonly lastStatus?: MirrorRunStatus | undefined;
  readonly lastError?: string | undefined;
}

export interface MirrorRun {
  readonly id: number;
  readonly repository: string;
  readonly startedAt: number;
  readonly finishedAt?: number | undefined;
  readonly status: MirrorRunStatus;
  readonly tagsCopied: number;
  readonly bytes: number;
  readonly error?: string | undefined;
}

export interface MirrorRunOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly finishedAt: number;
  readonly tagsCopied: number;
  readonly bytes: number;
  readonly error?: string | undefined;
}

export interface MirrorStore {
  /** Conflict('repository') when the repository is a mirror already. */
  create(definition: MirrorDefinition, now: number): Promise<MirrorRecord>;
  get(repository: string): Promise<MirrorRecord | null>;
  list(): Promise<MirrorRecord[]>;
  /** False when there was no such mirror. Its runs go with it. */
  delete(repository: string): Promise<boolean>;
  /** Enabled mirrors never run, or whose last run started at least their interval before `now`. */
  due(now: number): Promise<MirrorRecord[]>;
  /** Records a run as started (and the mirror's last run); returns its id. Runs of the mirror left running were interrupted: they are marked failed. */
  startRun(repository: string, now: number): Promise<number>;
  finishRun(id: number, outcome: MirrorRunOutcome): Promise<void>;
  /** Newest first. */
  listRuns(repository: string, limit: number): Promise<MirrorRun[]>;
}

/** What creating a mirror takes (the service seals the password before storing it). */
export interface NewMirror {
  readonly repository: string;
  readonly remoteRegistry: string;
  readonly remoteRepository: string;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly intervalMs?: number;
  readonly username?: string;
  /** The remote password or robot token: sealed before it is stored, never shown again. */
  readonly password?: string;
  readonly enabled?: boolean;
}
