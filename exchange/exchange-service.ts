// The real-time exchange (实时共享交换), protocol-free: HTTP and gRPC hand it the raw body, the parsed request and a
// way to read the signature parts; it checks them in the order of docs/exchange-protocol.md, asks the grant index
// and the negative list, fetches from the supplier's connector, masks, signs the result (batch signer) and writes
// the access record before the answer is released. Every call that reaches it leaves exactly one record.
import { performance } from 'node:perf_hooks';
import { canonicalJson } from '../core/canonical-json.js';
import { isZtError, ZtError, type ErrorCode } from '../core/errors/index.js';
import { isValidResidentId, isValidUscc } from '../core/identifiers/index.js';
import type { AccessLogWriter, AccessRecordInput } from '../audit/index.js';
import { signEnvelope, type SignedEnvelope } from '../certs/envelope/index.js';
import { sm3 } from '../certs/sm2/sm2.js';
import { applyMasks, type Decision, type PolicyEngine } from '../policies/index.js';
import { chinaDate } from '../registry/catalogue/index.js';
import type { Logger } from '../core/logging/index.js';
import type { ConnectorRegistry } from './connectors/registry.js';
import type { GrantIndex, GrantLookup } from './grants.js';
import type { GrantUsage } from './grant-usage.js';
import type { NonceStore } from './nonce-store.js';
import type { SignedRequestVerifier, VerifiedCaller } from './signed-request.js';
import type { DeferredNonce, Verification, WhileVerifying } from '../transport/signed-call.js';
import type { Connector, ConnectorRecord } from './connectors/connector.js';
import type { PlatformSigner } from './platform-signer.js';
import type { PresentedSignature } from '../transport/request-signature.js';
import { EXCHANGE_RESULT_SCHEMA, type ExchangeResult } from './protocol/result.js';

export const RESULT_SCHEMA = EXCHANGE_RESULT_SCHEMA;
const MAX_ITEMS = 100;
const CASE_NUMBER = /^[\p{L}\p{N}_\-./:()（）〔〕[\]]{1,64}$/u;
const SERVICE_ITEM = /^[A-Za-z0-9-]{4,64}$/;
const QUERY_FIELDS: ReadonlySet<string> = new Set(['requester', 'resource', 'items', 'subject', 'purpose', 'operator']);

export interface QueryInput {
  requester: string;
  resource: string;
  items: string[];
  subject: { kind: 'person' | 'organisation'; code: string };
  purpose: { serviceItem: string; caseNumber: string };
  operator: string | null;
}

export interface ExchangeCall {
  protocol: 'http' | 'grpc';
  method: string;
  path: string;
  /** The body exactly as received. */
  body: Buffer;
  /** The decoded body: a JSON value (HTTP) or a protobufjs object with defaults (gRPC). */
  request: unknown;
  /** Reads the signature parts; throws ZT_ERR_REQUEST_UNSIGNED / _INVALID. */
  signature: () => PresentedSignature;
  /** The gateway's check of the signature, which the service takes instead of checking again (transport/signed-call.ts). */
  verification?: Verification | null;
}

/** The signed result (exchange/protocol/result.ts). */
export type QueryResult = ExchangeResult;

export interface ExchangeAnswer {
  result: QueryResult;
  /** canonicalJson(result), the bytes the envelope signs. */
  canonical: Buffer;
  signature: SignedEnvelope;
}

export interface ExchangeServiceOptions {
  /** Checks the signature, certificate, window and nonce (shared with the licence registry). */
  requests: SignedRequestVerifier;
  policy: () => PolicyEngine | null;
  grants: GrantIndex;
  usage: GrantUsage;
  /** The nonces the verifier claims; swept here. */
  nonces: NonceStore;
  connectors: ConnectorRegistry;
  log: AccessLogWriter;
  signer: () => Promise<PlatformSigner>;
  newAccessId: () => string;
  clock?: () => number;
  /** Where records that could not be written are reported. */
  logger?: Logger;
}

function invalid(message: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', message);
}

function text(value: unknown, field: string, max: number, required = true): string {
  if (value === undefined || value === null || value === '') {
    if (required) throw invalid(`${field} is required`);
    return '';
  }
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (value.length > max) throw invalid(`${field} must have at most ${max} characters`);
  return value;
}

/** The request's fields, checked for shape (the same for JSON and protobuf, where unset reads as '' or []). */
export function readQuery(value: unknown): QueryInput {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid('the request must be an object');
  const o = value as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !QUERY_FIELDS.has(k));
  if (extra.length > 0) throw invalid(`unknown field ${extra.join(', ')}`);
  if (!Array.isArray(o.items) || o.items.length === 0 || o.items.length > MAX_ITEMS) throw invalid(`items must list 1 to ${MAX_ITEMS} item codes`);
  const items = o.items.map((i, n) => text(i, `items[${n}]`, 64));
  const subject = (o.subject ?? null) as Record<string, unknown> | null;
  if (!subject || typeof subject !== 'object') throw invalid('subject is required: { kind, code }');
  const kind = text(subject.kind, 'subject.kind', 16);
  if (kind !== 'person' && kind !== 'organisation') throw invalid('subject.kind must be "person" or "organisation"');
  const purpose = (o.purpose ?? null) as Record<string, unknown> | null;
  if (!purpose || typeof purpose !== 'object') throw invalid('purpose is required: { serviceItem, caseNumber }');
  const serviceItem = text(purpose.serviceItem, 'purpose.serviceItem', 64);
  if (!SERVICE_ITEM.test(serviceItem)) throw invalid('purpose.serviceItem must be 4 to 64 letters, digits or "-"');
  const caseNumber = text(purpose.caseNumber, 'purpose.caseNumber', 64);
  if (!CASE_NUMBER.test(caseNumber)) throw invalid('purpose.caseNumber must be 1 to 64 letters, digits or _-./:() characters');
  const operator = text(o.operator, 'operator', 200, false);
  return {
    requester: text(o.requester, 'requester', 18).toUpperCase(),
    resource: text(o.resource, 'resource', 64),
    items: [...new Set(items)],
    subject: { kind, code: text(subject.code, 'subject.code', 18).toUpperCase() },
    purpose: { serviceItem, caseNumber },
    operator: operator === '' ? null : operator,
  };
}

/** What the access record knows so far; filled in as the checks pass. */
/** What a request that failed validation claimed, as far as it can be read: recorded as it came. */
interface ClaimedQuery {
  requester: string | null;
  operator: string | null;
  subjectKind: 'person' | 'organisation' | null;
  subjectCode: string | null;
  resource: string | null;
  items: string[] | null;
  serviceItem: string | null;
  caseNumber: string | null;
}

const claimedText = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Reads what it can of a request readQuery refused; never throws. */
function readClaimed(value: unknown): ClaimedQuery | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const subject = (o.subject && typeof o.subject === 'object' ? o.subject : {}) as Record<string, unknown>;
  const purpose = (o.purpose && typeof o.purpose === 'object' ? o.purpose : {}) as Record<string, unknown>;
  const kind = subject.kind === 'person' || subject.kind === 'organisation' ? subject.kind : null;
  return {
    requester: claimedText(o.requester),
    operator: claimedText(o.operator),
    subjectKind: kind,
    // A code without a kind it could be checked against is left out: the record cannot say whose it is.
    subjectCode: kind ? claimedText(subject.code) : null,
    resource: claimedText(o.resource),
    items: Array.isArray(o.items) ? o.items.filter((i): i is string => typeof i === 'string') : null,
    serviceItem: claimedText(purpose.serviceItem),
    caseNumber: claimedText(purpose.caseNumber),
  };
}

interface Trail {
  /** The id of the access record this call writes, whatever its outcome. */
  accessId: string;
  input: QueryInput | null;
  /** Set when the request failed validation: what it claimed. */
  claimed: ClaimedQuery | null;
  certificateSm3: Buffer | null;
  requestDigest: Buffer | null;
  certifiedRequester: string | null;
  decision: Decision | null;
  /** The request's nonce, when the service claims it with the access record (takeNonce). */
  nonce: DeferredNonce | null;
  /** Whether the nonce's claim was settled: committed with a record, claimed alone, or forgotten. */
  nonceSettled: boolean;
  /** Set once a record of this call is committed (a replay found by the record's own statement). */
  recorded: boolean;
}

/**
 * A connector read started while the request's signature was checked (ExchangeService.whileVerifying), with what it
 * read for: the answer uses it only for the same resource, subject and items.
 */
interface EarlyRead {
  readonly key: string;
  readonly read: Promise<{ connector: Connector; record: ConnectorRecord | null }>;
}

/** Whether the subject's code is valid for its kind: a resident ID number (GB 11643) or a USCC (GB 32100). */
const validSubject = (subject: QueryInput['subject']): boolean => (subject.kind === 'person' ? isValidResidentId(subject.code) : isValidUscc(subject.code));

const readKey = (resource: string, subject: QueryInput['subject'], items: readonly string[]): string =>
  JSON.stringify([resource, subject.kind, subject.code, items]);

const FAILURE_CODES: ReadonlySet<string> = new Set(['ZT_ERR_STORAGE_UNAVAILABLE', 'ZT_ERR_EVENTS_UNAVAILABLE', 'ZT_ERR_INTERNAL', 'ZT_ERR_SHUTTING_DOWN']);

export class ExchangeService {
  readonly #o: ExchangeServiceOptions;
  readonly #clock: () => number;

  /** Reads started while a request's signature was checked, by the request's bytes; taken by its answer. */
  readonly #earlyReads = new WeakMap<Buffer, EarlyRead>();

  constructor(options: ExchangeServiceOptions) {
    this.#o = options;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * The routes' WhileVerifying: starts the connector's read for a query whose certificate the gateway accepted, so
   * that it runs while the signature is checked instead of after it. Only what the answer would read: the
   * certificate must be the requester's, the grant index must hold a grant, the negative list must release items,
   * and the connector must read in place (the supplier's extract, held here); a supplier's own system is never
   * asked before the caller is known. The read leaves nothing behind: its record is released only by the answer,
   * after the signature, the nonce and every check of #decideAndFetch have passed again, and with the access
   * record committed; a refused request's read is dropped.
   */
  readonly whileVerifying: WhileVerifying = (call, certificate) => {
    let input: QueryInput;
    try {
      input = readQuery(call.request);
    } catch {
      return;
    }
    const { subject } = input;
    if (certificate.uscc !== input.requester || !validSubject(subject)) return;
    const engine = this.#o.policy();
    if (!engine) return;
    const { lookup, decision } = this.#decide(engine, input, new Date(this.#clock()));
    if (!lookup.grant || decision.items.length === 0) return;
    const items = decision.items.map((i) => i.code);
    const read = this.#o.connectors.forResource(input.resource).then(async (connector) => {
      if (!connector.readsInPlace) throw new Error('not read early: the connector calls the supplier');
      return { connector, record: await connector.fetch({ resource: input.resource, subject, items }) };
    });
    read.catch(() => undefined); // dropped with its request when that is refused
    this.#earlyReads.set(call.body, { key: readKey(input.resource, subject, items), read });
  };

  /** Answers one signed query, or throws the catalogue error that refuses it; either way the access is recorded. */
  async query(call: ExchangeCall): Promise<ExchangeAnswer> {
    const started = performance.now();
    const trail: Trail = {
      accessId: this.#o.newAccessId(),
      input: null,
      claimed: null,
      certificateSm3: null,
      requestDigest: null,
      certifiedRequester: null,
      decision: null,
      nonce: null,
      nonceSettled: false,
      recorded: false,
    };
    try {
      const answer = await this.#answer(call, trail, started);
      return answer;
    } catch (error) {
      const zt = isZtError(error) ? error : new ZtError('ZT_ERR_INTERNAL', 'the exchange failed', { cause: error });
      if (!trail.recorded) await this.#recordRefusal(call.protocol, trail, zt, started);
      throw zt;
    }
  }

  /**
   * One read on behalf of a signed request its caller has already verified (application intake's prefill: one
   * signed request from the intake department, several reads for one case). Everything after the signature is
   * query()'s own path: the subject check, the grant, the negative list, the quota, the connector, the masks and the
   * access record, bound to the verified request's digest and certificate. Refused reads are recorded and thrown.
   */
  async queryVerified(input: QueryInput, verified: VerifiedCaller): Promise<ExchangeAnswer> {
    const started = performance.now();
    const trail: Trail = {
      accessId: this.#o.newAccessId(),
      input,
      claimed: null,
      certificateSm3: verified.certificateSm3,
      requestDigest: verified.requestDigest,
      certifiedRequester: input.requester,
      decision: null,
      nonce: null,
      nonceSettled: false,
      recorded: false,
    };
    try {
      return await this.#decideAndFetch(verified.protocol, trail, started, input, this.#clock(), async () => undefined);
    } catch (error) {
      const zt = isZtError(error) ? error : new ZtError('ZT_ERR_INTERNAL', 'the exchange failed', { cause: error });
      await this.#recordRefusal(verified.protocol, trail, zt, started);
      throw zt;
    }
  }

  /** Removes nonces past their window (at most once a minute). */
  sweepNonces(): Promise<number> {
    return this.#o.nonces.sweep();
  }

  /** Records a request refused before the service could read it (a malformed or oversized body). */
  async recordUnreadable(protocol: 'http' | 'grpc', code: ErrorCode, latencyMs: number): Promise<void> {
    await this.#o.log
      .write({ id: this.#o.newAccessId(), decision: FAILURE_CODES.has(code) ? 'error' : 'deny', errorCode: code, latencyMs, protocol })
      .catch((recordError: unknown) => this.#o.logger?.error({ err: recordError, refused: code }, 'the access record of an unreadable request could not be written'));
  }

  async #answer(call: ExchangeCall, trail: Trail, started: number): Promise<ExchangeAnswer> {
    // A request whose signature the gateway refused is refused for that first: an unsigned caller learns nothing of
    // the request's shape. It is recorded with what it claimed.
    const checked = call.verification;
    if (checked && !checked.verified) {
      trail.claimed = readClaimed(call.request);
      trail.certificateSm3 = checked.trail.certificateSm3;
      trail.requestDigest = checked.trail.requestDigest;
      throw checked.error;
    }
    let input: QueryInput;
    try {
      input = readQuery(call.request);
    } catch (error) {
      await this.#attribute(call, trail);
      throw error;
    }
    trail.input = input;
    const now = this.#clock();
    const verified = await this.#o.requests.verify(call, input.requester, trail);
    // Claimed with the access record when the gateway left it unclaimed: one commit for both.
    trail.nonce = verified.takeNonce();
    const fresh = trail.nonce ? async () => undefined : verified.fresh;
    try {
      return await this.#decideAndFetch(call.protocol, trail, started, input, now, fresh, this.#takeEarlyRead(call.body));
    } finally {
      // A replay is reported as such even when the request failed for another reason too.
      if (trail.nonce && !trail.nonceSettled) await this.#claimAlone(trail.nonce, trail);
      else await fresh();
    }
  }

  #takeEarlyRead(body: Buffer): EarlyRead | undefined {
    const early = this.#earlyReads.get(body);
    if (early) this.#earlyReads.delete(body);
    return early;
  }

  /** Claims a taken nonce that no record carried (the request was refused before its answer was recorded). */
  async #claimAlone(nonce: DeferredNonce, trail: Trail): Promise<void> {
    trail.nonceSettled = true;
    let fresh: boolean;
    try {
      fresh = await this.#o.nonces.claimReserved(nonce.key, nonce.expiresAt);
    } catch (error) {
      this.#o.nonces.forget(nonce.key);
      throw error;
    }
    if (!fresh) throw new ZtError('ZT_ERR_REQUEST_REPLAYED', 'the nonce of this request has been used before by this certificate');
  }

  /**
   * A request that fails validation (no case number, a malformed subject …) is still attributed to the department
   * that signed it, when the signature verifies: supervisors are shown whose systems send such requests. The
   * signature's own failure is not reported; the validation error is.
   */
  async #attribute(call: ExchangeCall, trail: Trail): Promise<void> {
    const claimed = readClaimed(call.request);
    trail.claimed = claimed;
    if (claimed?.requester == null) return;
    try {
      const { fresh } = await this.#o.requests.verify(call, claimed.requester.trim().toUpperCase(), trail);
      await fresh();
    } catch {
      trail.certifiedRequester = null;
    }
  }

  async #decideAndFetch(
    protocol: 'http' | 'grpc',
    trail: Trail,
    started: number,
    input: QueryInput,
    now: number,
    fresh: () => Promise<void>,
    early?: EarlyRead,
  ): Promise<ExchangeAnswer> {
    const { subject } = input;
    if (!validSubject(subject)) {
      throw new ZtError(
        'ZT_ERR_SUBJECT_INVALID',
        subject.kind === 'person' ? `${subject.code} is not a valid resident ID number (GB 11643)` : `${subject.code} is not a valid unified social credit code (GB 32100)`,
      );
    }
    const engine = this.#o.policy();
    if (!engine) throw new ZtError('ZT_ERR_SHUTTING_DOWN', 'the negative list is not loaded yet');
    const at = new Date(now);
    const { lookup, decision, today } = this.#decide(engine, input, at);
    trail.decision = decision;
    if (decision.outcome === 'deny' && decision.reason === 'unknown-resource') {
      throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `no data resource in the catalogue has code ${JSON.stringify(input.resource)}`);
    }
    if (decision.outcome === 'deny' && decision.reason === 'unknown-item') {
      throw new ZtError('ZT_ERR_DATA_ITEM_UNKNOWN', `${input.resource} has no data item ${decision.unknown.join(', ')}`);
    }
    if (!lookup.grant) throw new ZtError('ZT_ERR_NO_GRANT', lookup.reason, { details: { missing: lookup.missing ?? [] } });
    const grant = lookup.grant;
    if (decision.items.length === 0) {
      const ruleIds = decision.rules.map((r) => r.id);
      throw new ZtError('ZT_ERR_ACCESS_DENIED', `the negative list releases none of the asked items of ${input.resource} (rules ${ruleIds.join(', ')})`, {
        details: {
          accessId: trail.accessId,
          ruleIds,
          legalBasis: decision.rules.flatMap((r) => r.legalBasis),
          policyRevision: decision.revision,
          withheld: withheldItems(decision),
        },
      });
    }
    if (grant.dailyQuota !== null) {
      const used = await this.#o.usage.take(grant.demandId, today);
      if (used > grant.dailyQuota) {
        throw new ZtError('ZT_ERR_QUOTA_EXCEEDED', `the grant (demand ${grant.demandId}) allows ${grant.dailyQuota} calls a day, and today's are used up`, {
          details: { demandId: grant.demandId, dailyQuota: grant.dailyQuota },
        });
      }
    }
    const itemCodes = decision.items.map((i) => i.code);
    // The read started while the signature was checked, if it was for exactly this; otherwise read now.
    const { connector, record } = await (early?.key === readKey(input.resource, subject, itemCodes)
      ? early.read.catch(() => this.#read(input.resource, subject, itemCodes))
      : this.#read(input.resource, subject, itemCodes));
    if (!record) throw new ZtError('ZT_ERR_SUBJECT_NOT_FOUND', `the supplier of ${input.resource} holds no record about this subject`);
    const items = applyMasks(record.values, decision);
    const retrievedAt = record.retrievedAt.toISOString();
    const { accessId } = trail;
    const result: QueryResult = {
      schema: RESULT_SCHEMA,
      accessId,
      requestDigest: trail.requestDigest!.toString('hex'),
      requester: input.requester,
      resource: input.resource,
      subject,
      purpose: input.purpose,
      decision: 'permit',
      policyRevision: decision.revision,
      ruleIds: decision.rules.map((r) => r.id),
      items,
      masked: decision.items.filter((i) => i.mask !== null && Object.prototype.hasOwnProperty.call(items, i.code)).map((i) => i.code),
      withheld: withheldItems(decision),
      provenance: Object.keys(items).map((item) => ({ item, supplier: grant.provider, resource: input.resource, source: connector.source, retrievedAt })),
      respondedAt: new Date(this.#clock()).toISOString(),
    };
    const canonicalResult = Buffer.from(canonicalJson(result), 'utf8');
    await fresh();
    // Signed while the record is written; the record is committed before anything is released, and if it cannot be,
    // the caller gets an error, not data (a record of an answer never sent is possible, the reverse is not).
    const responseDigest = sm3(canonicalResult);
    const signing = this.#o.signer().then((platform) => signEnvelope(platform.batch, canonicalResult, { payloadSm3: responseDigest }));
    signing.catch(() => undefined);
    const nonce = trail.nonce;
    if (nonce) trail.nonceSettled = true;
    const written = this.#o.log.write(
      {
        id: accessId,
        at,
        requester: input.requester,
        operator: input.operator,
        subjectKind: subject.kind,
        subjectCode: subject.code,
        resource: input.resource,
        itemsRequested: input.items,
        itemsReturned: Object.keys(items),
        serviceItem: input.purpose.serviceItem,
        caseNumber: input.purpose.caseNumber,
        decision: 'permit',
        ruleIds: result.ruleIds,
        policyRevision: decision.revision,
        latencyMs: performance.now() - started,
        requestDigest: trail.requestDigest,
        responseDigest,
        certificateSm3: trail.certificateSm3,
        protocol,
      },
      { nonce },
    );
    let receipt;
    try {
      receipt = await written;
    } catch (error) {
      // Nothing committed: neither the record nor the nonce. The request may be sent again.
      if (nonce) this.#o.nonces.forget(nonce.key);
      throw error;
    }
    if (receipt.replayed) {
      // The record's statement found the nonce claimed (by another instance, or before a restart) and recorded the
      // refusal itself; nothing is released.
      trail.recorded = true;
      throw new ZtError('ZT_ERR_REQUEST_REPLAYED', 'the nonce of this request has been used before by this certificate');
    }
    return { result, canonical: canonicalResult, signature: await signing };
  }

  /** The requester's grant for the query at `at` (on `today`, its China date), and the negative list's decision under it. */
  #decide(engine: PolicyEngine, input: QueryInput, at: Date): { lookup: GrantLookup; decision: Decision; today: string } {
    const today = chinaDate(at);
    const lookup = this.#o.grants.find(input.requester, input.resource, input.purpose.serviceItem, input.items, today);
    const decision = engine.decide({
      requester: input.requester,
      resource: input.resource,
      items: input.items,
      subject: { kind: input.subject.kind, id: input.subject.code },
      purpose: input.purpose,
      at,
      grant: lookup.grant?.approval ?? null,
    });
    return { lookup, decision, today };
  }

  async #read(resource: string, subject: QueryInput['subject'], items: string[]): Promise<{ connector: Connector; record: ConnectorRecord | null }> {
    const connector = await this.#o.connectors.forResource(resource);
    return { connector, record: await connector.fetch({ resource, subject, items }) };
  }

  async #recordRefusal(protocol: 'http' | 'grpc', trail: Trail, error: ZtError, started: number): Promise<void> {
    const input = trail.input;
    const claimed = trail.claimed;
    const record: AccessRecordInput = {
      id: trail.accessId,
      // The requester as certified when the signature was checked; else as claimed.
      requester: trail.certifiedRequester ?? input?.requester ?? claimed?.requester ?? null,
      operator: input?.operator ?? claimed?.operator ?? null,
      subjectKind: input?.subject.kind ?? claimed?.subjectKind ?? null,
      subjectCode: input?.subject.code ?? claimed?.subjectCode ?? null,
      resource: input?.resource ?? claimed?.resource ?? null,
      itemsRequested: input?.items ?? claimed?.items ?? null,
      serviceItem: input?.purpose.serviceItem ?? claimed?.serviceItem ?? null,
      caseNumber: input?.purpose.caseNumber ?? claimed?.caseNumber ?? null,
      decision: FAILURE_CODES.has(error.code) || error.code.startsWith('ZT_ERR_UPSTREAM_') ? 'error' : 'deny',
      ruleIds: trail.decision ? trail.decision.rules.map((r) => r.id) : null,
      policyRevision: trail.decision?.revision ?? null,
      errorCode: error.code as ErrorCode,
      latencyMs: performance.now() - started,
      requestDigest: trail.requestDigest,
      certificateSm3: trail.certificateSm3,
      protocol,
    };
    try {
      await this.#o.log.write(record);
    } catch (recordError) {
      // The refusal stands either way; an access that could not be recorded is logged, so it is not lost silently.
      this.#o.logger?.error({ err: recordError, refused: error.code }, 'the access record of a refused request could not be written');
    }
  }
}

/** Items asked for and not released: refused by the list, or awaiting an approval it requires. */
function withheldItems(decision: Decision): { item: string; ruleIds: string[] }[] {
  return [...decision.withheld, ...decision.pending].map((h) => ({ item: h.code, ruleIds: [...h.rules] }));
}
