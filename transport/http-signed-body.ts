// What every route taking a signed request needs from fastify: the body's bytes exactly as received (the signature
// covers them, not the parsed JSON) and the signature parts from the Zt-* headers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessClass, Caller } from './access.js';
import { HTTP_HEADERS, presentedSignature, type PresentedSignature } from './request-signature.js';
import type { SignedCall, Verification } from './signed-call.js';
import type { Person } from './person.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (transport/access.ts); the gateway refuses to register a route without one. */
    access?: AccessClass;
  }
}

const raw = new WeakMap<FastifyRequest, Buffer>();

/** In this plugin's scope, parses JSON bodies as before while keeping their bytes for rawBody(). */
export function keepRawJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    raw.set(request, body as Buffer);
    parseJson(request, (body as Buffer).toString('utf8'), done);
  });
}

/** At the root: JSON and plain-text bodies parsed as fastify does, their bytes kept, so any route's signature can be checked. */
export function keepRawBodies(app: FastifyInstance): void {
  keepRawJsonBodies(app);
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (request, body, done) => {
    raw.set(request, body as Buffer);
    done(null, (body as Buffer).toString('utf8'));
  });
}

/** Keeps the bytes of a body parsed by a parser of its own (CSV), so that its signature can be checked. */
export function keepRawBody(request: FastifyRequest, body: Buffer): void {
  raw.set(request, body);
}

/** The body as received; undefined when the request had none (or the plugin did not keep it). */
export function rawBody(request: FastifyRequest): Buffer | undefined {
  return raw.get(request);
}

/** A header's value; repeated headers joined with commas. */
export function headerValue(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The signature parts of a signed HTTP request (ZT_ERR_REQUEST_UNSIGNED / _INVALID when missing or malformed). */
export function presentedHttpSignature(request: FastifyRequest): PresentedSignature {
  return presentedSignature((name) => headerValue(request, HTTP_HEADERS[name]));
}

const EMPTY = Buffer.alloc(0);
const authorised = new WeakMap<FastifyRequest, { caller: Caller | null; verification: Verification | null; person?: Person }>();

/** Set by the gateway once it has admitted the request (gateway/access.ts). */
export function setAuthorised(request: FastifyRequest, value: { caller: Caller | null; verification: Verification | null; person?: Person }): void {
  authorised.set(request, value);
}

/** The signed-in person of a console route (access class `person`): the gateway has resolved the session already. */
export function requirePerson(request: FastifyRequest): Person {
  const person = authorised.get(request)?.person;
  if (!person) throw new Error(`route ${request.method} ${request.routeOptions.url} reads a person it does not declare`);
  return person;
}

/** The department the gateway admitted the request for; null on a public route called without a signature. */
export function callerOf(request: FastifyRequest): Caller | null {
  return authorised.get(request)?.caller ?? null;
}

/** The caller of a route that needs one (any non-public route): the gateway has admitted it already. */
export function requireCaller(request: FastifyRequest): Caller {
  const caller = callerOf(request);
  if (!caller) throw new Error(`route ${request.method} ${request.routeOptions.url} reads a caller it does not declare`);
  return caller;
}

/** The request as a signed call, with the gateway's check of it, for services that take one. */
export function signedHttpCall(request: FastifyRequest): SignedCall {
  return {
    method: request.method,
    path: request.url,
    body: raw.get(request) ?? EMPTY,
    signature: () => presentedHttpSignature(request),
    verification: authorised.get(request)?.verification ?? null,
  };
}

/** Whether the request carries any of the Zt-* signature headers. */
export function carriesSignature(request: FastifyRequest): boolean {
  for (const name of Object.values(HTTP_HEADERS)) if (request.headers[name] !== undefined) return true;
  return false;
}
