// Application intake over HTTP (docs/intake.md). Preview, prefill and submission are signed requests from the intake
// department (Zt-* headers over the raw body, as in the exchange); the service items are public.
import { department, PUBLIC } from '../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { envelopeToJson } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { errorResponses } from '../../transport/http-errors.js';
import type { IntakeCall, IntakeService } from '../intake-service.js';
import type { PrefillAnswer } from '../prefill.js';
import { rawBody, presentedHttpSignature, signedHttpCall } from '../../transport/http-signed-body.js';

export const INTAKE_HTTP_PATHS = { prefill: '/v1/intake/prefill', preview: '/v1/intake/preview', submissions: '/v1/intake/submissions' } as const;



/** The signed call of a request: its method, path and body exactly as received. */
function signedCall(request: FastifyRequest): IntakeCall {
  const body = rawBody(request);
  if (!body) throw new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', 'an intake request is sent as application/json');
  return {
    protocol: 'http',
    method: request.method,
    path: request.url,
    body,
    request: request.body,
    signature: () => presentedHttpSignature(request),
    verification: signedHttpCall(request).verification ?? null,
  };
}

/** The prefill's body, written directly: the result is its canonical JSON, the very bytes the platform signed. */
export function prefillAnswerJson(answer: PrefillAnswer): string {
  return `{"result":${answer.canonical.toString('utf8')},"signature":${JSON.stringify(envelopeToJson(answer.signature))}}`;
}

const signedBody = { type: 'object', additionalProperties: true } as const;
const objectResponse = { type: 'object', additionalProperties: true } as const;
const prefillResponse = {
  type: 'object',
  required: ['result', 'signature'],
  properties: {
    result: { type: 'object', additionalProperties: true, description: 'The prefill (zhengtong/prefill/v1); the signature covers its canonical JSON.' },
    signature: { type: 'object', additionalProperties: true, description: 'The platform\'s signed envelope (batch-signed).' },
  },
} as const;

export function intakeRoutes(intake: IntakeService): FastifyPluginAsync {
  return async (app) => {
    app.get('/v1/service-items', { config: { access: PUBLIC }, schema: { tags: ['intake'], summary: 'The service items (事项) intake departments take applications for.', response: { 200: objectResponse, ...errorResponses } } }, async () => ({
      items: intake.items(),
    }));

    app.get<{ Params: { code: string } }>(
      '/v1/service-items/:code',
      {
      config: { access: PUBLIC }, schema: { tags: ['intake'], summary: 'One service item: its materials and form fields, and where each comes from.', response: { 200: objectResponse, ...errorResponses } } },
      async (request) => intake.item(request.params.code),
    );

    app.post(
      INTAKE_HTTP_PATHS.preview,
      {
        config: { access: department('an intake department of the service item') },
        schema: {
          tags: ['intake'],
          summary: 'What a prefill would fetch for a case, and from whom (resource and supplier, or licence type); reads nothing. Signed (Zt-* headers) by the intake department.',
          body: signedBody,
          response: { 200: objectResponse, ...errorResponses },
        },
      },
      async (request) => intake.preview(signedCall(request)),
    );

    app.post(
      INTAKE_HTTP_PATHS.prefill,
      {
        config: { access: department('an intake department of the service item') },
        schema: {
          tags: ['intake'],
          summary: 'Prefill (预填) a case\'s form from shared data and e-licences, each value with its provenance, government-verified values locked; signed by the platform. Signed (Zt-* headers) by the intake department.',
          body: signedBody,
          response: { 200: prefillResponse, ...errorResponses },
        },
      },
      async (request, reply) => reply.type('application/json').send(prefillAnswerJson(await intake.prefill(signedCall(request)))),
    );

    app.post(
      INTAKE_HTTP_PATHS.submissions,
      {
        config: { access: department('the intake department the prefill was made for') },
        schema: {
          tags: ['intake'],
          summary: 'Check a submission against its signed prefill: locked values unchanged (ZT_ERR_INTAKE_LOCKED_ALTERED names any that changed), required fields still missing listed. Signed (Zt-* headers).',
          body: signedBody,
          response: { 200: objectResponse, ...errorResponses },
        },
      },
      async (request) => intake.submit(signedCall(request)),
    );
  };
}
