// The e-licence registry over HTTP (docs/licences.md). Steps (issue, revoke, suspend, resume, change, renew) carry
// the acting department's signature in a `signature` field; a department's verification is a signed request
// (Zt-* headers, as in the exchange) and is recorded; an anonymous one is rate-limited per client address.
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { decodeEnvelopeJson, envelopeToJson, type SignedEnvelope } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { errorResponses } from '../../transport/http-errors.js';
import { HTTP_HEADERS } from '../../transport/request-signature.js';
import { holderCodeTypeOf, readIssueInput, type LicenceRegistry, type StepInput } from '../licence-registry.js';
import type { LicenceType } from '../licence-type.js';
import { encodeCompactLicence } from '../offline/compact.js';
import { readTarget, type LicenceVerifier, type VerificationAnswer } from '../verification-service.js';
import { rawBody, requireCaller, signedHttpCall } from '../../transport/http-signed-body.js';
import { department, PUBLIC, PUBLIC_OR_SIGNED, statement } from '../../transport/access.js';
import { readLicencePurpose, type LicenceReads, type Subject } from '../licence-reads.js';
import type { StoredLicence } from '../sql/sql-licence-store.js';



/** The signature field of a step: a signed envelope in JSON; anything else is refused as unsigned by the service. */
function readSignature(value: unknown): SignedEnvelope | unknown {
  if (value === undefined || value === null) return undefined;
  try {
    return decodeEnvelopeJson(typeof value === 'string' ? value : JSON.stringify(value));
  } catch (error) {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', `signature is not a signed envelope: ${(error as Error).message}`, { cause: error });
  }
}

/** Bodies of answers given more than once (anonymous answers shared for ZT_LICENCE_ANSWER_REUSE_MS). */
const answerBodies = new WeakMap<VerificationAnswer, string>();

/** The answer's body, written directly: the result is its canonical JSON, the very bytes the signature covers. */
function answerJson(answer: VerificationAnswer): string {
  let body = answerBodies.get(answer);
  if (body === undefined) {
    body = `{"result":${answer.canonical.toString('utf8')},"signature":${JSON.stringify(envelopeToJson(answer.signature))}}`;
    answerBodies.set(answer, body);
  }
  return body;
}

/** How a stored licence is returned: its document exactly as signed, its envelope, and where it stands. */
export function licenceJson(l: StoredLicence): Record<string, unknown> {
  return {
    identifier: l.identifier,
    status: l.status,
    document: JSON.parse(l.document.toString('utf8')) as unknown,
    envelope: l.envelope,
    supersedes: l.supersedes,
    supersededBy: l.supersededBy,
    source: l.source,
    flags: l.flags,
    issuedAt: l.issuedAt.toISOString(),
    updatedAt: l.updatedAt.toISOString(),
  };
}

const signature = { type: 'object', additionalProperties: true, description: 'The acting department\'s signed envelope over the step (docs/licences.md).' } as const;
const licenceResponse = { type: 'object', additionalProperties: true, description: 'A licence version: document (as signed), envelope, status.' } as const;
const verificationResponse = {
  type: 'object',
  required: ['result', 'signature'],
  properties: {
    result: { type: 'object', additionalProperties: true, description: 'The verification; the signature covers its canonical JSON.' },
    signature: { type: 'object', additionalProperties: true, description: 'The platform\'s signed envelope (batch-signed).' },
  },
} as const;

const stepBody = {
  type: 'object',
  required: ['actor', 'signature'],
  properties: {
    actor: { type: 'string', description: 'USCC of the department taking the step (an issuer of the type).' },
    reason: { type: 'string', maxLength: 500, description: '事由.' },
    holderName: { type: 'string', maxLength: 200 },
    validTo: { type: 'string', format: 'date' },
    fields: { type: 'object', additionalProperties: true },
    signature,
  },
} as const;

const purposeQuery = {
  serviceItem: { type: 'string', maxLength: 64, description: '事项编码: the service item the read is for (required).' },
  caseNumber: { type: 'string', maxLength: 64, description: '办件编号: the case the read is for (required).' },
  operator: { type: 'string', maxLength: 200, description: '经办人, in the department\'s own system (optional).' },
} as const;
type PurposeQuery = { serviceItem?: string; caseNumber?: string; operator?: string };
const purposeOf = (q: PurposeQuery) => readLicencePurpose(q.serviceItem, q.caseNumber, q.operator);
const holderOf = (code: string, codeType: string): Subject => ({ kind: codeType === '111' ? 'person' : 'organisation', code });
const READ = department('an issuer of the licence type, or the intake department of the holder\'s case; signed, for a case (serviceItem, caseNumber), recorded');

export function licenceRoutes(registry: LicenceRegistry, verifier: LicenceVerifier, reads: LicenceReads): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/licence-types', { config: { access: PUBLIC }, schema: { tags: ['licences'], summary: 'The licence types (证照类型) the registry knows.', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } } }, async () => ({
      types: registry.types(),
    }));

    app.get<{ Params: { code: string } }>(
      '/v1/licence-types/:code',
      { config: { access: PUBLIC }, schema: { tags: ['licences'], summary: 'One licence type.', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } } },
      async (request) => registry.type(request.params.code),
    );

    app.post<{ Body: { type: LicenceType; signature: unknown } }>(
      '/v1/licence-types',
      {
        config: { access: statement('administrator', 'the platform administrator (a certificate of ZT_PLATFORM_USCC), by its signed statement') },
        schema: {
          tags: ['licences'],
          summary: 'Define a licence type (code: defining authority USCC + 3 digits; name, holder kind, field schema, issuers), signed by the platform operator (a certificate of ZT_PLATFORM_USCC).',
          body: { type: 'object', required: ['type', 'signature'], properties: { type: { type: 'object', additionalProperties: true }, signature } },
          response: { 201: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await registry.defineTypeSigned(request.body.type, readSignature(request.body.signature))),
    );

    app.post<{ Body: { licence: unknown; signature: unknown } }>(
      '/v1/licences',
      {
        config: { access: statement('issuer', 'an issuer of the licence type, by its signed statement') },
        schema: {
          tags: ['licences'],
          summary: 'Issue a licence, signed by the issuing department; the registry assigns the GB/T 36904 identifier and signs the document.',
          body: { type: 'object', required: ['licence', 'signature'], properties: { licence: { type: 'object', additionalProperties: true }, signature } },
          response: { 201: licenceResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const stored = await registry.issue(readIssueInput(request.body.licence), readSignature(request.body.signature));
        return reply.code(201).header('location', `/v1/licences/${stored.identifier}`).send(licenceJson(stored));
      },
    );

    app.get<{ Querystring: { holderCode?: string; holderCodeType?: string; typeCode?: string; licenceNumber?: string } & PurposeQuery }>(
      '/v1/licences',
      {
        config: { access: READ },
        schema: {
          tags: ['licences'],
          summary: 'Find licences by holder (holderCode + holderCodeType 111|001, optionally typeCode) or by typeCode + licenceNumber.',
          querystring: {
            type: 'object',
            properties: {
              holderCode: { type: 'string', maxLength: 18 },
              holderCodeType: { type: 'string', enum: ['111', '001'] },
              typeCode: { type: 'string', maxLength: 21 },
              licenceNumber: { type: 'string', maxLength: 64 },
              ...purposeQuery,
            },
          },
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
      },
      async (request) => {
        const q = request.query;
        const purpose = purposeOf(q);
        if (q.holderCode) {
          const codeType = q.holderCodeType ?? holderCodeTypeOf(q.holderCode);
          const found = await reads.read(requireCaller(request), 'http', purpose, holderOf(q.holderCode.toUpperCase(), codeType), () => registry.byHolder(q.holderCode!, codeType, q.typeCode ?? null));
          return { licences: found.map(licenceJson) };
        }
        if (q.typeCode && q.licenceNumber) return { licences: (await reads.read(requireCaller(request), 'http', purpose, null, () => registry.byNumber(q.typeCode!, q.licenceNumber!))).map(licenceJson) };
        throw new ZtError('ZT_ERR_REQUEST_INVALID', 'look up by holderCode (and holderCodeType), or by typeCode and licenceNumber');
      },
    );

    /** One licence version read for a case: the read is allowed and recorded before anything is returned. */
    const readOne = async (request: FastifyRequest<{ Params: { identifier: string }; Querystring: PurposeQuery }>): Promise<StoredLicence> =>
      (await reads.read(requireCaller(request), 'http', purposeOf(request.query), null, async () => [await registry.get(request.params.identifier)]))[0]!;
    const purposeQuerystring = { type: 'object', properties: purposeQuery } as const;

    app.get<{ Params: { identifier: string }; Querystring: PurposeQuery }>(
      '/v1/licences/:identifier',
      {
        config: { access: READ },
        schema: { tags: ['licences'], summary: 'A licence version by its identifier (served from the cache), read for a case.', querystring: purposeQuerystring, response: { 200: licenceResponse, ...errorResponses } },
      },
      async (request) => licenceJson(await readOne(request)),
    );

    app.get<{ Params: { identifier: string }; Querystring: PurposeQuery }>(
      '/v1/licences/:identifier/history',
      {
        config: { access: READ },
        schema: {
          tags: ['licences'],
          summary: 'Every step of a licence version, with the signed statements, read for a case.',
          querystring: purposeQuerystring,
          response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
        },
      },
      async (request) => {
        await readOne(request);
        return { identifier: request.params.identifier, transitions: await registry.history(request.params.identifier) };
      },
    );

    app.get<{ Params: { identifier: string }; Querystring: PurposeQuery }>(
      '/v1/licences/:identifier/compact',
      {
        config: { access: READ },
        schema: {
          querystring: purposeQuerystring,
          tags: ['licences'],
          summary: 'The signed licence in its compact form, for a QR code (verify offline with zhengtong licence verify-offline).',
          response: { 200: { type: 'object', required: ['compact'], properties: { compact: { type: 'string' }, length: { type: 'integer' } } }, ...errorResponses },
        },
      },
      async (request) => {
        const l = await readOne(request);
        const compact = encodeCompactLicence({ document: l.document, envelope: decodeEnvelopeJson(JSON.stringify(l.envelope)) });
        return { compact, length: compact.length };
      },
    );

    for (const kind of ['revoke', 'suspend', 'resume', 'change', 'renew'] as const) {
      app.post<{ Params: { identifier: string }; Body: StepInput & { signature: unknown } }>(
        `/v1/licences/:identifier/${kind}`,
        {
          config: { access: statement('issuer', 'an issuer of the licence type, by its signed statement') },
          schema: {
            tags: ['licences'],
            summary: {
              revoke: 'Revoke (注销) a licence version.',
              suspend: 'Suspend a licence version.',
              resume: 'Resume a suspended licence version.',
              change: 'Change a licence: a new version with the changed fields supersedes this one.',
              renew: 'Renew a licence: a new version with a new end date supersedes this one.',
            }[kind],
            body: stepBody,
            response: { 200: licenceResponse, ...errorResponses },
          },
        },
        async (request) => {
          const { signature: proof, ...input } = request.body;
          const step = { ...input, actor: String(input.actor) } as StepInput;
          const stored =
            kind === 'change' || kind === 'renew'
              ? await registry.newVersion(kind, request.params.identifier, step, readSignature(proof))
              : await registry.setStatus(kind, request.params.identifier, step, readSignature(proof));
          return licenceJson(stored);
        },
      );
    }

    // Verification: a department signs its request (and is recorded); anyone else is anonymous.
    app.post(
      '/v1/licences/verify',
      {
        config: { access: PUBLIC_OR_SIGNED },
        attachValidation: true,
        schema: {
          tags: ['licences'],
          summary: 'Verify a licence by identifier, presented document (+ envelope) or compact payload. Signed (Zt-* headers) by a department: full view, recorded; otherwise anonymous: masked, rate-limited.',
          body: { type: 'object', additionalProperties: true },
          response: { 200: verificationResponse, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = rawBody(request);
        if (!body) throw new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'a verification is sent as application/json');
        const signed = request.headers[HTTP_HEADERS.signature] !== undefined;
        const answer = signed
          ? await verifier.department({ ...signedHttpCall(request), protocol: 'http', body, request: request.body })
          : await verifier.anonymous(readTarget((request.body ?? {}) as Record<string, unknown>), request.ip);
        return reply.type('application/json').send(answerJson(answer));
      },
    );

    app.get<{ Params: { identifier: string } }>(
      '/v1/licences/:identifier/verification',
      { config: { access: PUBLIC }, schema: { tags: ['licences'], summary: 'Anonymous verification by identifier (rate-limited per client address).', response: { 200: verificationResponse, ...errorResponses } } },
      async (request, reply) => {
        const answer = await verifier.anonymous({ identifier: request.params.identifier }, request.ip);
        return reply.type('application/json').send(answerJson(answer));
      },
    );

    app.get<{ Params: { issuer: string; list: string } }>(
      '/v1/licence-status-lists/:issuer/:list',
      { config: { access: PUBLIC }, schema: { tags: ['licences'], summary: 'An issuer\'s signed W3C Bitstring Status List (2 bits per licence: active, suspended, revoked, superseded).', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } } },
      async (request, reply) => {
        const listNo = Number(request.params.list);
        if (!Number.isInteger(listNo) || listNo < 1) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the list number is a whole number from 1');
        const { revision, credential } = await registry.statusList(request.params.issuer.toUpperCase(), listNo);
        const etag = `"${request.params.issuer.toUpperCase()}-${listNo}-${revision}"`;
        reply.header('etag', etag).header('cache-control', 'public, max-age=300');
        if (request.headers['if-none-match'] === etag) return reply.code(304).send();
        return credential;
      },
    );
  };
}
