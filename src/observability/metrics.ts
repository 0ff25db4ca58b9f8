// A small Prometheus registry: counters, gauges and histograms with labels, rendered in
// the text exposition format at /metrics. Small on purpose: no dependency for ~100 lines.
type Labels = Readonly<Record<string, string>>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((key) => `${key}="${escapeLabel(labels[key]!)}"`).join(',');
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }
  inc(labels: Labels = {}, amount = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  private readonly collect: (() => number) | undefined;
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string, collect?: () => number) {
    this.name = name;
    this.help = help;
    this.collect = collect;
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  add(amount: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + amount);
  }
  render(): string {
    if (this.collect) this.values.set('', this.collect());
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [key, value] of this.values) lines.push(`${this.name}${key ? `{${key}}` : ''} ${value}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
  }
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]!++;
    entry.sum += value;
    entry.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, entry] of this.series) {
      const prefix = key ? `${key},` : '';
      this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket{${prefix}le="${bound}"} ${entry.counts[i]}`));
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${entry.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ''} ${entry.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ''} ${entry.count}`);
    }
    return lines.join('\n');
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    const metric = new Counter(name, help);
    this.metrics.push(metric);
    return metric;
  }
  gauge(name: string, help: string, collect?: () => number): Gauge {
    const metric = new Gauge(name, help, collect);
    this.metrics.push(metric);
    return metric;
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    const metric = new Histogram(name, help, buckets);
    this.metrics.push(metric);
    return metric;
  }
  render(): string {
    return `${this.metrics.map((metric) => metric.render()).join('\n')}\n`;
  }
}

/** The registry server's metrics. */
export function createServerMetrics(): {
  registry: MetricsRegistry;
  requests: Counter;
  duration: Histogram;
  bytesIn: Counter;
  bytesOut: Counter;
  inFlight: Gauge;
} {
  const registry = new MetricsRegistry();
  return {
    registry,
    requests: registry.counter('custody_http_requests_total', 'HTTP requests by route, method and status.'),
    duration: registry.histogram('custody_http_request_duration_seconds', 'HTTP request duration by route and method.', [
      0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]),
    bytesIn: registry.counter('custody_http_request_bytes_total', 'Request body bytes received, by route.'),
    bytesOut: registry.counter('custody_http_response_bytes_total', 'Response bytes sent, by route.'),
    inFlight: registry.gauge('custody_http_requests_in_flight', 'Requests being served.'),
  };
}

export function processMetrics(registry: MetricsRegistry): void {
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss());
  registry.gauge('process_heap_bytes', 'V8 heap used in bytes.', () => process.memoryUsage().heapUsed);
  registry.gauge('process_uptime_seconds', 'Seconds since the process started.', () => process.uptime());
}
