// The console's session routes (docs/console-sign-in.md): how a person may sign in, sign-in with a local password,
// the current session, sign-out, and sign-in at the identity provider. The session travels in the cookie
// `zt_session` (HttpOnly; SameSite=Strict; Path=/console; Secure over TLS or when configured), the CSRF token in the
// JSON answers, for the page to send back as x-zt-csrf on every state-changing call.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ZtError } from '../../../core/errors/index.js';
import { person as personAccess, PUBLIC } from '../../../transport/access.js';
import { errorResponses } from '../../../transport/http-errors.js';
import { requirePerson } from '../../../transport/http-signed-body.js';
import { cookieValue, SESSION_COOKIE, type Person } from '../../../transport/person.js';
import type { ClientInfo } from '../events.js';
import { OIDC_FLOW_SECONDS, OIDC_STATE_COOKIE, type OidcSignIn } from '../oidc.js';
import type { ConsoleSessions } from '../sessions.js';

export interface ConsoleSessionRoutesOptions {
  sessions: ConsoleSessions;
  /** Sign-in at the identity provider, when ZT_OIDC_ISSUER is configured; null otherwise. */
  oidc: OidcSignIn | null;
  /** The name of a department (shown beside its USCC), or null when it is not registered. */
  departmentName: (uscc: string) => Promise<string | null>;
  /** ZT_CONSOLE_SECURE_COOKIES: mark cookies Secure even on plain HTTP (TLS ends at a proxy in front). */
  secureCookies: boolean;
  /** Where the browser goes after signing in at the identity provider (default /console/). */
  afterSignIn?: string;
}

const personSchema = {
  type: 'object',
  required: ['login', 'name', 'kind', 'department', 'departmentName', 'roles', 'via'],
  properties: {
    login: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['staff', 'citizen'] },
    department: { type: 'string', description: 'USCC of the department the person acts for (a citizen: the service portal\'s).' },
    departmentName: { type: ['string', 'null'] },
    roles: { type: 'array', items: { type: 'string' } },
    via: { type: 'string', enum: ['local', 'oidc'] },
  },
} as const;

const sessionSchema = {
  type: 'object',
  required: ['person', 'csrf', 'expiresAt', 'idleExpiresAt'],
  properties: {
    person: personSchema,
    csrf: { type: 'string', description: 'Send it back as the x-zt-csrf header on every state-changing console call.' },
    expiresAt: { type: 'string', format: 'date-time' },
    idleExpiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

function clientOf(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : null };
}

export function consoleSessionRoutes(options: ConsoleSessionRoutesOptions): FastifyPluginAsync {
  const { sessions, oidc } = options;
  const secure = (request: FastifyRequest): boolean => options.secureCookies || request.protocol === 'https';
  const sessionCookie = (request: FastifyRequest, value: string, maxAge: number): string =>
    `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; Path=/console; HttpOnly; SameSite=Strict${secure(request) ? '; Secure' : ''}`;
  const personJson = async (p: Person) => ({
    login: p.login,
    name: p.name,
    kind: p.kind,
    department: p.department,
    departmentName: await options.departmentName(p.department).catch(() => null),
    roles: [...p.roles].sort(),
    via: p.via,
  });
  const answer = async (p: Person, s: { csrf: string; expiresAt: Date; idleExpiresAt: Date }) => ({
    person: await personJson(p),
    csrf: s.csrf,
    expiresAt: s.expiresAt.toISOString(),
    idleExpiresAt: s.idleExpiresAt.toISOString(),
  });
  const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store');

  return async (app) => {
    app.get(
      '/console/api/session/methods',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['console'],
          summary: 'How a person may sign in to the console: a local account, and the identity provider when configured.',
          response: {
            200: {
              type: 'object',
              properties: { local: { type: 'boolean' }, oidc: { type: ['object', 'null'], properties: { label: { type: 'string' } } } },
            },
            ...errorResponses,
          },
        },
      },
      async () => ({ local: true, oidc: oidc ? { label: oidc.label } : null }),
    );

    app.post<{ Body: { login: string; password: string } }>(
      '/console/api/session',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['console'],
          summary: 'Sign in with a local account: sets the zt_session cookie and answers the person and the CSRF token.',
          body: {
            type: 'object',
            required: ['login', 'password'],
            additionalProperties: false,
            properties: { login: { type: 'string', minLength: 1, maxLength: 200 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
          },
          response: { 200: sessionSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const started = await sessions.signIn(request.body.login, request.body.password, clientOf(request));
        noStore(reply).header('set-cookie', sessionCookie(request, started.cookie, sessions.lifetimeSeconds));
        return answer(started.person, started);
      },
    );

    app.get(
      '/console/api/session',
      {
        config: { access: personAccess() },
        schema: { tags: ['console'], summary: 'The signed-in person, the session\'s CSRF token and when the session ends.', response: { 200: sessionSchema, ...errorResponses } },
      },
      async (request, reply) => {
        const p = requirePerson(request);
        noStore(reply);
        return answer(p, await sessions.state(p.sessionId));
      },
    );

    app.delete(
      '/console/api/session',
      {
        config: { access: personAccess() },
        schema: { tags: ['console'], summary: 'Sign out: the session ends on the server and its cookie is cleared (needs x-zt-csrf).', response: { 204: { type: 'null' }, ...errorResponses } },
      },
      async (request, reply) => {
        await sessions.signOut(requirePerson(request).sessionId, clientOf(request));
        return noStore(reply).header('set-cookie', sessionCookie(request, '', 0)).code(204).send();
      },
    );

    app.get(
      '/console/auth/oidc',
      {
        config: { access: PUBLIC },
        schema: { tags: ['console'], summary: 'Sign in at the identity provider: redirects there (authorization code with PKCE).', response: { 302: { type: 'null' }, ...errorResponses } },
      },
      async (request, reply) => {
        if (!oidc) throw new ZtError('ZT_ERR_OIDC_NOT_CONFIGURED');
        const { url, state } = await oidc.start();
        return noStore(reply)
          .header('set-cookie', `${OIDC_STATE_COOKIE}=${state}; Max-Age=${OIDC_FLOW_SECONDS}; Path=/console/auth; HttpOnly; SameSite=Lax${secure(request) ? '; Secure' : ''}`)
          .redirect(url.href, 302);
      },
    );

    app.get(
      '/console/auth/oidc/callback',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['console'],
          summary: 'Where the identity provider sends the browser back: starts the session and redirects to the console.',
          querystring: { type: 'object', additionalProperties: true, properties: { code: { type: 'string', maxLength: 2048 }, state: { type: 'string', maxLength: 512 } } },
          response: { 302: { type: 'null' }, ...errorResponses },
        },
      },
      async (request, reply) => {
        if (!oidc) throw new ZtError('ZT_ERR_OIDC_NOT_CONFIGURED');
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
        const clearState = `${OIDC_STATE_COOKIE}=; Max-Age=0; Path=/console/auth; HttpOnly; SameSite=Lax${secure(request) ? '; Secure' : ''}`;
        let started;
        try {
          started = await oidc.finish(query, cookieValue(request.headers.cookie, OIDC_STATE_COOKIE), clientOf(request));
        } catch (error) {
          reply.header('set-cookie', clearState);
          throw error;
        }
        return noStore(reply)
          .header('set-cookie', [clearState, sessionCookie(request, started.cookie, sessions.lifetimeSeconds)])
          .redirect(options.afterSignIn ?? '/console/', 302);
      },
    );
  };
}
