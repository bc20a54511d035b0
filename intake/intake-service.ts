// Application intake (受理) as the gateway offers it: the service items (事项), and for an intake department's signed
// request a preview (what would be fetched, from whom: nothing is read), a prefill (read through the exchange's and
// the registry's own paths, signed by the platform) and the submission check (the signed prefill comes back with the
// applicant's additions; no locked value may have changed). Service items are loaded once, at start, against the
// catalogue and licence types then in the database; a request only looks them up.
import { ZtError } from '../core/errors/index.js';
import { demoCatalogue } from '../policies/index.js';
import type { Queryable } from '../core/storage/index.js';
import { signEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import type { BatchSigner } from '../certs/signer/index.js';
import type { TrustStore } from '../certs/trust/index.js';
import type { ExchangeService } from '../exchange/exchange-service.js';
import { verifyPlatformEnvelope } from '../exchange/platform-signer.js';
import type { SignatureTrail, SignedCall, SignedRequestVerifier, VerifiedCaller } from '../exchange/signed-request.js';
import type { LicenceRegistry, LicenceVerifier } from '../licences/index.js';
import { PrefillService, type PrefillAnswer, type PrefillInput } from './prefill.js';
import { APPLICANT_KINDS, defaultServiceItemDirectory, loadServiceItems, SERVICE_ITEM_CODE, serviceItemContext, type ApplicantKind, type ServiceItem } from './service-item.js';
import { checkSubmission, type SubmissionCheck } from './submission.js';

/** 办件编号: the same rule as the exchange's and the registry's purpose.caseNumber. */
const CASE_NUMBER = /^[\p{L}\p{N}_\-./:()（）〔〕[\]]{1,64}$/u;
const PREFILL_KEYS = ['requester', 'operator', 'serviceItem', 'caseNumber', 'applicant', 'declined'] as const;
const SUBMISSION_KEYS = ['requester', 'prefill', 'signature', 'values'] as const;

/** A signed call as the HTTP routes and gRPC handlers hand it over: the request bytes, their signature, the decoded body. */
export type IntakeCall = SignedCall & { protocol: 'http' | 'grpc'; request: unknown };

/** Where a data resource comes from, as the preview tells the applicant. */
export interface ResourceSource {
  code: string;
  name: string;
  supplier: { uscc: string; name: string | null };
}

/** What a material would be, before anything is read (the EU OOTS "preview"). */
export interface MaterialPreview {
  code: string;
  name: string;
  required: boolean;
  /** fetch: would be read for the case; declined: the applicant declined it; applicant-provides: only they have it. */
  action: 'fetch' | 'declined' | 'applicant-provides';
  /** Set for shared data: the resource, its supplier and the items that would be read. */
  data: { resource: string; resourceName: string | null; supplier: { uscc: string; name: string | null } | null; items: string[] } | null;
  /** Set for an e-licence: the type whose current licence of the applicant would be checked. */
  licence: { type: string; typeName: string | null; issuers: string[] } | null;
  /** The form fields this material would fill (and lock). */
  fields: string[];
}

export interface IntakePreview {
  requester: string;
  serviceItem: string;
  serviceItemName: string;
  caseNumber: string;
  applicant: { kind: ApplicantKind; code: string };
  materials: MaterialPreview[];
}

export interface IntakeServiceOptions {
  db: Queryable;
  exchange: Pick<ExchangeService, 'queryVerified'>;
  licences: Pick<LicenceRegistry, 'byHolder' | 'types'>;
  licenceVerifier: Pick<LicenceVerifier, 'departmentVerified'>;
  /** The verifier the exchange uses: window, certificate, signature, signer, nonce. */
  requests: Pick<SignedRequestVerifier, 'verify'>;
  /** The platform's batch signer and the USCC its certificate names. */
  signer: () => Promise<{ batch: BatchSigner; uscc: string }>;
  trust: TrustStore | null;
  now?: () => Date;
}

/** What the service items are checked against when loaded. */
export interface IntakeCatalogue {
  resources: Iterable<{ code: string; name: string; provider: string; subjectKind?: ApplicantKind | null; items: readonly { code: string }[] }>;
  /** USCC → name, for the preview's supplier names. */
  departmentNames?: ReadonlyMap<string, string>;
}

export class IntakeService {
  readonly #o: IntakeServiceOptions;
  /** Filled by load(); the prefill engine holds the same map. */
  readonly #items = new Map<string, ServiceItem>();
  #list: readonly ServiceItem[] = [];
  #sources = new Map<string, ResourceSource>();
  readonly #prefill: PrefillService;

  constructor(options: IntakeServiceOptions) {
    this.#o = options;
    this.#prefill = new PrefillService({
      db: options.db,
      items: this.#items,
      exchange: options.exchange,
      licences: options.licences,
      licenceVerifier: options.licenceVerifier,
      sign: (canonical) => options.signer().then((p) => signEnvelope(p.batch, canonical)),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /**
   * Loads (or reloads) the service items: all are checked before any replaces the ones in force. Throws
   * ZT_ERR_SERVICE_ITEM_INVALID listing every problem.
   */
  load(catalogue: IntakeCatalogue, dir: string = defaultServiceItemDirectory()): readonly ServiceItem[] {
    const resources = [...catalogue.resources];
    const items = loadServiceItems(dir, serviceItemContext(resources, this.#o.licences.types()));
    const names = catalogue.departmentNames ?? new Map<string, string>();
    this.#sources = new Map(resources.map((r) => [r.code, { code: r.code, name: r.name, supplier: { uscc: r.provider, name: names.get(r.provider) ?? null } }]));
    this.#items.clear();
    for (const item of items) this.#items.set(item.code, item);
    this.#list = Object.freeze([...items]);
    return this.#list;
  }

  /** The service items in force (public). */
  items(): readonly ServiceItem[] {
    return this.#list;
  }

  /** One service item, or ZT_ERR_SERVICE_ITEM_UNKNOWN. */
  item(code: string): ServiceItem {
    return this.#prefill.item(code);
  }

  /** Fills the form for a case, every read recorded against this signed request; the answer signed by the platform. */
  async prefill(call: IntakeCall): Promise<PrefillAnswer> {
    const input = readPrefillInput(call.request);
    const verified = await this.#verify(call, input.requester);
    return this.#prefill.prefillSigned(input, verified);
  }

  /** What a prefill would fetch, and from whom, so the applicant can decline items; reads nothing, binds nothing. */
  async preview(call: IntakeCall): Promise<IntakePreview> {
    const input = readPrefillInput(call.request);
    await this.#verify(call, input.requester);
    const item = this.#prefill.admissible(input);
    await this.#prefill.assertCaseFree(input, item);
    const declined = new Set(input.declined);
    const types = new Map(this.#o.licences.types().map((t) => [t.code, t]));
    const materials = item.materials.map((m): MaterialPreview => {
      const fields = item.fields.filter((f) => f.material === m.code).map((f) => f.code);
      const action = m.source.kind === 'applicant' ? 'applicant-provides' : declined.has(m.code) ? 'declined' : 'fetch';
      const base = { code: m.code, name: m.name, required: m.required, action, fields } as const;
      if (m.source.kind === 'data') {
        const source = m.source;
        const known = this.#sources.get(source.resource);
        // The prefill reads the material's items and every field's item of the same resource in one read.
        const read = [...new Set([...source.items, ...item.fields.flatMap((f) => (f.source.kind === 'data' && f.source.resource === source.resource ? [f.source.item] : []))])];
        return { ...base, data: { resource: source.resource, resourceName: known?.name ?? null, supplier: known?.supplier ?? null, items: read }, licence: null };
      }
      if (m.source.kind === 'licence') {
        const type = types.get(m.source.type);
        return { ...base, data: null, licence: { type: m.source.type, typeName: type?.name ?? null, issuers: type ? [...type.issuers] : [] } };
      }
      return { ...base, data: null, licence: null };
    });
    return { requester: input.requester, serviceItem: item.code, serviceItemName: item.name, caseNumber: input.caseNumber, applicant: input.applicant, materials };
  }

  /** The submission check, by the department the prefill was for. */
  async submit(call: IntakeCall): Promise<SubmissionCheck> {
    const o = strictObject(call.request, SUBMISSION_KEYS);
    const requester = readRequester(o.requester);
    if (o.prefill === undefined || o.signature === undefined || o.values === undefined) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'prefill, signature and values are required');
    await this.#verify(call, requester);
    const forWhom = (o.prefill as { requester?: unknown } | null)?.requester;
    if (typeof forWhom === 'string' && forWhom !== requester) throw new ZtError('ZT_ERR_INTAKE_NOT_AUTHORISED', `the prefill was made for ${forWhom}, not for ${requester}`);
    const platform = await this.#o.signer();
    return checkSubmission(
      { prefill: o.prefill, signature: o.signature, values: o.values as Record<string, unknown> },
      (envelope: SignedEnvelope, payload: Buffer) => verifyPlatformEnvelope(platform, this.#o.trust, envelope, payload),
      (code) => this.item(code).fields.filter((f) => f.required).map((f) => f.code),
    );
  }

  /** The signed request's checks, the nonce claimed before anything is done for it. */
  async #verify(call: IntakeCall, requester: string): Promise<VerifiedCaller> {
    const trail: SignatureTrail = { certificateSm3: null, requestDigest: null, certifiedRequester: null };
    const { fresh } = await this.#o.requests.verify(call, requester, trail);
    await fresh();
    return { protocol: call.protocol, requestDigest: trail.requestDigest!, certificateSm3: trail.certificateSm3! };
  }
}

function strictObject<K extends string>(value: unknown, keys: readonly K[]): Partial<Record<K, unknown>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'the request must be a JSON object');
  const unknown = Object.keys(value).filter((k) => !(keys as readonly string[]).includes(k));
  if (unknown.length > 0) throw new ZtError('ZT_ERR_REQUEST_INVALID', `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (expected ${keys.join(', ')})`, { details: { fields: unknown } });
  return value as Partial<Record<K, unknown>>;
}

function readRequester(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ZtError('ZT_ERR_REQUEST_INVALID', 'requester is required: the USCC of the intake department (受理部门)');
  return value.trim().toUpperCase();
}

/** Reads a prefill or preview request strictly: unknown fields and wrong types are refused, not ignored. */
export function readPrefillInput(value: unknown): PrefillInput {
  const o = strictObject(value, PREFILL_KEYS);
  const requester = readRequester(o.requester);
  if (o.operator !== undefined && o.operator !== null && (typeof o.operator !== 'string' || o.operator.length > 200)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'operator must be a string of at most 200 characters');
  const operator = typeof o.operator === 'string' && o.operator !== '' ? o.operator : null;
  if (typeof o.serviceItem !== 'string' || !SERVICE_ITEM_CODE.test(o.serviceItem)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'serviceItem must be a service item code (4 to 64 letters, digits or "-")');
  if (typeof o.caseNumber !== 'string' || !CASE_NUMBER.test(o.caseNumber)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'caseNumber must be 1 to 64 letters, digits or _-./:() characters');
  const a = o.applicant;
  if (a === null || typeof a !== 'object' || Array.isArray(a)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'applicant must be an object { kind, code }');
  const applicant = strictObject(a, ['kind', 'code'] as const);
  if (typeof applicant.kind !== 'string' || !(APPLICANT_KINDS as readonly string[]).includes(applicant.kind)) throw new ZtError('ZT_ERR_REQUEST_INVALID', `applicant.kind must be one of ${APPLICANT_KINDS.join(', ')}`);
  if (typeof applicant.code !== 'string' || applicant.code === '') throw new ZtError('ZT_ERR_REQUEST_INVALID', 'applicant.code must be a resident ID number or a USCC');
  let declined: string[] = [];
  if (o.declined !== undefined && o.declined !== null) {
    if (!Array.isArray(o.declined) || !o.declined.every((d) => typeof d === 'string')) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'declined must be a list of material codes');
    declined = [...new Set(o.declined as string[])];
  }
  return {
    requester,
    operator,
    serviceItem: o.serviceItem,
    caseNumber: o.caseNumber,
    applicant: { kind: applicant.kind as ApplicantKind, code: applicant.code.trim().toUpperCase() },
    declined,
  };
}

/**
 * Loads the shipped service items at start against the catalogue and licence types in the database, with the subject
 * kind the policy catalogue states (the registry's resources do not say whose records they are) and the suppliers'
 * names for the preview. On a catalogue without the demo resources they cannot load: intake starts with no items
 * and a warning, as the exchange does with the shipped negative list.
 */
export async function loadShippedServiceItems(
  intake: IntakeService,
  catalogue: { exportAll(): Promise<readonly { code: string; name: string; provider: string; items: readonly { code: string }[] }[]> },
  departments: { get(uscc: string): Promise<{ name: string }> },
  logger: { warn(o: object, message: string): void },
): Promise<readonly ServiceItem[]> {
  const resources = await catalogue.exportAll();
  const subjectKinds = new Map(demoCatalogue().listResources().map((r) => [r.code, r.subjectKind ?? null]));
  const names = new Map<string, string>();
  for (const provider of new Set(resources.map((r) => r.provider))) {
    const department = await departments.get(provider).catch(() => null);
    if (department) names.set(provider, department.name);
  }
  try {
    return intake.load({ resources: resources.map((r) => ({ ...r, subjectKind: subjectKinds.get(r.code) ?? null })), departmentNames: names });
  } catch (error) {
    if ((error as ZtError).code !== 'ZT_ERR_SERVICE_ITEM_INVALID') throw error;
    logger.warn({ err: error }, 'the shipped service items (intake/items) do not fit this catalogue; application intake starts with none');
    return intake.items();
  }
}
