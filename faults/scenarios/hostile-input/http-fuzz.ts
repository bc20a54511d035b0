// Every route of the gateway's own OpenAPI document, fed generated malformed requests: bodies that nearly fit the
// schema and then do not, bodies that are not JSON or not UTF-8 or nested 50,000 deep, the wrong content type,
// garbage in every signature header, plausible and absurd path and query values. Half the requests to routes that
// need a signature are signed properly by a demo department, so that the malformed body gets past the door and
// reaches the validator and the handler. Then what no well-behaved client sends: broken framing, bodies cut off,
// bodies that trickle in, bodies over the limit.
import fc from 'fast-check';
import type { Signer } from '../../../certs/signer/index.js';
import { signHttpRequest } from '../../../client/index.js';
import { Findings, summary } from './findings.js';
import { bodyArb, headerGarbageArb, pathParamArb, queryArb, type BodyCase, type JsonSchema } from './arbitraries.js';
import { judgeHttp, send, sendRaw, type HttpAnswer, type HttpRequest } from './http-wire.js';
import { pool } from './pool.js';

interface OpenApiOperation {
  parameters?: { in: string; name: string; schema?: JsonSchema }[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  'x-zt-access'?: string;
}

export interface OpenApi {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Route {
  method: string;
  template: string;
  pathParams: string[];
  queryParams: string[];
  body: JsonSchema | undefined;
  takesBody: boolean;
  access: string;
}

export function routesOf(doc: OpenApi): Route[] {
  const routes: Route[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      const params = op.parameters ?? [];
      const content = op.requestBody?.content;
      routes.push({
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        queryParams: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: content?.['application/json']?.schema,
        takesBody: content !== undefined,
        access: op['x-zt-access'] ?? 'public',
      });
    }
  }
  return routes;
}

/** The demo department that signs for a route's access class; null when a signature cannot get a caller in. */
export type SignerFor = (access: string) => Signer | null;

interface Case {
  route: Route;
  request: HttpRequest;
  summary: string;
  /** Signs the request when it is sent (a fresh nonce and timestamp then). */
  signer: Signer | null;
}

export interface HttpFuzzOutcome {
  /** Answers to POST /v1/exchange/query (each must have its access record). */
  exchangeAnswers: number;
}

export const EXCHANGE_ROUTE = 'POST /v1/exchange/query';

function isExchange(method: string, path: string): boolean {
  return method === 'POST' && path.split('?')[0] === '/v1/exchange/query';
}

/** Generated malformed requests, `runs` per route, and the answers judged. */
export async function fuzzRoutes(base: URL, doc: OpenApi, o: { runs: number; seed: number; signerFor: SignerFor; findings: Findings; log: (l: string) => void }): Promise<HttpFuzzOutcome> {
  const components = doc.components?.schemas ?? {};
  const routes = routesOf(doc);
  const outcome: HttpFuzzOutcome = { exchangeAnswers: 0 };
  const cases: Case[] = [];
  for (const [index, route] of routes.entries()) {
    const arb = fc.record({
      params: fc.tuple(...route.pathParams.map(() => pathParamArb)),
      query: queryArb(route.queryParams),
      headers: headerGarbageArb,
      body: route.takesBody ? bodyArb(route.body, components) : fc.oneof({ weight: 9, arbitrary: fc.constant<BodyCase>({ summary: 'no body', contentType: undefined, body: undefined }) }, { weight: 1, arbitrary: bodyArb(undefined, components) }),
      signed: fc.boolean(),
    });
    for (const c of fc.sample(arb, { numRuns: o.runs, seed: o.seed + index })) {
      let i = 0;
      const path = route.template.replace(/\{[^}]+\}/g, () => c.params[i++] ?? 'x') + c.query;
      const headers: Record<string, string | string[]> = { ...c.headers.headers };
      if (c.body.contentType !== undefined) headers['content-type'] = c.body.contentType;
      const signer = c.signed ? o.signerFor(route.access) : null;
      const request = { method: route.method, path, headers, ...(c.body.body !== undefined ? { body: c.body.body } : {}) };
      cases.push({ route, request, signer, summary: `${path.length > 80 ? `${path.slice(0, 80)}…` : path} ${c.body.summary} ${c.headers.summary}${signer ? ' signed' : ''}` });
    }
  }
  // Other methods on the documented paths.
  for (const template of new Set(routes.map((r) => r.template))) {
    for (const method of ['HEAD', 'OPTIONS', 'PATCH', 'DELETE', 'PUT']) {
      const path = template.replace(/\{[^}]+\}/g, '112101000010000537');
      cases.push({ route: { method, template, pathParams: [], queryParams: [], body: undefined, takesBody: false, access: 'public' }, request: { method, path, headers: {} }, signer: null, summary: `${method} ${path}` });
    }
  }
  o.log(`HTTP: ${routes.length} routes, ${cases.length} generated requests (seed ${o.seed})`);
  await pool(cases, 8, async (c) => {
    const request = c.signer ? await signed(c.request, c.signer) : c.request;
    const answer = await send(base, request);
    const route = `${c.route.method} ${c.route.template}`;
    // node:http refused to write it (ERR_INVALID_CHAR …): nothing was sent.
    if (answer instanceof Error && (answer as NodeJS.ErrnoException).code?.startsWith('ERR_')) return;
    o.findings.sent('http generated');
    if (answer instanceof Error) {
      o.findings.problem(`${route} no answer ${(answer as NodeJS.ErrnoException).code}`, `${route} ← ${summary(c.summary)}: no answer (${answer.message})`);
      return;
    }
    if (isExchange(request.method, request.path)) outcome.exchangeAnswers++;
    judgeHttp(o.findings, 'http generated', route, summary(c.summary), answer, request.method);
  });
  return outcome;
}

/** The request signed by `signer` over its path and body, without the garbage signature headers. */
async function signed(request: HttpRequest, signer: Signer): Promise<HttpRequest> {
  const body = request.body ?? Buffer.alloc(0);
  const { headers } = await signHttpRequest({ method: request.method, path: request.path, body, signer });
  const rest = Object.fromEntries(Object.entries(request.headers).filter(([k]) => !k.startsWith('zt-')));
  return { ...request, headers: { ...rest, ...headers } };
}

const POST_ROUTES = ['/v1/exchange/query', '/v1/policies/decide', '/v1/licences/verify', '/console/api/session', '/v1/departments', '/v1/intake/preview'];

function head(method: string, path: string, headers: Record<string, string | number>): Buffer {
  return Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: gateway\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1');
}

/**
 * What no well-behaved client sends: broken framing and header bytes node:http will not write, bodies cut off,
 * bodies over the limit, declared or chunked, and bodies that trickle in while the gateway must keep answering others.
 */
export async function hostileWire(base: URL, o: { bodyLimit: number; quick: boolean; findings: Findings; log: (l: string) => void }): Promise<HttpFuzzOutcome> {
  const f = o.findings;
  const outcome: HttpFuzzOutcome = { exchangeAnswers: 0 };
  const body = Buffer.from('{"requester":"112101000010000537","resource":"210100-GA-0001","items":["name"]}');
  const judgeRaw = (category: string, what: string, path: string, method: string, r: { answer: HttpAnswer | null; raw: Buffer; error: Error | null }, mustAnswer: boolean) => {
    f.sent(category);
    if (r.answer) {
      // Broken framing is answered by node:http before any route sees it; everything else reached the exchange.
      if (category !== 'http framing' && isExchange(method, path)) outcome.exchangeAnswers++;
      judgeHttp(f, category, `${method} ${path}`, what, r.answer, method);
    } else if (r.raw.length > 0) {
      f.problem(`${category} ${what} unparsable`, `${method} ${path} ← ${what}: an answer that is not HTTP/1.1: ${summary(r.raw.toString('latin1'), 160)}`);
    } else if (['EPIPE', 'ECONNRESET'].includes((r.error as NodeJS.ErrnoException | null)?.code ?? '')) {
      // The gateway answered and closed while the body was still coming: the reset that the rest of the body draws
      // may discard the answer before it is read (TCP, not the gateway).
      f.answered(category, 'reset while sending');
    } else {
      f.answered(category, 'closed without an answer');
      if (mustAnswer) f.problem(`${category} ${what} no answer`, `${method} ${path} ← ${what}: the connection closed without an answer${r.error ? ` (${r.error.message})` : ''}`);
    }
  };

  // Framing that node:http refuses to write.
  const framing: { what: string; bytes: Buffer; path?: string; method?: string }[] = [
    { what: 'request line of garbage', bytes: Buffer.from('\u0001\u0002GARBAGE\r\n\r\n', 'latin1') },
    { what: 'unknown method FOO', bytes: head('FOO', '/v1/info', {}), method: 'FOO', path: '/v1/info' },
    { what: 'NUL in a header value', bytes: head('GET', '/v1/info', { 'x-request-id': 'a\u0000b' }) },
    { what: 'CR in a header value', bytes: Buffer.from('GET /v1/info HTTP/1.1\r\nHost: g\r\nzt-nonce: a\rb\r\n\r\n', 'latin1') },
    { what: 'obsolete line folding', bytes: Buffer.from('GET /v1/info HTTP/1.1\r\nHost: g\r\nzt-nonce: a\r\n  b\r\n\r\n', 'latin1') },
    { what: 'headers of 64 KiB', bytes: head('GET', '/v1/info', { 'zt-certificate': 'A'.repeat(65536) }) },
    { what: '500 headers', bytes: head('GET', '/v1/info', Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`x-h${i}`, 'v']))) },
    { what: 'two different Content-Lengths', bytes: Buffer.concat([head('POST', '/v1/exchange/query', { 'content-type': 'application/json', 'content-length': `${body.length}\r\nContent-Length: 3` }), body]), method: 'POST', path: '/v1/exchange/query' },
    { what: 'Content-Length and chunked', bytes: Buffer.concat([head('POST', '/v1/exchange/query', { 'content-type': 'application/json', 'content-length': 4, 'transfer-encoding': 'chunked' }), Buffer.from('0\r\n\r\n')]), method: 'POST', path: '/v1/exchange/query' },
    { what: 'a chunk size of garbage', bytes: Buffer.concat([head('POST', '/v1/policies/decide', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), Buffer.from('zz\r\n{}\r\n0\r\n\r\n')]), method: 'POST', path: '/v1/policies/decide' },
    { what: 'a negative Content-Length', bytes: head('POST', '/v1/policies/decide', { 'content-type': 'application/json', 'content-length': -5 }), method: 'POST', path: '/v1/policies/decide' },
    { what: 'a path with raw bytes', bytes: Buffer.from('GET /v1/departments/\u00ff\u00fe HTTP/1.1\r\nHost: g\r\n\r\n', 'latin1'), path: '/v1/departments/{uscc}' },
    { what: 'a path of 100 KiB', bytes: head('GET', `/v1/departments/${'9'.repeat(100_000)}`, {}), path: '/v1/departments/{uscc}' },
    { what: 'an absolute URI', bytes: head('GET', 'http://evil.example/v1/info', {}), path: '/v1/info' },
    { what: 'an HTTP/2 preface', bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1') },
    { what: 'HTTP/0.9', bytes: Buffer.from('GET /v1/info\r\n', 'latin1') },
    { what: 'bare LF line ends', bytes: Buffer.from('GET /v1/info HTTP/1.1\nHost: g\n\n', 'latin1') },
  ];
  for (const c of framing) judgeRaw('http framing', c.what, c.path ?? '/', c.method ?? 'GET', await sendRaw(base, [c.bytes], { then: 'wait', waitMs: 3000 }), false);

  // Bodies over the limit: declared, then sent; declared absurdly and not sent; chunked with no length.
  for (const path of POST_ROUTES) {
    const over = Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(o.bodyLimit + 1, 'a'), Buffer.from('"}')]);
    f.sent('http over the limit');
    const declared = await send(base, { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: over });
    expectCode(f, 'http over the limit', `POST ${path}`, `a body of ${over.length} bytes (limit ${o.bodyLimit})`, declared, 'ZT_ERR_REQUEST_TOO_LARGE', outcome);
    judgeRaw('http over the limit', 'Content-Length of 10 GB, 10 bytes sent', path, 'POST', await sendRaw(base, [head('POST', path, { 'content-type': 'application/json', 'content-length': 10_000_000_000 }), Buffer.from('{"a":"aaaa')], { then: 'wait', waitMs: 3000 }), true);
    const chunks = [head('POST', path, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })];
    for (let sent = 0; sent <= o.bodyLimit; sent += 65536) chunks.push(Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(65536, 'a'), Buffer.from('\r\n')]));
    chunks.push(Buffer.from('0\r\n\r\n'));
    const chunked = await sendRaw(base, chunks, { then: 'wait', waitMs: 5000 });
    judgeRaw('http over the limit', `chunked, ${o.bodyLimit + 65536} bytes`, path, 'POST', chunked, true);
    if (chunked.answer && chunked.answer.status !== 413) f.problem(`over limit chunked ${path} ${chunked.answer.status}`, `POST ${path} ← chunked body over the limit: HTTP ${chunked.answer.status}, not 413`);
  }

  // Bodies cut off: Content-Length larger than what is sent, then the connection closed (or half-closed).
  for (const path of POST_ROUTES) {
    for (const then of ['destroy', 'end'] as const) {
      const r = await sendRaw(base, [head('POST', path, { 'content-type': 'application/json', 'content-length': body.length + 50 }), body], { then, waitMs: 3000 });
      judgeRaw('http truncated', `Content-Length ${body.length + 50}, ${body.length} sent, then ${then === 'end' ? 'half-closed' : 'closed'}`, path, 'POST', r, false);
    }
  }

  // Slow bodies: connections that trickle a byte at a time while the gateway must keep answering others.
  const slow = o.quick ? 16 : 64;
  const gapMs = o.quick ? 150 : 400;
  const started = performance.now();
  const trickles = Array.from({ length: slow }, (_, i) => {
    const path = POST_ROUTES[i % POST_ROUTES.length]!;
    const parts = [head('POST', path, { 'content-type': 'application/json', 'content-length': body.length }), ...[...body].map((b) => Buffer.from([b]))];
    return sendRaw(base, parts, { gapMs, then: 'wait', waitMs: gapMs * (body.length + 20) }).then((r) => judgeRaw('http slow body', `a ${body.length}-byte body at one byte per ${gapMs} ms`, path, 'POST', r, true));
  });
  let slowest = 0;
  let probes = 0;
  const watching = (async () => {
    while (performance.now() - started < gapMs * body.length * 0.8) {
      const t = performance.now();
      f.sent('http during slow bodies');
      const answer = await send(base, { method: 'GET', path: '/healthz', headers: {} }, 5000);
      const ms = performance.now() - t;
      slowest = Math.max(slowest, ms);
      probes++;
      if (answer instanceof Error || answer.status !== 200) f.problem('healthz during slow bodies', `GET /healthz while ${slow} bodies trickle in: ${answer instanceof Error ? answer.message : `HTTP ${answer.status}`}`);
      else f.answered('http during slow bodies', '200');
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  await Promise.all([...trickles, watching]);
  o.log(`HTTP wire: ${slow} slow bodies over ${Math.round((performance.now() - started) / 1000)} s; /healthz answered ${probes} times meanwhile, slowest ${Math.round(slowest)} ms`);
  if (slowest > 1000) f.problem('slow bodies stall', `GET /healthz took ${Math.round(slowest)} ms while ${slow} bodies trickled in`);
  return outcome;
}

function expectCode(f: Findings, category: string, route: string, what: string, answer: HttpAnswer | Error, expected: string, outcome: HttpFuzzOutcome): void {
  if (answer instanceof Error) {
    f.answered(category, `no answer (${(answer as NodeJS.ErrnoException).code ?? answer.message})`);
    f.problem(`${route} ${what} no answer`, `${route} ← ${what}: no answer (${answer.message}), ${expected} expected`);
    return;
  }
  if (isExchange(route.split(' ')[0]!, route.split(' ')[1]!)) outcome.exchangeAnswers++;
  const code = judgeHttp(f, category, route, what, answer, 'POST');
  if (code !== expected) f.problem(`${route} ${what} ${code}`, `${route} ← ${what}: HTTP ${answer.status} ${code ?? ''}, ${expected} expected`);
}
