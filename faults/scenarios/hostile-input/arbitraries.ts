// fast-check arbitraries for hostile input: values that nearly fit a route's JSON schema and then do not (a wrong
// type, a missing or an extra field, a null, a huge number), bodies that are not JSON at all or not UTF-8, deep
// nesting, garbage in every signature header, and path and query values both plausible and absurd.
import fc from 'fast-check';
import { HTTP_HEADERS } from '../../../transport/request-signature.js';

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  $ref?: string;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
};

/** Values a department's system would plausibly send: demo codes, identifiers and dates of this platform. */
export const PLAUSIBLE_STRINGS = [
  '112101000010000537',
  '11210100001000029N',
  '11210100001000096L',
  '11210100001000088R',
  '91440300715267260X',
  '210100-GA-0001',
  '210100-SJ-0002',
  'QYKB-210100-0009',
  'HOSTILE-000001',
  'name',
  'idNumber',
  'person',
  'organisation',
  '210102199001011234',
  '2026-12-07T01:02:03.456Z',
  '2026-12-07',
  '0190f3a1-7b7c-7000-8000-000000000000',
  '00000000-0000-0000-0000-000000000000',
  'supervisor',
  'administrator',
  'json',
  'csv',
  '1',
  '0',
  '-1',
  'true',
];

/** Values that a careless parser, a database or a log line trips over. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u0000\u0001\u001f',
  '\ud800',
  '\udfff\ud800',
  '\ufeff',
  '\u202e',
  '💥'.repeat(50),
  '../../../../etc/passwd',
  '%00',
  '%ff%fe',
  "'; DROP TABLE access_record; --",
  '$(reboot)',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'NaN',
  'Infinity',
  '-0',
  '1e400',
  '9'.repeat(400),
  'a'.repeat(5000),
  '名'.repeat(2000),
  '\r\nX-Injected: 1',
];

/** Numbers past every limit a field might have. */
const HUGE_NUMBERS = [2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, Number.MAX_VALUE, Number.MIN_VALUE, 4294967296, -1, 0, -0, 0.5];

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [[]], [null], { '': null }, JSON.parse('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}') as unknown) },
  { weight: 3, arbitrary: fc.constantFrom(...HUGE_NUMBERS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...PLAUSIBLE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...PLAUSIBLE_STRINGS), { maxLength: 300 }) },
);

function resolve(schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema {
  let s = schema;
  for (let i = 0; i < 10 && s.$ref; i++) s = components[s.$ref.replace(/^#\/components\/schemas\//, '').replace(/#$/, '')] ?? {};
  if (s.allOf) return s.allOf.reduce<JsonSchema>((a, b) => ({ ...a, ...resolve(b, components), properties: { ...a.properties, ...resolve(b, components).properties } }), {});
  return s;
}

/** A value that fits `schema` as far as a generator without pattern or check-character knowledge can make it. */
export function fitting(schema: JsonSchema, components: Record<string, JsonSchema>, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((a) => fitting(a, components, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (depth > 6) return fc.constant(null);
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const entries = Object.entries(props).map(([k, v]) => [k, fitting(v, components, depth + 1)] as const);
      if (entries.length === 0) return fc.dictionary(fc.constantFrom('a', 'b', 'note'), fc.string({ maxLength: 8 }), { maxKeys: 2 });
      return fc.record(Object.fromEntries(entries), { requiredKeys: entries.map(([k]) => k).filter((k) => required.has(k)) });
    }
    case 'array':
      return fc.array(fitting(s.items ?? {}, components, depth + 1), { minLength: 1, maxLength: 3 });
    case 'integer':
      return fc.integer({ min: s.minimum ?? 0, max: Math.min(s.maximum ?? 1000, 1e9) });
    case 'number':
      return fc.double({ min: 0, max: 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      if (s.format === 'date-time') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'date') return fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
      return fc.oneof(fc.constantFrom(...PLAUSIBLE_STRINGS), fc.string({ maxLength: 20 }));
    default:
      return fc.oneof(fc.constantFrom(...PLAUSIBLE_STRINGS), fc.integer(), fc.constant(null));
  }
}

type Mutation = { kind: 'none' } | { kind: 'replace' | 'delete' | 'extra'; at: number; value: unknown; key: string };

/** Every object and array in `value` with the path to it. */
function containers(value: unknown, out: (Record<string, unknown> | unknown[])[] = []): (Record<string, unknown> | unknown[])[] {
  if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) containers(v, out);
  }
  return out;
}

/** Applies a mutation to a copy: a field replaced by a hostile value, a field deleted, an extra field added. */
function mutate(value: unknown, m: Mutation): unknown {
  if (m.kind === 'none') return value;
  const copy = structuredClone(value);
  const all = containers(copy);
  if (all.length === 0) return m.kind === 'replace' ? m.value : copy;
  const target = all[m.at % all.length]!;
  const keys = Object.keys(target);
  const key = keys.length > 0 ? keys[m.at % keys.length]! : m.key;
  if (m.kind === 'replace') (target as Record<string, unknown>)[key] = m.value;
  else if (m.kind === 'delete') {
    if (Array.isArray(target)) target.splice(Number(key), 1);
    else delete target[key];
  } else (target as Record<string, unknown>)[Array.isArray(target) ? String(target.length + 5) : m.key] = m.value;
  return copy;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constantFrom('replace' as const, 'replace' as const, 'delete' as const, 'extra' as const), at: fc.nat(), value: hostileValue, key: fc.constantFrom('extra', '__proto__', 'constructor', '', 'signature', 'a'.repeat(300)) }),
  },
);

export interface BodyCase {
  summary: string;
  contentType: string | undefined;
  body: Buffer | undefined;
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const OTHER_TYPES = [
  'text/plain',
  'text/csv',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zt',
  'application/octet-stream',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'APPLICATION/JSON',
  'application/json, text/plain',
  '*/*',
  ';;;',
  'a'.repeat(2000),
];

/** `depth` levels of arrays or objects: what a recursive walker of the body meets. */
export function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A request body for a route whose body schema is `schema` (undefined: the route takes none). */
export function bodyArb(schema: JsonSchema | undefined, components: Record<string, JsonSchema>): fc.Arbitrary<BodyCase> {
  const base = schema ? fitting(schema, components) : fc.jsonValue({ maxDepth: 2 });
  const mutated = fc.tuple(base, mutationArb).map(([v, m]) => mutate(v, m));
  const asJson = (v: unknown): string => JSON.stringify(v) ?? 'null';
  return fc.oneof(
    // The schema, nearly: a wrong type, a field missing or extra, a null, a huge number.
    { weight: 8, arbitrary: fc.tuple(mutated, fc.constantFrom(...JSON_TYPES)).map(([v, t]) => ({ summary: `json ${asJson(v)}`, contentType: t, body: Buffer.from(asJson(v)) })) },
    // Numbers no double holds, written as JSON text.
    {
      weight: 2,
      arbitrary: fc.tuple(mutated, fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '0.' + '0'.repeat(400) + '1', '-0', '1E+999999999')).map(([v, n]) => {
        const text = asJson({ ...(typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {}), huge: 0 }).replace('"huge":0', `"huge":${n}`);
        return { summary: `json with number ${n}`, contentType: 'application/json', body: Buffer.from(text) };
      }),
    },
    // Bytes that are not UTF-8 inside JSON strings, and a byte-order mark.
    {
      weight: 2,
      arbitrary: fc.tuple(mutated, fc.constantFrom(Buffer.from([0xff]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xfe, 0xff]))).map(([v, bad]) => {
        const text = Buffer.from(asJson(v));
        const at = text.indexOf('"') + 1;
        const body = at > 0 ? Buffer.concat([text.subarray(0, at), bad, text.subarray(at)]) : Buffer.concat([Buffer.from('"'), bad, Buffer.from('"')]);
        return { summary: `json with invalid UTF-8 ${bad.toString('hex')}`, contentType: 'application/json', body };
      }),
    },
    { weight: 1, arbitrary: fc.constant({ summary: 'json with a BOM', contentType: 'application/json', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]) }) },
    // Deep nesting.
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constantFrom(1000, 10_000, 50_000), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => ({
        summary: `json nested ${d} levels (${k})`,
        contentType: 'application/json',
        body: Buffer.from(deepJson(d, k)),
      })),
    },
    // Not JSON at all, or broken JSON.
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.constantFrom('', '{', '{"a":', '[1,2', 'nul', '{"a":1}{"b":2}', '{"a":1,}', "{'a':1}", '\u0000', 'true', '"str"', '1').map((s) => Buffer.from(s)))
        .map((body) => ({ summary: `json type, not JSON ${body.toString('hex').slice(0, 40)}`, contentType: 'application/json', body })),
    },
    // The wrong content type, with a JSON or a garbage body.
    {
      weight: 3,
      arbitrary: fc.tuple(mutated, fc.constantFrom(...OTHER_TYPES), fc.boolean()).map(([v, t, garbage]) => ({
        summary: `${t.slice(0, 40)} ${garbage ? 'garbage' : 'json'}`,
        contentType: t,
        body: garbage ? Buffer.from('a=1&b=%ff&c[]=2&__proto__[x]=1') : Buffer.from(asJson(v)),
      })),
    },
    { weight: 1, arbitrary: fc.tuple(mutated).map(([v]) => ({ summary: 'no content type', contentType: undefined, body: Buffer.from(asJson(v)) })) },
    { weight: 1, arbitrary: fc.constant({ summary: 'no body', contentType: undefined, body: undefined }) },
  );
}

/** Node's http client writes only these characters in a header value. */
export function headerSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

const base64Garbage = fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b).toString('base64'));

/** A value for one of the signature headers: empty, absurd, nearly right, or right in form and wrong in content. */
export const signatureHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'null', 'undefined', '0', '-1', 'a'.repeat(8000), '====', 'AAAA', '%%%', '\u00ff\u00fe', '2026-12-07T01:02:03Z', '2026-02-30T01:02:03.456Z', '9999-12-31T23:59:59.999Z', '0000-01-01T00:00:00.000Z'),
  fc.date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constant(new Date().toISOString()),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/),
  base64Garbage,
  base64Garbage.map((s) => s.replace(/=+$/, '')),
  base64Garbage.map((s) => `${s}!`),
  fc.string({ unit: 'binary', maxLength: 60 }).map(headerSafe),
);

const SIGNATURE_HEADER_NAMES = Object.values(HTTP_HEADERS);

/** Some of the Zt-* headers (none, a few or all) with garbage, and other headers a gateway reads. */
export const headerGarbageArb: fc.Arbitrary<{ summary: string; headers: Record<string, string | string[]> }> = fc
  .record({
    signature: fc.subarray(SIGNATURE_HEADER_NAMES).chain((names) => fc.tuple(...names.map((n) => fc.tuple(fc.constant(n), fc.oneof({ weight: 5, arbitrary: signatureHeaderValue }, { weight: 1, arbitrary: fc.array(signatureHeaderValue, { minLength: 2, maxLength: 3 }) }))))),
    requestId: fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }).map(headerSafe), fc.constant('a'.repeat(129))), { nil: undefined }),
    cookie: fc.option(fc.oneof(fc.constant('zt_session=' + 'x'.repeat(100)), fc.string({ maxLength: 60 }).map(headerSafe), fc.constant('zt_session=%ff; zt_session=1')), { nil: undefined }),
    csrf: fc.option(fc.string({ maxLength: 40 }).map(headerSafe), { nil: undefined }),
    accept: fc.option(fc.constantFrom('application/xml', 'text/html', '*/*;q=x', '', 'application/json;q=0'), { nil: undefined }),
    encoding: fc.option(fc.constantFrom('gzip', 'br', 'deflate, gzip', 'identity', 'x-garbage'), { nil: undefined }),
  })
  .map((r) => {
    const headers: Record<string, string | string[]> = {};
    for (const [n, v] of r.signature) headers[n] = v;
    if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
    if (r.cookie !== undefined) headers.cookie = r.cookie;
    if (r.csrf !== undefined) headers['x-zt-csrf'] = r.csrf;
    if (r.accept !== undefined) headers.accept = r.accept;
    if (r.encoding !== undefined) headers['content-encoding'] = r.encoding;
    const names = Object.keys(headers);
    return { summary: names.length > 0 ? `headers ${names.join(',')}` : 'no extra headers', headers };
  });

/** encodeURIComponent for any string, lone surrogates included (as their UTF-8 replacement). */
export function percentEncode(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A path parameter: plausible (a demo code, an identifier), or garbage (percent-encoded anything, traversal, huge). */
export const pathParamArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PLAUSIBLE_STRINGS).map(percentEncode) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode) },
  { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS).map(percentEncode) },
  // Raw, as a hostile client writes them: broken escapes, overlong UTF-8, encoded slashes and dots.
  { weight: 2, arbitrary: fc.constantFrom('%', '%zz', '%ff', '%c0%af', '%e0%80%af', '%ed%a0%80', '..', '%2e%2e', '%2f', '%2F..%2F', '%00', '%u0041', '%25', 'a%', '%%', ';', ':', '@', '~', '+', '*', '%C3', '\u00e9') },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3000), '9'.repeat(400), '-0', '1e400') },
);

/** A query string: the route's own parameters with hostile values, unknown and repeated ones, broken escapes. */
export function queryArb(names: readonly string[]): fc.Arbitrary<string> {
  const key = names.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor[prototype][x]', 'a[]', 'x'.repeat(300), '') }) : fc.constantFrom('__proto__', 'a', '');
  const value = fc.oneof(pathParamArb, fc.constantFrom('', 'true', '[]', '{}', '%ff', '1,2,3'));
  return fc.array(fc.tuple(key, value), { maxLength: 6 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${percentEncode(k)}=${v}`).join('&')}`));
}
