// What every action-log forwarder is (syslog, HTTP), and the bounds they share.
import type { StoredAction } from './action-log-store.ts';

export interface ActionForwarder {
  readonly name: string;
  /** Takes entries already stored; returns at once and never throws. */
  forward(entries: readonly StoredAction[]): void;
  /** Sends what is buffered (within a few seconds at most) and releases the connection. */
  close(): Promise<void>;
}

export interface ForwarderStats {
  readonly sent: number;
  readonly dropped: number;
  readonly failures: number;
  readonly buffered: number;
}

/** Entries a forwarder keeps while its collector is away; older ones are dropped and counted. */
export const DEFAULT_MAX_BUFFER = 10_000;
/** How long closing may take to send what is left. */
export const CLOSE_TIMEOUT_MS = 5_000;

export async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.then(() => {}, () => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
