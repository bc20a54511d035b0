// Sign-in at the city's identity provider (统一身份认证) with OpenID Connect: the authorization code flow with PKCE
// (S256), a state and a nonce, through openid-client (a certified relying party library, kept by the author of jose).
// The state, verifier and nonce stay on the server (console_oidc_flows), are taken once by the callback, and the
// state is also held in a short-lived cookie of the browser that started, so a callback cannot be replayed nor
// finished in another browser (login CSRF). ID tokens are checked against the provider's JWKS. The person's
// account is made at their first sign-in (staff, of the department the configured claim maps to) and then signs
// in like a local one.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as client from 'openid-client';
import { ZtError } from '../../core/errors/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import type { Database } from '../../core/storage/index.js';
import type { ConsoleAccounts } from './accounts.js';
import type { ClientInfo } from './events.js';
import type { ConsoleSessions, StartedSession } from './sessions.js';

export interface OidcSettings {
  /** ZT_OIDC_ISSUER: the provider's issuer identifier (its discovery document is under /.well-known/openid-configuration). */
  readonly issuer: string;
  /** ZT_OIDC_CLIENT_ID */
  readonly clientId: string;
  /** ZT_OIDC_CLIENT_SECRET; without it the console is a public client (PKCE only, no client authentication). */
  readonly clientSecret?: string | undefined;
  /** ZT_OIDC_REDIRECT_URI: where the provider sends the browser back, {public URL}/console/auth/oidc/callback. */
  readonly redirectUri: string;
  /** ZT_OIDC_PERSON_CLAIM (default sub): the ID token claim that names the person; it becomes the account's login. */
  readonly personClaim?: string;
  /** ZT_OIDC_NAME_CLAIM (default name). */
  readonly nameClaim?: string;
  /** ZT_OIDC_DEPARTMENT_CLAIM (default department). */
  readonly departmentClaim?: string;
  /** ZT_OIDC_DEPARTMENTS: the department claim's values and the USCC each stands for (parseOidcDepartments). */
  readonly departments: ReadonlyMap<string, string>;
  /** What the sign-in page's button says (default 统一身份认证). */
  readonly label?: string;
  /** Scopes asked for (default `openid profile`). */
  readonly scope?: string;
}

/** The state cookie of a sign-in under way (SameSite=Lax: it must come back on the provider's redirect). */
export const OIDC_STATE_COOKIE = 'zt_oidc';
/** How long a sign-in at the provider may take. */
export const OIDC_FLOW_SECONDS = 600;

/**
 * Reads ZT_OIDC_DEPARTMENTS: a JSON object `{"claim value": "USCC"}` or `value=USCC,value=USCC`. Every USCC must be
 * valid (ZT_ERR_CONFIG_INVALID naming the one that is not).
 */
export function parseOidcDepartments(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return map;
  let pairs: [string, unknown][];
  if (trimmed.startsWith('{')) {
    try {
      pairs = Object.entries(JSON.parse(trimmed) as Record<string, unknown>);
    } catch (error) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_OIDC_DEPARTMENTS is not a JSON object: ${(error as Error).message}`, { cause: error });
    }
  } else {
    pairs = trimmed.split(',').filter((p) => p.trim() !== '').map((p) => {
      const eq = p.lastIndexOf('=');
      if (eq <= 0) throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_OIDC_DEPARTMENTS: ${JSON.stringify(p.trim())} is not value=USCC`);
      return [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
    });
  }
  for (const [value, uscc] of pairs) {
    if (typeof uscc !== 'string' || !isValidUscc(uscc.toUpperCase())) throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_OIDC_DEPARTMENTS maps ${JSON.stringify(value)} to ${JSON.stringify(uscc)}, which is not a valid unified social credit code`);
    map.set(value, uscc.toUpperCase());
  }
  return map;
}

export interface OidcSignInOptions {
  db: Database;
  accounts: ConsoleAccounts;
  sessions: ConsoleSessions;
  settings: OidcSettings;
  now?: () => Date;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const failed = (message: string, cause?: unknown): ZtError => new ZtError('ZT_ERR_OIDC_FAILED', message, cause === undefined ? {} : { cause });

function loopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

export class OidcSignIn {
  readonly label: string;
  readonly #o: OidcSignInOptions;
  readonly #now: () => Date;
  readonly #issuer: URL;
  #configuration: Promise<client.Configuration> | null = null;

  constructor(options: OidcSignInOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.label = options.settings.label ?? '统一身份认证';
    try {
      this.#issuer = new URL(options.settings.issuer);
      new URL(options.settings.redirectUri);
    } catch (error) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', 'ZT_OIDC_ISSUER and ZT_OIDC_REDIRECT_URI must be absolute URLs', { cause: error });
    }
    // Plain HTTP only for a provider on this machine (a test or a local mock); anything else must be HTTPS.
    if (this.#issuer.protocol !== 'https:' && !(this.#issuer.protocol === 'http:' && loopback(this.#issuer))) {
      throw new ZtError('ZT_ERR_CONFIG_INVALID', `ZT_OIDC_ISSUER must be an https URL (plain http only on 127.0.0.1 or localhost): ${options.settings.issuer}`);
    }
    if (!options.settings.clientId) throw new ZtError('ZT_ERR_CONFIG_INVALID', 'ZT_OIDC_ISSUER is set but ZT_OIDC_CLIENT_ID is not');
    if (options.settings.departments.size === 0) throw new ZtError('ZT_ERR_CONFIG_INVALID', 'ZT_OIDC_ISSUER is set but ZT_OIDC_DEPARTMENTS maps no department');
  }

  /** The provider's metadata, discovered once (again after a failure). */
  #config(): Promise<client.Configuration> {
    if (!this.#configuration) {
      const s = this.#o.settings;
      const auth = s.clientSecret ? client.ClientSecretBasic(s.clientSecret) : client.None();
      const execute = [client.enableNonRepudiationChecks, ...(this.#issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [])];
      this.#configuration = client.discovery(this.#issuer, s.clientId, s.clientSecret ? { client_secret: s.clientSecret } : undefined, auth, { execute, timeout: 10 }).catch((error: unknown) => {
        this.#configuration = null;
        throw failed(`the identity provider ${s.issuer} cannot be reached or its discovery document is not usable: ${(error as Error).message}`, error);
      });
    }
    return this.#configuration;
  }

  /** Begins a sign-in: where to send the browser, and the state to keep in its cookie. */
  async start(): Promise<{ url: URL; state: string }> {
    const config = await this.#config();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const now = this.#now();
    await this.#o.db.query('DELETE FROM console_oidc_flows WHERE expires_at < $1', [now]);
    await this.#o.db.query('INSERT INTO console_oidc_flows (state_hash, code_verifier, nonce, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      sha256(state),
      verifier,
      nonce,
      now,
      new Date(now.getTime() + OIDC_FLOW_SECONDS * 1000),
    ]);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#o.settings.redirectUri,
      scope: this.#o.settings.scope ?? 'openid profile',
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, state };
  }

  /**
   * Finishes a sign-in from the provider's redirect: `query` is the callback's query string, `cookieState` the
   * state cookie of this browser. ZT_ERR_OIDC_FAILED for anything amiss (state, code, token, claims).
   */
  async finish(query: string, cookieState: string | undefined, clientInfo: ClientInfo = {}): Promise<StartedSession> {
    const s = this.#o.settings;
    const callback = new URL(s.redirectUri);
    callback.search = query;
    const state = callback.searchParams.get('state');
    if (!state || !cookieState || state.length !== cookieState.length || !timingSafeEqual(Buffer.from(state), Buffer.from(cookieState))) {
      throw failed('the sign-in came back with a state this browser did not start (or its state cookie is gone); start again');
    }
    // Taken once: a second callback with the same state finds nothing.
    const { rows } = await this.#o.db.query<{ code_verifier: string; nonce: string; expires_at: Date }>(
      'DELETE FROM console_oidc_flows WHERE state_hash = $1 RETURNING code_verifier, nonce, expires_at',
      [sha256(state)],
    );
    const flow = rows[0];
    if (!flow || new Date(flow.expires_at) <= this.#now()) throw failed('this sign-in is not one the console started, was finished already, or took too long; start again');
    if (callback.searchParams.has('error')) throw failed(`the identity provider refused the sign-in: ${callback.searchParams.get('error')}${callback.searchParams.has('error_description') ? ` (${callback.searchParams.get('error_description')})` : ''}`);
    const config = await this.#config();
    let claims: client.IDToken | undefined;
    try {
      const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.code_verifier, expectedState: state, expectedNonce: flow.nonce, idTokenExpected: true });
      claims = tokens.claims();
    } catch (error) {
      throw failed(`the identity provider's answer does not verify: ${(error as Error).message}`, error);
    }
    if (!claims) throw failed('the identity provider sent no ID token');
    const text = (name: string): string | null => {
      const v = (claims as Record<string, unknown>)[name];
      return typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' ? String(v) : null;
    };
    const personClaim = s.personClaim ?? 'sub';
    const login = text(personClaim);
    if (!login || !/^[^\s\p{Cc}]{1,200}$/u.test(login)) throw failed(`the ID token has no usable ${personClaim} claim to name the person`);
    const departmentClaim = s.departmentClaim ?? 'department';
    const value = text(departmentClaim);
    const department = value === null ? undefined : s.departments.get(value);
    if (!department) throw failed(value === null ? `the ID token has no ${departmentClaim} claim` : `the ${departmentClaim} claim ${JSON.stringify(value)} maps to no department (ZT_OIDC_DEPARTMENTS)`);
    const name = (text(s.nameClaim ?? 'name') ?? login).slice(0, 200);
    const row = await this.#o.accounts.ensureProviderAccount({ login, name, department });
    return this.#o.sessions.start(row, 'oidc', clientInfo);
  }
}
