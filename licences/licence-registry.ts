// The e-licence registry (电子证照库): types, issue, lookups through a cache, lifecycle steps, stock conversion.
// Every step is signed by the department that takes it (licence-steps.ts) and commits with its transition, its
// signed statement and its outbox event; every instance drops what it cached of a licence when the event reaches
// it, so a revocation on one gateway is seen by all.
import { randomInt } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { ZtError } from '../core/errors/index.js';
import { isValidResidentId } from '../core/identifiers/index.js';
import type { EventBus } from '../core/events/index.js';
import { enqueueEvent } from '../core/outbox/index.js';
import type { Database, Queryable } from '../core/storage/index.js';
import { envelopeToJson, signEnvelope } from '../certs/envelope/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import type { Signer } from '../certs/signer/index.js';
import { verifySignedStep, type SignedStepEvidence, type SignedTransitionOptions } from '../registry/catalogue/index.js';
import { makeLicenceIdentifier, parseLicenceIdentifier } from './identifier.js';
import { LICENCE_STEP_FIELDS, licenceStepStatement, licenceTypeStatement, type LicenceStepKind } from './licence-steps.js';
import { isValidDate, isValidHolderCode, readLicenceFields, readLicenceType, type LicenceType } from './licence-type.js';
import {
  chinaDate,
  HOLDER_CODE_TYPE,
  LICENCE_DOCUMENT_SCHEMA,
  licenceDocumentBytes,
  type HolderCodeType,
  type LicenceDocument,
  type LicenceFieldValue,
  type StoredLicenceStatus,
} from './licence.js';
import { statusIndex } from './status-list/permutation.js';
import { publishStatusList, type SignedStatusListCredential } from './status-list/credential.js';
import type { LicenceTransitionRecord, SqlLicenceStore, StoredLicence } from './sql/sql-licence-store.js';

export const LICENCE_EVENTS_TOPIC = 'licences.events';

/** What a department sends to issue a licence (and signs: licence-steps.ts). */
export interface IssueInput {
  typeCode: string;
  /** USCC of the issuing department: the signer. */
  issuer: string;
  /** 证照编号; the registry assigns one (the serial) when absent. */
  licenceNumber?: string;
  holder: { name: string; code: string };
  issueDate?: string;
  validFrom?: string;
  validTo?: string;
  areaCode?: string;
  sealName?: string;
  fields: Record<string, unknown>;
}

export interface StepInput {
  /** USCC of the department taking the step. */
  actor: string;
  reason?: string;
  /** change: new holder name, fields (merged over the current ones), end date. renew: the new end date. */
  holderName?: string;
  validTo?: string;
  fields?: Record<string, unknown>;
}

/** The department directory the registry needs: names for seals and issuers. */
export interface DepartmentNames {
  get(uscc: string): Promise<{ name: string }>;
}

export interface LicenceRegistryOptions {
  db: Database;
  store: SqlLicenceStore;
  departments: DepartmentNames;
  /** Checks a department's signature over a step (certificate, actor, time, signature). */
  signatures: SignedTransitionOptions;
  /** The platform's signing key (opened on first use). */
  signer: () => Promise<Signer>;
  /** USCC whose certificate may define licence types over the API: the platform operator's (ZT_PLATFORM_USCC). */
  typeAuthority: string;
  /** Base URL under which status lists are served, e.g. https://zt.example.gov.cn. */
  publicUrl: string;
  onOutboxWrite?: () => void;
  /** Licences kept in each instance's cache; default 100,000. */
  cacheSize?: number;
  clock?: () => Date;
}

export interface LicenceEvent {
  type: `licence.${'issued' | 'converted' | 'revoked' | 'suspended' | 'resumed' | 'changed' | 'renewed'}`;
  identifier: string;
  typeCode: string;
  licenceNumber: string;
  holderCode: string;
  holderCodeType: HolderCodeType;
  issuerCode: string;
  listNo: number;
  status: StoredLicenceStatus;
  /** The version this one superseded (change, renew). */
  supersedes?: string;
}

/** A batch of the stock conversion: its licences' lookups are dropped (their own cache entries cannot exist yet). */
export const LICENCE_BATCH_CONVERTED = 'licence.batch-converted';
export interface LicenceBatchConvertedEvent {
  type: typeof LICENCE_BATCH_CONVERTED;
  conversionId: string;
  typeCode: string;
  licences: { identifier: string; licenceNumber: string; holderCode: string; holderCodeType: HolderCodeType; issuerCode: string; listNo: number }[];
}

/** 证照编号: letters, digits and the punctuation licence numbers use. */
export const LICENCE_NUMBER = /^[\p{L}\p{N}_\-./()（）〔〕[\]]{1,64}$/u;
const AREA_CODE = /^\d{6}$/;
const MAX_REASON = 500;
const MAX_HOLDER_NAME = 200;
export const MAX_HOLDER_RESULTS = 200;

const STEP_TARGET: Readonly<Record<'revoke' | 'suspend' | 'resume', { from: readonly StoredLicenceStatus[]; to: StoredLicenceStatus; event: LicenceEvent['type'] }>> = {
  revoke: { from: ['active', 'suspended'], to: 'revoked', event: 'licence.revoked' },
  suspend: { from: ['active'], to: 'suspended', event: 'licence.suspended' },
  resume: { from: ['suspended'], to: 'active', event: 'licence.resumed' },
};

function fieldsInvalid(message: string): ZtError {
  return new ZtError('ZT_ERR_LICENCE_FIELDS_INVALID', message);
}

function optionalDate(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || !isValidDate(value)) throw fieldsInvalid(`${field} must be a date YYYY-MM-DD`);
  return value;
}

function addYears(date: string, years: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

/** The holder code type a code is, when the caller did not say: 111 for a valid resident ID number, else 001. */
export function holderCodeTypeOf(code: string): HolderCodeType {
  return isValidResidentId(String(code ?? '').trim().toUpperCase()) ? '111' : '001';
}

/** Reads the issue request's fields as sent (JSON or protobuf); throws ZT_ERR_REQUEST_INVALID on shape. */
export function readIssueInput(value: unknown): IssueInput {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'licence must be an object');
  const o = value as Record<string, unknown>;
  const holder = (o.holder ?? {}) as Record<string, unknown>;
  const str = (v: unknown, name: string): string | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw new ZtError('ZT_ERR_REQUEST_INVALID', `${name} must be a string`);
    return v.trim();
  };
  const input: IssueInput = {
    typeCode: (str(o.typeCode, 'typeCode') ?? '').toUpperCase(),
    issuer: (str(o.issuer, 'issuer') ?? '').toUpperCase(),
    holder: { name: str(holder.name, 'holder.name') ?? '', code: (str(holder.code, 'holder.code') ?? '').toUpperCase() },
    fields: (o.fields && typeof o.fields === 'object' && !Array.isArray(o.fields) ? o.fields : {}) as Record<string, unknown>,
  };
  for (const k of ['licenceNumber', 'issueDate', 'validFrom', 'validTo', 'areaCode', 'sealName'] as const) {
    const v = str(o[k], k);
    if (v !== undefined) input[k] = v;
  }
  return input;
}

export class LicenceRegistry {
  readonly #o: LicenceRegistryOptions;
  readonly #clock: () => Date;
  readonly #cache: LRUCache<string, StoredLicence>;
  /** holder code|code type → identifiers of every version held. */
  readonly #holders: LRUCache<string, string[]>;
  /** type|licence number → identifiers, newest version first. */
  readonly #numbers: LRUCache<string, string[]>;
  /** issuer|list → the signed list and the revision it shows. */
  readonly #lists = new Map<string, { revision: number; credential: Promise<SignedStatusListCredential> }>();
  #types = new Map<string, LicenceType>();
  #stats = { hits: 0, misses: 0, invalidations: 0 };

  constructor(options: LicenceRegistryOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => new Date());
    const max = options.cacheSize ?? 100_000;
    this.#cache = new LRUCache({ max });
    this.#holders = new LRUCache({ max });
    this.#numbers = new LRUCache({ max });
  }

  get cacheStats(): { hits: number; misses: number; invalidations: number; size: number } {
    return { ...this.#stats, size: this.#cache.size };
  }

  /** Loads the licence types; call once at start (types change rarely and reload on their events). */
  async load(): Promise<void> {
    this.#types = new Map((await this.#o.store.types()).map((t) => [t.code, t]));
  }

  /** Subscribes this instance's caches to every instance's licence events. */
  async listen(bus: EventBus, instanceId: string): Promise<{ ready: Promise<void>; close(): Promise<void> }> {
    const subscription = await bus.subscribe({
      topics: [LICENCE_EVENTS_TOPIC],
      group: `licence-cache.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        const type = event.headers['zt-event-type'] ?? '';
        if (type === 'licence-type.defined') return this.load();
        if (type === LICENCE_BATCH_CONVERTED) {
          const batch = JSON.parse(event.value.toString('utf8')) as LicenceBatchConvertedEvent;
          for (const l of batch.licences) this.invalidateLookups({ ...l, typeCode: batch.typeCode });
          return;
        }
        if (type.startsWith('licence.')) this.invalidate(JSON.parse(event.value.toString('utf8')) as LicenceEvent);
      },
    });
    return subscription;
  }

  /**
   * Drops what this instance cached about the licence an event names. A cached copy whose status is already the
   * event's is kept: every step changes a licence's status, and its events come in order, so such a copy was read
   * after the event's change (as the instance that made the change reads it right after). Dropping it again would
   * end the sharing of its anonymous answer (licences/verification-service.ts) a second time, when the event arrives.
   */
  invalidate(event: Pick<LicenceEvent, 'identifier' | 'typeCode' | 'licenceNumber' | 'holderCode' | 'holderCodeType' | 'supersedes'> & { status?: StoredLicenceStatus }): void {
    this.#stats.invalidations++;
    if (event.status === undefined || this.#cache.peek(event.identifier)?.status !== event.status) this.#cache.delete(event.identifier);
    if ('issuerCode' in event) this.#lists.delete(`${(event as LicenceEvent).issuerCode}|${(event as LicenceEvent).listNo}`);
    if (event.supersedes) this.#cache.delete(event.supersedes);
    this.#holders.delete(`${event.holderCode}|${event.holderCodeType}`);
    this.#numbers.delete(`${event.typeCode}|${event.licenceNumber}`);
  }

  // ---- types ----

  /**
   * Defines a type as the platform operator, over the API: the definition must be signed with a certificate of the
   * platform's USCC (licenceTypeStatement), since naming a type's issuers grants them the right to issue.
   */
  async defineTypeSigned(value: unknown, proof: unknown): Promise<LicenceType> {
    const type = readLicenceType(value);
    const evidence = await verifySignedStep(this.#o.signatures, {
      kind: 'licence-type',
      what: `definition of licence type ${type.code}`,
      actor: this.#o.typeAuthority,
      statement: (actor) => licenceTypeStatement(type, actor),
      proof,
    });
    return this.#defineType(type, (tx) => this.#o.store.recordStatement(tx, evidence));
  }

  /** Defines a type from inside the platform (the demo seed, tools on the database): no signature. */
  defineType(value: unknown): Promise<LicenceType> {
    return this.#defineType(readLicenceType(value));
  }

  async #defineType(type: LicenceType, within?: (tx: Queryable) => Promise<void>): Promise<LicenceType> {
    await this.#o.db.transaction(async (tx) => {
      await this.#o.store.insertType(tx, type);
      if (within) await within(tx);
      await enqueueEvent(tx, LICENCE_EVENTS_TOPIC, { key: type.code, value: JSON.stringify({ type: 'licence-type.defined', licenceType: type }), headers: { 'zt-event-type': 'licence-type.defined' } });
    });
    this.#o.onOutboxWrite?.();
    this.#types.set(type.code, type);
    return type;
  }

  types(): LicenceType[] {
    return [...this.#types.values()];
  }

  type(code: string): LicenceType {
    const type = this.#types.get(String(code).toUpperCase());
    if (!type) throw new ZtError('ZT_ERR_LICENCE_TYPE_UNKNOWN', `no licence type has code ${JSON.stringify(code)}`);
    return type;
  }

  // ---- lookups (cached) ----

  /** A licence version by identifier; ZT_ERR_LICENCE_IDENTIFIER_* for a malformed one, ZT_ERR_LICENCE_NOT_FOUND. */
  async get(identifier: string): Promise<StoredLicence> {
    const cached = this.#cache.get(identifier);
    if (cached) {
      this.#stats.hits++;
      return cached;
    }
    // A non-standard check character may belong to a licence converted from another region's stock (flagged there);
    // if no such licence is held, the check character is what is wrong.
    const parsed = parseLicenceIdentifier(identifier, { lenient: true });
    this.#stats.misses++;
    const stored = await this.#o.store.get(identifier);
    if (!stored) {
      if (parsed.nonStandardCheck) parseLicenceIdentifier(identifier);
      throw new ZtError('ZT_ERR_LICENCE_NOT_FOUND', `no licence has identifier ${identifier}`);
    }
    this.#cache.set(identifier, stored);
    return stored;
  }

  /** A holder's licences (every version), optionally of one type. */
  async byHolder(code: string, codeType: string, typeCode: string | null): Promise<StoredLicence[]> {
    const holderCode = String(code ?? '').trim().toUpperCase();
    if (codeType !== '111' && codeType !== '001') throw new ZtError('ZT_ERR_REQUEST_INVALID', 'holderCodeType must be 111 (resident ID number) or 001 (USCC)');
    if (!isValidHolderCode(codeType === '111' ? 'person' : 'organisation', holderCode)) {
      throw new ZtError('ZT_ERR_LICENCE_HOLDER_INVALID', `${holderCode} is not a valid ${codeType === '111' ? 'resident ID number' : 'unified social credit code'}`);
    }
    if (typeCode) this.type(typeCode);
    const key = `${holderCode}|${codeType}`;
    let ids = this.#holders.get(key);
    if (!ids) {
      const found = await this.#o.store.byHolder(holderCode, codeType, null, MAX_HOLDER_RESULTS);
      for (const l of found) this.#cache.set(l.identifier, l);
      ids = found.map((l) => l.identifier);
      this.#holders.set(key, ids);
    }
    const licences = await Promise.all(ids.map((id) => this.get(id)));
    return typeCode ? licences.filter((l) => l.typeCode === typeCode.toUpperCase()) : licences;
  }

  /** The versions of a licence number of a type, newest first; ZT_ERR_LICENCE_NOT_FOUND when there are none. */
  async byNumber(typeCode: string, licenceNumber: string): Promise<StoredLicence[]> {
    const type = this.type(typeCode);
    const key = `${type.code}|${licenceNumber}`;
    let ids = this.#numbers.get(key);
    if (!ids) {
      const found = await this.#o.store.byNumber(type.code, licenceNumber);
      for (const l of found) this.#cache.set(l.identifier, l);
      ids = found.map((l) => l.identifier);
      if (ids.length > 0) this.#numbers.set(key, ids);
    }
    if (ids.length === 0) throw new ZtError('ZT_ERR_LICENCE_NOT_FOUND', `no ${type.name} numbered ${licenceNumber}`);
    return Promise.all(ids.map((id) => this.get(id)));
  }

  history(identifier: string): Promise<LicenceTransitionRecord[]> {
    return this.get(identifier).then(() => this.#o.store.history(identifier));
  }

  // ---- issue ----

  /** Issues a licence signed by its issuing department; returns the stored version. */
  async issue(input: IssueInput, proof: unknown): Promise<StoredLicence> {
    const type = this.type(input.typeCode);
    const issuer = input.issuer;
    if (!type.issuers.includes(issuer)) {
      throw new ZtError('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', `${issuer || 'the caller'} may not issue ${type.name} (${type.code}); its issuers are ${type.issuers.join(', ')}`);
    }
    const checked = this.#checkIssue(type, input);
    const evidence = await verifySignedStep(this.#o.signatures, {
      kind: 'licence-issue',
      what: `issue of a ${type.name}`,
      actor: issuer,
      statement: (actor) => licenceStepStatement({ kind: 'issue', actor, content: input }),
      proof,
    });
    const issuerName = (await this.#o.departments.get(issuer)).name;
    const { list, firstCounter } = await this.#o.store.allocateStatus(issuer, 1);
    const now = this.#clock();
    const serial = `${chinaDate(now).replaceAll('-', '')}${String(randomInt(0, 1e10)).padStart(10, '0')}`;
    const id = makeLicenceIdentifier({ typeCode: type.code, issuerCode: issuer, serial, version: 1 });
    const document: LicenceDocument = {
      schema: LICENCE_DOCUMENT_SCHEMA,
      identifier: id.text,
      name: type.name,
      typeCode: type.code,
      typeName: type.name,
      licenceNumber: input.licenceNumber ?? serial,
      issuer: { code: issuer, name: issuerName },
      issueDate: checked.issueDate,
      holder: { name: input.holder.name, code: input.holder.code, codeType: HOLDER_CODE_TYPE[type.holderKind] },
      validFrom: checked.validFrom,
      ...(checked.validTo ? { validTo: checked.validTo } : {}),
      areaCode: checked.areaCode,
      seal: { signer: issuerName, signedAt: now.toISOString(), name: input.sealName ?? `${issuerName}电子证照专用章` },
      version: 1,
      fields: checked.fields,
      status: { list: this.statusListUrl(issuer, list.listNo), index: statusIndex(list.permKey, firstCounter, list.size) },
    };
    const stored = await this.#store(document, { listNo: list.listNo, source: 'issued', supersedes: null, flags: [] }, async (tx, licence) => {
      await this.#o.store.recordStatement(tx, evidence);
      await this.#o.store.appendTransition(tx, { identifier: licence.identifier, kind: 'issue', actor: issuer, reason: null, from: null, to: 'active' }, evidence.key);
      await this.#event(tx, 'licence.issued', licence);
    });
    return stored;
  }

  #checkIssue(type: LicenceType, input: IssueInput): { issueDate: string; validFrom: string; validTo: string | undefined; areaCode: string; fields: Record<string, LicenceFieldValue> } {
    const holderName = input.holder.name;
    if (!holderName || holderName.length > MAX_HOLDER_NAME) throw new ZtError('ZT_ERR_LICENCE_HOLDER_INVALID', `holder.name must have 1 to ${MAX_HOLDER_NAME} characters`);
    if (!isValidHolderCode(type.holderKind, input.holder.code)) {
      throw new ZtError(
        'ZT_ERR_LICENCE_HOLDER_INVALID',
        type.holderKind === 'person'
          ? `${type.name} is held by a person: ${JSON.stringify(input.holder.code)} is not a valid resident ID number (GB 11643)`
          : `${type.name} is held by an organisation: ${JSON.stringify(input.holder.code)} is not a valid unified social credit code (GB 32100)`,
      );
    }
    if (input.licenceNumber !== undefined && !LICENCE_NUMBER.test(input.licenceNumber)) throw fieldsInvalid('licenceNumber must be 1 to 64 letters, digits or _-./() characters');
    const today = chinaDate(this.#clock());
    const issueDate = optionalDate(input.issueDate, 'issueDate') ?? today;
    const validFrom = optionalDate(input.validFrom, 'validFrom') ?? issueDate;
    const validTo = optionalDate(input.validTo, 'validTo') ?? (type.validityYears ? addYears(validFrom, type.validityYears) : undefined);
    if (validTo !== undefined && validTo < validFrom) throw fieldsInvalid(`validTo ${validTo} is before validFrom ${validFrom}`);
    const areaCode = input.areaCode ?? input.issuer.slice(2, 8);
    if (!AREA_CODE.test(areaCode)) throw fieldsInvalid('areaCode must be a 6-digit area code');
    return { issueDate, validFrom, validTo, areaCode, fields: readLicenceFields(type, input.fields) };
  }

  /** Signs the document with the platform key and stores it with whatever else the step writes, in one transaction. */
  async #store(
    document: LicenceDocument,
    meta: { listNo: number; source: 'issued' | 'converted'; supersedes: string | null; flags: string[] },
    within: (tx: Queryable, licence: StoredLicence) => Promise<void>,
  ): Promise<StoredLicence> {
    const bytes = licenceDocumentBytes(document);
    const envelope = await signEnvelope(await this.#o.signer(), bytes);
    const id = parseLicenceIdentifier(document.identifier, { lenient: true });
    const now = this.#clock();
    const licence: StoredLicence = {
      identifier: document.identifier,
      typeCode: document.typeCode,
      issuerCode: id.issuerCode,
      serial: id.serial,
      version: document.version,
      licenceNumber: document.licenceNumber,
      holderCode: document.holder.code,
      holderCodeType: document.holder.codeType,
      holderName: document.holder.name,
      status: 'active',
      validFrom: document.validFrom,
      validTo: document.validTo ?? null,
      document: bytes,
      documentSm3: sm3(bytes),
      envelope: envelopeToJson(envelope),
      listNo: meta.listNo,
      statusIndex: document.status.index,
      supersedes: meta.supersedes,
      supersededBy: null,
      source: meta.source,
      flags: meta.flags,
      issuedAt: now,
      updatedAt: now,
    };
    await this.#o.db.transaction(async (tx) => {
      await this.#o.store.insert(tx, licence);
      await within(tx, licence);
    });
    this.#o.onOutboxWrite?.();
    this.#cache.set(licence.identifier, licence);
    this.invalidateLookups(licence);
    return licence;
  }

  invalidateLookups(l: Pick<StoredLicence, 'holderCode' | 'holderCodeType' | 'typeCode' | 'licenceNumber'>): void {
    this.#holders.delete(`${l.holderCode}|${l.holderCodeType}`);
    this.#numbers.delete(`${l.typeCode}|${l.licenceNumber}`);
  }

  async #event(tx: Queryable, type: LicenceEvent['type'], l: StoredLicence, status: StoredLicenceStatus = l.status, supersedes?: string): Promise<void> {
    const event: LicenceEvent = {
      type,
      identifier: l.identifier,
      typeCode: l.typeCode,
      licenceNumber: l.licenceNumber,
      holderCode: l.holderCode,
      holderCodeType: l.holderCodeType,
      issuerCode: l.issuerCode,
      listNo: l.listNo,
      status,
      ...(supersedes ? { supersedes } : {}),
    };
    await enqueueEvent(tx, LICENCE_EVENTS_TOPIC, { key: l.identifier, value: JSON.stringify(event), headers: { 'zt-event-type': type } });
  }

  /**
   * The issuer's signed status list (W3C Bitstring Status List), rebuilt when its revision moved: each status
   * change bumps it, and every instance drops its copy when the change's event arrives.
   */
  async statusList(issuerCode: string, listNo: number): Promise<{ revision: number; credential: SignedStatusListCredential }> {
    const key = `${issuerCode}|${listNo}`;
    const revision = await this.#o.store.statusListRevision(issuerCode, listNo);
    if (revision === null) throw new ZtError('ZT_ERR_LICENCE_NOT_FOUND', `issuer ${issuerCode} has no status list ${listNo}`);
    const cached = this.#lists.get(key);
    if (cached && cached.revision === revision) {
      const credential = await cached.credential;
      if (Date.parse(credential.validUntil) - this.#clock().getTime() > 3600_000) return { revision, credential };
    }
    const building = (async () => {
      const state = await this.#o.store.statusList(issuerCode, listNo);
      if (!state) throw new ZtError('ZT_ERR_LICENCE_NOT_FOUND', `issuer ${issuerCode} has no status list ${listNo}`);
      const name = await this.#o.departments.get(issuerCode).then((d) => d.name, () => issuerCode);
      return publishStatusList(await this.#o.signer(), {
        url: this.statusListUrl(issuerCode, listNo),
        issuer: { code: issuerCode, name },
        size: state.size,
        entries: state.entries,
        revision: state.revision,
        validFrom: this.#clock(),
      });
    })();
    this.#lists.set(key, { revision, credential: building });
    building.catch(() => this.#lists.delete(key));
    return { revision, credential: await building };
  }

  statusListUrl(issuerCode: string, listNo: number): string {
    return `${this.#o.publicUrl.replace(/\/$/, '')}/v1/licence-status-lists/${issuerCode}/${listNo}`;
  }

  // ---- lifecycle ----

  /** Revokes (注销), suspends or resumes a licence version, as the issuing department. */
  async setStatus(kind: 'revoke' | 'suspend' | 'resume', identifier: string, input: StepInput, proof: unknown): Promise<StoredLicence> {
    const current = await this.get(identifier);
    const type = this.type(current.typeCode);
    const actor = this.#authorised(type, input.actor);
    const reason = readReason(input.reason, kind !== 'resume');
    const evidence = await this.#verifyStep(kind, identifier, actor, input, proof);
    const target = STEP_TARGET[kind];
    let updated: StoredLicence | undefined;
    await this.#o.db.transaction(async (tx) => {
      const locked = await this.#o.store.lock(tx, identifier);
      if (!locked) throw new ZtError('ZT_ERR_LICENCE_NOT_FOUND', `no licence has identifier ${identifier}`);
      if (!target.from.includes(locked.status)) {
        throw new ZtError('ZT_ERR_LICENCE_STATE', `licence ${identifier} is ${locked.status}; ${kind} needs it ${target.from.join(' or ')}`);
      }
      await this.#o.store.setStatus(tx, identifier, target.to);
      await this.#o.store.bumpRevision(tx, locked.issuerCode, locked.listNo);
      await this.#o.store.recordStatement(tx, evidence);
      await this.#o.store.appendTransition(tx, { identifier, kind, actor, reason, from: locked.status, to: target.to }, evidence.key);
      updated = { ...locked, status: target.to, updatedAt: this.#clock() };
      await this.#event(tx, target.event, updated);
    });
    this.#o.onOutboxWrite?.();
    this.#cache.delete(identifier);
    this.invalidateLookups(updated!);
    return updated!;
  }

  /** A new version (change: fields or holder name; renew: a new end date) that supersedes the current one. */
  async newVersion(kind: 'change' | 'renew', identifier: string, input: StepInput, proof: unknown): Promise<StoredLicence> {
    const current = await this.get(identifier);
    const type = this.type(current.typeCode);
    const actor = this.#authorised(type, input.actor);
    const reason = readReason(input.reason, true);
    if (current.status === 'revoked' || current.status === 'superseded') {
      throw new ZtError('ZT_ERR_LICENCE_STATE', `licence ${identifier} is ${current.status}${current.supersededBy ? ` by ${current.supersededBy}` : ''}; only the current version can be ${kind === 'change' ? 'changed' : 'renewed'}`);
    }
    const previous = JSON.parse(current.document.toString('utf8')) as LicenceDocument;
    const validTo = optionalDate(input.validTo, 'validTo');
    if (kind === 'renew' && !validTo) throw fieldsInvalid('a renewal names the new end date (validTo)');
    if (kind === 'change' && input.fields === undefined && input.holderName === undefined && validTo === undefined) {
      throw fieldsInvalid('a change names what changes: fields, holderName or validTo');
    }
    const fields = kind === 'change' && input.fields ? readLicenceFields(type, { ...previous.fields, ...input.fields }) : previous.fields;
    const holderName = input.holderName?.trim() || previous.holder.name;
    if (holderName.length > MAX_HOLDER_NAME) throw new ZtError('ZT_ERR_LICENCE_HOLDER_INVALID', `holder name must have at most ${MAX_HOLDER_NAME} characters`);
    const newValidTo = validTo ?? previous.validTo;
    if (newValidTo !== undefined && newValidTo < previous.validFrom) throw fieldsInvalid(`validTo ${newValidTo} is before validFrom ${previous.validFrom}`);
    if (current.version >= 999) throw new ZtError('ZT_ERR_LICENCE_STATE', `licence ${identifier} is at version 999, the last GB/T 36904 allows`);
    const evidence = await this.#verifyStep(kind, identifier, actor, input, proof);
    const { list, firstCounter } = await this.#o.store.allocateStatus(current.issuerCode, 1);
    const now = this.#clock();
    const id = makeLicenceIdentifier({ typeCode: current.typeCode, issuerCode: current.issuerCode, serial: current.serial, version: current.version + 1 });
    const issuerName = (await this.#o.departments.get(actor)).name;
    const document: LicenceDocument = {
      ...previous,
      identifier: id.text,
      issueDate: chinaDate(now),
      holder: { ...previous.holder, name: holderName },
      seal: { signer: issuerName, signedAt: now.toISOString(), name: previous.seal.name },
      version: current.version + 1,
      supersedes: identifier,
      fields,
      status: { list: this.statusListUrl(current.issuerCode, list.listNo), index: statusIndex(list.permKey, firstCounter, list.size) },
    };
    if (newValidTo === undefined) delete document.validTo;
    else document.validTo = newValidTo;
    const stored = await this.#store(document, { listNo: list.listNo, source: current.source, supersedes: identifier, flags: current.flags }, async (tx, licence) => {
      const locked = await this.#o.store.lock(tx, identifier);
      if (!locked || locked.status === 'revoked' || locked.status === 'superseded') {
        throw new ZtError('ZT_ERR_LICENCE_STATE', `licence ${identifier} is ${locked?.status ?? 'gone'}; only the current version can be ${kind === 'change' ? 'changed' : 'renewed'}`);
      }
      await this.#o.store.setStatus(tx, identifier, 'superseded', licence.identifier);
      await this.#o.store.bumpRevision(tx, locked.issuerCode, locked.listNo);
      await this.#o.store.recordStatement(tx, evidence);
      await this.#o.store.appendTransition(tx, { identifier, kind, actor, reason, from: locked.status, to: 'superseded' }, evidence.key);
      await this.#o.store.appendTransition(tx, { identifier: licence.identifier, kind, actor, reason, from: null, to: 'active' }, evidence.key);
      await this.#event(tx, kind === 'change' ? 'licence.changed' : 'licence.renewed', licence, 'active', identifier);
    });
    this.#cache.delete(identifier);
    return stored;
  }

  #authorised(type: LicenceType, actor: string): string {
    const uscc = String(actor ?? '').trim().toUpperCase();
    if (!type.issuers.includes(uscc)) {
      throw new ZtError('ZT_ERR_LICENCE_ISSUER_NOT_AUTHORISED', `${uscc || 'the caller'} may not change ${type.name} licences; its issuers are ${type.issuers.join(', ')}`);
    }
    return uscc;
  }

  #verifyStep(kind: Exclude<LicenceStepKind, 'issue'>, identifier: string, actor: string, input: StepInput, proof: unknown): Promise<SignedStepEvidence<string>> {
    const content: Record<string, unknown> = {};
    for (const f of LICENCE_STEP_FIELDS[kind]) content[f] = (input as unknown as Record<string, unknown>)[f];
    return verifySignedStep(this.#o.signatures, {
      kind: `licence-${kind}`,
      what: `${kind} of licence ${identifier}`,
      actor,
      statement: (a) => licenceStepStatement({ kind, identifier, actor: a, content }),
      proof,
    });
  }
}

function readReason(value: unknown, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) throw new ZtError('ZT_ERR_REQUEST_INVALID', 'reason is required for this step (事由)');
    return null;
  }
  if (typeof value !== 'string' || value.length > MAX_REASON) throw new ZtError('ZT_ERR_REQUEST_INVALID', `reason must be text of at most ${MAX_REASON} characters`);
  return value.trim();
}
