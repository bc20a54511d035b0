// The console API client: same origin, the session cookie sent by the browser, the CSRF token in x-zt-csrf on
// every state-changing call. Errors become ApiError with the catalogue code; a lost session is announced once so the
// shell can show the sign-in page.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

let csrf: string | null = null;
export const setCsrf = (token: string | null): void => {
  csrf = token;
};

export const SESSION_LOST = 'zt-session-lost';
const SESSION_CODES = new Set(['ZT_ERR_SESSION_REQUIRED', 'ZT_ERR_SESSION_EXPIRED']);

/** Reads an error body in either form the gateway gives: {code, message} or {error: {code, message}}. */
function errorOf(status: number, body: unknown): ApiError {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const e = (b.error && typeof b.error === 'object' ? b.error : b) as Record<string, unknown>;
  const code = typeof e.code === 'string' ? e.code : `HTTP_${status}`;
  const message = typeof e.message === 'string' ? e.message : `HTTP ${status}`;
  return new ApiError(status, code, message, e.details);
}

export async function api<T>(method: string, path: string, body?: unknown, options: { raw?: boolean; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-zt-csrf'] = csrf;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, 'NETWORK', (error as Error).message);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
  }
  if (!response.ok) {
    const error = errorOf(response.status, parsed);
    if (response.status === 401 && SESSION_CODES.has(error.code)) window.dispatchEvent(new CustomEvent(SESSION_LOST));
    throw error;
  }
  return parsed as T;
}

/** A query string of the non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface Person {
  login: string;
  name: string;
  kind: 'staff' | 'citizen';
  department: string | null;
  departmentName: string | null;
  roles: string[];
  via?: string;
}
