import { PUBLIC } from '../../transport/access.js';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import { ZtError } from '../../core/errors/index.js';
import { errorResponses } from '../../transport/http-errors.js';
import type { DecisionRequest } from '../decision.js';
import { PolicyEngine } from '../engine.js';
import { impact, type ImpactReport } from '../impact.js';
import type { PolicySource } from '../policy-file.js';
import { syntheticDecisions } from '../synthetic.js';

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

/** Impact analysis: how many synthetic decisions it runs by default and at most, and how many changes it lists. */
export const IMPACT_DEFAULT_COUNT = 5000;
export const IMPACT_MAX_COUNT = 100_000;
export const IMPACT_SAMPLE = 100;
export const IMPACT_MAX_FILES = 100;

export interface ImpactInput {
  readonly files: readonly PolicySource[];
  /** Synthetic decisions to run the candidate on (default IMPACT_DEFAULT_COUNT). */
  readonly count?: number | undefined;
  /** Seed of the synthetic decisions (default 1): the same seed gives the same decisions. */
  readonly seed?: number | undefined;
}

/**
 * Compiles the candidate files against the catalogue of the set in force (ZT_ERR_POLICY_INVALID with file:line
 * problems if they are invalid), decides `count` synthetic requests under the set in force and reports which the
 * candidate would change. Nothing is put in force and nothing is recorded (the decision sink is not called).
 */
export function candidateImpact(engine: PolicyEngine, input: ImpactInput): ImpactReport {
  const inForce = engine.policy;
  const candidate = PolicyEngine.load(engine.catalogue, input.files);
  const recorded = syntheticDecisions(inForce, { count: input.count ?? IMPACT_DEFAULT_COUNT, seed: input.seed ?? 1 });
  return impact(candidate, recorded, { maxChanges: IMPACT_SAMPLE });
}

const stringList = { type: 'array', items: { type: 'string' } } as const;
const effectSchema = {
  type: 'object',
  required: ['outcome', 'reason', 'released', 'withheld', 'pending', 'rules', 'revision'],
  properties: {
    outcome: { type: 'string', enum: ['permit', 'conditional', 'deny'] },
    reason: { type: ['string', 'null'] },
    released: { ...stringList, description: "Released items, 'code' or 'code[mask]', sorted." },
    withheld: stringList,
    pending: stringList,
    rules: stringList,
    revision: { type: 'string' },
  },
} as const;
const groupSchema = {
  type: 'object',
  required: ['key', 'name', 'decisions', 'changed', 'tighter', 'looser', 'different'],
  properties: {
    key: { type: 'string', description: 'Requester USCC or resource code.' },
    name: { type: 'string' },
    decisions: { type: 'integer' },
    changed: { type: 'integer' },
    tighter: { type: 'integer' },
    looser: { type: 'integer' },
    different: { type: 'integer' },
  },
} as const;
const impactSchema = {
  type: 'object',
  required: ['candidateRevision', 'recordedRevisions', 'decisions', 'changed', 'basisOnly', 'transitions', 'byDepartment', 'byResource', 'changes'],
  properties: {
    candidateRevision: { type: 'string' },
    recordedRevisions: { ...stringList, description: 'The revisions the recorded decisions were made under (the set in force).' },
    decisions: { type: 'integer' },
    changed: { type: 'integer', description: 'Decisions whose effect (outcome, released items and masks, held items) would change.' },
    basisOnly: { type: 'integer', description: 'Decisions with the same effect that would cite other rules.' },
    transitions: { type: 'object', additionalProperties: { type: 'integer' }, description: "Outcome transitions among the changed decisions, e.g. { 'permit→deny': 3 }." },
    byDepartment: { type: 'array', items: groupSchema, description: 'Requesting departments with at least one change, most changes first.' },
    byResource: { type: 'array', items: groupSchema, description: 'Resources with at least one change, most changes first.' },
    changes: {
      type: 'array',
      description: `The first ${IMPACT_SAMPLE} changed decisions.`,
      items: {
        type: 'object',
        required: ['index', 'requester', 'department', 'resource', 'direction', 'before', 'after'],
        properties: {
          index: { type: 'integer' },
          requester: { type: 'string' },
          department: { type: 'string' },
          resource: { type: 'string' },
          direction: { type: 'string', enum: ['tighter', 'looser', 'different'] },
          before: effectSchema,
          after: effectSchema,
        },
      },
    },
  },
} as const;

interface ImpactBody {
  files: { name: string; text: string }[];
  count?: number;
  seed?: number;
}

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
        config: { access: PUBLIC },
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
        config: { access: PUBLIC },
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
        config: { access: PUBLIC },
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

    app.post<{ Body: ImpactBody }>(
      '/v1/policies/impact',
      {
        config: { access: PUBLIC },
        schema: {
          tags: ['policies'],
          summary:
            'Impact analysis of a candidate list: synthetic decisions of the list in force, decided again under the candidate (nothing is put in force or recorded).',
          description:
            'The candidate files are compiled against the catalogue of the set in force; an invalid candidate is refused with ZT_ERR_POLICY_INVALID, its problems (file, line, reason) in details.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['files'],
            properties: {
              files: {
                type: 'array',
                minItems: 1,
                maxItems: IMPACT_MAX_FILES,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name', 'text'],
                  properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, text: { type: 'string' } },
                },
              },
              count: { type: 'integer', minimum: 1, maximum: IMPACT_MAX_COUNT, default: IMPACT_DEFAULT_COUNT },
              seed: { type: 'integer' },
            },
          },
          response: { 200: impactSchema, ...errorResponses },
        },
      },
      async (request) => candidateImpact(engine(), request.body),
    );
  };
}
