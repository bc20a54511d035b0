// Department data steward (数据管理员) pages: the supply list (publish, edit, import), demands with their working-day
// deadlines and the reply (approve, narrow, refuse citing a negative-list entry or legal basis), the negative-list
// entries touching the department's resources and the impact preview of a candidate list. Every step is signed in
// this page with the department's SM2 key, read from a local file and never uploaded; POST /console/api/signed hands
// the signed step to its /v1 route, which verifies it exactly as it verifies the CLI's.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Person } from '../api.js';
import { assertKeyMatches, isEncryptedKey, KeyFileError, readCertificate, readPrivateKey } from '../crypto/keys.js';
import { signRequest, signTransition, type SigningKey, type TransitionKind } from '../crypto/signing.js';
import { SM_LIBRARY } from '../crypto/sm.js';
import { t } from '../i18n.js';
import { asApiError, BASE, Empty, ErrorBox, Field, Fields, Page, readFileText, Show, useApi, v } from '../ui.js';

// The loaded key lives in this module only: not in storage, gone when the page is closed or the key is removed.
let signingKey: SigningKey | null = null;
const listeners = new Set<() => void>();
function setSigningKey(k: SigningKey | null): void {
  signingKey = k;
  for (const l of listeners) l();
}
function useSigningKey(): SigningKey | null {
  const [, tick] = useState(0);
  useEffect(() => {
    const l = () => tick((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return signingKey;
}

const usccOf = (k: SigningKey): string => k.certificate.subject.serialNumber ?? '';

export function SigningKeyPanel(props: { person: Person }): JSX.Element {
  const key = useSigningKey();
  const [keyFile, setKeyFile] = useState<File | null>(null);
  const [certFile, setCertFile] = useState<File | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [encrypted, setEncrypted] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      if (!keyFile || !certFile) throw new KeyFileError('no-pem', t('keyNeeded'));
      const [keyPem, certPem] = await Promise.all([readFileText(keyFile), readFileText(certFile)]);
      const certificate = readCertificate(certPem);
      const k = await readPrivateKey(keyPem, passphrase || undefined);
      assertKeyMatches(k, certificate);
      setPassphrase('');
      setSigningKey({ key: k, certificate });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const pickKey = async (e: Event) => {
    const f = (e.currentTarget as HTMLInputElement).files?.[0] ?? null;
    setKeyFile(f);
    setEncrypted(f ? isEncryptedKey(await readFileText(f)) : false);
  };
  if (key) {
    const uscc = usccOf(key);
    return (
      <section class="key loaded" aria-labelledby="key-title" data-testid="signing-key">
        <h2 id="key-title">{t('signingKey')}</h2>
        <p data-testid="signing-key-loaded">{t('keyLoaded', { cn: key.certificate.subject.CN ?? key.certificate.subject.O ?? '', uscc })}</p>
        {uscc && props.person.department && uscc !== props.person.department ? (
          <p class="error" role="alert">
            {uscc} ≠ {props.person.department}
          </p>
        ) : null}
        <p class="hint">
          {t('keyLocal')} SM2: {SM_LIBRARY}. SM3 {key.certificate.sm3.slice(0, 16)}…
        </p>
        <button type="button" class="secondary" onClick={() => setSigningKey(null)} data-testid="signing-key-forget">
          {t('keyForget')}
        </button>
      </section>
    );
  }
  return (
    <section class="key" aria-labelledby="key-title" data-testid="signing-key">
      <h2 id="key-title">{t('signingKey')}</h2>
      <p class="hint">{t('keyLocal')}</p>
      <form onSubmit={load} data-testid="signing-key-form">
        <Field label={t('keyFile')} hint={t('keyEncryptedNote')}>
          {(id) => <input id={id} type="file" accept=".pem,.key,application/x-pem-file,text/plain" onChange={pickKey} data-testid="signing-key-file" />}
        </Field>
        <Field label={t('certFile')}>
          {(id) => <input id={id} type="file" accept=".pem,.crt,.cer,application/x-pem-file,text/plain" onChange={(e) => setCertFile(e.currentTarget.files?.[0] ?? null)} data-testid="signing-cert-file" />}
        </Field>
        {encrypted ? (
          <Field label={t('passphrase')}>
            {(id) => <input id={id} type="password" autoComplete="off" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} data-testid="signing-key-passphrase" />}
          </Field>
        ) : null}
        <button type="submit" data-testid="signing-key-load">
          {t('loadKey')}
        </button>
      </form>
      {error ? <ErrorBox error={error} /> : null}
    </section>
  );
}

interface RelayAnswer {
  status: number;
  body: unknown;
}

/** Hands a signed /v1 call to the relay; a /v1 refusal becomes an ApiError with its code. */
async function relay(path: string, body: string, headers: Record<string, string>, method: 'POST' | 'PUT' = 'POST'): Promise<RelayAnswer> {
  const answer = await api<RelayAnswer>('POST', `${BASE}/api/signed`, { method, path, headers: { 'content-type': 'application/json', ...headers }, body });
  if (answer.status >= 400) {
    const b = (answer.body ?? {}) as Record<string, unknown>;
    const e = (b.error && typeof b.error === 'object' ? b.error : b) as { code?: string; message?: string; details?: unknown };
    throw new ApiError(answer.status, e.code ?? `HTTP_${answer.status}`, e.message ?? JSON.stringify(answer.body), e.details);
  }
  return answer;
}

/** Signs a catalogue call (Zt-* request signature over method, path and body) and sends it. */
function sendSignedCall(k: SigningKey, path: string, body: string, contentType = 'application/json', method: 'POST' | 'PUT' = 'POST'): Promise<RelayAnswer> {
  const headers = signRequest(k, { method, path, body });
  return relay(path, body, { ...headers, 'content-type': contentType }, method);
}

/** Signs a demand step (statement in an envelope, the body's `signature`) and sends it. */
function sendSignedStep(k: SigningKey, kind: TransitionKind, demandId: string, actor: string, content: Record<string, unknown>): Promise<RelayAnswer> {
  const signature = signTransition(k, { kind, demandId, actor, content });
  return relay(`/v1/catalogue/demands/${encodeURIComponent(demandId)}/${kind}`, JSON.stringify({ actor, ...content, signature }), {});
}

function Outcome(props: { state: { busy: boolean; error: ApiError | null; answer: RelayAnswer | null } }): JSX.Element | null {
  const s = props.state;
  if (s.error) return <ErrorBox error={s.error} />;
  if (s.answer)
    return (
      <p class="ok" role="status" data-testid="signed-outcome" data-status={String(s.answer.status)}>
        ✓ {t('done')} {t('statusOf', { status: s.answer.status })}
      </p>
    );
  return null;
}

function useAction(): [{ busy: boolean; error: ApiError | null; answer: RelayAnswer | null }, (f: () => Promise<RelayAnswer>) => Promise<RelayAnswer | null>] {
  const [state, setState] = useState<{ busy: boolean; error: ApiError | null; answer: RelayAnswer | null }>({ busy: false, error: null, answer: null });
  const run = async (f: () => Promise<RelayAnswer>) => {
    setState({ busy: true, error: null, answer: null });
    try {
      const answer = await f();
      setState({ busy: false, error: null, answer });
      return answer;
    } catch (error) {
      setState({ busy: false, error: asApiError(error), answer: null });
      return null;
    }
  };
  return [state, run];
}

interface Resource {
  code: string;
  name: string;
  provider: string;
  sharingClass: string;
  legalBasis?: unknown;
  updateCycle: string;
  connector: { kind: string; endpoint: string };
  items: { code: string; name: string; type: string; sensitivity: string; categories?: string[] }[];
}

/**
 * The publication JSON for the form: an existing resource (its fields as published, a starting point for a change or
 * a new resource) or a template. The /v1 API has no update of a published resource yet: publishing an existing code
 * again is refused with ZT_ERR_RESOURCE_EXISTS, which the page shows.
 */
function publication(r: Resource | null, provider: string): string {
  const p = r
    ? { code: r.code, name: r.name, provider: r.provider, sharingClass: r.sharingClass, legalBasis: r.legalBasis ?? undefined, updateCycle: r.updateCycle, connector: r.connector, items: r.items.map(({ code, name, type, sensitivity, categories }) => ({ code, name, type, sensitivity, categories })) }
    : {
        code: '',
        name: '',
        provider,
        sharingClass: 'conditional',
        legalBasis: { title: '', article: '' },
        updateCycle: 'daily',
        connector: { kind: 'http', endpoint: 'https://' },
        items: [{ code: 'name', name: '名称', type: 'string', sensitivity: 'internal' }],
      };
  return JSON.stringify(p, null, 2);
}

export function SupplyPage(props: { person: Person }): JSX.Element {
  const key = useSigningKey();
  const loaded = useApi<{ resources: Resource[] }>(`${BASE}/api/catalogue/resources`);
  const [text, setText] = useState(() => publication(null, props.person.department ?? ''));
  // The resource being edited (its code), or null when the form publishes a new one.
  const [editing, setEditing] = useState<string | null>(null);
  const [state, run] = useAction();
  const [importFile, setImportFile] = useState<File | null>(null);
  const [importState, runImport] = useAction();

  const publish = async (e: Event) => {
    e.preventDefault();
    if (!key) return;
    let body: string;
    try {
      body = JSON.stringify(JSON.parse(text));
    } catch (error) {
      await run(() => Promise.reject(new ApiError(0, 'ZT_ERR_REQUEST_MALFORMED_JSON', (error as Error).message)));
      return;
    }
    const revise = editing !== null && (JSON.parse(body) as { code?: unknown }).code === editing;
    const sent = revise
      ? await run(() => sendSignedCall(key, `/v1/catalogue/resources/${encodeURIComponent(editing)}`, body, 'application/json', 'PUT'))
      : await run(() => sendSignedCall(key, '/v1/catalogue/resources', body));
    if (sent) {
      setEditing(null);
      loaded.reload();
    }
  };
  const doImport = async (e: Event) => {
    e.preventDefault();
    if (!key || !importFile) return;
    const body = await readFileText(importFile);
    const csv = /\.csv$/i.test(importFile.name) || importFile.type === 'text/csv';
    if (await runImport(() => sendSignedCall(key, '/v1/catalogue/resources/import', body, csv ? 'text/csv' : 'application/json'))) loaded.reload();
  };

  return (
    <Page title={t('supply')} testid="supply-page">
      <SigningKeyPanel person={props.person} />
      <Show loaded={loaded}>
        {(data) =>
          data.resources.length === 0 ? (
            <Empty />
          ) : (
            <div class="scroll">
              <table data-testid="supply-list">
                <thead>
                  <tr>
                    <th scope="col">{t('code')}</th>
                    <th scope="col">{t('name')}</th>
                    <th scope="col">{t('sharingClass')}</th>
                    <th scope="col">{t('items')}</th>
                    <th scope="col">{t('edit')}</th>
                  </tr>
                </thead>
                <tbody>
                  {data.resources.map((r) => (
                    <tr key={r.code} data-testid="resource-row">
                      <td>{r.code}</td>
                      <td>{r.name}</td>
                      <td>{r.sharingClass}</td>
                      <td>{r.items.map((i) => i.name).join('、')}</td>
                      <td>
                        <button type="button" class="secondary" onClick={() => {
                            setText(publication(r, props.person.department ?? r.provider));
                            setEditing(r.code);
                          }} aria-label={`${t('edit')} ${r.code}`} data-testid="resource-edit">
                          {t('edit')}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <form onSubmit={publish} aria-labelledby="publish-title" data-testid="publish-form">
        <h2 id="publish-title">{editing ? `${t('edit')} ${editing}` : t('publish')}</h2>
        <Field label={t('resourceJson')}>{(id) => <textarea id={id} rows={14} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="publish-json" />}</Field>
        {key ? null : <p class="hint">{t('keyNeeded')}</p>}
        <button type="submit" disabled={!key || state.busy} data-testid="publish-submit">
          {t('signAndSend')}
        </button>
        <Outcome state={state} />
      </form>
      <form onSubmit={doImport} aria-labelledby="import-title" data-testid="import-form">
        <h2 id="import-title">{t('importList')}</h2>
        <Field label={t('importFile')}>{(id) => <input id={id} type="file" accept=".csv,.json,text/csv,application/json" onChange={(e) => setImportFile(e.currentTarget.files?.[0] ?? null)} data-testid="import-file" />}</Field>
        <button type="submit" disabled={!key || !importFile || importState.busy} data-testid="import-submit">
          {t('signAndSend')}
        </button>
        <Outcome state={importState} />
      </form>
    </Page>
  );
}

interface Demand {
  id: string;
  requester: string;
  provider: string;
  resource: string;
  items: string[];
  serviceItem: string;
  legalBasis?: unknown;
  state: string;
  replyDue: string | null;
  overdue?: boolean;
  workingDaysLeft?: number | null;
  terms?: unknown;
  refusal?: unknown;
}

interface NegativeEntry {
  id: string;
  title?: string;
  name?: string;
  legalBasis?: unknown;
  resource?: string;
}

function ReplyForm(props: { demand: Demand; person: Person; entries: NegativeEntry[]; onDone: (answer: RelayAnswer) => void }): JSX.Element {
  const key = useSigningKey();
  const d = props.demand;
  const [mode, setMode] = useState<'approve' | 'narrow' | 'refuse'>('approve');
  const [items, setItems] = useState<string[]>(d.items);
  const [quota, setQuota] = useState('');
  const [until, setUntil] = useState('');
  const [entry, setEntry] = useState('');
  const [basis, setBasis] = useState('');
  const [article, setArticle] = useState('');
  const [reason, setReason] = useState('');
  const [state, run] = useAction();
  const actor = props.person.department ?? '';
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!key) return;
    let answer: RelayAnswer | null;
    if (mode === 'refuse') {
      if (!entry && !basis.trim()) {
        await run(() => Promise.reject(new ApiError(0, 'ZT_ERR_REFUSAL_BASIS_MISSING', t('refuseNeedsBasis'))));
        return;
      }
      const content = { negativeListRuleId: entry || null, legalBasis: basis.trim() ? { title: basis.trim(), article: article.trim() || null } : null, reason: reason.trim() || null };
      answer = await run(() => sendSignedStep(key, 'refuse', d.id, actor, content));
    } else {
      const terms =
        mode === 'narrow'
          ? { items: items.length < d.items.length ? items : null, dailyQuota: quota ? Number(quota) : null, validUntil: until || null }
          : null;
      answer = await run(() => sendSignedStep(key, 'approve', d.id, actor, { terms }));
    }
    if (answer) props.onDone(answer);
  };
  return (
    <form class="reply" onSubmit={submit} data-testid="reply-form" aria-label={`${t('approve')} / ${t('refuse')} ${d.id}`}>
      <fieldset>
        <legend>{t('decision')}</legend>
        {(['approve', 'narrow', 'refuse'] as const).map((m) => (
          <label key={m} class="radio">
            <input type="radio" name={`mode-${d.id}`} value={m} checked={mode === m} onChange={() => setMode(m)} data-testid={`reply-${m}`} /> {t(m)}
          </label>
        ))}
      </fieldset>
      {mode === 'narrow' ? (
        <>
          <fieldset>
            <legend>{t('items')}</legend>
            {d.items.map((i) => (
              <label key={i} class="check">
                <input type="checkbox" checked={items.includes(i)} onChange={(e) => setItems(e.currentTarget.checked ? [...items, i] : items.filter((x) => x !== i))} data-testid="reply-item" /> {i}
              </label>
            ))}
          </fieldset>
          <Field label={t('dailyQuota')}>{(id) => <input id={id} type="number" min={1} value={quota} onInput={(e) => setQuota(e.currentTarget.value)} data-testid="reply-quota" />}</Field>
          <Field label={t('validUntil')}>{(id) => <input id={id} type="date" value={until} onInput={(e) => setUntil(e.currentTarget.value)} data-testid="reply-until" />}</Field>
        </>
      ) : null}
      {mode === 'refuse' ? (
        <>
          <Field label={t('negativeListEntry')}>
            {(id) => (
              <select id={id} value={entry} onChange={(e) => setEntry(e.currentTarget.value)} data-testid="reply-entry">
                <option value="">{t('none')}</option>
                {props.entries.map((n) => (
                  <option key={n.id} value={n.id}>
                    {n.id} {n.title ?? n.name ?? ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('legalBasis')}>{(id) => <input id={id} value={basis} onInput={(e) => setBasis(e.currentTarget.value)} data-testid="reply-basis" />}</Field>
          <Field label={`${t('legalBasis')} · article`}>{(id) => <input id={id} value={article} onInput={(e) => setArticle(e.currentTarget.value)} data-testid="reply-article" />}</Field>
          <Field label={t('reason')}>{(id) => <textarea id={id} rows={2} value={reason} onInput={(e) => setReason(e.currentTarget.value)} data-testid="reply-reason" />}</Field>
        </>
      ) : null}
      {key ? null : <p class="hint">{t('keyNeeded')}</p>}
      <button type="submit" disabled={!key || state.busy} data-testid="reply-submit">
        {t('signAndSend')}
      </button>
      {state.error ? <ErrorBox error={state.error} /> : null}
    </form>
  );
}

function DemandList(props: { direction: 'mine' | 'addressed'; person: Person; entries: NegativeEntry[] }): JSX.Element {
  const loaded = useApi<{ demands: Demand[] }>(`${BASE}/api/demands?direction=${props.direction}`);
  const key = useSigningKey();
  const [withdrawState, runWithdraw] = useAction();
  // A reply's outcome is shown here: the demand leaves the pending state, and its form with it.
  const [replied, setReplied] = useState<RelayAnswer | null>(null);
  return (
    <section aria-labelledby={`demands-${props.direction}`} data-testid={`demands-${props.direction}`}>
      <h2 id={`demands-${props.direction}`}>{props.direction === 'mine' ? t('mine') : t('addressed')}</h2>
      <Show loaded={loaded}>
        {(data) =>
          data.demands.length === 0 ? (
            <Empty />
          ) : (
            <ul class="cards">
              {data.demands.map((d) => (
                <li key={d.id} data-testid="demand" data-demand-id={d.id} data-state={d.state}>
                  <h3>
                    {d.resource} · <span class={`state ${d.state}`}>{d.state}</span>
                    {d.overdue ? <span class="bad"> ⚠ {t('overdue')}</span> : null}
                  </h3>
                  <p>
                    {t('requester')}: {d.requester} · {t('items')}: {v(d.items)} · {d.serviceItem}
                  </p>
                  {d.replyDue ? (
                    <p data-testid="demand-deadline">
                      {t('replyDue')}: {d.replyDue}
                      {typeof d.workingDaysLeft === 'number' ? ` (${d.workingDaysLeft} ${t('workingDays')})` : ''}
                    </p>
                  ) : null}
                  {d.terms ? <Fields value={{ terms: d.terms }} /> : null}
                  {d.refusal ? <Fields value={{ refusal: d.refusal }} /> : null}
                  {props.direction === 'addressed' && d.state === 'pending' ? <ReplyForm demand={d} person={props.person} entries={props.entries} onDone={(answer) => {
                        setReplied(answer);
                        loaded.reload();
                      }} /> : null}
                  {props.direction === 'mine' && ['pending', 'granted', 'approved'].includes(d.state) ? (
                    <button
                      type="button"
                      class="secondary"
                      disabled={!key || withdrawState.busy}
                      onClick={async () => {
                        if (key && (await runWithdraw(() => sendSignedStep(key, 'withdraw', d.id, props.person.department ?? '', { reason: null })))) loaded.reload();
                      }}
                      data-testid="demand-withdraw"
                    >
                      {t('withdraw')}
                    </button>
                  ) : null}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
      <Outcome state={withdrawState} />
      <Outcome state={{ busy: false, error: null, answer: replied }} />
    </section>
  );
}

function entriesOf(data: unknown): NegativeEntry[] {
  if (Array.isArray(data)) return data as NegativeEntry[];
  const o = (data ?? {}) as Record<string, unknown>;
  return ((o.entries ?? o.rules ?? []) as NegativeEntry[]).filter((e) => e && typeof e.id === 'string');
}

export function DemandsPage(props: { person: Person }): JSX.Element {
  const policy = useApi<unknown>(`${BASE}/api/policy/entries`);
  const entries = policy.data ? entriesOf(policy.data) : [];
  return (
    <Page title={t('demands')} testid="demands-page">
      <SigningKeyPanel person={props.person} />
      <DemandList direction="addressed" person={props.person} entries={entries} />
      <DemandList direction="mine" person={props.person} entries={entries} />
    </Page>
  );
}

export function PolicyPage(): JSX.Element {
  const loaded = useApi<unknown>(`${BASE}/api/policy/entries`);
  const [yaml, setYaml] = useState('');
  const [preview, setPreview] = useState<{ busy: boolean; error: ApiError | null; result: unknown }>({ busy: false, error: null, result: null });
  const submit = async (e: Event) => {
    e.preventDefault();
    setPreview({ busy: true, error: null, result: null });
    try {
      const result = await api<unknown>('POST', `${BASE}/api/policy/impact`, { candidate: yaml });
      setPreview({ busy: false, error: null, result });
    } catch (error) {
      setPreview({ busy: false, error: asApiError(error), result: null });
    }
  };
  return (
    <Page title={t('policy')} testid="policy-page">
      <h2>{t('entriesTouching')}</h2>
      <Show loaded={loaded}>
        {(data) => {
          const entries = entriesOf(data);
          return entries.length === 0 ? (
            <Empty />
          ) : (
            <ul class="cards" data-testid="policy-entries">
              {entries.map((n) => (
                <li key={n.id} data-testid="policy-entry">
                  <Fields value={n} />
                </li>
              ))}
            </ul>
          );
        }}
      </Show>
      <form onSubmit={submit} aria-labelledby="impact-title" data-testid="impact-form">
        <h2 id="impact-title">{t('impactPreview')}</h2>
        <Field label={t('candidateYaml')}>{(id) => <textarea id={id} rows={12} spellcheck={false} value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} data-testid="impact-yaml" />}</Field>
        <button type="submit" disabled={preview.busy || !yaml.trim()} data-testid="impact-submit">
          {t('preview')}
        </button>
      </form>
      <div aria-live="polite">
        {preview.error ? <ErrorBox error={preview.error} /> : null}
        {preview.result ? <Fields value={preview.result} testid="impact-result" /> : null}
      </div>
    </Page>
  );
}
