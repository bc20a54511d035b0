// Progress of a conversion run as the converter reports it, and its one-line rendering for a terminal.

export interface ConversionProgress {
  conversionId: string;
  /** Data rows of the file committed so far, rows of earlier runs of the same file included. */
  rowsDone: number;
  /** Data rows in the file, estimated from its line count before the run. */
  estimatedRows: number;
  accepted: number;
  skipped: number;
  rejected: number;
  /** Rows per second in this run. */
  rowsPerSecond: number;
  /** Seconds left at this rate; null until there is a rate. */
  etaSeconds: number | null;
  elapsedMs: number;
  /** Rows done by earlier runs when this one started (0 on a first run). */
  resumedFrom: number;
  done: boolean;
}

const grouped = new Intl.NumberFormat('en-GB');

export function formatCount(n: number): string {
  return grouped.format(Math.round(n));
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (v: number) => String(v).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** e.g. "12,000 / ~100,000 rows (12 %), 2,950 rows/s, ETA 0:29; accepted 11,950, skipped 0, rejected 50". */
export function formatProgress(p: ConversionProgress): string {
  const total = Math.max(p.estimatedRows, p.rowsDone);
  const share = total > 0 ? ` (${Math.floor((p.rowsDone / total) * 100)} %)` : '';
  const eta = p.done ? `in ${formatDuration(p.elapsedMs / 1000)}` : p.etaSeconds === null ? 'ETA –' : `ETA ${formatDuration(p.etaSeconds)}`;
  return `${formatCount(p.rowsDone)} / ${p.done ? '' : '~'}${formatCount(total)} rows${share}, ${formatCount(p.rowsPerSecond)} rows/s, ${eta}; accepted ${formatCount(p.accepted)}, skipped ${formatCount(p.skipped)}, rejected ${formatCount(p.rejected)}`;
}
