// Optional forwarding of every stored action log entry to a log collector: syslog
// (RFC 5424, over UDP or over TCP with RFC 6587 octet-counting framing, here) and HTTP
// (http-forwarder.ts: JSON Lines, Elasticsearch/OpenSearch bulk, Splunk HEC). Forwarders receive entries after they are committed,
// buffer them (bounded: the oldest are dropped and counted when a collector is down for
// long), and send in the background: a slow or absent collector never holds a request.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from '../observability/logger.ts';
import { actionJson, type StoredAction } from './action-log-store.ts';
import { HttpForwarder, type HttpForwardFormat } from './http-forwarder.ts';
import { CLOSE_TIMEOUT_MS, DEFAULT_MAX_BUFFER, withTimeout, type ActionForwarder, type ForwarderStats } from './forwarder.ts';

export type { ActionForwarder, ForwarderStats } from './forwarder.ts';

export { HttpForwarder, httpBatchBody, type HttpForwarderOptions, type HttpForwardFormat } from './http-forwarder.ts';

export interface ForwardingConfig {
  readonly syslog?: string | undefined;
  readonly forwardUrl?: string | undefined;
  readonly forwardFormat?: HttpForwardFormat | undefined;
  /** The Elasticsearch/OpenSearch index or data stream (Splunk: the index, when not the token's default). */
  readonly forwardIndex?: string | undefined;
  /** The collector's credential, sent in the Authorization scheme its format expects. */
  readonly forwardToken?: string | undefined;
  /** Extra headers (lower-case names), e.g. a tenant or an API key header. */
  readonly forwardHeaders?: Readonly<Record<string, string>> | undefined;
}

export function createForwarders(config: ForwardingConfig, logger: Logger): ActionForwarder[] {
  const forwarders: ActionForwarder[] = [];
  if (config.syslog !== undefined && config.syslog !== '') forwarders.push(new SyslogForwarder({ url: config.syslog, logger }));
  if (config.forwardUrl !== undefined && config.forwardUrl !== '') {
    forwarders.push(
      new HttpForwarder({
        url: config.forwardUrl,
        logger,
        format: config.forwardFormat,
        index: config.forwardIndex,
        token: config.forwardToken,
        headers: config.forwardHeaders,
      }),
    );
  }
  return forwarders;
}



// --- syslog ---------------------------------------------------------------------------

/** Facility 13, "log audit" (RFC 5424 table 1). */
const FACILITY_LOG_AUDIT = 13;
const SEVERITY = { success: 6, denied: 5, failure: 4 } as const; // informational, notice, warning
/** UDP messages stay under a size every collector accepts (RFC 5426 says 2048 at least; most take 64k). */
const MAX_UDP_MESSAGE = 8192;

/** The RFC 5424 line for `entry`: `<PRI>1 TIMESTAMP HOST custody PROCID KIND - JSON`. */
export function syslogMessage(entry: StoredAction, host: string = hostname()): string {
  const json = actionJson(entry);
  const pri = FACILITY_LOG_AUDIT * 8 + SEVERITY[entry.result];
  return `<${pri}>1 ${json.time} ${printable(host, 255)} custody ${process.pid} ${printable(entry.kind, 32)} - ${JSON.stringify(json)}`;
}

/** RFC 5424 header fields: printable US-ASCII without spaces, or the nil value. */
function printable(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

export interface SyslogForwarderOptions {
  /** udp://host:port or tcp://host:port */
  readonly url: string;
  readonly logger: Logger;
  readonly maxBuffer?: number | undefined;
  readonly hostname?: string | undefined;
}

export class SyslogForwarder implements ActionForwarder {
  readonly name: string;
  private readonly protocol: 'udp' | 'tcp';
  private readonly host: string;
  private readonly port: number;
  private readonly logger: Logger;
  private readonly maxBuffer: number;
  private readonly localHost: string;
  private buffer: string[] = [];
  private udp: UdpSocket | null = null;
  private udpPending = 0;
  private udpIdle: (() => void) | null = null;
  private tcp: Socket | null = null;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private closed = false;
  private warnedDown = false;
  private counts = { sent: 0, dropped: 0, failures: 0 };

  constructor(options: SyslogForwarderOptions) {
    const url = new URL(options.url);
    const protocol = url.protocol.replace(/:$/, '');
    if (protocol !== 'udp' && protocol !== 'tcp') throw new Error(`syslog: expected udp://host:port or tcp://host:port, got ${options.url}`);
    this.protocol = protocol;
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port);
    if (!(this.port > 0 && this.port < 65536)) throw new Error(`syslog: missing or invalid port in ${options.url}`);
    this.name = `syslog ${protocol}://${url.host}`;
    this.logger = options.logger;
    this.maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.localHost = options.hostname ?? hostname();
  }

  get stats(): ForwarderStats {
    return { ...this.counts, buffered: this.buffer.length };
  }

  forward(entries: readonly StoredAction[]): void {
    if (this.closed) return;
    try {
      for (const entry of entries) this.buffer.push(syslogMessage(entry, this.localHost));
      const excess = this.buffer.length - this.maxBuffer;
      if (excess > 0) {
        this.buffer.splice(0, excess);
        this.counts.dropped += excess;
      }
      this.pump();
    } catch (error) {
      this.logger.warn('syslog forwarding failed', { forwarder: this.name, error });
    }
  }

  private pump(): void {
    if (this.protocol === 'udp') this.pumpUdp();
    else this.pumpTcp();
  }

  private pumpUdp(): void {
    if (!this.udp) {
      this.udp = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
      this.udp.on('error', (error) => {
        this.counts.failures++;
        if (!this.warnedDown) this.logger.warn('syslog socket error', { forwarder: this.name, error });
        this.warnedDown = true;
      });
      this.udp.unref();
    }
    const socket = this.udp;
    for (const message of this.buffer.splice(0)) {
      const bytes = truncateUtf8(message, MAX_UDP_MESSAGE);
      this.udpPending++;
      socket.send(bytes, this.port, this.host, (error) => {
        this.udpPending--;
        if (error) this.counts.failures++;
        else this.counts.sent++;
        if (this.udpPending === 0) this.udpIdle?.();
      });
    }
  }

  private pumpTcp(): void {
    if (this.closed && !this.tcp) return;
    if (!this.tcp) {
      if (this.reconnectTimer) return;
      this.openTcp();
      return;
    }
    if (!this.connected) return;
    const socket = this.tcp;
    while (this.buffer.length > 0) {
      const message = this.buffer.shift()!;
      const bytes = Buffer.from(message, 'utf8');
      // RFC 6587 octet counting: "LEN SP MSG".
      const ok = socket.write(Buffer.concat([Buffer.from(`${bytes.length} `, 'ascii'), bytes]));
      this.counts.sent++;
      if (!ok) {
        socket.once('drain', () => this.pump());
        return;
      }
    }
  }

  private openTcp(): void {
    const socket = connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    this.tcp = socket;
    this.connected = false;
    socket.on('connect', () => {
      this.connected = true;
      this.backoffMs = 0;
      if (this.warnedDown) this.logger.info('syslog connection restored', { forwarder: this.name });
      this.warnedDown = false;
      this.pumpTcp();
    });
    socket.on('error', (error) => {
      this.counts.failures++;
      if (!this.warnedDown) this.logger.warn('syslog connection failed; buffering', { forwarder: this.name, error, buffered: this.buffer.length });
      this.warnedDown = true;
    });
    socket.on('close', () => {
      if (this.tcp !== socket) return;
      this.tcp = null;
      this.connected = false;
      if (this.closed) return;
      this.backoffMs = Math.min(30_000, this.backoffMs === 0 ? 500 : this.backoffMs * 2);
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = null;
        if (this.buffer.length > 0) this.openTcp();
      }, this.backoffMs);
      this.reconnectTimer.unref();
    });
    // Collectors do not answer; anything they send is ignored.
    socket.resume();
    socket.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.udp) {
      const socket = this.udp;
      this.udp = null;
      // Let queued datagrams leave (each send resolves its address first) before closing.
      if (this.udpPending > 0) await withTimeout(new Promise<void>((resolve) => (this.udpIdle = resolve)), CLOSE_TIMEOUT_MS);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return;
    }
    const socket = this.tcp;
    if (!socket) {
      if (this.buffer.length > 0) {
        this.counts.dropped += this.buffer.length;
        this.buffer = [];
      }
      return;
    }
    await withTimeout(
      new Promise<void>((resolve) => {
        const finish = (): void => {
          if (this.buffer.length > 0) this.pumpTcp();
          if (this.buffer.length > 0) {
            socket.once('drain', finish);
            return;
          }
          socket.end(() => resolve());
        };
        if (this.connected) finish();
        else socket.once('connect', finish).once('close', () => resolve());
      }),
      CLOSE_TIMEOUT_MS,
    );
    socket.destroy();
    this.tcp = null;
  }
}

function truncateUtf8(text: string, maxBytes: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
