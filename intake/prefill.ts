// Prefill (预填): for one application (办件) of a service item, fill the form from what the government already holds.
// Shared data comes through the exchange and e-licences through the licence registry, each read on behalf of the
// intake department's one signed request, so every read goes through the grant, the negative list and the access
// log exactly as a direct request would (ExchangeService.queryVerified, LicenceVerifier.departmentVerified). The
// answer says where each value came from, locks what the government verified, and lists what the applicant must
// still bring, with the reason.
import { canonicalJson } from '../core/canonical-json.js';
import { isZtError, ZtError } from '../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../core/identifiers/index.js';
import type { Queryable } from '../core/storage/index.js';
import type { SignedEnvelope } from '../certs/envelope/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import type { VerifiedCaller } from '../exchange/signed-request.js';
import type { ExchangeService } from '../exchange/exchange-service.js';
import type { LicenceRegistry, LicenceVerifier } from '../licences/index.js';
import type { ApplicantKind, Material, ServiceItem } from './service-item.js';

export const PREFILL_SCHEMA = 'zhengtong/prefill/v1';

export interface PrefillInput {
  /** USCC of the intake department (受理部门). */
  requester: string;
  /** The person taking the application (经办人). */
  operator: string | null;
  serviceItem: string;
  /** 办件编号: one application of one applicant. */
  caseNumber: string;
  applicant: { kind: ApplicantKind; code: string };
  /** Materials the applicant declined to have fetched (they bring them instead). */
  declined: readonly string[];
}

/** Where a value came from. */
export type Provenance =
  | { kind: 'shared-data'; resource: string; item: string; accessId: string; supplier: string | null; retrievedAt: string | null; masked: boolean }
  | { kind: 'e-licence'; identifier: string; type: string; field: string; accessId: string }
  | { kind: 'applicant' };

export interface PrefilledField {
  code: string;
  label: string;
  /** Null when it must still be provided. */
  value: unknown;
  locked: boolean;
  provenance: Provenance;
}

export type MaterialReason = 'not-held' | 'refused' | 'supplier-unavailable' | 'declined' | 'applicant-provides' | 'not-valid';

export interface MaterialOutcome {
  code: string;
  name: string;
  required: boolean;
  /** attached: fetched and verified; needed: the applicant must provide it. */
  status: 'attached' | 'needed';
  reason: MaterialReason | null;
  /** Why, for a person: the refusal's code, rules, or the licence's status. */
  detail: { errorCode?: string; ruleIds?: string[]; licenceStatus?: string; message?: string } | null;
  /** The access record of the read (data) or the check (licence). */
  accessId: string | null;
  /** The e-licence attached. */
  licence: { identifier: string; status: string } | null;
}

export interface PrefillResult {
  schema: typeof PREFILL_SCHEMA;
  requester: string;
  serviceItem: string;
  caseNumber: string;
  applicant: { kind: ApplicantKind; code: string };
  /** SM3 (hex) of the intake department's signed request: the answer is bound to it, as every read is. */
  requestDigest: string;
  fields: PrefilledField[];
  materials: MaterialOutcome[];
  /** SM3 (hex) of the canonical locked values: what a submission must still carry unchanged. */
  lockedDigest: string;
  preparedAt: string;
}

export interface PrefillDeps {
  db: Queryable;
  items: ReadonlyMap<string, ServiceItem>;
  exchange: Pick<ExchangeService, 'queryVerified'>;
  licences: Pick<LicenceRegistry, 'byHolder'>;
  licenceVerifier: Pick<LicenceVerifier, 'departmentVerified'>;
  /** Signs an answer's canonical JSON with the platform key (the batch signer). */
  sign: (canonical: Buffer) => Promise<SignedEnvelope>;
  now?: () => Date;
}

/** A prefill as it is returned: the result, the exact bytes signed, and the platform's signature over them. */
export interface PrefillAnswer {
  result: PrefillResult;
  canonical: Buffer;
  signature: SignedEnvelope;
}

/** The locked values, canonical: { fieldCode: value } of every locked field that has one. */
export function lockedValues(fields: readonly PrefilledField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f.locked && f.value !== null && f.value !== undefined) out[f.code] = f.value;
  return out;
}

export function lockedDigest(result: Pick<PrefillResult, 'requester' | 'serviceItem' | 'caseNumber' | 'applicant'>, locked: Record<string, unknown>): string {
  return sm3(Buffer.from(canonicalJson({ schema: PREFILL_SCHEMA, requester: result.requester, serviceItem: result.serviceItem, caseNumber: result.caseNumber, applicant: result.applicant, locked }), 'utf8')).toString('hex');
}

const DATA_FAILURES: Record<string, MaterialReason> = {
  ZT_ERR_SUBJECT_NOT_FOUND: 'not-held',
  ZT_ERR_UPSTREAM_UNAVAILABLE: 'supplier-unavailable',
  ZT_ERR_UPSTREAM_TIMEOUT: 'supplier-unavailable',
  ZT_ERR_UPSTREAM_INVALID: 'supplier-unavailable',
};

export class PrefillService {
  readonly #d: PrefillDeps;
  readonly #now: () => Date;

  constructor(deps: PrefillDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  /** The service item, or ZT_ERR_SERVICE_ITEM_UNKNOWN. */
  item(code: string): ServiceItem {
    const item = this.#d.items.get(code);
    if (!item) throw new ZtError('ZT_ERR_SERVICE_ITEM_UNKNOWN', `no service item (事项) has code ${JSON.stringify(code)}`);
    return item;
  }

  /** Who may take this application and about whom: the checks a prefill and a preview share. Binds nothing. */
  admissible(input: PrefillInput): ServiceItem {
    const item = this.item(input.serviceItem);
    if (!item.intakeDepartments.includes(input.requester)) {
      throw new ZtError('ZT_ERR_INTAKE_NOT_AUTHORISED', `${input.requester} does not take applications for ${item.code} ${item.name}`);
    }
    const { kind, code } = input.applicant;
    if (kind !== item.applicantKind) throw new ZtError('ZT_ERR_APPLICANT_INVALID', `${item.name} is applied for by ${item.applicantKind === 'person' ? 'a person' : 'an organisation'}, not ${kind === 'person' ? 'a person' : 'an organisation'}`);
    if (kind === 'person' ? !isValidResidentId(code) : !isValidUscc(code)) {
      throw new ZtError('ZT_ERR_APPLICANT_INVALID', kind === 'person' ? `${code} is not a valid resident ID number (GB 11643)` : `${code} is not a valid unified social credit code (GB 32100)`);
    }
    const unknown = input.declined.filter((m) => !item.materials.some((x) => x.code === m));
    if (unknown.length > 0) throw new ZtError('ZT_ERR_REQUEST_INVALID', `declined names no material of ${item.code}: ${unknown.join(', ')}`);
    return item;
  }

  /** Refuses a case number already open for another applicant or service item (a preview checks, a prefill binds). */
  async assertCaseFree(input: PrefillInput, item: ServiceItem): Promise<void> {
    const { rows } = await this.#d.db.query<{ service_item: string; applicant_code: string }>(
      'SELECT service_item, applicant_code FROM intake_cases WHERE requester = $1 AND case_number = $2',
      [input.requester, input.caseNumber],
    );
    const bound = rows[0];
    if (bound && (bound.applicant_code !== input.applicant.code || bound.service_item !== item.code)) {
      throw new ZtError('ZT_ERR_INTAKE_CASE_CONFLICT', `case ${input.caseNumber} is already open for another ${bound.applicant_code !== input.applicant.code ? 'applicant' : `service item (${bound.service_item})`}`);
    }
  }

  /** The admission checks, then the case number bound to the applicant. */
  async #admit(input: PrefillInput): Promise<ServiceItem> {
    const item = this.admissible(input);
    const { kind, code } = input.applicant;
    // One case, one applicant: the first prefill binds them; a case number reused for someone else is refused.
    await this.#d.db.query(
      `INSERT INTO intake_cases (requester, case_number, service_item, applicant_kind, applicant_code, opened_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (requester, case_number) DO NOTHING`,
      [input.requester, input.caseNumber, item.code, kind, code, this.#now()],
    );
    await this.assertCaseFree(input, item);
    return item;
  }

  /** Prefills and signs the answer: what a submission later proves its locked values against. */
  async prefillSigned(input: PrefillInput, verified: VerifiedCaller): Promise<PrefillAnswer> {
    const result = await this.prefill(input, verified);
    const canonical = Buffer.from(canonicalJson(result), 'utf8');
    return { result, canonical, signature: await this.#d.sign(canonical) };
  }

  async prefill(input: PrefillInput, verified: VerifiedCaller): Promise<PrefillResult> {
    const item = await this.#admit(input);
    const purpose = { serviceItem: item.code, caseNumber: input.caseNumber };
    const declined = new Set(input.declined);
    const outcomes = new Map<string, MaterialOutcome>();
    const values = new Map<string, { value: unknown; provenance: Provenance }>();
    const outcome = (m: Material, over: Partial<MaterialOutcome>): MaterialOutcome => ({
      code: m.code,
      name: m.name,
      required: m.required,
      status: 'needed',
      reason: null,
      detail: null,
      accessId: null,
      licence: null,
      ...over,
    });
    await Promise.all(
      item.materials.map(async (m) => {
        if (m.source.kind === 'applicant') return void outcomes.set(m.code, outcome(m, { reason: 'applicant-provides' }));
        if (declined.has(m.code)) return void outcomes.set(m.code, outcome(m, { reason: 'declined' }));
        if (m.source.kind === 'data') {
          const source = m.source;
          // The material's items and every field's item of the same resource, in one read.
          const items = [...new Set([...source.items, ...item.fields.flatMap((f) => (f.source.kind === 'data' && f.source.resource === source.resource ? [f.source.item] : []))])];
          try {
            const { result } = await this.#d.exchange.queryVerified(
              { requester: input.requester, resource: source.resource, items, subject: input.applicant, purpose, operator: input.operator },
              verified,
            );
            for (const [code, value] of Object.entries(result.items)) {
              const p = result.provenance.find((x) => x.item === code);
              values.set(`data:${source.resource}:${code}`, {
                value,
                provenance: { kind: 'shared-data', resource: source.resource, item: code, accessId: result.accessId, supplier: p?.supplier ?? null, retrievedAt: p?.retrievedAt ?? null, masked: result.masked.includes(code) },
              });
            }
            outcomes.set(m.code, outcome(m, { status: 'attached', accessId: result.accessId }));
          } catch (error) {
            if (!isZtError(error)) throw error;
            const details = (error.details ?? {}) as { ruleIds?: string[]; accessId?: string };
            outcomes.set(
              m.code,
              outcome(m, {
                reason: DATA_FAILURES[error.code] ?? 'refused',
                detail: { errorCode: error.code, ...(details.ruleIds ? { ruleIds: details.ruleIds } : {}), message: error.message },
                accessId: details.accessId ?? null,
              }),
            );
          }
          return;
        }
        // An e-licence of the applicant: the newest version of that type, checked for the case (and recorded).
        const type = m.source.type;
        const held = await this.#d.licences.byHolder(input.applicant.code, input.applicant.kind === 'person' ? '111' : '001', type);
        const current = held.find((l) => l.supersededBy === null) ?? null;
        if (!current) return void outcomes.set(m.code, outcome(m, { reason: 'not-held' }));
        try {
          const { result } = await this.#d.licenceVerifier.departmentVerified(
            { requester: input.requester, target: { identifier: current.identifier }, purpose, operator: input.operator },
            verified,
          );
          const licence = { identifier: result.identifier, status: result.status };
          if (result.status !== 'valid') {
            return void outcomes.set(m.code, outcome(m, { reason: 'not-valid', detail: { licenceStatus: result.status }, accessId: result.accessId ?? null, licence }));
          }
          for (const [code, value] of Object.entries(result.licence.fields)) {
            values.set(`licence:${type}:${code}`, { value, provenance: { kind: 'e-licence', identifier: result.identifier, type, field: code, accessId: result.accessId ?? '' } });
          }
          outcomes.set(m.code, outcome(m, { status: 'attached', accessId: result.accessId ?? null, licence }));
        } catch (error) {
          if (!isZtError(error)) throw error;
          outcomes.set(m.code, outcome(m, { reason: 'refused', detail: { errorCode: error.code, message: error.message } }));
        }
      }),
    );
    const fields: PrefilledField[] = item.fields.map((f) => {
      const key = f.source.kind === 'data' ? `data:${f.source.resource}:${f.source.item}` : f.source.kind === 'licence' ? `licence:${f.source.type}:${f.source.field}` : null;
      const found = key ? values.get(key) : undefined;
      // A value the government holds is locked; one it could not provide is the applicant's to give.
      return found
        ? { code: f.code, label: f.label, value: found.value, locked: true, provenance: found.provenance }
        : { code: f.code, label: f.label, value: null, locked: false, provenance: { kind: 'applicant' } };
    });
    const head = { requester: input.requester, serviceItem: item.code, caseNumber: input.caseNumber, applicant: input.applicant };
    return {
      schema: PREFILL_SCHEMA,
      ...head,
      requestDigest: verified.requestDigest.toString('hex'),
      fields,
      materials: item.materials.map((m) => outcomes.get(m.code)!),
      lockedDigest: lockedDigest(head, lockedValues(fields)),
      preparedAt: this.#now().toISOString(),
    };
  }
}
