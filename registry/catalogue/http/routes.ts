import type {} from '@fastify/swagger';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ZtError } from '../../../core/errors/index.js';
import { decodeEnvelopeJson, type SignedEnvelope } from '../../../certs/envelope/index.js';
import { sm3 } from '../../../certs/sm2/sm2.js';
import { department, PUBLIC, statement } from '../../../transport/access.js';
import { errorResponses } from '../../../transport/http-errors.js';
import { keepRawBody, rawBody as keptRawBody, requireCaller } from '../../../transport/http-signed-body.js';
import { MAX_IMPORT_ROWS, MAX_PAGE, type CatalogueService } from '../catalogue-service.js';
import type { DemandService } from '../demand-service.js';
import { DEMAND_STATES, type DemandRegistration, type RefusalInput, type TermsInput } from '../demand.js';
import { demandsFromCsv, demandsFromJson, demandsToCsv, resourcesFromCsv, resourcesFromJson, resourcesToCsv } from '../lists.js';
import { CONNECTOR_KINDS, ITEM_TYPES, SENSITIVITIES, SHARING_CLASSES, UPDATE_CYCLES, type ResourcePublication } from '../resource.js';

/** The department a publication must be for: the signer's own, unless the signer administers the platform. */
const actingFor = (request: FastifyRequest): string | undefined => {
  const caller = requireCaller(request);
  return caller.roles.has('administrator') ? undefined : caller.uscc;
};

// USCCs are checked by the service, so a malformed one gets ZT_ERR_ID_INVALID_USCC rather than a schema error.
const uscc = { type: 'string', maxLength: 64, description: '统一社会信用代码 (unified social credit code, GB 32100) of a department.', examples: ['112101000010000537'] } as const;
const isoDate = { type: 'string', format: 'date', description: 'A calendar date, YYYY-MM-DD (China time).' } as const;
const nullableDate = { type: ['string', 'null'], format: 'date' } as const;
const itemCode = { type: 'string', minLength: 1, maxLength: 64, examples: ['idNumber'] } as const;
const stringList = { type: 'array', items: { type: 'string' } } as const;

const legalBasisSchema = {
  $id: 'CatalogueLegalBasis',
  type: 'object',
  description: 'A law, regulation or national policy, and optionally the article, that a decision rests on.',
  additionalProperties: false,
  required: ['title'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 200, examples: ['《中华人民共和国个人信息保护法》'] },
    article: { type: ['string', 'null'], maxLength: 100, examples: ['第三十四条'] },
  },
} as const;
const nullableLegalBasis = { anyOf: [{ $ref: 'CatalogueLegalBasis#' }, { type: 'null' }] } as const;

const connectorSchema = {
  $id: 'CatalogueConnector',
  type: 'object',
  description: 'How the exchange reaches the supplier\'s system for this resource.',
  additionalProperties: false,
  required: ['kind', 'endpoint'],
  properties: { kind: { type: 'string', enum: CONNECTOR_KINDS }, endpoint: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;

const dataItemSchema = {
  $id: 'CatalogueDataItem',
  type: 'object',
  description: 'A data item (数据项) of a resource.',
  additionalProperties: false,
  required: ['code', 'name', 'type', 'sensitivity'],
  properties: {
    code: itemCode,
    name: { type: 'string', minLength: 1, maxLength: 200, examples: ['公民身份号码'] },
    type: { type: 'string', enum: ITEM_TYPES },
    sensitivity: { type: 'string', enum: SENSITIVITIES, description: 'public 公开, internal 内部, sensitive 敏感, restricted 受限.' },
    categories: { type: 'array', maxItems: 20, items: { type: 'string' }, description: 'Tags negative-list rules can match (personal, biometric, health …).' },
  },
} as const;

const sharingClass = {
  type: 'string',
  enum: SHARING_CLASSES,
  description: 'unconditional 无条件共享, conditional 有条件共享, not-shared 不予共享 (needs legalBasis).',
} as const;
const updateCycle = { type: 'string', enum: UPDATE_CYCLES, description: '更新周期.' } as const;

const resourceSchema = {
  $id: 'CatalogueResource',
  type: 'object',
  description: 'A supply-list entry (供给清单): a data resource its provider offers.',
  required: ['code', 'name', 'provider', 'sharingClass', 'legalBasis', 'updateCycle', 'connector', 'items', 'createdAt', 'updatedAt'],
  properties: {
    code: { type: 'string', examples: ['210100-GA-0001'] },
    name: { type: 'string', examples: ['人口基本信息'] },
    provider: uscc,
    sharingClass,
    legalBasis: nullableLegalBasis,
    updateCycle,
    connector: { $ref: 'CatalogueConnector#' },
    items: { type: 'array', items: { $ref: 'CatalogueDataItem#' } },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const publicationBody = {
  type: 'object',
  additionalProperties: false,
  required: ['code', 'name', 'provider', 'sharingClass', 'updateCycle', 'connector', 'items'],
  properties: {
    code: { type: 'string', minLength: 1, maxLength: 64, description: 'Resource code: A–Z, 0–9, ".", "-", "_".' },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    provider: uscc,
    sharingClass,
    legalBasis: nullableLegalBasis,
    updateCycle,
    connector: { $ref: 'CatalogueConnector#' },
    items: { type: 'array', minItems: 1, maxItems: 500, items: { $ref: 'CatalogueDataItem#' } },
  },
} as const;

const termsSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  description: 'What an approval allows when narrower than the demand; null fields mean "as demanded".',
  properties: {
    items: { type: ['array', 'null'], minItems: 1, items: itemCode },
    dailyQuota: { type: ['integer', 'null'], minimum: 1 },
    validUntil: nullableDate,
  },
} as const;

const refusalSchema = {
  type: ['object', 'null'],
  required: ['negativeListRuleId', 'legalBasis', 'reason', 'automatic'],
  properties: {
    negativeListRuleId: { type: ['string', 'null'], description: 'The negative-list (负面清单) entry cited.' },
    legalBasis: nullableLegalBasis,
    reason: { type: ['string', 'null'] },
    automatic: { type: 'boolean', description: 'True when the catalogue refused it because the resource is not shared.' },
  },
} as const;

const demandSchema = {
  $id: 'CatalogueDemand',
  type: 'object',
  description: 'A demand-list entry (需求清单) and where its application stands.',
  required: ['id', 'requester', 'provider', 'resource', 'items', 'serviceItem', 'legalBasis', 'expectedDailyVolume', 'validFrom', 'validTo', 'state', 'replyDue', 'overdue', 'terms', 'refusal', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    requester: uscc,
    provider: uscc,
    resource: { type: 'string' },
    items: stringList,
    serviceItem: { type: 'string', description: 'Service item code (事项编码) the data is needed for.' },
    legalBasis: { $ref: 'CatalogueLegalBasis#' },
    expectedDailyVolume: { type: 'integer' },
    validFrom: isoDate,
    validTo: isoDate,
    state: { type: 'string', enum: DEMAND_STATES },
    replyDue: { ...nullableDate, description: 'Last working day for the supplier\'s reply (pending demands).' },
    overdue: { type: 'boolean', description: 'Pending past replyDue.' },
    terms: termsSchema,
    refusal: refusalSchema,
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const transitionSchema = {
  $id: 'CatalogueDemandTransition',
  type: 'object',
  required: ['seq', 'from', 'to', 'actor', 'at', 'detail'],
  properties: {
    seq: { type: 'integer', minimum: 1 },
    from: { type: ['string', 'null'], enum: [...DEMAND_STATES, null] },
    to: { type: 'string', enum: DEMAND_STATES },
    actor: { type: ['string', 'null'], description: 'USCC of the acting department; null for the platform (expiry).' },
    at: { type: 'string', format: 'date-time' },
    detail: { type: 'object', additionalProperties: true },
    signature: {
      type: ['object', 'null'],
      description: "The acting department's signature as verified and kept (null for the platform's own steps): enough to check the step again offline.",
      properties: {
        statementKey: { type: 'string' },
        statement: { type: 'string', description: 'The canonical statement that was signed (docs/signed-transitions.md).' },
        envelope: { type: 'object', additionalProperties: true, description: 'The signed envelope (docs/envelope.md).' },
        certificateSm3: { type: 'string' },
        certificateSerial: { type: 'string' },
        signedAt: { type: 'string', format: 'date-time' },
      },
    },
  },
} as const;

const countsSchema = {
  $id: 'CatalogueFulfilmentCounts',
  type: 'object',
  required: ['total', 'served', 'pending', 'overdue', 'refused', 'withdrawn', 'expired'],
  properties: {
    total: { type: 'integer' },
    served: { type: 'integer', description: 'Granted or approved, or run to the end of their validity (expired).' },
    pending: { type: 'integer' },
    overdue: { type: 'integer', description: 'Pending past the reply deadline (also counted in pending).' },
    refused: { type: 'integer' },
    withdrawn: { type: 'integer' },
    expired: { type: 'integer' },
  },
} as const;

const signatureBody = {
  signature: {
    type: 'object',
    additionalProperties: true,
    description:
      "The acting department's signed envelope (docs/envelope.md) over the step's canonical statement (docs/signed-transitions.md), carrying its certificate. Missing → ZT_ERR_TRANSITION_UNSIGNED.",
  },
} as const;
const actorBody = { actor: { ...uscc, description: 'USCC of the department making this transition.' }, ...signatureBody } as const;

type Signed<T> = T & { signature?: unknown };

/** Splits the signature from the step's fields: the service verifies it over exactly those fields. */
function signed<T extends object>(body: Signed<T>): [T, { proof?: SignedEnvelope }] {
  const { signature, ...input } = body;
  return [input as T, signature === undefined ? {} : { proof: decodeEnvelopeJson(signature as object) }];
}

/** The body of a request as it was sent (the gateway keeps the bytes of JSON and CSV bodies). */
function rawBody(request: FastifyRequest): Buffer {
  return keptRawBody(request) ?? Buffer.alloc(0);
}

/** The Zt-Signature header of an import: base64 of the envelope's JSON. */
function headerSignature(request: FastifyRequest): { proof?: SignedEnvelope } {
  const header = request.headers['zt-signature'];
  if (header === undefined) return {};
  const text = Array.isArray(header) ? header.join('') : header;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch (error) {
    throw new ZtError('ZT_ERR_ENVELOPE_MALFORMED', 'the Zt-Signature header is not base64 of a JSON envelope', { cause: error });
  }
  return { proof: decodeEnvelopeJson(json as object) };
}
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64, description: 'Demand id (UUID).' } } } as const;
const codeParams = { type: 'object', required: ['code'], properties: { code: { type: 'string', maxLength: 64 } } } as const;
const format = { type: 'string', enum: ['json', 'csv'], default: 'json' } as const;
const csvBody = { type: 'string', description: 'CSV (RFC 4180, UTF-8, optional byte-order mark), the header naming the columns.' } as const;
const importResult = {
  type: 'object',
  required: ['imported'],
  properties: {
    imported: { type: 'integer' },
    resources: { type: 'array', items: { type: 'string' } },
    demands: { type: 'array', items: { type: 'object', required: ['id', 'state'], properties: { id: { type: 'string' }, state: { type: 'string' } } } },
  },
} as const;
const demandPage = {
  type: 'object',
  required: ['items', 'next'],
  properties: { items: { type: 'array', items: { $ref: 'CatalogueDemand#' } }, next: { type: ['string', 'null'] } },
} as const;

const TAG = 'catalogue';

/** The body of an import: a CSV string (text/csv) or the parsed JSON; any other media type is refused. */
function importBody(request: FastifyRequest): { csv: string } | { json: unknown } {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/csv' && typeof request.body === 'string') return { csv: request.body };
  if (type === 'application/json') return { json: request.body };
  throw new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', `an import is sent as application/json or text/csv, not ${type || 'without a content type'}`);
}

function sendCsv(reply: FastifyReply, filename: string, csv: string): FastifyReply {
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(csv);
}

interface Page {
  limit: number;
  after?: string;
}

/** The data catalogue over HTTP: supply lists, demand lists, the application–reply workflow and reports. */
/** The export response: JSON `{ <key>: [...] }` or CSV, as the format parameter asks. */
function exportResponse(key: string, ref: string) {
  return {
    200: {
      content: {
        'application/json': { schema: { type: 'object', required: [key], properties: { [key]: { type: 'array', items: { $ref: `${ref}#` } } } } },
        'text/csv': { schema: csvBody },
      },
    },
    ...errorResponses,
  };
}

/** The import body: JSON `{ <key>: [...] }` (rows checked one by one by the service) or CSV. */
function importBodySchema(key: string) {
  return {
    content: {
      'application/json': {
        schema: {
          type: 'object',
          additionalProperties: false,
          required: [key],
          properties: { [key]: { type: 'array', maxItems: MAX_IMPORT_ROWS, items: {}, description: 'Rows are checked one by one; each problem is reported with its position.' } },
        },
      },
      'text/csv': { schema: csvBody },
    },
  };
}

export function catalogueRoutes(catalogue: CatalogueService, demands: DemandService): FastifyPluginAsync {
  return async (app) => {
    for (const schema of [legalBasisSchema, connectorSchema, dataItemSchema, resourceSchema, demandSchema, transitionSchema, countsSchema]) app.addSchema(schema);
    // CSV bodies for the imports; the parser is scoped to this plugin.
    // CSV bodies are signed as sent too, so their bytes are kept beside the text.
    app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (request, body, done) => {
      keepRawBody(request, body as Buffer);
      done(null, (body as Buffer).toString('utf8'));
    });

    // ---------------------------------------------------------------------------------------------------------
    // Supply list (供给清单).

    app.post<{ Body: ResourcePublication }>(
      '/v1/catalogue/resources',
      {
        config: { access: department('the provider of the resource: the body names the signing department as provider') },
        schema: {
          tags: [TAG],
          summary: 'Publish a data resource in the supply list. Publishes resource.published on registry.catalogue.',
          body: publicationBody,
          response: { 201: { $ref: 'CatalogueResource#' }, ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await catalogue.publish(request.body, { actor: actingFor(request) })),
    );

    app.put<{ Params: { code: string }; Body: ResourcePublication }>(
      '/v1/catalogue/resources/:code',
      {
        config: { access: department('the provider of the resource, who signs the revision') },
        schema: {
          tags: [TAG],
          summary:
            'Revise a resource of the supply list in place (name, sharing class, legal basis, update cycle, connector, items); the code and provider stay. Items named by live demands cannot be removed (ZT_ERR_RESOURCE_IN_USE). Publishes resource.revised on registry.catalogue.',
          params: codeParams,
          body: publicationBody,
          response: { 200: { $ref: 'CatalogueResource#' }, ...errorResponses },
        },
      },
      (request) => catalogue.revise(request.params.code, request.body, { actor: actingFor(request) }),
    );

    app.get<{ Querystring: Page & { provider?: string } }>(
      '/v1/catalogue/resources',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'List data resources by code, a page at a time, optionally of one provider.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              provider: uscc,
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
              after: { type: 'string', maxLength: 64, description: 'Cursor: the `next` value of the previous page.' },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['items', 'next'],
              properties: { items: { type: 'array', items: { $ref: 'CatalogueResource#' } }, next: { type: ['string', 'null'] } },
            },
            ...errorResponses,
          },
        },
      },
      (request) => catalogue.list({ provider: request.query.provider ?? null, limit: request.query.limit, after: request.query.after ?? null }),
    );

    app.get<{ Querystring: { format: 'json' | 'csv'; provider?: string } }>(
      '/v1/catalogue/resources/export',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'Export the supply list (all of it, or one provider\'s) as JSON or as CSV with one row per data item.',
          querystring: { type: 'object', additionalProperties: false, properties: { format, provider: uscc } },
          response: exportResponse('resources', 'CatalogueResource'),
        },
      },
      async (request, reply) => {
        const resources = await catalogue.exportAll(request.query.provider ?? null);
        if (request.query.format === 'csv') return sendCsv(reply, 'supply-list.csv', resourcesToCsv(resources));
        return { resources };
      },
    );

    app.post<{ Body: unknown }>(
      '/v1/catalogue/resources/import',
      {
        config: { access: department('the provider of every imported resource') },
        schema: {
          tags: [TAG],
          summary: `Import supply-list entries, all or nothing (at most ${MAX_IMPORT_ROWS}). JSON as the export writes it, or CSV with one row per data item. Invalid rows → ZT_ERR_IMPORT_INVALID with each row's errors in details.`,
          body: importBodySchema('resources'),
          response: { 201: importResult, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = importBody(request);
        const batch = 'csv' in body ? resourcesFromCsv(body.csv) : resourcesFromJson(body.json);
        const imported = await catalogue.import(batch, { actor: actingFor(request) });
        return reply.code(201).send({ imported: imported.length, resources: imported.map((r) => r.code) });
      },
    );

    app.get<{ Params: { code: string } }>(
      '/v1/catalogue/resources/:code',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'One data resource by its code, with its data items.',
          params: codeParams,
          response: { 200: { $ref: 'CatalogueResource#' }, ...errorResponses },
        },
      },
      (request) => catalogue.get(request.params.code),
    );

    app.get<{ Params: { code: string } }>(
      '/v1/catalogue/resources/:code/items',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'The data items of a resource, in published order.',
          params: codeParams,
          response: {
            200: { type: 'object', required: ['resource', 'items'], properties: { resource: { type: 'string' }, items: { type: 'array', items: { $ref: 'CatalogueDataItem#' } } } },
            ...errorResponses,
          },
        },
      },
      async (request) => ({ resource: request.params.code, items: await catalogue.items(request.params.code) }),
    );

    // ---------------------------------------------------------------------------------------------------------
    // Demand list (需求清单) and the application–reply procedure (申请–答复).

    app.post<{ Body: Signed<DemandRegistration> }>(
      '/v1/catalogue/demands',
      {
        config: { access: statement('party', 'the requesting department, by its signed statement') },
        schema: {
          tags: [TAG],
          summary:
            'Register a demand. Unconditional resources: granted at once; conditional: pending, reply due in working days; not shared: refused at once on the resource\'s legal basis.',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['requester', 'resource', 'items', 'serviceItem', 'legalBasis', 'expectedDailyVolume', 'validTo'],
            properties: {
              requester: uscc,
              resource: { type: 'string', minLength: 1, maxLength: 64 },
              items: { type: 'array', minItems: 1, maxItems: 500, items: itemCode },
              serviceItem: { type: 'string', minLength: 1, maxLength: 64, description: 'Service item code (事项编码).' },
              legalBasis: { $ref: 'CatalogueLegalBasis#' },
              expectedDailyVolume: { type: 'integer', minimum: 0 },
              validFrom: { ...nullableDate, description: 'Defaults to today.' },
              validTo: isoDate,
              ...signatureBody,
            },
          },
          response: { 201: { $ref: 'CatalogueDemand#' }, ...errorResponses },
        },
      },
      async (request, reply) => reply.code(201).send(await demands.register(...signed(request.body))),
    );

    const demandFilter = {
      requester: uscc,
      provider: uscc,
      resource: { type: 'string', maxLength: 64 },
      state: { type: 'string', enum: DEMAND_STATES },
      serviceItem: { type: 'string', maxLength: 64 },
      overdue: { type: 'boolean', description: 'true: only pending demands past their reply deadline.' },
    } as const;
    type DemandFilter = { requester?: string; provider?: string; resource?: string; state?: string; serviceItem?: string; overdue?: boolean };

    app.get<{ Querystring: DemandFilter & Page }>(
      '/v1/catalogue/demands',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'List demands in registration order, by requester, provider, resource, state or overdue.',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...demandFilter,
              limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 100 },
              after: { type: 'string', maxLength: 64, description: 'Cursor: the `next` value of the previous page.' },
            },
          },
          response: { 200: demandPage, ...errorResponses },
        },
      },
      (request) => demands.list(request.query),
    );

    app.get<{ Querystring: DemandFilter & { format: 'json' | 'csv' } }>(
      '/v1/catalogue/demands/export',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'Export the demand list (filtered like the list) as JSON or CSV, one row per demand with its state and reply.',
          querystring: { type: 'object', additionalProperties: false, properties: { format, ...demandFilter } },
          response: exportResponse('demands', 'CatalogueDemand'),
        },
      },
      async (request, reply) => {
        const { format: as, ...filter } = request.query;
        const all = await demands.exportAll(filter);
        if (as === 'csv') return sendCsv(reply, 'demand-list.csv', demandsToCsv(all));
        return { demands: all };
      },
    );

    // A demand import is signed over the file as sent (the gateway keeps the bytes of every JSON and CSV body).
    await app.register(async (scope) => {
      scope.post<{ Body: unknown }>(
        '/v1/catalogue/demands/import',
        {
          config: { access: statement('party', 'the requesting department of every imported demand, by one signed statement') },
          schema: {
            tags: [TAG],
            summary: `Register a demand list, all or nothing (at most ${MAX_IMPORT_ROWS}). Each row is registered as a new demand; an export's id, state and reply columns are ignored.`,
            body: importBodySchema('demands'),
            response: { 201: importResult, ...errorResponses },
          },
        },
        async (request, reply) => {
          const body = importBody(request);
          const batch = 'csv' in body ? demandsFromCsv(body.csv) : demandsFromJson(body.json);
          const imported = await demands.import(batch, { ...headerSignature(request), documentSm3: sm3(rawBody(request)).toString('hex') });
          return reply.code(201).send({ imported: imported.length, demands: imported.map((d) => ({ id: d.id, state: d.state })) });
        },
      );
    });

    app.get<{ Params: { id: string } }>(
      '/v1/catalogue/demands/:id',
      {
      config: { access: PUBLIC }, schema: { tags: [TAG], summary: 'One demand by id.', params: idParams, response: { 200: { $ref: 'CatalogueDemand#' }, ...errorResponses } } },
      (request) => demands.get(request.params.id),
    );

    app.get<{ Params: { id: string } }>(
      '/v1/catalogue/demands/:id/history',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'Every transition of the demand, in order (append-only).',
          params: idParams,
          response: {
            200: { type: 'object', required: ['demand', 'transitions'], properties: { demand: { type: 'string' }, transitions: { type: 'array', items: { $ref: 'CatalogueDemandTransition#' } } } },
            ...errorResponses,
          },
        },
      },
      async (request) => ({ demand: request.params.id, transitions: await demands.history(request.params.id) }),
    );

    app.post<{ Params: { id: string }; Body: Signed<{ actor: string; terms?: TermsInput | null }> }>(
      '/v1/catalogue/demands/:id/approve',
      {
        config: { access: statement('provider', 'the provider of the demanded resource, by its signed statement') },
        schema: {
          tags: [TAG],
          summary: 'Approve a pending demand (the resource\'s provider only), optionally with terms: fewer items, a daily quota, an earlier end.',
          params: idParams,
          body: { type: 'object', additionalProperties: false, required: ['actor'], properties: { ...actorBody, terms: termsSchema } },
          response: { 200: { $ref: 'CatalogueDemand#' }, ...errorResponses },
        },
      },
      (request) => demands.approve(request.params.id, ...signed(request.body)),
    );

    app.post<{ Params: { id: string }; Body: Signed<{ actor: string } & RefusalInput> }>(
      '/v1/catalogue/demands/:id/refuse',
      {
        config: { access: statement('provider', 'the provider of the demanded resource, by its signed statement') },
        schema: {
          tags: [TAG],
          summary: 'Refuse a pending demand (the resource\'s provider only), citing a negative-list entry or a legal basis (else ZT_ERR_REFUSAL_BASIS_MISSING).',
          params: idParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['actor'],
            properties: {
              ...actorBody,
              negativeListRuleId: { type: ['string', 'null'], maxLength: 128, description: 'The negative-list (负面清单) entry that excludes this sharing.' },
              legalBasis: nullableLegalBasis,
              reason: { type: ['string', 'null'], maxLength: 1000 },
            },
          },
          response: { 200: { $ref: 'CatalogueDemand#' }, ...errorResponses },
        },
      },
      (request) => demands.refuse(request.params.id, ...signed(request.body)),
    );

    app.post<{ Params: { id: string }; Body: Signed<{ actor: string; reason?: string | null }> }>(
      '/v1/catalogue/demands/:id/withdraw',
      {
        config: { access: statement('party', 'the requesting department, by its signed statement') },
        schema: {
          tags: [TAG],
          summary: 'Withdraw a pending, granted or approved demand (the requester only).',
          params: idParams,
          body: { type: 'object', additionalProperties: false, required: ['actor'], properties: { ...actorBody, reason: { type: ['string', 'null'], maxLength: 1000 } } },
          response: { 200: { $ref: 'CatalogueDemand#' }, ...errorResponses },
        },
      },
      (request) => demands.withdraw(request.params.id, ...signed(request.body)),
    );

    // ---------------------------------------------------------------------------------------------------------
    // Reports.

    app.get<{ Querystring: { department?: string } }>(
      '/v1/catalogue/reports/fulfilment',
      {
        config: { access: PUBLIC },
        schema: {
          tags: [TAG],
          summary: 'Fulfilment per department: demands served, pending, overdue, refused … as requester and as supplier.',
          querystring: { type: 'object', additionalProperties: false, properties: { department: { ...uscc, description: 'One department; all when omitted.' } } },
          response: {
            200: {
              type: 'object',
              required: ['asOf', 'departments'],
              properties: {
                asOf: { ...isoDate, description: 'The day (China time) the counts were taken; overdue depends on it.' },
                departments: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['department', 'name', 'asRequester', 'asSupplier'],
                    properties: {
                      department: uscc,
                      name: { type: 'string' },
                      asRequester: { $ref: 'CatalogueFulfilmentCounts#' },
                      asSupplier: { $ref: 'CatalogueFulfilmentCounts#' },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      (request) => demands.fulfilment(request.query.department ?? null),
    );
  };
}
