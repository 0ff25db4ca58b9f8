// Quotas: a namespace may set a warning and a rejection threshold. Usage is kept by the
// metadata store in the transaction of every link; this guard refuses a link (an upload's
// commit, a mount, or an upload's start when its size is declared) that would take the
// namespace past its rejection threshold, with the figures. A blob the namespace already
// holds costs nothing. Concurrent uploads are each checked against the committed usage,
// so a burst may pass the threshold by what was in flight; the books themselves never drift.
import { Denied } from '../core/errors.ts';
import type { EventPublisher } from '../core/events.ts';
import { formatBytes } from '../core/size.ts';
import type { QuotaStore } from '../metadata/quota-store.ts';
import { namespaceOf } from '../metadata/namespace-usage.ts';
import type { BlobLink, WriteGuard } from '../registry/write-guard.ts';

/** A warning is published at most this often per namespace and process. */
const WARNING_INTERVAL_MS = 60 * 60_000;

export class QuotaGuard implements WriteGuard {
  private readonly store: QuotaStore;
  private readonly events: EventPublisher | undefined;
  private readonly warned = new Map<string, number>();

  constructor(store: QuotaStore, events?: EventPublisher) {
    this.store = store;
    this.events = events;
  }

  async beforeBlobLink(link: BlobLink): Promise<void> {
    const namespace = namespaceOf(link.repository);
    const quota = await this.store.getQuota(namespace);
    if (!quota || (quota.rejectBytes === null && quota.warnBytes === null)) return;
    if (await this.store.counts(namespace, link.digest)) return;
    const used = await this.store.usage(namespace);
    const after = used + link.size;
    if (quota.rejectBytes !== null && after > quota.rejectBytes) {
      this.events?.publish('quota.exceeded', { namespace, used, limit: quota.rejectBytes, attempted: link.size }, link.actor);
      throw new Denied(
        'quota',
        `quota exceeded for namespace ${namespace}: ${formatBytes(used)} used + ${formatBytes(link.size)} would pass the ${formatBytes(quota.rejectBytes, { limit: true })} limit`,
        { detail: { namespace, used, attempted: link.size, limit: quota.rejectBytes } },
      );
    }
    if (quota.warnBytes !== null && after > quota.warnBytes) {
      const last = this.warned.get(namespace) ?? 0;
      if (Date.now() - last >= WARNING_INTERVAL_MS) {
        this.warned.set(namespace, Date.now());
        this.events?.publish('quota.warning', { namespace, used: after, limit: quota.warnBytes }, link.actor);
      }
    }
  }
}
