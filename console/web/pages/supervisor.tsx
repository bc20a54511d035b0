// Supervisor (监管) pages: the access-log search (行权回溯), one record with its inclusion proof checked in the page,
// a case's trace, anomalies, overdue demands and the efficiency charts (效能分析).
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError, query } from '../api.js';
import { verifyInclusionInPage, type ProofAnswer, type ProofReport, type StepName } from '../crypto/proof.js';
import { SM_LIBRARY } from '../crypto/sm.js';
import { recentDays } from '../dates.js';
import { base64ToBytes } from '../crypto/bytes.js';
import { t } from '../i18n.js';
import { asApiError, BASE, Empty, ErrorBox, Field, Fields, fmtTime, Link, navigate, Page, Show, useApi, useLocation, v } from '../ui.js';
import { AnalyticsCharts } from './charts.js';

interface AccessRecord {
  id: string;
  at: string;
  requester: string | null;
  requesterName?: string | null;
  operator: string | null;
  subjectKind: string | null;
  subjectCode: string | null;
  resource: string | null;
  itemsRequested: string[];
  itemsReturned: string[];
  serviceItem: string | null;
  caseNumber: string | null;
  decision: string;
  ruleIds: string[];
  errorCode: string | null;
  latencyMs: number | null;
  covert?: { releaseOn: string } | null;
}

const FILTERS = ['department', 'operator', 'subject', 'resource', 'decision', 'rule', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];
const FILTER_LABEL: Record<Filter, () => string> = {
  department: () => t('department'),
  operator: () => t('operator'),
  subject: () => t('subject'),
  resource: () => t('resource'),
  decision: () => t('decision'),
  rule: () => t('rule'),
  from: () => t('from'),
  to: () => t('to'),
};

/** datetime-local ("2026-12-07T09:00", the browser's zone) → an instant with offset, as the API takes it. */
const toInstant = (local: string): string => (local ? new Date(local).toISOString() : '');
/** An instant → datetime-local in the browser's zone. */
function toLocal(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

const decisionName = (d: string): string => (d === 'permit' ? t('permit') : d === 'deny' ? t('deny') : d === 'error' ? t('errorDecision') : d);

export function RecordsTable(props: { records: AccessRecord[]; testid: string }): JSX.Element {
  if (props.records.length === 0) return <Empty />;
  return (
    <div class="scroll">
      <table data-testid={props.testid}>
        <thead>
          <tr>
            <th scope="col">{t('time')}</th>
            <th scope="col">{t('requester')}</th>
            <th scope="col">{t('operator')}</th>
            <th scope="col">{t('resource')}</th>
            <th scope="col">{t('decision')}</th>
            <th scope="col">{t('rule')}</th>
            <th scope="col">{t('caseNumber')}</th>
            <th scope="col">{t('details')}</th>
          </tr>
        </thead>
        <tbody>
          {props.records.map((r) => (
            <tr key={r.id} data-testid="record-row" data-record-id={r.id}>
              <td>{fmtTime(r.at)}</td>
              <td>{r.requesterName ?? v(r.requester)}</td>
              <td>{v(r.operator)}</td>
              <td>{v(r.resource)}</td>
              <td class={`decision ${r.decision}`}>{decisionName(r.decision)}</td>
              <td>{v(r.ruleIds)}</td>
              <td>{v(r.caseNumber)}</td>
              <td>
                <Link href={`${BASE}/audit/records/${encodeURIComponent(r.id)}`} testid="record-link">
                  {t('details')}
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditSearchPage(): JSX.Element {
  const { search } = useLocation();
  const current: Record<string, string> = {};
  for (const f of FILTERS) current[f] = search.get(f) ?? '';
  const cursor = search.get('cursor') ?? '';
  // A search needs a time range unless it names a subject, case or record: the form starts with the last seven days.
  const day = 86_400_000;
  const [form, setForm] = useState<Record<string, string>>({
    ...current,
    from: toLocal(current.from || new Date(Date.now() - 7 * day).toISOString()),
    to: toLocal(current.to || new Date(Date.now() + 60_000).toISOString()),
  });
  const asked = FILTERS.some((f) => current[f]);
  const params = { ...current, limit: 50 };
  const loaded = useApi<{ records: AccessRecord[]; next: string | null }>(asked ? `${BASE}/api/audit/records${query({ ...params, cursor })}` : null);

  const submit = (e: Event) => {
    e.preventDefault();
    const q: Record<string, string> = {};
    for (const f of FILTERS) q[f] = f === 'from' || f === 'to' ? toInstant(form[f] ?? '') : (form[f] ?? '').trim();
    navigate(`${BASE}/audit${query(q)}`);
  };
  const set = (f: Filter) => (e: Event) => setForm({ ...form, [f]: (e.currentTarget as HTMLInputElement).value });

  return (
    <Page title={t('navAudit')} testid="audit-page">
      <form class="filters" onSubmit={submit} aria-label={t('filters')} data-testid="audit-filters">
        {FILTERS.map((f) => (
          <Field key={f} label={FILTER_LABEL[f]()}>
            {(id) =>
              f === 'decision' ? (
                <select id={id} name={f} value={form[f]} onChange={set(f)} data-testid={`filter-${f}`}>
                  <option value="">{t('any')}</option>
                  <option value="permit">{t('permit')}</option>
                  <option value="deny">{t('deny')}</option>
                  <option value="error">{t('errorDecision')}</option>
                </select>
              ) : (
                <input id={id} name={f} type={f === 'from' || f === 'to' ? 'datetime-local' : 'text'} value={form[f]} onInput={set(f)} data-testid={`filter-${f}`} />
              )
            }
          </Field>
        ))}
        <div class="actions">
          <button type="submit" data-testid="audit-search">
            {t('search')}
          </button>
          {asked ? (
            <a class="button secondary" href={`${BASE}/api/audit/records/export${query(current)}`} download data-testid="audit-export">
              {t('exportCsv')}
            </a>
          ) : null}
        </div>
      </form>
      {asked ? (
        <Show loaded={loaded}>
          {(page) => (
            <>
              <RecordsTable records={page.records} testid="audit-results" />
              <div class="pager">
                {cursor ? (
                  <Link href={`${BASE}/audit${query(current)}`} class="button secondary" testid="audit-first-page">
                    {t('firstPage')}
                  </Link>
                ) : null}
                {page.next ? (
                  <Link href={`${BASE}/audit${query({ ...current, cursor: page.next })}`} class="button secondary" testid="audit-next-page">
                    {t('nextPage')}
                  </Link>
                ) : null}
              </div>
            </>
          )}
        </Show>
      ) : null}
    </Page>
  );
}

/** The console API's proof answer, in whichever nesting it comes: {proof: [...]} or {proof: {proof: [...], …}}. */
export function normaliseProof(raw: Record<string, unknown>): ProofAnswer {
  const inner = (raw.proof && !Array.isArray(raw.proof) ? raw.proof : {}) as Record<string, unknown>;
  const pick = <T,>(...xs: unknown[]): T => xs.find((x) => x !== undefined && x !== null) as T;
  return {
    leafIndex: pick<number>(raw.index, raw.leafIndex, inner.leafIndex),
    leafHash: pick<string | undefined>(raw.leafHash, inner.leafHash),
    leaf: pick<string | undefined>(raw.leaf, inner.leaf),
    treeSize: pick<number>(raw.treeSize, inner.treeSize, (raw.checkpoint as { treeSize?: number } | undefined)?.treeSize),
    proof: pick<string[]>(Array.isArray(raw.proof) ? raw.proof : undefined, inner.proof),
    checkpoint: pick<ProofAnswer['checkpoint']>(raw.checkpoint, inner.checkpoint),
    platformCertificatePem: pick<string | undefined>(raw.platformCertificatePem),
  };
}

const STEP_LABEL: Record<StepName, () => string> = {
  leaf: () => t('stepLeaf'),
  path: () => t('stepPath'),
  root: () => t('stepRoot'),
  statement: () => t('stepStatement'),
  signature: () => t('stepSignature'),
  chain: () => t('stepChain'),
};

function ProofCheck(props: { id: string }): JSX.Element {
  const [state, setState] = useState<{ busy: boolean; report: ProofReport | null; error: Error | null; treeSize?: number }>({ busy: false, report: null, error: null });
  const run = async () => {
    setState({ busy: true, report: null, error: null });
    try {
      const raw = await api<Record<string, unknown>>('GET', `${BASE}/api/audit/records/${encodeURIComponent(props.id)}/proof`);
      const answer = normaliseProof(raw);
      // Let the "verifying" state paint: sm-crypto's SM2 takes a few tens of milliseconds.
      await new Promise((r) => setTimeout(r, 0));
      // Without the platform certificate beside the answer, the one inside the checkpoint's envelope is used.
      const certificate = answer.platformCertificatePem ?? base64ToBytes(answer.checkpoint.envelope.signer.certificate ?? '');
      // The platform CA's certificates, public; the root's fingerprint is shown for comparing with the published one.
      const pemOf = async (path: string): Promise<string> => {
        const response = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
        if (!response.ok) throw new ApiError(response.status, `HTTP_${response.status}`, `${path}: ${response.status}`);
        return response.text();
      };
      const [issuing, root] = await Promise.all([pemOf('/v1/ca/issuing.pem'), pemOf('/v1/ca/root.pem')]);
      const report = verifyInclusionInPage(answer, certificate, { issuing, root });
      setState({ busy: false, report, error: null, treeSize: answer.checkpoint.treeSize });
    } catch (error) {
      setState({ busy: false, report: null, error: asApiError(error) });
    }
  };
  const r = state.report;
  return (
    <section class="proof" aria-labelledby="proof-title" data-testid="proof">
      <h2 id="proof-title">{t('checkpoint')}</h2>
      <p>{t('proofLibrary', { lib: SM_LIBRARY })}</p>
      <button type="button" onClick={run} disabled={state.busy} data-testid="verify-proof">
        {state.busy ? t('verifying') : t('verifyProof')}
      </button>
      <div aria-live="polite">
        {state.error ? <ErrorBox error={state.error} /> : null}
        {r ? (
          <div data-testid="proof-result" data-ok={String(r.ok)}>
            <p class={r.ok ? 'ok' : 'bad'} role="status">
              <strong>{r.ok ? `✓ ${t('proofOk')}` : `✗ ${t('proofBad')}`}</strong>
            </p>
            <ol class="steps">
              {r.steps.map((s) => (
                <li key={s.step} class={s.ok ? 'ok' : 'bad'} data-testid={`proof-step-${s.step}`} data-ok={String(s.ok)}>
                  <span aria-hidden="true">{s.ok ? '✓' : '✗'}</span> {STEP_LABEL[s.step]()}
                  <code class="wrap">{s.detail}</code>
                </li>
              ))}
            </ol>
            <p>
              {t('treeSize')}: {state.treeSize} · {t('signer')}: {r.signer ? v(r.signer.CN ?? r.signer.O) : '—'}
            </p>
            <p class="hint">{t('proofChain')}</p>
          </div>
        ) : null}
      </div>
    </section>
  );
}

export function RecordPage(props: { id: string }): JSX.Element {
  const loaded = useApi<{ record: AccessRecord } & Record<string, unknown>>(`${BASE}/api/audit/records/${encodeURIComponent(props.id)}`);
  return (
    <Page title={t('record')} testid="record-page">
      <p>
        <Link href={`${BASE}/audit`}>← {t('back')}</Link>
      </p>
      <Show loaded={loaded}>
        {(trace) => (
          <>
            <h2>{t('trace')}</h2>
            <Fields value={trace} testid="record-trace" />
            <ProofCheck id={props.id} />
          </>
        )}
      </Show>
    </Page>
  );
}

export function CaseTracePage(): JSX.Element {
  const { search } = useLocation();
  const caseNumber = search.get('caseNumber') ?? '';
  const [value, setValue] = useState(caseNumber);
  const loaded = useApi<{ records: AccessRecord[]; next: string | null }>(caseNumber ? `${BASE}/api/audit/records${query({ caseNumber, limit: 500 })}` : null);
  return (
    <Page title={t('navCases')} testid="cases-page">
      <form
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`${BASE}/cases${query({ caseNumber: value.trim() })}`);
        }}
      >
        <Field label={t('caseNumber')}>{(id) => <input id={id} name="caseNumber" required value={value} onInput={(e) => setValue(e.currentTarget.value)} data-testid="case-number" />}</Field>
        <button type="submit" data-testid="case-search">
          {t('search')}
        </button>
      </form>
      {caseNumber ? <Show loaded={loaded}>{(page) => <RecordsTable records={[...page.records].reverse()} testid="case-records" />}</Show> : null}
    </Page>
  );
}

function useRange(): { from: string; to: string; form: JSX.Element } {
  const { path, search } = useLocation();
  // The date fields are China dates, as the API reads them: from 16:00 UTC a UTC date would end the range before now.
  const recent = recentDays(Date.now());
  const from = search.get('from') ?? recent.from;
  const to = search.get('to') ?? recent.to;
  const [f, setF] = useState(from);
  const [tt, setT] = useState(to);
  const form = (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        navigate(`${path}${query({ from: f, to: tt })}`);
      }}
    >
      <Field label={t('from')}>{(id) => <input id={id} type="date" name="from" value={f} onInput={(e) => setF(e.currentTarget.value)} data-testid="range-from" />}</Field>
      <Field label={t('to')}>{(id) => <input id={id} type="date" name="to" value={tt} onInput={(e) => setT(e.currentTarget.value)} data-testid="range-to" />}</Field>
      <button type="submit" data-testid="range-apply">
        {t('search')}
      </button>
    </form>
  );
  return { from, to, form };
}

interface AnomalyFlag {
  id: string;
  kind: string;
  rule: string;
  department: string;
  departmentName: string | null;
  operator: string | null;
  window: { from: string; to: string };
  reason: string;
  evidence: Record<string, number>;
  samples: { recordIds: string[]; caseNumbers: string[] };
}

export function AnomaliesPage(): JSX.Element {
  const range = useRange();
  const loaded = useApi<{ flags: AnomalyFlag[]; truncated: boolean }>(`${BASE}/api/audit/anomalies${query({ from: range.from, to: range.to })}`);
  return (
    <Page title={t('anomalies')} testid="anomalies-page">
      {range.form}
      <Show loaded={loaded}>
        {(report) =>
          report.flags.length === 0 ? (
            <Empty />
          ) : (
            <ul class="cards" data-testid="anomalies">
              {report.flags.map((f) => (
                <li key={f.id} data-testid="anomaly">
                  <h2>
                    {f.kind} <small>{f.rule}</small>
                  </h2>
                  <p>
                    {f.departmentName ?? v(f.department)} · {v(f.operator)} · {fmtTime(f.window.from)} – {fmtTime(f.window.to)}
                  </p>
                  <p data-testid="anomaly-explanation">
                    <strong>{t('explanation')}:</strong> {f.reason}
                  </p>
                  <Fields value={f.evidence} />
                  {f.samples.recordIds.length > 0 ? (
                    <p>
                      {f.samples.recordIds.slice(0, 5).map((id) => (
                        <Link key={id} href={`${BASE}/audit/records/${id}`} class="chip">
                          {id.slice(0, 8)}
                        </Link>
                      ))}
                    </p>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </Page>
  );
}

interface DemandRow {
  id: string;
  requester: string;
  requesterName?: string | null;
  provider: string;
  providerName?: string | null;
  resource: string;
  items: string[];
  serviceItem: string;
  state: string;
  replyDue: string | null;
  overdue?: boolean;
  workingDaysLeft?: number | null;
  deadline?: unknown;
}

export function OverduePage(): JSX.Element {
  const loaded = useApi<{ demands: DemandRow[] }>(`${BASE}/api/demands/overdue`);
  return (
    <Page title={t('overdue')} testid="overdue-page">
      <Show loaded={loaded}>
        {(data) =>
          data.demands.length === 0 ? (
            <Empty />
          ) : (
            <div class="scroll">
              <table data-testid="overdue-demands">
                <thead>
                  <tr>
                    <th scope="col">{t('requester')}</th>
                    <th scope="col">{t('department')}</th>
                    <th scope="col">{t('resource')}</th>
                    <th scope="col">{t('state')}</th>
                    <th scope="col">{t('replyDue')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.demands.map((d) => (
                    <tr key={d.id} data-testid="overdue-row">
                      <td>{d.requesterName ?? d.requester}</td>
                      <td>{d.providerName ?? d.provider}</td>
                      <td>{d.resource}</td>
                      <td>{d.state}</td>
                      <td class="bad">{v(d.replyDue)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </Page>
  );
}

export function AnalyticsPage(): JSX.Element {
  const range = useRange();
  const loaded = useApi<Record<string, unknown>>(`${BASE}/api/audit/analytics${query({ from: range.from, to: range.to })}`);
  return (
    <Page title={t('analytics')} testid="analytics-page">
      {range.form}
      <Show loaded={loaded}>{(report) => <AnalyticsCharts report={report} from={range.from} to={range.to} />}</Show>
    </Page>
  );
}
