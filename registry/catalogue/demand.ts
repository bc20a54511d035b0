// Demand lists (需求清单) and the application–reply procedure (申请–答复): a department registers what it needs, and
// the resource's sharing class decides what happens next. Unconditional resources are granted at once; conditional
// ones wait for the supplier's reply (approve, optionally with terms, or refuse citing a basis) within a deadline
// in working days; not-shared resources are refused at once on the resource's own legal basis.
import { randomBytes } from 'node:crypto';
import type { EnvelopeJson } from '../../certs/envelope/index.js';
import { ZtError } from '../../core/errors/index.js';
import { assertUscc } from '../departments/department.js';
import { assertItemsKnown, normaliseLegalBasis, type DataResource, type LegalBasis, type LegalBasisInput, type SharingClass } from './resource.js';
import { isIsoDate } from './working-days.js';

export const DEMAND_STATES = ['granted', 'pending', 'approved', 'refused', 'withdrawn', 'expired'] as const;
export type DemandState = (typeof DEMAND_STATES)[number];

/** What the supplier's approval allows, when narrower than the demand. Null fields: as demanded. */
export interface DemandTerms {
  /** A subset of the demanded items. */
  items: string[] | null;
  /** At most this many calls per day. */
  dailyQuota: number | null;
  /** Access ends after this date, before the demand's own validTo. */
  validUntil: string | null;
}

/** Why a demand was refused: a negative-list entry (负面清单) or a legal basis, at least one. */
export interface Refusal {
  negativeListRuleId: string | null;
  legalBasis: LegalBasis | null;
  reason: string | null;
  /** True when the catalogue refused it (a not-shared resource), not the supplier. */
  automatic: boolean;
}

export interface Demand {
  id: string;
  /** USCC of the department that needs the data. */
  requester: string;
  /** USCC of the supplier (the resource's provider). */
  provider: string;
  resource: string;
  items: string[];
  /** Code of the service item (事项编码) the data is needed for. */
  serviceItem: string;
  legalBasis: LegalBasis;
  expectedDailyVolume: number;
  validFrom: string;
  validTo: string;
  state: DemandState;
  /** Last working day for the supplier's reply (pending demands). */
  replyDue: string | null;
  /** Pending past replyDue (computed when read). */
  overdue: boolean;
  terms: DemandTerms | null;
  refusal: Refusal | null;
  createdAt: Date;
}

/** One step of a demand's history; the history is append-only. */
export interface DemandTransition {
  demandId: string;
  seq: number;
  from: DemandState | null;
  to: DemandState;
  /** USCC of the acting department; null for the platform itself (expiry). */
  actor: string | null;
  at: Date;
  detail: Record<string, unknown>;
  /** The acting department's signature over the step; null for the platform's own steps (expiry). */
  signature: TransitionSignature | null;
}

/** A verified signature kept with a transition: the statement, its envelope and the certificate it verified with. */
export interface TransitionSignature {
  /** SM3(signature ‖ SM3(statement)), hex; several transitions share it when one statement covered them (an import). */
  statementKey: string;
  /** The canonical statement that was signed (registry/catalogue/signed-transitions.ts). */
  statement: string;
  /** The signed envelope in its JSON form (docs/envelope.md). */
  envelope: EnvelopeJson;
  certificateSm3: string;
  certificateSerial: string;
  signedAt: Date;
}

export interface DemandRegistration {
  requester: string;
  resource: string;
  items: readonly string[];
  serviceItem: string;
  legalBasis: LegalBasisInput;
  expectedDailyVolume: number;
  /** Defaults to the day of registration. */
  validFrom?: string | null;
  validTo: string;
}

export interface TermsInput {
  items?: readonly string[] | null;
  dailyQuota?: number | null;
  validUntil?: string | null;
}

export interface RefusalInput {
  negativeListRuleId?: string | null;
  legalBasis?: LegalBasisInput | null;
  reason?: string | null;
}

export type NewDemand = Omit<Demand, 'overdue' | 'createdAt' | 'provider'> & { createdAt: Date };

// ---------------------------------------------------------------------------------------------------------------
// The state machine.

export type DemandAction = 'approve' | 'refuse' | 'withdraw' | 'expire';
export type Party = 'provider' | 'requester' | 'platform';

interface Rule {
  from: readonly DemandState[];
  to: DemandState;
  by: Party;
}

export const TRANSITIONS: Readonly<Record<DemandAction, Rule>> = {
  approve: { from: ['pending'], to: 'approved', by: 'provider' },
  refuse: { from: ['pending'], to: 'refused', by: 'provider' },
  withdraw: { from: ['pending', 'granted', 'approved'], to: 'withdrawn', by: 'requester' },
  expire: { from: ['granted', 'approved'], to: 'expired', by: 'platform' },
};

/** Where a new demand starts: the sharing class decides. */
export function initialState(sharingClass: SharingClass): DemandState {
  switch (sharingClass) {
    case 'unconditional':
      return 'granted';
    case 'conditional':
      return 'pending';
    case 'not-shared':
      return 'refused';
  }
}

/** The state after `action`, or ZT_ERR_DEMAND_STATE when the action is not allowed from `state`. */
export function nextState(state: DemandState, action: DemandAction, demandId = 'the demand'): DemandState {
  const rule = TRANSITIONS[action];
  if (!rule.from.includes(state)) {
    throw new ZtError('ZT_ERR_DEMAND_STATE', `cannot ${action} demand ${demandId}: it is ${state}; ${action} needs ${rule.from.join(' or ')}`, {
      details: { state, action, allowedFrom: rule.from },
    });
  }
  return rule.to;
}

/** Only the supplier replies, and only the requester withdraws: 403 ZT_ERR_NOT_A_PARTY otherwise (acting outside its rights). */
export function assertParty(action: DemandAction, actor: string, demand: Pick<Demand, 'id' | 'requester' | 'provider'>): void {
  const rule = TRANSITIONS[action];
  const expected = rule.by === 'provider' ? demand.provider : rule.by === 'requester' ? demand.requester : null;
  if (expected !== actor) {
    const who = rule.by === 'provider' ? `the supplier of the resource (${demand.provider})` : rule.by === 'requester' ? `the requesting department (${demand.requester})` : 'the platform';
    throw new ZtError('ZT_ERR_NOT_A_PARTY', `only ${who} may ${action} demand ${demand.id}; ${actor} may not`, {
      details: { action, actor, expectedActor: expected },
    });
  }
}

/** A pending demand whose reply deadline has passed (in China's calendar date `today`). */
export function isOverdue(demand: Pick<Demand, 'state' | 'replyDue'>, today: string): boolean {
  return demand.state === 'pending' && demand.replyDue !== null && demand.replyDue < today;
}

/** The last day access is allowed: the approval's validUntil when given, else the demand's validTo. */
export function accessEnds(demand: Pick<Demand, 'validTo' | 'terms'>): string {
  return demand.terms?.validUntil ?? demand.validTo;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation.

export const SERVICE_ITEM_CODE = /^[0-9A-Za-z][0-9A-Za-z-]{3,63}$/;
export const NEGATIVE_LIST_RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const MAX_DAILY_VOLUME = 1_000_000_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function invalid(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

function date(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isIsoDate(value)) throw invalid(`${field} must be a date YYYY-MM-DD; got ${JSON.stringify(value)}`);
  return value;
}

function count(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DAILY_VOLUME) {
    throw invalid(`${field} must be a whole number from ${min} to ${MAX_DAILY_VOLUME}; got ${JSON.stringify(value)}`);
  }
  return value;
}

function itemCodes(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${field} must list at least one data item code`);
  const codes = value.map((v) => (typeof v === 'string' ? v.trim() : ''));
  if (codes.some((c) => c === '')) throw invalid(`${field} must be data item codes`);
  return [...new Set(codes)];
}

export function assertDemandId(id: string): void {
  if (!UUID.test(id)) throw invalid(`${JSON.stringify(id)} is not a demand id (a lower-case UUID)`);
}

let lastMs = -1;
let counter = 0;
const COUNTER_MAX = 2 ** 26 - 1;

/**
 * A time-ordered UUID (version 7): ids sort by registration time, which lists and cursors rely on. Within one
 * millisecond a 26-bit counter (rand_a and the top of rand_b, RFC 9562 6.2 method 1, from a random start) keeps the
 * ids this process makes in the order it made them, even for an import of many rows at one instant.
 */
export function newDemandId(at: Date): string {
  const b = randomBytes(16);
  const ms = Math.max(0, at.getTime());
  if (ms === lastMs && counter < COUNTER_MAX) counter++;
  else counter = b.readUInt32BE(6) >>> 7; // 25 random bits: room to count
  lastMs = ms;
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (counter >>> 22);
  b[7] = (counter >>> 14) & 0xff;
  b[8] = 0x80 | ((counter >>> 8) & 0x3f);
  b[9] = counter & 0xff;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A registration checked on its own (shape, codes, dates): what needs no database. */
export interface CheckedRegistration {
  requester: string;
  resource: string;
  items: string[];
  serviceItem: string;
  legalBasis: LegalBasis;
  expectedDailyVolume: number;
  validFrom: string;
  validTo: string;
}

export function normaliseRegistration(input: DemandRegistration, today: string): CheckedRegistration {
  if (!input || typeof input !== 'object') throw invalid('a demand must be an object');
  const requester = typeof input.requester === 'string' ? input.requester.trim().toUpperCase() : '';
  assertUscc(requester);
  const resource = typeof input.resource === 'string' ? input.resource.trim() : '';
  if (resource === '') throw invalid('resource must be the code of a data resource');
  const serviceItem = typeof input.serviceItem === 'string' ? input.serviceItem.trim() : '';
  if (!SERVICE_ITEM_CODE.test(serviceItem)) {
    throw invalid(`serviceItem must be a service item code (事项编码): 4 to 64 letters, digits or '-'; got ${JSON.stringify(input.serviceItem)}`);
  }
  const validFrom = input.validFrom === undefined || input.validFrom === null || input.validFrom === '' ? today : date(input.validFrom, 'validFrom');
  const validTo = date(input.validTo, 'validTo');
  if (validTo < validFrom) throw invalid(`validTo (${validTo}) is before validFrom (${validFrom})`);
  if (validTo < today) throw invalid(`validTo (${validTo}) has already passed`);
  return {
    requester,
    resource,
    items: itemCodes(input.items, 'items'),
    serviceItem,
    legalBasis: normaliseLegalBasis(input.legalBasis),
    expectedDailyVolume: count(input.expectedDailyVolume, 'expectedDailyVolume', 0),
    validFrom,
    validTo,
  };
}

/** Checks a registration against the resource it asks for. */
export function assertRegistrationFits(reg: CheckedRegistration, resource: Pick<DataResource, 'code' | 'items' | 'provider'>): void {
  assertItemsKnown(resource, reg.items);
  if (resource.provider === reg.requester) {
    throw invalid(`department ${reg.requester} supplies ${resource.code} itself; a demand is for another department's data`);
  }
}

/** Approval terms may narrow a demand (fewer items, a quota, an earlier end), never widen it. */
export function normaliseTerms(
  input: TermsInput | null | undefined,
  demand: Pick<Demand, 'id' | 'items' | 'validTo'>,
  resource: Pick<DataResource, 'code' | 'items'>,
  today: string,
): DemandTerms | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'object') throw invalid('terms must be an object { items?, dailyQuota?, validUntil? }');
  let items: string[] | null = null;
  if (input.items !== undefined && input.items !== null) {
    items = itemCodes(input.items, 'terms.items');
    assertItemsKnown(resource, items);
    const extra = items.filter((c) => !demand.items.includes(c));
    if (extra.length > 0) throw invalid(`terms.items may only narrow the demanded items; ${extra.join(', ')} ${extra.length > 1 ? 'were' : 'was'} not demanded`);
  }
  const dailyQuota = input.dailyQuota === undefined || input.dailyQuota === null ? null : count(input.dailyQuota, 'terms.dailyQuota', 1);
  let validUntil: string | null = null;
  if (input.validUntil !== undefined && input.validUntil !== null) {
    validUntil = date(input.validUntil, 'terms.validUntil');
    if (validUntil < today) throw invalid(`terms.validUntil (${validUntil}) has already passed`);
    if (validUntil > demand.validTo) throw invalid(`terms.validUntil (${validUntil}) is after the demand's validTo (${demand.validTo}); terms may only shorten it`);
  }
  if (items === null && dailyQuota === null && validUntil === null) return null;
  return { items, dailyQuota, validUntil };
}

/** A refusal must cite a negative-list entry or a legal basis: ZT_ERR_REFUSAL_BASIS_MISSING otherwise. */
export function normaliseRefusal(input: RefusalInput | null | undefined, demandId: string): Refusal {
  const ruleId = typeof input?.negativeListRuleId === 'string' ? input.negativeListRuleId.trim() : '';
  const hasBasis = input?.legalBasis !== undefined && input?.legalBasis !== null;
  if (ruleId === '' && !hasBasis) {
    throw new ZtError(
      'ZT_ERR_REFUSAL_BASIS_MISSING',
      `refusing demand ${demandId} needs a basis: negativeListRuleId (an entry of the negative list, 负面清单) or legalBasis { title, article? }`,
    );
  }
  if (ruleId !== '' && !NEGATIVE_LIST_RULE_ID.test(ruleId)) throw invalid(`negativeListRuleId ${JSON.stringify(ruleId)} is not a rule id`);
  const reason = typeof input?.reason === 'string' && input.reason.trim() !== '' ? input.reason.trim() : null;
  if (reason !== null && reason.length > 1000) throw invalid('reason must have at most 1000 characters');
  return {
    negativeListRuleId: ruleId === '' ? null : ruleId,
    legalBasis: hasBasis ? normaliseLegalBasis(input!.legalBasis) : null,
    reason,
    automatic: false,
  };
}
