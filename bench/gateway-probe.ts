// What the end-to-end benchmarks read about a running gateway and the machine beside the throughput: the gateway's
// Prometheus metrics (its main thread's idle and active time, its process CPU, its heap), its resident memory from
// /proc, and the whole machine's CPU from /proc/stat, so a figure can say whether the box was saturated.
import { readFileSync } from 'node:fs';

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

/** What the gateway's metrics and the machine said at one instant, to be compared with a later reading. */
export interface ProbeReading {
  at: number;
  metrics: Map<string, number> | null;
  machine: MachineCpu | null;
}

export interface ProbeFigures {
  /** The gateway main thread's idle share over the interval: Δidle ÷ (Δidle + Δactive). */
  mainThreadIdle: number | null;
  /** The gateway process's CPU over the interval, in cores (its worker threads included). */
  gatewayCores: number | null;
  /** The whole machine's busy share over the interval. */
  machineBusy: number | null;
}

export async function probe(metricsUrl: string | null): Promise<ProbeReading> {
  let metrics: Map<string, number> | null = null;
  if (metricsUrl) {
    try {
      metrics = await scrapeMetrics(metricsUrl);
    } catch {
      metrics = null;
    }
  }
  return { at: performance.now(), metrics, machine: machineCpu() };
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
  return {
    mainThreadIdle: idle !== null && active !== null && idle + active > 0 ? idle / (idle + active) : null,
    gatewayCores: cpu !== null && seconds > 0 ? cpu / seconds : null,
    machineBusy: machineBusy(before.machine, after.machine),
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
