// Scenario 4: a long steady load on PostgreSQL. Memory must level off (resident set and heap, as slopes over the
// second half of the run, after caches and pools have filled), open handles, file descriptors and database
// connections must not grow, and the tail latency must stay where it was. Samples every 10 s (5 s with --quick).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { residentBytes, scrapeMetrics, slope } from '../../bench/gateway-probe.js';
import { unrecordedAnswers } from '../checks.js';
import { Cluster } from '../cluster.js';
import { ExchangeLoad } from '../load.js';
import { countBy, percentile, sleep, slowest } from '../report.js';
import type { Scenario, ScenarioContext, ScenarioResult } from '../scenario.js';

interface Sample {
  at: number;
  rss: number | null;
  heap: number | null;
  handles: number | null;
  fds: number | null;
  connections: number | null;
}

function openFds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** TCP connections of process `pid` to `port` (its database connections), from /proc. */
export function connectionsTo(pid: number | undefined, port: number): number | null {
  if (pid === undefined) return null;
  try {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // closed meanwhile
      }
    }
    let n = 0;
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try {
        text = readFileSync(table, 'utf8');
      } catch {
        continue;
      }
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 10) continue;
        const remotePort = parseInt(f[2]!.split(':')[1]!, 16);
        if (remotePort === port && f[3] === '01' && inodes.has(f[9]!)) n++;
      }
    }
    return n;
  } catch {
    return null;
  }
}

const MB = 2 ** 20;

async function run(ctx: ScenarioContext): Promise<ScenarioResult> {
  const seconds = Number(process.env.ZT_FAULTS_SOAK_SECONDS ?? (ctx.quick ? 45 : 600));
  const rate = Number(process.env.ZT_FAULTS_SOAK_RATE ?? (ctx.quick ? 60 : 150));
  const every = ctx.quick ? 5 : 10;
  const failures: string[] = [];
  const notes: string[] = [];
  ctx.log('starting one instance on PostgreSQL and Kafka');
  const cluster = await Cluster.start({ databaseUrl: ctx.databaseUrl, kafkaBrokers: ctx.kafkaBrokers, name: 'soak', instances: 1, env: { ZT_LICENCE_ANONYMOUS_RATE: '0' } });
  const instance = cluster.instances[0]!;
  const load = await ExchangeLoad.open(cluster.dataDir);
  const samples: Sample[] = [];
  const pgPort = Number(new URL(ctx.databaseUrl).port || 5432);
  try {
    const started = performance.now();
    const sampling = { on: true };
    const sampler = (async () => {
      while (sampling.on) {
        const metrics = await scrapeMetrics(`${instance.http}/metrics`).catch(() => null);
        samples.push({
          at: (performance.now() - started) / 1000,
          rss: residentBytes(instance.pid),
          heap: metrics?.get('zt_nodejs_heap_size_used_bytes') ?? null,
          handles: metrics?.get('zt_nodejs_active_handles_total') ?? null,
          fds: openFds(instance.pid),
          connections: connectionsTo(instance.pid, pgPort),
        });
        await sleep(every * 1000);
      }
    })();
    ctx.log(`holding ${rate} signed queries a second for ${seconds} s, sampling every ${every} s`);
    const sent = await load.run({ targets: () => cluster.instances, rate, seconds });
    sampling.on = false;
    await sampler;

    const answered = sent.filter((s) => s.status === 200);
    const serverErrors = sent.filter((s) => s.status !== null && s.status >= 500);
    for (const [what, n] of countBy(sent.filter((s) => s.status !== 200), (s) => `${s.status ?? s.transportError} ${s.code ?? ''}`)) failures.push(`${n} request(s) answered ${what}`);
    if (instance.unexpectedExits > 0) failures.push(`the instance exited by itself:\n${instance.tail(10)}`);

    // Slopes over the second half, per minute; growth of what must stay bounded over the same half.
    const second = samples.filter((s) => s.at >= seconds / 2);
    const perMinute = (pick: (s: Sample) => number | null, unit: number) => {
      const points = second.filter((s) => pick(s) !== null).map((s) => [s.at / 60, pick(s)! / unit] as [number, number]);
      return slope(points);
    };
    const rssSlope = perMinute((s) => s.rss, MB);
    const heapSlope = perMinute((s) => s.heap, MB);
    // The heap sampled at a random point of the collector's cycle swings by tens of MB; a leak shows as a rising
    // floor. So the heap is judged by the slope of its lowest sample per minute.
    const floors: [number, number][] = [];
    for (let minute = Math.floor(seconds / 120); minute * 60 < seconds; minute++) {
      const inMinute = second.filter((s) => s.heap !== null && s.at >= minute * 60 && s.at < (minute + 1) * 60).map((s) => s.heap!);
      if (inMinute.length > 0) floors.push([minute + 0.5, Math.min(...inMinute) / MB]);
    }
    const heapFloorSlope = slope(floors);
    const range = (pick: (s: Sample) => number | null, from: Sample[]) => {
      const values = from.map(pick).filter((v): v is number => v !== null);
      return values.length ? { min: Math.min(...values), max: Math.max(...values), first: values[0]!, last: values.at(-1)! } : null;
    };
    const handles = range((s) => s.handles, second);
    const fds = range((s) => s.fds, second);
    const connections = range((s) => s.connections, samples);
    const rss = range((s) => s.rss, samples);
    const heap = range((s) => s.heap, samples);
    // Memory is judged on the long run only: in a minute the caches (nonces, certificates, prepared statements) are
    // still filling, which a slope cannot tell from a leak.
    if (!ctx.quick) {
      const [rssLimit, heapLimit] = [3, 1.5];
      if (rssSlope !== null && rssSlope > rssLimit) failures.push(`resident memory grew ${rssSlope.toFixed(1)} MB/min over the second half (limit ${rssLimit})`);
      if (heapFloorSlope !== null && heapFloorSlope > heapLimit) failures.push(`the heap's floor (its lowest sample each minute) grew ${heapFloorSlope.toFixed(2)} MB/min over the second half (limit ${heapLimit})`);
    }
    if (handles && handles.last > handles.first + 20) failures.push(`active handles grew from ${handles.first} to ${handles.last} over the second half`);
    if (fds && fds.last > fds.first + 20) failures.push(`open file descriptors grew from ${fds.first} to ${fds.last} over the second half`);
    if (connections && connections.max > 10) failures.push(`the instance held ${connections.max} database connections at most (its pool has 10)`);

    // Tail latency per window, printed; and the second half's against the first's after the warm-up, judged.
    const windows = ctx.quick ? 4 : 10;
    const width = seconds / windows;
    const p99s: number[] = [];
    for (let w = 0; w < windows; w++) {
      const inWindow = Float64Array.from(answered.filter((s) => s.at / 1000 >= w * width && s.at / 1000 < (w + 1) * width).map((s) => s.latencyMs ?? 0)).sort();
      p99s.push(percentile(inWindow, 0.99));
    }
    // Judged over halves, not single windows: one stall of the shared machine (a PostgreSQL checkpoint's fsync, say)
    // sets a 60 s window's p99 by itself, so the last window against the second swung 34 → 90 ms in a run whose
    // halves differed far less. The first window is the warm-up.
    const p99Between = (from: number, to: number): number =>
      percentile(Float64Array.from(answered.filter((s) => s.at / 1000 >= from && s.at / 1000 < to).map((s) => s.latencyMs ?? 0)).sort(), 0.99);
    const middle = width + (seconds - width) / 2;
    const [firstP99, lastP99] = [p99Between(width, middle), p99Between(middle, seconds + 1)];
    if (lastP99 > 2 * firstP99 + 10) failures.push(`p99 grew from ${firstP99.toFixed(1)} ms (after the warm-up, first half) to ${lastP99.toFixed(1)} ms (second half)`);

    const { lost } = await unrecordedAnswers(cluster, answered);
    if (lost > 0) failures.push(`${lost} answer(s) without their access record`);

    const mb = (v: number | null | undefined) => (v == null ? '?' : `${(v / MB).toFixed(0)} MB`);
    notes.push(
      `answered ${answered.length} of ${sent.length} at ${rate} req/s; records found ${answered.length - lost}`,
      `RSS ${mb(rss?.first)} → ${mb(rss?.last)} (max ${mb(rss?.max)}), slope over the second half ${rssSlope?.toFixed(2) ?? '?'} MB/min; heap ${mb(heap?.first)} → ${mb(heap?.last)}, slope ${heapSlope?.toFixed(2) ?? '?'} MB/min, of its floor per minute ${heapFloorSlope?.toFixed(2) ?? '?'} MB/min${ctx.quick ? ' (not judged in a quick run)' : ''}`,
      `second half: active handles ${handles?.first ?? '?'} → ${handles?.last ?? '?'}, file descriptors ${fds?.first ?? '?'} → ${fds?.last ?? '?'}; database connections at most ${connections?.max ?? '?'}`,
      `slowest answers ${slowest(sent)}`,
      `p99 per ${width.toFixed(0)} s window: ${p99s.map((p) => p.toFixed(1)).join(', ')} ms; after the warm-up, first half ${firstP99.toFixed(1)} ms, second half ${lastP99.toFixed(1)} ms`,
    );
    return {
      load: `1 instance, ${rate} req/s for ${seconds} s`,
      faults: 'none (steady load)',
      requests: sent.length,
      lost,
      serverErrors: serverErrors.length,
      recoverySeconds: null,
      failures,
      notes,
    };
  } finally {
    await load.close();
    await cluster.close();
  }
}

export const soak: Scenario = {
  name: 'soak',
  title: 'a steady load on PostgreSQL: memory levels off, handles, descriptors and connections stay bounded, p99 stays put',
  run,
};
