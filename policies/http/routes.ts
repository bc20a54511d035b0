import type {} from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import { ZtError } from '../../core/errors/index.js';
import { errorResponses } from '../../gateway/http/errors.js';
import type { DecisionRequest } from '../decision.js';
import type { PolicyEngine } from '../engine.js';

const legalBasis = { type: 'object', required: ['title', 'article'], properties: { title: { type: 'string' }, article: { type: ['string', 'null'] } } } as const;
const mask = { type: ['object', 'null'], properties: { kind: { type: 'string' }, keepStart: { type: 'integer' }, keepEnd: { type: 'integer' } } } as const;
const held = { type: 'array', items: { type: 'object', required: ['code', 'rules'], properties: { code: { type: 'string' }, rules: { type: 'array', items: { type: 'string' } } } } } as const;
const ruleRef = {
  type: 'object',
  required: ['id', 'effect', 'legalBasis'],
  properties: {
    id: { type: 'string' },
    effect: { type: 'string' },
    title: { type: ['string', 'null'] },
    legalBasis: { type: 'array', items: legalBasis },
    condition: { type: ['string', 'null'] },
  },
} as const;

const decisionSchema = {
  type: 'object',
  required: ['outcome', 'reason', 'revision', 'resource', 'items', 'withheld', 'pending', 'rules', 'unknown'],
  properties: {
    outcome: { type: 'string', enum: ['permit', 'conditional', 'deny'] },
    reason: { type: ['string', 'null'] },
    revision: { type: 'string', description: 'The policy revision that made the decision.' },
    resource: { type: 'string' },
    items: { type: 'array', items: { type: 'object', required: ['code', 'mask'], properties: { code: { type: 'string' }, mask } } },
    withheld: held,
    pending: held,
    rules: { type: 'array', items: ruleRef },
    unknown: { type: 'array', items: { type: 'string' } },
  },
} as const;

interface DecideBody {
  requester: string;
  resource: string;
  items: string[];
  subject: { kind: 'person' | 'organisation'; id: string };
  purpose: { serviceItem: string; caseNumber: string };
  at?: string;
  grant?: { id: string; requester: string; resource: string; items: string[]; rules?: string[]; purposes?: string[]; notBefore?: string; notAfter?: string };
}

/**
 * The negative list over HTTP: the list in force (published, with legal bases) and a dry-run decision, which
 * releases no data and is not recorded (supervisors and suppliers use it to see what the list does).
 */
export function policyRoutes(policy: { readonly current: { readonly engine: PolicyEngine } | null }): FastifyPluginAsync {
  const engine = (): PolicyEngine => {
    if (!policy.current) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the negative list is not loaded yet');
    return policy.current.engine;
  };
  return async (app) => {
    app.get(
      '/v1/policies',
      {
        schema: {
          tags: ['policies'],
          summary: 'The negative list in force: revision, content digest, catalogue revision, files and rule count.',
          response: {
            200: {
              type: 'object',
              properties: {
                revision: { type: 'string' },
                digest: { type: 'string' },
                catalogueRevision: { type: 'string' },
                files: { type: 'array', items: { type: 'string' } },
                rules: { type: 'integer' },
                loadedAt: { type: 'string', format: 'date-time' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async () => engine().status(),
    );

    app.get(
      '/v1/policies/rules',
      {
        schema: {
          tags: ['policies'],
          summary: 'The published negative list (负面清单): every entry with its effect and legal basis.',
          response: {
            200: {
              type: 'object',
              properties: {
                revision: { type: 'string' },
                rules: {
                  type: 'array',
                  items: {
                    ...ruleRef,
                    properties: { ...ruleRef.properties, mask, file: { type: 'string' }, line: { type: 'integer' }, targets: { type: 'integer' } },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async () => ({ revision: engine().revision, rules: engine().rules() }),
    );

    app.post<{ Body: DecideBody }>(
      '/v1/policies/decide',
      {
        schema: {
          tags: ['policies'],
          summary: 'What the negative list decides for a request (dry run: no data released, nothing recorded).',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['requester', 'resource', 'items', 'subject', 'purpose'],
            properties: {
              requester: { type: 'string', minLength: 18, maxLength: 18 },
              resource: { type: 'string', minLength: 1, maxLength: 64 },
              items: { type: 'array', minItems: 1, maxItems: 200, items: { type: 'string', minLength: 1, maxLength: 64 } },
              subject: {
                type: 'object',
                additionalProperties: false,
                required: ['kind', 'id'],
                properties: { kind: { type: 'string', enum: ['person', 'organisation'] }, id: { type: 'string', minLength: 18, maxLength: 18 } },
              },
              purpose: {
                type: 'object',
                additionalProperties: false,
                required: ['serviceItem', 'caseNumber'],
                properties: { serviceItem: { type: 'string', minLength: 1, maxLength: 64 }, caseNumber: { type: 'string', minLength: 1, maxLength: 64 } },
              },
              at: { type: 'string', format: 'date-time' },
              grant: {
                type: 'object',
                additionalProperties: false,
                required: ['id', 'requester', 'resource', 'items'],
                properties: {
                  id: { type: 'string' },
                  requester: { type: 'string' },
                  resource: { type: 'string' },
                  items: { type: 'array', items: { type: 'string' } },
                  rules: { type: 'array', items: { type: 'string' } },
                  purposes: { type: 'array', items: { type: 'string' } },
                  notBefore: { type: 'string', format: 'date-time' },
                  notAfter: { type: 'string', format: 'date-time' },
                },
              },
            },
          },
          response: { 200: decisionSchema, ...errorResponses },
        },
      },
      async (request) => {
        const b = request.body;
        const grant = b.grant
          ? {
              ...b.grant,
              ...(b.grant.notBefore ? { notBefore: new Date(b.grant.notBefore) } : {}),
              ...(b.grant.notAfter ? { notAfter: new Date(b.grant.notAfter) } : {}),
            }
          : null;
        const decisionRequest = { ...b, at: b.at ? new Date(b.at) : new Date(), grant } as DecisionRequest;
        return engine().decide(decisionRequest);
      },
    );
  };
}
