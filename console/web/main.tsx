// The web console's shell: sign-in, the header with the person and a sign-out, navigation by role, and the router.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import type { JSX } from 'preact';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, setCsrf, SESSION_LOST, type Person } from './api.js';
import { currentLang, roleName, setLang, t } from './i18n.js';
import { BASE, ErrorBox, Field, Link, Loading, navigate, useLocation } from './ui.js';
import { AnalyticsPage, AnomaliesPage, AuditSearchPage, CaseTracePage, OverduePage, RecordPage } from './pages/supervisor.js';
import { DemandsPage, PolicyPage, SupplyPage } from './pages/steward.js';
import { AccessesPage, LicencesPage } from './pages/citizen.js';

interface Session {
  person: Person;
  csrf: string;
}

interface NavItem {
  href: string;
  label: () => string;
  role: string;
  testid: string;
}

const NAV: NavItem[] = [
  { href: `${BASE}/audit`, label: () => t('navAudit'), role: 'supervisor', testid: 'nav-audit' },
  { href: `${BASE}/cases`, label: () => t('navCases'), role: 'supervisor', testid: 'nav-cases' },
  { href: `${BASE}/anomalies`, label: () => t('navAnomalies'), role: 'supervisor', testid: 'nav-anomalies' },
  { href: `${BASE}/overdue`, label: () => t('navOverdue'), role: 'supervisor', testid: 'nav-overdue' },
  { href: `${BASE}/analytics`, label: () => t('navAnalytics'), role: 'supervisor', testid: 'nav-analytics' },
  { href: `${BASE}/supply`, label: () => t('navSupply'), role: 'steward', testid: 'nav-supply' },
  { href: `${BASE}/demands`, label: () => t('navDemands'), role: 'steward', testid: 'nav-demands' },
  { href: `${BASE}/policy`, label: () => t('navPolicy'), role: 'steward', testid: 'nav-policy' },
  { href: `${BASE}/me/accesses`, label: () => t('navAccesses'), role: 'citizen', testid: 'nav-accesses' },
  { href: `${BASE}/me/licences`, label: () => t('navLicences'), role: 'citizen', testid: 'nav-licences' },
];

/** The route table: which role a page needs and what renders it. */
function route(path: string, session: Session): { role: string; view: JSX.Element } | null {
  const p = path.replace(/\/+$/, '');
  const record = /^\/console\/audit\/records\/([^/]+)$/.exec(p);
  if (record) return { role: 'supervisor', view: <RecordPage id={decodeURIComponent(record[1]!)} /> };
  const pages: Record<string, { role: string; view: () => JSX.Element }> = {
    [`${BASE}/audit`]: { role: 'supervisor', view: () => <AuditSearchPage /> },
    [`${BASE}/cases`]: { role: 'supervisor', view: () => <CaseTracePage /> },
    [`${BASE}/anomalies`]: { role: 'supervisor', view: () => <AnomaliesPage /> },
    [`${BASE}/overdue`]: { role: 'supervisor', view: () => <OverduePage /> },
    [`${BASE}/analytics`]: { role: 'supervisor', view: () => <AnalyticsPage /> },
    [`${BASE}/supply`]: { role: 'steward', view: () => <SupplyPage person={session.person} /> },
    [`${BASE}/demands`]: { role: 'steward', view: () => <DemandsPage person={session.person} /> },
    [`${BASE}/policy`]: { role: 'steward', view: () => <PolicyPage /> },
    [`${BASE}/me/accesses`]: { role: 'citizen', view: () => <AccessesPage /> },
    [`${BASE}/me/licences`]: { role: 'citizen', view: () => <LicencesPage /> },
  };
  const found = pages[p];
  return found ? { role: found.role, view: found.view() } : null;
}

function SignIn(props: { onSignedIn: (s: Session) => void; notice: string | null }): JSX.Element {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [oidc, setOidc] = useState<{ label: string } | null>(null);
  useEffect(() => {
    api<{ local: boolean; oidc: { label: string } | null }>('GET', `${BASE}/api/session/methods`).then(
      (m) => setOidc(m.oidc ?? null),
      () => setOidc(null),
    );
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const s = await api<Session>('POST', `${BASE}/api/session`, { login, password });
      setPassword('');
      props.onSignedIn(s);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'CLIENT', String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin" data-testid="signin-page">
      <h1>{t('signInTitle')}</h1>
      {props.notice ? (
        <p class="notice" role="status" data-testid="signin-notice">
          {props.notice}
        </p>
      ) : null}
      <form onSubmit={submit} data-testid="signin-form" aria-describedby={error ? 'signin-error' : undefined}>
        <Field label={t('login')}>{(id) => <input id={id} name="login" autoComplete="username" required value={login} onInput={(e) => setLogin(e.currentTarget.value)} data-testid="signin-login" />}</Field>
        <Field label={t('password')}>
          {(id) => <input id={id} name="password" type="password" autoComplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} data-testid="signin-password" />}
        </Field>
        <button type="submit" disabled={busy} data-testid="signin-submit">
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
      {error ? (
        <div id="signin-error">
          <ErrorBox error={error} />
        </div>
      ) : null}
      {oidc ? (
        <p class="idp">
          {t('orIdp')}{' '}
          <a class="button" href={`${BASE}/auth/oidc`} data-testid="signin-oidc">
            {t('signInWithIdp', { label: oidc.label })}
          </a>
        </p>
      ) : null}
    </main>
  );
}

function LangSwitch(props: { onChange: () => void }): JSX.Element {
  const toggle = () => {
    setLang(currentLang() === 'en' ? 'zh-CN' : 'en');
    props.onChange();
  };
  return (
    <button type="button" class="lang" onClick={toggle} lang={currentLang() === 'en' ? 'zh-CN' : 'en'} aria-label={`${t('language')}: ${t('switchLang')}`} data-testid="lang-switch">
      {t('switchLang')}
    </button>
  );
}

function App(): JSX.Element {
  const [, setLangTick] = useState(0);
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const { path } = useLocation();

  useEffect(() => {
    document.documentElement.lang = currentLang();
    api<Session>('GET', `${BASE}/api/session`).then(
      (s) => {
        setCsrf(s.csrf);
        setSession(s);
        setChecking(false);
      },
      () => setChecking(false),
    );
    const lost = () => {
      setCsrf(null);
      setSession(null);
      setNotice(t('sessionLost'));
    };
    window.addEventListener(SESSION_LOST, lost);
    return () => window.removeEventListener(SESSION_LOST, lost);
  }, []);

  useEffect(() => {
    document.title = t('appName');
  });

  // After a client-side navigation, keyboard and screen-reader users land on the new page's content.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
  }, [path]);

  const signedIn = (s: Session) => {
    setCsrf(s.csrf);
    setSession(s);
    setNotice(null);
    if (path === BASE || path === `${BASE}/` || path === `${BASE}/sign-in`) navigate(home(s.person), true);
  };

  const signOut = async () => {
    try {
      await api('DELETE', `${BASE}/api/session`);
    } catch {
      /* the session may be gone already: signed out either way */
    }
    setCsrf(null);
    setSession(null);
    setNotice(t('signedOut'));
    navigate(`${BASE}/`);
  };

  const header = (
    <header class="top">
      <a class="skip" href="#main">
        {t('skip')}
      </a>
      <span class="brand">{t('appName')}</span>
      <LangSwitch onChange={() => setLangTick((n) => n + 1)} />
      {session ? (
        <div class="who" data-testid="person">
          <span data-testid="person-name">{session.person.name}</span>
          {session.person.departmentName || session.person.department ? <span data-testid="person-department">{session.person.departmentName ?? session.person.department}</span> : null}
          <span data-testid="person-roles">{session.person.roles.map(roleName).join(' · ')}</span>
          <button type="button" onClick={signOut} data-testid="sign-out">
            {t('signOut')}
          </button>
        </div>
      ) : null}
    </header>
  );

  if (checking)
    return (
      <>
        {header}
        <main id="main">
          <Loading />
        </main>
      </>
    );
  if (!session)
    return (
      <>
        {header}
        <SignIn onSignedIn={signedIn} notice={notice} />
      </>
    );

  const items = NAV.filter((n) => session.person.roles.includes(n.role));
  const current = route(path, session);
  let body: JSX.Element;
  if (path === BASE || path === `${BASE}/`) {
    const target = home(session.person);
    body = target === `${BASE}/` ? <p data-testid="no-pages">{t('forbidden')}</p> : <Redirect to={target} />;
  } else if (!current) body = <p data-testid="not-found">{t('notFound')}</p>;
  else if (!session.person.roles.includes(current.role))
    body = (
      <p class="error" role="alert" data-testid="forbidden">
        {t('forbidden')} <code data-testid="error-code">ZT_ERR_CONSOLE_FORBIDDEN</code>
      </p>
    );
  else body = current.view;

  return (
    <>
      {header}
      <nav class="side" aria-label={t('nav')} data-testid="nav">
        <ul>
          {items.map((n) => (
            <li key={n.href}>
              <Link href={n.href} testid={n.testid} current={path.startsWith(n.href)}>
                {n.label()}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </>
  );
}

function home(person: Person): string {
  return NAV.find((n) => person.roles.includes(n.role))?.href ?? `${BASE}/`;
}

function Redirect(props: { to: string }): JSX.Element {
  useEffect(() => navigate(props.to, true), [props.to]);
  return <Loading />;
}

render(<App />, document.getElementById('app')!);
