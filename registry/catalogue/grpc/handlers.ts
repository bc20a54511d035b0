// zhengtong.v1.CatalogueService (proto/zhengtong/v1/catalogue.proto): the data catalogue over gRPC, making the same
// service calls as the HTTP routes (http/routes.ts), so the validation, errors and events are the same. Where the
// HTTP JSON schema checks something the services do not (lengths, list sizes), the same check is made here, with
// the code the HTTP API gives (ZT_ERR_REQUEST_INVALID). Unset proto3 fields stand for JSON null / absent.
import { department, PUBLIC, statement } from '../../../transport/access.js';
import { ZtError } from '../../../core/errors/index.js';
import { decodeEnvelopeJson, envelopeFromMessage, envelopeToMessage, type SignedEnvelope } from '../../../certs/envelope/index.js';
import { sm3 } from '../../../certs/sm2/sm2.js';
import { declareAccess, type UnaryHandler } from '../../../transport/grpc.js';
import { toTimestamp } from '../../../transport/grpc.js';
import { MAX_IMPORT_ROWS, type CatalogueService } from '../catalogue-service.js';
import type { DemandListQuery, DemandService } from '../demand-service.js';
import type { Demand, DemandRegistration, DemandTerms, DemandTransition, Refusal, TermsInput } from '../demand.js';
import { demandsFromCsv, demandsFromJson, demandsToCsv, resourcesFromCsv, resourcesFromJson, resourcesToCsv } from '../lists.js';
import type { DataItem, DataResource, DataItemInput, LegalBasis, LegalBasisInput, ResourcePublication } from '../resource.js';
import type { DepartmentFulfilment, FulfilmentCounts } from '../store.js';

type Msg = Record<string, unknown>;

/** The HTTP schemas' limits that the services do not check themselves. */
const USCC_MAX = 64;
const CODE_MAX = 64;
const ITEMS_MAX = 500;
const CATEGORIES_MAX = 20;
const RULE_ID_MAX = 128;
const REASON_MAX = 1000;
const DEFAULT_LIMIT = 100;

function invalid(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

/** A string field of a decoded request ('' when unset). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A string field, with '' standing for null. */
function orNull(value: unknown): string | null {
  const s = str(value);
  return s === '' ? null : s;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(str) : [];
}

/** maxLength of the HTTP schema. */
function atMost(value: string, max: number, field: string): string {
  if (value.length > max) throw invalid(`${field} must NOT have more than ${max} characters`);
  return value;
}

/** A list of item codes as the HTTP schema takes it: at most maxItems codes of 1 to 64 characters. */
function itemCodeList(value: unknown, field: string, maxItems: number | null): string[] {
  const codes = strings(value);
  if (maxItems !== null && codes.length > maxItems) throw invalid(`${field} must NOT have more than ${maxItems} items`);
  codes.forEach((c, i) => atMost(c, CODE_MAX, `${field}/${i}`));
  return codes;
}

function limitOf(value: unknown): number {
  const n = Number(value);
  return n === 0 || !Number.isFinite(n) ? DEFAULT_LIMIT : n;
}

/** An optional field (proto3 `optional`): undefined when unset. */
function optional<T>(value: unknown): T | undefined {
  return value === undefined || value === null ? undefined : (value as T);
}

function legalBasisIn(value: unknown): LegalBasisInput | null {
  if (!value || typeof value !== 'object') return null;
  const m = value as Msg;
  return { title: str(m.title), article: orNull(m.article) };
}

// ---------------------------------------------------------------------------------------------------------------
// Domain → message.

function legalBasisOut(basis: LegalBasis | null): Msg | null {
  return basis ? { title: basis.title, article: basis.article ?? '' } : null;
}

function itemOut(item: DataItem): Msg {
  return { code: item.code, name: item.name, type: item.type, sensitivity: item.sensitivity, categories: item.categories };
}

function resourceMessage(r: DataResource): Msg {
  return {
    code: r.code,
    name: r.name,
    provider: r.provider,
    sharingClass: r.sharingClass,
    legalBasis: legalBasisOut(r.legalBasis),
    updateCycle: r.updateCycle,
    connector: { kind: r.connector.kind, endpoint: r.connector.endpoint },
    items: r.items.map(itemOut),
    createdAt: toTimestamp(r.createdAt),
    updatedAt: toTimestamp(r.updatedAt),
  };
}

function termsOut(terms: DemandTerms | null): Msg | null {
  if (!terms) return null;
  return { items: terms.items ?? [], ...(terms.dailyQuota === null ? {} : { dailyQuota: terms.dailyQuota }), validUntil: terms.validUntil ?? '' };
}

function refusalOut(refusal: Refusal | null): Msg | null {
  if (!refusal) return null;
  return {
    negativeListRuleId: refusal.negativeListRuleId ?? '',
    legalBasis: legalBasisOut(refusal.legalBasis),
    reason: refusal.reason ?? '',
    automatic: refusal.automatic,
  };
}

function demandMessage(d: Demand): Msg {
  return {
    id: d.id,
    requester: d.requester,
    provider: d.provider,
    resource: d.resource,
    items: d.items,
    serviceItem: d.serviceItem,
    legalBasis: legalBasisOut(d.legalBasis),
    expectedDailyVolume: Number(d.expectedDailyVolume),
    validFrom: d.validFrom,
    validTo: d.validTo,
    state: d.state,
    replyDue: d.replyDue ?? '',
    overdue: d.overdue,
    terms: termsOut(d.terms),
    refusal: refusalOut(d.refusal),
    createdAt: toTimestamp(d.createdAt),
  };
}

/** A JSON value as a google.protobuf.Value (the object form protobufjs' fromObject takes). */
function toValue(value: unknown): Msg {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (value instanceof Date) return { stringValue: value.toISOString() };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === 'object') return { structValue: toStruct(value as Msg) };
  return { stringValue: String(value) };
}

function toStruct(object: Msg): Msg {
  const fields: Record<string, Msg> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) fields[key] = toValue(value);
  return { fields };
}

function transitionMessage(t: DemandTransition): Msg {
  const message: Msg = { seq: t.seq, from: t.from ?? '', to: t.to, actor: t.actor ?? '', at: toTimestamp(t.at), detail: toStruct(t.detail ?? {}) };
  if (t.signature) {
    message.signature = {
      statementKey: t.signature.statementKey,
      statement: t.signature.statement,
      envelope: envelopeToMessage(decodeEnvelopeJson(t.signature.envelope)),
      certificateSm3: t.signature.certificateSm3,
      certificateSerial: t.signature.certificateSerial,
      signedAt: toTimestamp(t.signature.signedAt),
    };
  }
  return message;
}

/** The signature field of a transition request: unset → undefined (the service says ZT_ERR_TRANSITION_UNSIGNED). */
function signatureOf(request: Msg): { proof?: SignedEnvelope } {
  const message = request.signature;
  return message && typeof message === 'object' ? { proof: envelopeFromMessage(message) } : {};
}

function countsOut(c: FulfilmentCounts): Msg {
  return {
    total: Number(c.total),
    served: Number(c.served),
    pending: Number(c.pending),
    overdue: Number(c.overdue),
    refused: Number(c.refused),
    withdrawn: Number(c.withdrawn),
    expired: Number(c.expired),
  };
}

function fulfilmentOut(f: DepartmentFulfilment): Msg {
  return { department: f.department, name: f.name, asRequester: countsOut(f.asRequester), asSupplier: countsOut(f.asSupplier) };
}

// ---------------------------------------------------------------------------------------------------------------
// Message → service input.

function publication(request: Msg): ResourcePublication {
  const items = Array.isArray(request.items) ? (request.items as Msg[]) : [];
  const connector = request.connector as Msg | null;
  items.forEach((item, i) => {
    if (strings(item.categories).length > CATEGORIES_MAX) throw invalid(`items/${i}/categories must NOT have more than ${CATEGORIES_MAX} items`);
  });
  return {
    code: str(request.code),
    name: str(request.name),
    provider: atMost(str(request.provider), USCC_MAX, 'provider'),
    sharingClass: str(request.sharingClass),
    legalBasis: legalBasisIn(request.legalBasis),
    updateCycle: str(request.updateCycle),
    // Unset → the service's "connector must be an object", as a missing connector is over HTTP.
    connector: (connector ? { kind: str(connector.kind), endpoint: str(connector.endpoint) } : undefined) as ResourcePublication['connector'],
    items: items.map(
      (item): DataItemInput => ({ code: str(item.code), name: str(item.name), type: str(item.type), sensitivity: str(item.sensitivity), categories: strings(item.categories) }),
    ),
  };
}

function registration(request: Msg): DemandRegistration {
  return {
    requester: atMost(str(request.requester), USCC_MAX, 'requester'),
    resource: atMost(str(request.resource), CODE_MAX, 'resource'),
    items: itemCodeList(request.items, 'items', ITEMS_MAX),
    serviceItem: atMost(str(request.serviceItem), CODE_MAX, 'serviceItem'),
    // Unset → null, which the service refuses as a missing legal basis is refused over HTTP.
    legalBasis: legalBasisIn(request.legalBasis) as LegalBasisInput,
    // Unset → undefined, refused by the service ("must be a whole number"), as a missing field is over HTTP.
    expectedDailyVolume: optional<number>(request.expectedDailyVolume) as number,
    validFrom: orNull(request.validFrom),
    validTo: str(request.validTo),
  };
}

function demandFilter(request: Msg): Omit<DemandListQuery, 'limit' | 'after'> {
  return {
    requester: orNull(atMost(str(request.requester), USCC_MAX, 'requester')),
    provider: orNull(atMost(str(request.provider), USCC_MAX, 'provider')),
    resource: orNull(atMost(str(request.resource), CODE_MAX, 'resource')),
    state: orNull(request.state),
    serviceItem: orNull(atMost(str(request.serviceItem), CODE_MAX, 'serviceItem')),
    overdue: optional<boolean>(request.overdue) ?? null,
  };
}

function terms(value: unknown): TermsInput | null {
  if (!value || typeof value !== 'object') return null;
  const m = value as Msg;
  const items = itemCodeList(m.items, 'terms/items', null);
  return { items: items.length === 0 ? null : items, dailyQuota: optional<number>(m.dailyQuota) ?? null, validUntil: orNull(m.validUntil) };
}

function format(value: unknown): 'json' | 'csv' {
  const f = str(value) || 'json';
  if (f !== 'json' && f !== 'csv') throw invalid(`format must be equal to one of the allowed values: json, csv; got ${JSON.stringify(f)}`);
  return f;
}

/** The content of an import as the HTTP import reads its body: CSV text, or JSON whose top level is { key: [...] }. */
function importContent(request: Msg, key: 'resources' | 'demands'): { csv: string } | { json: unknown } {
  const type = (str(request.contentType) || 'application/json').split(';')[0]!.trim().toLowerCase();
  const content = request.content instanceof Uint8Array ? Buffer.from(request.content) : Buffer.alloc(0);
  if (type === 'text/csv') return { csv: content.toString('utf8') };
  if (type !== 'application/json') {
    throw new ZtError('ZT_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE', `an import is sent as application/json or text/csv, not ${type}`);
  }
  if (content.length === 0) throw new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', 'the request body is empty but its content type is JSON');
  let json: unknown;
  try {
    json = JSON.parse(content.toString('utf8'));
  } catch (error) {
    throw new ZtError('ZT_ERR_REQUEST_MALFORMED_JSON', `the request body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  // The HTTP body schema: an object with exactly `key`, an array of at most MAX_IMPORT_ROWS entries.
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw invalid('body must be object');
  const extra = Object.keys(json).filter((k) => k !== key);
  if (extra.length > 0) throw invalid(`body must NOT have additional properties (${extra.join(', ')})`);
  const list = (json as Msg)[key];
  if (list === undefined) throw invalid(`body must have required property '${key}'`);
  if (!Array.isArray(list)) throw invalid(`body/${key} must be array`);
  if (list.length > MAX_IMPORT_ROWS) throw invalid(`body/${key} must NOT have more than ${MAX_IMPORT_ROWS} items`);
  return { json };
}

function exported(kind: 'json' | 'csv', filename: string, csv: () => string, json: () => unknown): Msg {
  return kind === 'csv'
    ? { contentType: 'text/csv; charset=utf-8', content: Buffer.from(csv(), 'utf8'), filename }
    : { contentType: 'application/json; charset=utf-8', content: Buffer.from(JSON.stringify(json()), 'utf8'), filename: filename.replace(/\.csv$/, '.json') };
}

/** zhengtong.v1.CatalogueService: the same service calls, errors and events as the HTTP routes. */
export function catalogueHandlers(catalogue: CatalogueService, demands: DemandService): Record<string, UnaryHandler> {
  return declareAccess({
    // Supply list.
    PublishResource: async (request, call) => resourceMessage(await catalogue.publish(publication(request), { actor: call.caller!.roles.has('administrator') ? undefined : call.caller!.uscc })),
    GetResource: async (request) => resourceMessage(await catalogue.get(atMost(str(request.code), CODE_MAX, 'code'))),
    ListResources: async (request) => {
      const page = await catalogue.list({
        provider: orNull(atMost(str(request.provider), USCC_MAX, 'provider')),
        limit: limitOf(request.limit),
        after: orNull(atMost(str(request.after), CODE_MAX, 'after')),
      });
      return { items: page.items.map(resourceMessage), next: page.next ?? '' };
    },
    ListResourceItems: async (request) => {
      const code = atMost(str(request.code), CODE_MAX, 'code');
      return { resource: code, items: (await catalogue.items(code)).map(itemOut) };
    },
    ExportResources: async (request) => {
      const as = format(request.format);
      const resources = await catalogue.exportAll(orNull(atMost(str(request.provider), USCC_MAX, 'provider')));
      return exported(
        as,
        'supply-list.csv',
        () => resourcesToCsv(resources),
        () => ({ resources }),
      );
    },
    ImportResources: async (request, call) => {
      const body = importContent(request, 'resources');
      const imported = await catalogue.import('csv' in body ? resourcesFromCsv(body.csv) : resourcesFromJson(body.json), { actor: call.caller!.roles.has('administrator') ? undefined : call.caller!.uscc });
      return { imported: imported.length, resources: imported.map((r) => r.code) };
    },

    // Demand list and the application–reply procedure.
    RegisterDemand: async (request) => demandMessage(await demands.register(registration(request), signatureOf(request))),
    GetDemand: async (request) => demandMessage(await demands.get(atMost(str(request.id), CODE_MAX, 'id'))),
    ListDemands: async (request) => {
      const page = await demands.list({ ...demandFilter(request), limit: limitOf(request.limit), after: orNull(atMost(str(request.after), CODE_MAX, 'after')) });
      return { items: page.items.map(demandMessage), next: page.next ?? '' };
    },
    ApproveDemand: async (request) =>
      demandMessage(
        await demands.approve(
          atMost(str(request.id), CODE_MAX, 'id'),
          { actor: atMost(str(request.actor), USCC_MAX, 'actor'), terms: terms(request.terms) },
          signatureOf(request),
        ),
      ),
    RefuseDemand: async (request) =>
      demandMessage(
        await demands.refuse(atMost(str(request.id), CODE_MAX, 'id'), {
          actor: atMost(str(request.actor), USCC_MAX, 'actor'),
          negativeListRuleId: orNull(atMost(str(request.negativeListRuleId), RULE_ID_MAX, 'negativeListRuleId')),
          legalBasis: legalBasisIn(request.legalBasis),
          reason: orNull(atMost(str(request.reason), REASON_MAX, 'reason')),
        }, signatureOf(request)),
      ),
    WithdrawDemand: async (request) =>
      demandMessage(
        await demands.withdraw(atMost(str(request.id), CODE_MAX, 'id'), {
          actor: atMost(str(request.actor), USCC_MAX, 'actor'),
          reason: orNull(atMost(str(request.reason), REASON_MAX, 'reason')),
        }, signatureOf(request)),
      ),
    GetDemandHistory: async (request) => {
      const id = atMost(str(request.id), CODE_MAX, 'id');
      return { demand: id, transitions: (await demands.history(id)).map(transitionMessage) };
    },
    ExportDemands: async (request) => {
      const as = format(request.format);
      const all = await demands.exportAll(demandFilter(request));
      return exported(
        as,
        'demand-list.csv',
        () => demandsToCsv(all),
        () => ({ demands: all }),
      );
    },
    ImportDemands: async (request) => {
      const body = importContent(request, 'demands');
      const content = request.content instanceof Uint8Array ? request.content : new Uint8Array(0);
      const imported = await demands.import('csv' in body ? demandsFromCsv(body.csv) : demandsFromJson(body.json), {
        ...signatureOf(request),
        documentSm3: sm3(content).toString('hex'),
      });
      return { imported: imported.length, demands: imported.map((d) => ({ id: d.id, state: d.state })) };
    },

    // Reports.
    FulfilmentReport: async (request) => {
      const report = await demands.fulfilment(orNull(atMost(str(request.department), USCC_MAX, 'department')));
      return { asOf: report.asOf, departments: report.departments.map(fulfilmentOut) };
    },
  }, {
    PublishResource: department('the provider of the resource: the message names the signing department as provider'),
    GetResource: PUBLIC,
    ListResources: PUBLIC,
    ListResourceItems: PUBLIC,
    ExportResources: PUBLIC,
    ImportResources: department('the provider of every imported resource'),
    RegisterDemand: statement('party', 'the requesting department, by its signed statement'),
    GetDemand: PUBLIC,
    ListDemands: PUBLIC,
    ApproveDemand: statement('provider', 'the provider of the demanded resource, by its signed statement'),
    RefuseDemand: statement('provider', 'the provider of the demanded resource, by its signed statement'),
    WithdrawDemand: statement('party', 'the requesting department, by its signed statement'),
    GetDemandHistory: PUBLIC,
    ExportDemands: PUBLIC,
    ImportDemands: statement('party', 'the requesting department of every imported demand, by one signed statement'),
    FulfilmentReport: PUBLIC,
  });
}
