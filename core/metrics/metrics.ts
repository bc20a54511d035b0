import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, fine-grained below 10 ms where the exchange's targets lie. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricSources {
  eventBusPending: () => number;
  outboxBacklog: () => number;
  outboxPublished: () => number;
}

/** One registry per application instance, so tests can build several apps in one process. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly grpcDuration: Histogram<'method' | 'code'>;
  readonly databaseUp: Gauge;
  readonly eventBusUp: Gauge;
  readonly eventBusPending: Gauge;
  readonly outboxBacklog: Gauge;
  readonly outboxPublished: Counter;

  constructor(labels: { instance: string; database: string; eventBus: string }, sources: MetricSources) {
    this.registry.setDefaultLabels({ instance: labels.instance });
    collectDefaultMetrics({ register: this.registry, prefix: 'zt_' });
    const registers = [this.registry];
    this.httpDuration = new Histogram({
      name: 'zt_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.grpcDuration = new Histogram({
      name: 'zt_grpc_request_duration_seconds',
      help: 'gRPC call latency by full method name and status code.',
      labelNames: ['method', 'code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.databaseUp = new Gauge({ name: 'zt_database_up', help: `1 when the ${labels.database} database answered the last check.`, registers });
    this.eventBusUp = new Gauge({ name: 'zt_event_bus_up', help: `1 when the ${labels.eventBus} event bus answered the last check.`, registers });
    this.eventBusPending = new Gauge({
      name: 'zt_event_bus_pending_events',
      help: 'Events accepted by the bus and not yet confirmed.',
      registers,
      collect() {
        this.set(sources.eventBusPending());
      },
    });
    this.outboxBacklog = new Gauge({
      name: 'zt_outbox_backlog_events',
      help: 'Events committed to the outbox and not yet published (as of the relay\'s last pass).',
      registers,
      collect() {
        this.set(sources.outboxBacklog());
      },
    });
    this.outboxPublished = new Counter({
      name: 'zt_outbox_published_events_total',
      help: 'Events the outbox relay of this instance has published.',
      registers,
      collect() {
        this.reset();
        this.inc(sources.outboxPublished());
      },
    });
    this.#watchEventLoop(registers);
  }

  /**
   * The main thread's event loop: how busy it was since the previous scrape (utilisation, busy ÷ (busy + idle)), and
   * its idle and active time since the process started, so a reader can take the share over any interval it chooses
   * from two scrapes. The default metrics' lag says how late timers fire; this says how much room is left.
   */
  #watchEventLoop(registers: Registry[]): void {
    let previous = performance.eventLoopUtilization();
    new Gauge({
      name: 'zt_event_loop_utilization',
      help: 'Share of time the main thread\'s event loop was busy since the previous scrape (or since start), 0 to 1.',
      registers,
      collect() {
        const now = performance.eventLoopUtilization();
        this.set(performance.eventLoopUtilization(now, previous).utilization);
        previous = now;
      },
    });
    const total = (name: string, help: string, read: (elu: ReturnType<typeof performance.eventLoopUtilization>) => number) =>
      collectedCounter(registers, name, help, () => read(performance.eventLoopUtilization()) / 1000);
    total('zt_event_loop_idle_seconds_total', 'Time the main thread\'s event loop has waited for work since the process started.', (elu) => elu.idle);
    total('zt_event_loop_active_seconds_total', 'Time the main thread\'s event loop has spent running code since the process started.', (elu) => elu.active);
  }

  /** Exposes the e-licence lookup cache of this instance: entries, hits, misses and invalidations by events. */
  watchLicenceCache(stats: () => { hits: number; misses: number; invalidations: number; size: number }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'zt_licence_cache_entries',
      help: 'Licence versions held in this instance\'s lookup cache.',
      registers,
      collect() {
        this.set(stats().size);
      },
    });
    const counter = (name: string, help: string, read: (s: ReturnType<typeof stats>) => number) => collectedCounter(registers, name, help, () => read(stats()));
    counter('zt_licence_cache_hits_total', 'Licence lookups answered from this instance\'s cache.', (s) => s.hits);
    counter('zt_licence_cache_misses_total', 'Licence lookups that read the database.', (s) => s.misses);
    counter('zt_licence_cache_invalidations_total', 'Licence events that made this instance drop cached entries.', (s) => s.invalidations);
  }
}

/** A counter whose value is read from elsewhere at each scrape (a running total kept by someone else). */
function collectedCounter(registers: Registry[], name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
