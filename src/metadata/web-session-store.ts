// The web catalog's sessions as rows: what a browser's session cookie stands for. The id
// is never stored, only its sha256 (`idHash`), so reading the table gives no session away.
export interface WebSessionRecord {
  readonly idHash: string;
  readonly accountId: number;
  readonly accountName: string;
  readonly securityStamp: string;
  readonly via: string;
  readonly csrfToken: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface WebSessionStore {
  insert(session: WebSessionRecord): Promise<void>;
  find(idHash: string): Promise<WebSessionRecord | null>;
  /** Records use; only moves the time forward. */
  touch(idHash: string, lastSeenAt: number): Promise<void>;
  setSecurityStamp(idHash: string, securityStamp: string): Promise<void>;
  delete(idHash: string): Promise<boolean>;
  /** Removes sessions idle since before `idleBefore` or created before `createdBefore`; returns how many. */
  deleteExpired(idleBefore: number, createdBefore: number): Promise<number>;
}
