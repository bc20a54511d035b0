// Shared pieces of the console's pages: the router, data loading, error and empty states, labelled fields.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import { t } from './i18n.js';

export const BASE = '/console';
const ROUTE_CHANGED = 'zt-route';

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  window.dispatchEvent(new Event(ROUTE_CHANGED));
}

/** The current path and query, kept in step with the history. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const read = () => ({ path: location.pathname, search: new URLSearchParams(location.search) });
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    window.addEventListener('popstate', update);
    window.addEventListener(ROUTE_CHANGED, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(ROUTE_CHANGED, update);
    };
  }, []);
  return loc;
}

/** A same-origin link that changes the page without reloading it (a plain link when opened in a new tab). */
export function Link(props: { href: string; children: ComponentChildren; class?: string; testid?: string; current?: boolean }): JSX.Element {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return (
    <a href={props.href} class={props.class} data-testid={props.testid} aria-current={props.current ? 'page' : undefined} onClick={onClick}>
      {props.children}
    </a>
  );
}

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** GETs `path` (null: nothing yet) and re-fetches when it changes. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({ data: null, error: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    // The answer to a path other than the one on screen replaces it; a reload of the same path keeps it until then.
    api<T>('GET', path).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: null, error: asApiError(error), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { ...state, reload };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'CLIENT', (error as Error)?.message ?? String(error));
}

export function ErrorBox(props: { error: ApiError | Error | string; onRetry?: () => void }): JSX.Element {
  const e = props.error;
  const code = e instanceof ApiError ? e.code : null;
  const message = typeof e === 'string' ? e : e.message;
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>{t('error')}</strong>
      {code ? (
        <>
          {' '}
          <code data-testid="error-code">{code}</code>
        </>
      ) : null}
      <p>{message}</p>
      {props.onRetry ? (
        <button type="button" onClick={props.onRetry}>
          {t('retry')}
        </button>
      ) : null}
    </div>
  );
}

export function Empty(props: { children?: ComponentChildren }): JSX.Element {
  return (
    <p class="empty" data-testid="empty">
      {props.children ?? t('empty')}
    </p>
  );
}

export function Loading(): JSX.Element {
  return (
    <p class="loading" role="status" aria-live="polite" data-testid="loading">
      {t('loading')}
    </p>
  );
}

/** Loading, error (with retry) or the content. */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }): JSX.Element {
  const { loaded } = props;
  if (loaded.error) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  // While reloading, the last data stays on screen (forms and outcomes in it stay put).
  if (loaded.data === null) return <Loading />;
  return <>{props.children(loaded.data)}</>;
}

let fieldIds = 0;
/** A labelled form control: the label names it for assistive technology and for the browser tests. */
export function Field(props: { label: string; children: (id: string) => ComponentChildren; hint?: string }): JSX.Element {
  const [id] = useState(() => `f${++fieldIds}`);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id)}
      {props.hint ? <small>{props.hint}</small> : null}
    </div>
  );
}

export function Page(props: { title: string; testid: string; children: ComponentChildren }): JSX.Element {
  return (
    <section data-testid={props.testid} aria-labelledby={`${props.testid}-title`}>
      <h1 id={`${props.testid}-title`}>{props.title}</h1>
      {props.children}
    </section>
  );
}

export const fmtTime = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString(document.documentElement.lang || 'zh-CN', { hour12: false }) : '—');

/** A small text value, or a dash. */
export function v(x: unknown): string {
  if (x === null || x === undefined || x === '') return '—';
  if (Array.isArray(x)) return x.length === 0 ? '—' : x.map(v).join('；');
  if (typeof x === 'object') {
    // A legal basis, a rule or a department reads best by its title or name.
    const o = x as Record<string, unknown>;
    const label = o.title ?? o.name;
    if (typeof label === 'string') return [label, o.article, o.code ?? o.id].filter((p) => typeof p === 'string' && p).join(' ');
    return JSON.stringify(x);
  }
  return String(x);
}

/** Reads a picked file as text, locally. */
export function readFileText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

/** A definition list of an object's fields, nested objects as nested lists. */
export function Fields(props: { value: unknown; testid?: string }): JSX.Element {
  const value = props.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return <span>{v(value)}</span>;
  return (
    <dl class="fields" data-testid={props.testid}>
      {Object.entries(value as Record<string, unknown>).map(([k, x]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{x !== null && typeof x === 'object' && !Array.isArray(x) ? <Fields value={x} /> : v(x)}</dd>
        </div>
      ))}
    </dl>
  );
}
