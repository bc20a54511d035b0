// Efficiency charts (效能分析) with uPlot: requests per department, requests per department and hour, latency
// percentiles, refusals by rule. Each chart has its figures as a table beside it (for screen readers and tests).
// All four come from the analytics report (audit/analytics/report.ts): its rows, its hourly series and its refusals
// by rule.
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { t } from '../i18n.js';
import { Empty } from '../ui.js';

interface Row {
  key: string;
  name: string | null;
  requests: number;
  permitted: number;
  denied: number;
  errors: number;
  latencyMs: { mean: number; p50: number; p95: number; p99: number } | null;
}

interface Series {
  label: string;
  values: number[];
  color: string;
}

const COLORS = ['#1f5fa8', '#c0392b', '#2e8b57', '#b7791f', '#6b46c1', '#0f766e', '#9d174d', '#4b5563'];

/**
 * A uPlot chart over categories (bars; `stacked` draws each series on the sum of those before it, so one bar shows
 * the parts of a whole) or over time (lines). Series are drawn last first, so the smaller values stay in front.
 */
function Chart(props: { title: string; testid: string; categories: string[]; series: Series[]; bars?: boolean; stacked?: boolean; xTime?: boolean; xs?: number[] }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || props.categories.length === 0) return;
    const n = props.categories.length;
    const xs = props.xs ?? props.categories.map((_, i) => i);
    let drawn = props.series;
    if (props.stacked) {
      const sums = props.categories.map(() => 0);
      drawn = props.series.map((s) => ({ ...s, values: s.values.map((x, i) => (sums[i]! += x)) }));
    }
    drawn = props.bars ? [...drawn].reverse() : drawn;
    const bars = props.bars ? uPlot.paths.bars!({ size: [0.6, 80] }) : undefined;
    const label = (i: number) => {
      const c = props.categories[i] ?? '';
      return c.length > 10 ? `${c.slice(0, 9)}…` : c;
    };
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth || 600),
      height: 260,
      legend: { live: false },
      cursor: { show: !props.bars },
      scales: props.xTime ? { x: { time: true } } : { x: { time: false, range: () => [-0.5, n - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: (props.xTime
        ? [{}, {}]
        : [{ splits: () => xs, values: (_u: uPlot, splits: number[]) => splits.map((x) => (Number.isInteger(x) ? label(x) : '')), gap: 6 }, {}]) as uPlot.Axis[],
      series: [{}, ...drawn.map((s) => ({ label: s.label, stroke: s.color, fill: props.bars ? s.color : undefined, width: props.bars ? 1 : 2, ...(bars ? { paths: bars, points: { show: false } } : {}) }))],
    };
    const plot = new uPlot(opts, [xs, ...drawn.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: 260 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [JSON.stringify(props.series), JSON.stringify(props.categories)]);
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>{props.title}</figcaption>
      {props.categories.length === 0 ? <Empty /> : <div ref={box} class="plot" role="img" aria-label={props.title} />}
      {props.categories.length > 0 ? (
        <details>
          <summary>{t('details')}</summary>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col" />
                  {props.series.map((s) => (
                    <th scope="col" key={s.label}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {props.categories.map((c, i) => (
                  <tr key={c}>
                    <th scope="row">{c}</th>
                    {props.series.map((s) => (
                      <td key={s.label}>{s.values[i] ?? ''}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
    </figure>
  );
}


const HOUR = 3_600_000;

/** Requests per department and hour from (hour, department, count) points. */
function hourly(points: { hour: number; department: string; n: number }[]): { xs: number[]; categories: string[]; series: Series[] } {
  const departments = [...new Set(points.map((p) => p.department))].slice(0, COLORS.length);
  const hours = [...new Set(points.map((p) => p.hour))].sort((a, b) => a - b);
  const index = new Map(hours.map((h, i) => [h, i]));
  const series = departments.map((d, k) => ({ label: d, color: COLORS[k]!, values: hours.map(() => 0) }));
  for (const p of points) {
    const s = series.find((x) => x.label === p.department);
    const i = index.get(p.hour);
    if (s && i !== undefined) s.values[i]! += p.n;
  }
  return { xs: hours.map((h) => h / 1000), categories: hours.map((h) => new Date(h).toISOString().slice(0, 13).replace('T', ' ') + ':00Z'), series };
}

export function AnalyticsCharts(props: { report: Record<string, unknown>; from: string; to: string }): JSX.Element {
  const rows = ((props.report.rows as Row[] | undefined) ?? []).filter((r) => r.requests > 0);
  const names = rows.map((r) => r.name ?? r.key);
  const nameOf = new Map(rows.map((r) => [r.key, r.name ?? r.key]));
  const perHour = (props.report.hourly as { hour: string; department: string; requests: number }[] | undefined) ?? [];
  const rules = (props.report.refusalsByRule as { rule: string; refusals: number }[] | undefined) ?? [];

  return (
    <div class="charts">
      <Chart
        title={t('requestsPerDept')}
        testid="chart-requests"
        bars
        stacked
        categories={names}
        series={[
          { label: t('permit'), values: rows.map((r) => r.permitted), color: COLORS[2]! },
          { label: t('deny'), values: rows.map((r) => r.denied), color: COLORS[1]! },
          { label: t('errorDecision'), values: rows.map((r) => r.errors), color: COLORS[3]! },
        ]}
      />
      <Chart
        title={t('latencyPercentiles')}
        testid="chart-latency"
        bars
        categories={names}
        series={(['p50', 'p95', 'p99'] as const).map((p, k) => ({ label: p, values: rows.map((r) => r.latencyMs?.[p] ?? 0), color: COLORS[k * 2]! }))}
      />
      <Chart
        title={t('requestsPerHour')}
        testid="chart-hourly"
        xTime
        {...hourly(perHour.map((h) => ({ hour: Math.floor(Date.parse(h.hour) / HOUR) * HOUR, department: nameOf.get(h.department) ?? h.department, n: h.requests })))}
      />
      <Chart title={t('refusalsByRule')} testid="chart-rules" bars categories={rules.map((r) => r.rule)} series={[{ label: t('refusals'), values: rules.map((r) => r.refusals), color: COLORS[1]! }]} />
    </div>
  );
}
