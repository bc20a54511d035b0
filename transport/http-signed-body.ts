// What every route taking a signed request needs from fastify: the body's bytes exactly as received (the signature
// covers them, not the parsed JSON) and the signature parts from the Zt-* headers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HTTP_HEADERS, presentedSignature, type PresentedSignature } from '../../exchange/protocol/request-signature.js';

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
