// What the end-to-end benchmarks read about a running gateway and the machine beside the throughput: the gateway's
// Prometheus metrics (its main thread's idle and active time, its process CPU, its heap), its resident memory from
// /proc, and the whole machine's CPU from /proc/stat, so a figure can say whether the box was saturated.
import { readdirSync, readFileSync } from 'node:fs';
import { parseDatabaseUrl } from '../core/config/index.js';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** The samples of a Prometheus text exposition, summed over label sets, by metric name. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(url)).text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const nameEnd = line.search(/[{ ]/);
    const valueStart = line.lastIndexOf(' ');
    if (nameEnd < 0 || valueStart < 0) continue;
    const name = line.slice(0, nameEnd);
    const value = Number(line.slice(valueStart + 1));
    if (Number.isFinite(value)) values.set(name, (values.get(name) ?? 0) + value);
  }
  return values;
}

/** CPU jiffies of the whole machine: all of them, and those spent idle or waiting for I/O. */
export interface MachineCpu {
  total: number;
  idle: number;
}

export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { total, idle: fields[3]! + (fields[4] ?? 0) };
  } catch {
    return null;
  }
}

/** The machine's busy share between two readings, 0 to 1 over all its cores. */
export function machineBusy(before: MachineCpu | null, after: MachineCpu | null): number | null {
  if (!before || !after || after.total === before.total) return null;
  return 1 - (after.idle - before.idle) / (after.total - before.total);
}

/** A process's resident set in bytes (VmRSS), or null when /proc does not have it. */
export function residentBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** CPU seconds (user and system) a process, or one of its threads, has used so far; null when /proc does not say. */
export function cpuSeconds(statPath: string): number | null {
  try {
    // After the command name, which may itself hold spaces and parentheses: utime and stime are the 14th and 15th
    // fields of the line.
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / USER_HZ : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by the PostgreSQL server's processes on this machine (every process named postgres, so
 * also what other clients made it do); null when there are none to read. Processes that ended between two readings
 * are not counted: PostgreSQL keeps its backends for the life of a connection, and the gateway's pool keeps those.
 */
export function postgresCpuSeconds(): number | null {
  let seconds = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8');
    } catch {
      continue; // ended while being read
    }
    if (!comm.startsWith('postgres')) continue;
    const used = cpuSeconds(`/proc/${pid}/stat`);
    if (used === null) continue;
    seconds += used;
    found = true;
  }
  return found ? seconds : null;
}

/** Whether a database URL names a PostgreSQL server on this machine, whose processes' CPU can be read. */
export function isLocalPostgres(databaseUrl: string | undefined): boolean {
  if (!databaseUrl) return false;
  try {
    const url = parseDatabaseUrl(databaseUrl);
    return ['127.0.0.1', 'localhost', '[::1]', '', 'socket'].includes(url.hostname) || (url.searchParams.get('host') ?? '').startsWith('/');
  } catch {
    return false;
  }
}

/** What the gateway's metrics and the machine said at one instant, to be compared with a later reading. */
export interface ProbeReading {
  at: number;
  metrics: Map<string, number> | null;
  machine: MachineCpu | null;
  /** postgresCpuSeconds(), when the gateway's database is the PostgreSQL server on this machine. */
  postgres: number | null;
  /** CPU seconds of the gateway's main thread, when its process id was given. */
  mainThread: number | null;
  /** CPU seconds of the whole process (its threads included), when its process id was given. */
  process: number | null;
}

export interface ProbeFigures {
  /** The gateway main thread's idle share over the interval: Δidle ÷ (Δidle + Δactive). */
  mainThreadIdle: number | null;
  /** The gateway process's CPU over the interval, in cores (its worker threads included). */
  gatewayCores: number | null;
  /** The whole machine's busy share over the interval. */
  machineBusy: number | null;
  /**
   * The gateway's main thread's CPU over the interval, in cores (0 to 1). From /proc, not from the event loop's
   * active time, which is wall-clock time and grows while the thread waits for a core on a saturated machine.
   */
  mainThreadCores: number | null;
  /** The local PostgreSQL server's CPU over the interval, in cores. */
  postgresCores: number | null;
}

/** CPU milliseconds per request at `requestsPerSecond`: the gateway process, its main thread, PostgreSQL. */
export interface CpuPerRequest {
  gatewayMs: number | null;
  mainThreadMs: number | null;
  postgresMs: number | null;
}

export function cpuPerRequest(figures: ProbeFigures, requestsPerSecond: number): CpuPerRequest {
  const ms = (cores: number | null): number | null => (cores === null || requestsPerSecond <= 0 ? null : (cores / requestsPerSecond) * 1000);
  return { gatewayMs: ms(figures.gatewayCores), mainThreadMs: ms(figures.mainThreadCores), postgresMs: ms(figures.postgresCores) };
}

export async function probe(metricsUrl: string | null, options: { postgres?: boolean; pid?: number } = {}): Promise<ProbeReading> {
  let metrics: Map<string, number> | null = null;
  if (metricsUrl) {
    try {
      metrics = await scrapeMetrics(metricsUrl);
    } catch {
      metrics = null;
    }
  }
  return {
    at: performance.now(),
    metrics,
    machine: machineCpu(),
    postgres: options.postgres ? postgresCpuSeconds() : null,
    mainThread: options.pid === undefined ? null : cpuSeconds(`/proc/${options.pid}/task/${options.pid}/stat`),
    process: options.pid === undefined ? null : cpuSeconds(`/proc/${options.pid}/stat`),
  };
}

export function compare(before: ProbeReading, after: ProbeReading): ProbeFigures {
  const delta = (name: string): number | null => {
    const a = before.metrics?.get(name);
    const b = after.metrics?.get(name);
    return a === undefined || b === undefined ? null : b - a;
  };
  const idle = delta('zt_event_loop_idle_seconds_total');
  const active = delta('zt_event_loop_active_seconds_total');
  const cpu = delta('zt_process_cpu_seconds_total');
  const seconds = (after.at - before.at) / 1000;
  const perSecond = (from: number | null, to: number | null): number | null => (from !== null && to !== null && seconds > 0 ? (to - from) / seconds : null);
  return {
    mainThreadIdle: idle !== null && active !== null && idle + active > 0 ? idle / (idle + active) : null,
    // The process's own metric when it has one (the gateway), else /proc (the baselines' servers).
    gatewayCores: cpu !== null ? perSecond(0, cpu) : perSecond(before.process, after.process),
    machineBusy: machineBusy(before.machine, after.machine),
    mainThreadCores: perSecond(before.mainThread, after.mainThread),
    postgresCores: perSecond(before.postgres, after.postgres),
  };
}

/** Least-squares slope of (minutes, value) in value per minute; null with fewer than two points. */
export function slope(points: readonly [number, number][]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? null : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
}
