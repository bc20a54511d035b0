// The console's session routes through HTTP: the cookie's attributes, sign-in refusals, the current session, sign-out
// that ends the session and clears the cookie, CSRF on the state-changing DELETE, and sign-in at an identity
// provider (OpenID Connect, code flow with PKCE) that this test starts itself: discovery, JWKS, an authorize
// endpoint that redirects back and a token endpoint that checks the PKCE verifier and signs ID tokens (ES256).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../core/storage/index.js';
import type { RegistryRole } from '../../../transport/access.js';
import { ConsoleAccounts } from '../accounts.js';
import { OidcSignIn, parseOidcDepartments, type OidcSettings } from '../oidc.js';
import { ConsoleSessions } from '../sessions.js';
import { consoleHarness, describeOnDatabases, TestClock, testPseudonyms } from '../test-support.js';
import { consoleSessionRoutes } from './routes.js';

const BUREAU = '11210100001000096L';
const POLICE = '11210100001000010R';
const PASSWORD = 'correct horse battery';
const REDIRECT_URI = 'http://127.0.0.1:8080/console/auth/oidc/callback';
const rolesOf = (uscc: string): ReadonlySet<RegistryRole> => new Set<RegistryRole>(uscc === BUREAU ? ['supervisor'] : []);
const names: Record<string, string> = { [BUREAU]: '沈阳市政务服务和数据管理局', [POLICE]: '沈阳市公安局' };

/** A small OpenID provider: one client, one person per authorize call (whoever the test says signs in next). */
class TestIdentityProvider {
  readonly app: FastifyInstance = Fastify({ logger: false });
  readonly clientId = 'zhengtong-console';
  readonly clientSecret = randomBytes(16).toString('base64url');
  issuer = '';
  /** The claims of the person who signs in at the next authorize call. */
  next: Record<string, unknown> = {};
  /** Signs the next ID tokens with a key the JWKS does not hold. */
  forge = false;
  readonly #key: KeyObject;
  readonly #jwk: Record<string, unknown>;
  readonly #codes = new Map<string, { challenge: string; nonce: string; redirectUri: string; claims: Record<string, unknown> }>();

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#key = privateKey;
    this.#jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256', use: 'sig' };
    this.app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, new URLSearchParams(body as string)));
    this.app.get('/.well-known/openid-configuration', async () => ({
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic'],
    }));
    this.app.get('/jwks', async () => ({ keys: [this.#jwk] }));
    this.app.get<{ Querystring: Record<string, string> }>('/authorize', async (request, reply) => {
      const q = request.query;
      if (q.client_id !== this.clientId || q.response_type !== 'code' || q.code_challenge_method !== 'S256' || !q.code_challenge || !q.nonce || !q.state) {
        return reply.code(400).send({ error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('base64url');
      this.#codes.set(code, { challenge: q.code_challenge, nonce: q.nonce, redirectUri: q.redirect_uri!, claims: this.next });
      const back = new URL(q.redirect_uri!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', q.state);
      return reply.redirect(back.href, 302);
    });
    this.app.post<{ Body: URLSearchParams }>('/token', async (request, reply) => {
      const body = request.body;
      // RFC 6749 2.3.1: the id and secret are form-urlencoded, then joined and base64-encoded.
      const [id, secret] = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8').split(':').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
      if (id !== this.clientId || secret !== this.clientSecret) return reply.code(401).send({ error: 'invalid_client' });
      const grant = this.#codes.get(body.get('code') ?? '');
      this.#codes.delete(body.get('code') ?? '');
      const verifier = body.get('code_verifier') ?? '';
      if (!grant || body.get('grant_type') !== 'authorization_code' || body.get('redirect_uri') !== grant.redirectUri || createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) {
        return reply.code(400).send({ error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      return { access_token: randomBytes(16).toString('base64url'), token_type: 'Bearer', expires_in: 300, id_token: this.#idToken({ iss: this.issuer, aud: this.clientId, iat: now, exp: now + 300, nonce: grant.nonce, ...grant.claims }) };
    });
  }

  #idToken(claims: Record<string, unknown>): string {
    const encode = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${encode({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${encode(claims)}`;
    const key = this.forge ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey : this.#key;
    return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  }

  async start(): Promise<void> {
    this.issuer = await this.app.listen({ host: '127.0.0.1', port: 0 });
  }
}

const setCookies = (headers: Record<string, unknown>): string[] => {
  const v = headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)];
};
const cookieOf = (headers: Record<string, unknown>, name: string): string | undefined =>
  setCookies(headers).find((c) => c.startsWith(`${name}=`))?.split(';')[0]!.slice(name.length + 1);

describeOnDatabases('console session routes', (open) => {
  const idp = new TestIdentityProvider();
  beforeAll(() => idp.start());
  afterAll(() => idp.app.close());

  async function setup(options: { secureCookies?: boolean; oidc?: boolean } = {}) {
    const db: Database = await open();
    const clock = new TestClock(Date.now());
    const accounts = new ConsoleAccounts({ db, pseudonyms: testPseudonyms(), now: clock.now });
    const sessions = new ConsoleSessions({ db, accounts, rolesOf, now: clock.now });
    await accounts.add({ login: 'zhao', name: '赵建', department: BUREAU, password: PASSWORD });
    const settings: OidcSettings = {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      redirectUri: REDIRECT_URI,
      departments: parseOidcDepartments('{"public-security": "11210100001000010R", "data-bureau": "11210100001000096L"}'),
    };
    const oidc = options.oidc ? new OidcSignIn({ db, accounts, sessions, settings, now: clock.now }) : null;
    const app = consoleHarness(sessions);
    await app.register(consoleSessionRoutes({ sessions, oidc, departmentName: async (u) => names[u] ?? null, secureCookies: options.secureCookies ?? false }));
    await app.ready();
    return { db, app, clock, accounts };
  }

  it('signs in with a local password: an HttpOnly, SameSite=Strict cookie under /console that lives as long as the session', async () => {
    const { app } = await setup();
    expect((await app.inject({ method: 'GET', url: '/console/api/session/methods' })).json()).toEqual({ local: true, oidc: null });
    const res = await app.inject({ method: 'POST', url: '/console/api/session', payload: { login: 'zhao', password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    const [cookie] = setCookies(res.headers);
    expect(cookie).toMatch(/^zt_session=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/console; HttpOnly; SameSite=Strict$/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.person).toEqual({ login: 'zhao', name: '赵建', kind: 'staff', department: BUREAU, departmentName: names[BUREAU], roles: ['steward', 'supervisor'], via: 'local' });
    expect(body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const session = await app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: `zt_session=${cookieOf(res.headers, 'zt_session')}` } });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ person: body.person, csrf: body.csrf, expiresAt: body.expiresAt });
  });

  it('marks the cookie Secure when configured, and refuses wrong passwords with the catalogue\'s error', async () => {
    const { app } = await setup({ secureCookies: true });
    const res = await app.inject({ method: 'POST', url: '/console/api/session', payload: { login: 'zhao', password: PASSWORD } });
    expect(setCookies(res.headers)[0]).toMatch(/; Secure$/);
    const wrong = await app.inject({ method: 'POST', url: '/console/api/session', payload: { login: 'zhao', password: 'not the password' } });
    expect([wrong.statusCode, wrong.json().code, setCookies(wrong.headers)]).toEqual([401, 'ZT_ERR_SIGN_IN_FAILED', []]);
    const none = await app.inject({ method: 'GET', url: '/console/api/session' });
    expect([none.statusCode, none.json().code]).toEqual([401, 'ZT_ERR_SESSION_REQUIRED']);
  });

  it('signs out only with the CSRF token, ends the session on the server and clears the cookie', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'POST', url: '/console/api/session', payload: { login: 'zhao', password: PASSWORD } });
    const cookie = `zt_session=${cookieOf(res.headers, 'zt_session')}`;
    const csrf = res.json().csrf as string;
    const refused = await app.inject({ method: 'DELETE', url: '/console/api/session', headers: { cookie } });
    expect([refused.statusCode, refused.json().code]).toEqual([403, 'ZT_ERR_CSRF_INVALID']);
    expect((await app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie } })).statusCode).toBe(200);
    const out = await app.inject({ method: 'DELETE', url: '/console/api/session', headers: { cookie, 'x-zt-csrf': csrf } });
    expect(out.statusCode).toBe(204);
    expect(setCookies(out.headers)[0]).toBe('zt_session=; Max-Age=0; Path=/console; HttpOnly; SameSite=Strict');
    const after = await app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie } });
    expect([after.statusCode, after.json().code]).toEqual([401, 'ZT_ERR_SESSION_EXPIRED']);
  });

  it('answers 404 ZT_ERR_OIDC_NOT_CONFIGURED when no identity provider is configured', async () => {
    const { app } = await setup();
    const res = await app.inject({ method: 'GET', url: '/console/auth/oidc' });
    expect([res.statusCode, res.json().code]).toEqual([404, 'ZT_ERR_OIDC_NOT_CONFIGURED']);
  });

  async function startAtProvider(app: FastifyInstance): Promise<{ state: string; callback: URL }> {
    const start = await app.inject({ method: 'GET', url: '/console/auth/oidc' });
    expect(start.statusCode).toBe(302);
    const authorize = new URL(String(start.headers.location));
    expect(authorize.origin + authorize.pathname).toBe(`${idp.issuer}/authorize`);
    expect(Object.fromEntries(['response_type', 'code_challenge_method', 'redirect_uri', 'client_id'].map((k) => [k, authorize.searchParams.get(k)]))).toEqual({
      response_type: 'code',
      code_challenge_method: 'S256',
      redirect_uri: REDIRECT_URI,
      client_id: idp.clientId,
    });
    const stateCookie = setCookies(start.headers).find((c) => c.startsWith('zt_oidc='))!;
    expect(stateCookie).toMatch(/^zt_oidc=[A-Za-z0-9_-]+; Max-Age=600; Path=\/console\/auth; HttpOnly; SameSite=Lax$/);
    const back = await fetch(authorize, { redirect: 'manual' });
    expect(back.status).toBe(302);
    return { state: cookieOf(start.headers, 'zt_oidc')!, callback: new URL(back.headers.get('location')!) };
  }

  it('signs a person in at the identity provider with PKCE, makes their account at the first sign-in and gives them a session', async () => {
    const { app, db, accounts } = await setup({ oidc: true });
    expect((await app.inject({ method: 'GET', url: '/console/api/session/methods' })).json()).toEqual({ local: true, oidc: { label: '统一身份认证' } });
    idp.next = { sub: 'sy-police-0042', name: '钱警官', department: 'public-security' };
    const { state, callback } = await startAtProvider(app);
    const done = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${callback.search}`, headers: { cookie: `zt_oidc=${state}` } });
    expect(done.statusCode).toBe(302);
    expect(done.headers.location).toBe('/console/');
    expect(setCookies(done.headers)).toContain('zt_oidc=; Max-Age=0; Path=/console/auth; HttpOnly; SameSite=Lax');
    const session = await app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: `zt_session=${cookieOf(done.headers, 'zt_session')}` } });
    expect(session.json().person).toEqual({ login: 'sy-police-0042', name: '钱警官', kind: 'staff', department: POLICE, departmentName: names[POLICE], roles: ['steward'], via: 'oidc' });
    expect(await accounts.get('sy-police-0042')).toMatchObject({ source: 'oidc', department: POLICE });

    // The same callback again: its state was taken once.
    const replay = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${callback.search}`, headers: { cookie: `zt_oidc=${state}` } });
    expect([replay.statusCode, replay.json().code]).toEqual([401, 'ZT_ERR_OIDC_FAILED']);

    // The second sign-in finds the account, and follows the provider's department.
    idp.next = { sub: 'sy-police-0042', name: '钱警官', department: 'data-bureau' };
    const second = await startAtProvider(app);
    const again = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${second.callback.search}`, headers: { cookie: `zt_oidc=${second.state}` } });
    expect(again.statusCode).toBe(302);
    expect((await accounts.list()).map((a) => [a.login, a.department])).toEqual([['sy-police-0042', BUREAU], ['zhao', BUREAU]]);
    const { rows } = await db.query<{ event: string; via: string }>("SELECT event, via FROM console_sign_in_events WHERE via = 'oidc' ORDER BY id");
    expect(rows).toEqual([{ event: 'success', via: 'oidc' }, { event: 'success', via: 'oidc' }]);
  });

  it('refuses a callback whose state is not the one this browser started, and a department the mapping does not know', async () => {
    const { app, accounts } = await setup({ oidc: true });
    idp.next = { sub: 'someone', name: '某人', department: 'public-security' };
    const { state, callback } = await startAtProvider(app);
    for (const cookie of [undefined, 'zt_oidc=another-state-value', `zt_oidc=${state}x`]) {
      const res = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${callback.search}`, headers: cookie ? { cookie } : {} });
      expect([res.statusCode, res.json().code, cookieOf(res.headers, 'zt_session')]).toEqual([401, 'ZT_ERR_OIDC_FAILED', undefined]);
    }
    // A state the console never started, presented in both places.
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state');
    const res = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${forged.search}`, headers: { cookie: 'zt_oidc=forged-state' } });
    expect([res.statusCode, res.json().code]).toEqual([401, 'ZT_ERR_OIDC_FAILED']);

    idp.next = { sub: 'stranger', name: '外人', department: 'unknown-office' };
    const other = await startAtProvider(app);
    const unmapped = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${other.callback.search}`, headers: { cookie: `zt_oidc=${other.state}` } });
    expect([unmapped.statusCode, unmapped.json().code]).toEqual([401, 'ZT_ERR_OIDC_FAILED']);
    expect(unmapped.json().message).toContain('unknown-office');

    // An ID token the provider's keys did not sign.
    idp.next = { sub: 'forger', name: '伪造', department: 'public-security' };
    idp.forge = true;
    try {
      const forgedToken = await startAtProvider(app);
      const res = await app.inject({ method: 'GET', url: `/console/auth/oidc/callback${forgedToken.callback.search}`, headers: { cookie: `zt_oidc=${forgedToken.state}` } });
      expect([res.statusCode, res.json().code]).toEqual([401, 'ZT_ERR_OIDC_FAILED']);
    } finally {
      idp.forge = false;
    }
    expect((await accounts.list()).map((a) => a.login)).toEqual(['zhao']);
  });
});

describe('ZT_OIDC_DEPARTMENTS', () => {
  it('reads JSON or value=USCC pairs and refuses invalid codes', () => {
    expect([...parseOidcDepartments('police=11210100001000010R, bureau = 11210100001000096l')]).toEqual([
      ['police', POLICE],
      ['bureau', BUREAU],
    ]);
    expect([...parseOidcDepartments('{"a=b": "11210100001000010R"}')]).toEqual([['a=b', POLICE]]);
    expect(parseOidcDepartments(undefined).size).toBe(0);
    expect(() => parseOidcDepartments('police=11210100001000010X')).toThrow(/not a valid unified social credit code/);
    expect(() => parseOidcDepartments('police')).toThrow(/value=USCC/);
    expect(() => parseOidcDepartments('{bad')).toThrow(/JSON/);
  });
});
