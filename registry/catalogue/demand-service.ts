import { ZtError } from '../../core/errors/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import type { Database, Queryable } from '../../core/storage/index.js';
import { assertUscc } from '../departments/department.js';
import type { TransitionAuthenticator, TransitionEvidence, TransitionKind } from './authenticator.js';
import { assertPageLimit, MAX_IMPORT_ROWS, MAX_PAGE, rowError, toZt, type DepartmentDirectory } from './catalogue-service.js';
import {
  accessEnds,
  assertDemandId,
  assertParty,
  assertRegistrationFits,
  DEMAND_STATES,
  initialState,
  newDemandId,
  nextState,
  normaliseRefusal,
  normaliseRegistration,
  normaliseTerms,
  type CheckedRegistration,
  type Demand,
  type DemandAction,
  type DemandRegistration,
  type DemandState,
  type DemandTransition,
  type Refusal,
  type RefusalInput,
  type TermsInput,
} from './demand.js';
import { importFailed, type ImportBatch, type RowError } from './lists.js';
import { CATALOGUE_EVENTS_TOPIC, RESOURCE_CODE, type DataResource } from './resource.js';
import type { DemandChange, DemandPage, DemandStore, DepartmentFulfilment, ResourceStore } from './store.js';
import { chinaDate, loadWorkingCalendar, type WorkingCalendar } from './working-days.js';

/** Default reply deadline for conditional demands, in working days (cf. Shaanxi: answered within 5). */
export const DEFAULT_REPLY_WORKING_DAYS = 5;

/** Whether the negative list (负面清单) has an entry; the policies engine provides it. */
export interface NegativeListLookup {
  has(ruleId: string): boolean | Promise<boolean>;
}

export interface DemandServiceOptions {
  /** Working days the supplier has to reply to a conditional demand. */
  replyWorkingDays?: number;
  calendar?: WorkingCalendar;
  /** Checks who acts: the application verifies SM2 signatures (SignedTransitionAuthenticator). */
  authenticator: TransitionAuthenticator;
  /** When given, a refusal citing a rule the negative list does not have is rejected. */
  negativeList?: NegativeListLookup;
  clock?: () => Date;
  onOutboxWrite?: () => void;
  /**
   * Awaited after every commit that changed demands, before the caller hears of it: the application rebuilds this
   * instance's grant index here, so a withdrawal answered is already enforced where it was made (other instances
   * follow through the event).
   */
  onChanged?: () => Promise<void>;
}

/** Optional inputs of every transition: a backdated time (seeding, migration of old lists) and the actor's signature. */
export interface ActOptions {
  at?: Date;
  /** The acting department's signed envelope over the step's statement (signed-transitions.ts). */
  proof?: unknown;
}

/** An import is signed over the file as sent: its SM3, in lower-case hex. */
export interface ImportOptions extends ActOptions {
  documentSm3?: string;
}

export interface DemandListQuery {
  requester?: string | null;
  provider?: string | null;
  resource?: string | null;
  state?: string | null;
  serviceItem?: string | null;
  overdue?: boolean | null;
  limit: number;
  after?: string | null;
}

export interface FulfilmentReport {
  /** China's calendar date the counts were taken on (overdue depends on it). */
  asOf: string;
  departments: DepartmentFulfilment[];
}

type EventType = 'demand.registered' | 'demand.granted' | 'demand.approved' | 'demand.refused' | 'demand.withdrawn' | 'demand.expired';

const EVENT_OF: Readonly<Record<DemandAction, EventType>> = {
  approve: 'demand.approved',
  refuse: 'demand.refused',
  withdraw: 'demand.withdrawn',
  expire: 'demand.expired',
};

function demandEvent(type: EventType, demand: Demand, transition: DemandTransition) {
  return { key: demand.id, value: JSON.stringify({ type, demand, transition }), headers: { 'zt-event-type': type } };
}

/** The demand side of the catalogue (需求清单) and the application–reply procedure, every step recorded. */
export class DemandService {
  readonly #replyWorkingDays: number;
  readonly #calendar: WorkingCalendar;
  readonly #authenticator: TransitionAuthenticator;
  readonly #negativeList: NegativeListLookup | null;
  readonly #clock: () => Date;
  readonly #onOutboxWrite: () => void;
  readonly #onChanged: () => Promise<void>;

  constructor(
    private readonly db: Database,
    private readonly store: DemandStore,
    private readonly resources: ResourceStore,
    private readonly departments: DepartmentDirectory,
    options: DemandServiceOptions,
  ) {
    const days = options.replyWorkingDays ?? DEFAULT_REPLY_WORKING_DAYS;
    if (!Number.isInteger(days) || days < 1 || days > 60) throw new RangeError(`replyWorkingDays must be a whole number from 1 to 60, got ${days}`);
    this.#replyWorkingDays = days;
    this.#calendar = options.calendar ?? loadWorkingCalendar();
    this.#authenticator = options.authenticator;
    this.#negativeList = options.negativeList ?? null;
    this.#clock = options.clock ?? (() => new Date());
    this.#onOutboxWrite = options.onOutboxWrite ?? (() => undefined);
    this.#onChanged = options.onChanged ?? (async () => undefined);
  }
  /** The working-day calendar reply deadlines are counted in. */
  get calendar(): WorkingCalendar {
    return this.#calendar;
  }


  get replyWorkingDays(): number {
    return this.#replyWorkingDays;
  }

  /** China's calendar date now (or at `at`). */
  today(at?: Date): string {
    return chinaDate(at ?? this.#clock());
  }

  /**
   * Registers a demand. Unconditional resources: granted at once. Conditional: pending, with a reply due in
   * replyWorkingDays working days. Not shared: refused at once, citing the resource's legal basis.
   */
  async register(input: DemandRegistration, options: ActOptions = {}): Promise<Demand> {
    const at = options.at ?? this.#clock();
    const today = chinaDate(at);
    const reg = normaliseRegistration(input, today);
    await this.departments.get(reg.requester);
    const resource = await this.#resource(reg.resource);
    assertRegistrationFits(reg, resource);
    const evidence = await this.#authenticate('register', null, reg.requester, { ...input }, options.proof);
    const demand = await this.db.transaction(async (tx) => {
      if (evidence) await this.store.recordStatement(tx, evidence);
      return this.#insert(tx, reg, resource, at, evidence);
    });
    this.#onOutboxWrite();
    await this.#onChanged();
    return demand;
  }

  async get(id: string): Promise<Demand> {
    assertDemandId(id);
    const found = await this.store.get(id, this.today());
    if (!found) throw new ZtError('ZT_ERR_DEMAND_NOT_FOUND', `no demand has id ${id}`);
    return found;
  }

  async history(id: string): Promise<DemandTransition[]> {
    await this.get(id);
    return this.store.history(id);
  }

  /** Approves a pending demand; only the supplier may. Terms may narrow it (items, a daily quota, an earlier end). */
  approve(id: string, input: { actor: string; terms?: TermsInput | null }, options: ActOptions = {}): Promise<Demand> {
    return this.#transition(id, 'approve', input.actor, { terms: input.terms }, options, async (tx, demand, today) => {
      const resource = (await this.resources.get(demand.resource, tx))!;
      const terms = normaliseTerms(input.terms, demand, resource, today);
      return { change: { state: 'approved', terms }, detail: { terms } };
    });
  }

  /** Refuses a pending demand; only the supplier may, and only citing a negative-list entry or a legal basis. */
  async refuse(id: string, input: { actor: string } & RefusalInput, options: ActOptions = {}): Promise<Demand> {
    assertDemandId(id);
    const refusal = normaliseRefusal(input, id);
    const content = { negativeListRuleId: input.negativeListRuleId, legalBasis: input.legalBasis, reason: input.reason };
    return this.#transition(id, 'refuse', input.actor, content, options, async () => {
      // Checked after who acts and the demand's state, so those errors come first, as for the other transitions.
      if (refusal.negativeListRuleId !== null && this.#negativeList && !(await this.#negativeList.has(refusal.negativeListRuleId))) {
        throw new ZtError('ZT_ERR_REFUSAL_BASIS_MISSING', `the negative list has no entry ${refusal.negativeListRuleId}; cite an entry it has, or a legal basis`);
      }
      return { change: { state: 'refused', refusal }, detail: { refusal } };
    });
  }

  /** Withdraws a demand that is pending or being served; only the requester may. */
  withdraw(id: string, input: { actor: string; reason?: string | null }, options: ActOptions = {}): Promise<Demand> {
    const reason = typeof input.reason === 'string' && input.reason.trim() !== '' ? input.reason.trim().slice(0, 1000) : null;
    return this.#transition(id, 'withdraw', input.actor, { reason: input.reason }, options, async () => ({ change: { state: 'withdrawn' }, detail: { reason } }));
  }

  /**
   * Moves granted and approved demands whose access has ended (validTo, or the terms' validUntil) to expired.
   * Meant to run daily (and it is safe to run any time, from any instance); returns how many expired.
   */
  async expireLapsed(options: { at?: Date } = {}): Promise<number> {
    const at = options.at ?? this.#clock();
    const today = chinaDate(at);
    let expired = 0;
    for (;;) {
      const ids = await this.store.lapsed(today, MAX_PAGE);
      if (ids.length === 0) break;
      for (const id of ids) {
        const done = await this.db.transaction(async (tx) => {
          const demand = await this.store.getForUpdate(tx, id, today);
          // Another instance may have expired or withdrawn it since the list was read.
          if (!demand || (demand.state !== 'granted' && demand.state !== 'approved') || accessEnds(demand) >= today) return false;
          await this.#apply(tx, demand, 'expire', null, at, today, { state: 'expired' }, { ended: accessEnds(demand) });
          return true;
        });
        if (done) expired++;
      }
      if (ids.length < MAX_PAGE) break;
    }
    if (expired > 0) {
      this.#onOutboxWrite();
      await this.#onChanged();
    }
    return expired;
  }

  async list(query: DemandListQuery): Promise<DemandPage> {
    assertPageLimit(query.limit);
    const requester = query.requester ? query.requester.toUpperCase() : null;
    const provider = query.provider ? query.provider.toUpperCase() : null;
    if (requester) await this.departments.get(requester);
    if (provider) await this.departments.get(provider);
    const resource = query.resource || null;
    if (resource) await this.#resource(resource);
    const state = query.state || null;
    if (state !== null && !(DEMAND_STATES as readonly string[]).includes(state)) {
      throw new ZtError('ZT_ERR_REQUEST_INVALID', `state must be one of ${DEMAND_STATES.join(', ')}; got ${JSON.stringify(state)}`);
    }
    if (query.after) assertDemandId(query.after);
    return this.store.list(
      {
        requester,
        provider,
        resource,
        state: state as DemandState | null,
        serviceItem: query.serviceItem || null,
        overdue: query.overdue ?? null,
        limit: query.limit,
        after: query.after || null,
      },
      this.today(),
    );
  }

  /** Every demand that fits the filter, for export. */
  async exportAll(query: Omit<DemandListQuery, 'limit' | 'after'> = {}): Promise<Demand[]> {
    const all: Demand[] = [];
    let after: string | null = null;
    do {
      const page: DemandPage = await this.list({ ...query, limit: MAX_PAGE, after });
      all.push(...page.items);
      after = page.next;
    } while (after !== null);
    return all;
  }

  /** Demands served, pending, overdue, refused … per department, as requester and as supplier. */
  async fulfilment(department: string | null = null): Promise<FulfilmentReport> {
    const uscc = department ? department.toUpperCase() : null;
    if (uscc) await this.departments.get(uscc);
    const asOf = this.today();
    return { asOf, departments: await this.store.fulfilment(asOf, uscc) };
  }

  /**
   * Registers a demand list, all or nothing: each row is checked as register() would (requester, resource, items),
   * then all are registered in one transaction, each taking the state its resource's sharing class gives it.
   */
  async import(batch: ImportBatch<DemandRegistration>, options: ImportOptions = {}): Promise<Demand[]> {
    const { records } = batch;
    if (records.length > MAX_IMPORT_ROWS) throw new ZtError('ZT_ERR_IMPORT_INVALID', `an import may carry at most ${MAX_IMPORT_ROWS} records; this one has ${records.length}`);
    const at = options.at ?? this.#clock();
    const today = chinaDate(at);
    // One signature covers the file; its signer must be the requester of every row.
    const evidence = await this.#authenticate('import', null, null, { documentSm3: options.documentSm3 }, options.proof);
    const errors: RowError[] = [...batch.errors];
    const departments = new Map<string, Promise<ZtError | null>>();
    const resources = new Map<string, Promise<DataResource | ZtError>>();
    const valid: { reg: CheckedRegistration; resource: DataResource }[] = [];
    for (const { row, value } of records) {
      try {
        const reg = normaliseRegistration(value, today);
        if (!departments.has(reg.requester)) {
          departments.set(reg.requester, this.departments.get(reg.requester).then(() => null, toZt));
        }
        const departmentProblem = await departments.get(reg.requester)!;
        if (departmentProblem) throw departmentProblem;
        if (!resources.has(reg.resource)) resources.set(reg.resource, this.#resource(reg.resource).catch(toZt));
        const resource = await resources.get(reg.resource)!;
        if (resource instanceof ZtError) throw resource;
        assertRegistrationFits(reg, resource);
        if (evidence && evidence.actor !== reg.requester) {
          throw new ZtError('ZT_ERR_SIGNER_MISMATCH', `the requester ${reg.requester} is not the department that signed the import (${evidence.actor})`);
        }
        valid.push({ reg, resource });
      } catch (error) {
        errors.push(rowError(row, error));
      }
    }
    if (errors.length > 0) throw importFailed(errors);
    if (valid.length === 0) return [];
    const demands = await this.db.transaction(async (tx) => {
      if (evidence) await this.store.recordStatement(tx, evidence);
      const out: Demand[] = [];
      for (const { reg, resource } of valid) out.push(await this.#insert(tx, reg, resource, at, evidence));
      return out;
    });
    this.#onOutboxWrite();
    await this.#onChanged();
    return demands;
  }

  // -------------------------------------------------------------------------------------------------------------

  async #resource(code: string): Promise<DataResource> {
    const found = RESOURCE_CODE.test(code) ? await this.resources.get(code) : null;
    if (!found) throw new ZtError('ZT_ERR_RESOURCE_NOT_FOUND', `no data resource in the catalogue has code ${JSON.stringify(code)}`);
    return found;
  }

  #authenticate(kind: TransitionKind, demandId: string | null, actor: string | null, content: Record<string, unknown>, proof: unknown): Promise<TransitionEvidence | null> {
    return this.#authenticator.authenticate({ kind, demandId, actor, content, proof });
  }

  async #insert(tx: Queryable, reg: CheckedRegistration, resource: DataResource, at: Date, evidence: TransitionEvidence | null): Promise<Demand> {
    const today = chinaDate(at);
    const state = initialState(resource.sharingClass);
    const replyDue = state === 'pending' ? this.#calendar.addWorkingDays(today, this.#replyWorkingDays) : null;
    const refusal: Refusal | null =
      state === 'refused'
        ? { negativeListRuleId: null, legalBasis: resource.legalBasis, reason: `${resource.name} (${resource.code}) is not shared (不予共享)`, automatic: true }
        : null;
    const id = newDemandId(at);
    await this.store.insert(tx, { id, ...reg, state, replyDue, terms: null, refusal, createdAt: at });
    const transition = await this.store.appendTransition(tx, {
      demandId: id,
      from: null,
      to: state,
      actor: reg.requester,
      at,
      detail: { action: 'register', sharingClass: resource.sharingClass, ...(replyDue ? { replyDue } : {}), ...(refusal ? { refusal } : {}) },
    }, evidence);
    const demand = (await this.store.get(id, today, tx))!;
    await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, demandEvent('demand.registered', demand, transition));
    if (state === 'granted') await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, demandEvent('demand.granted', demand, transition));
    if (state === 'refused') await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, demandEvent('demand.refused', demand, transition));
    return demand;
  }

  async #transition(
    id: string,
    action: Exclude<DemandAction, 'expire'>,
    actorInput: string,
    payload: Record<string, unknown>,
    options: ActOptions,
    decide: (tx: Queryable, demand: Demand, today: string) => Promise<{ change: DemandChange; detail: Record<string, unknown> }>,
  ): Promise<Demand> {
    assertDemandId(id);
    const actor = typeof actorInput === 'string' ? actorInput.trim().toUpperCase() : '';
    assertUscc(actor);
    const evidence = await this.#authenticate(action, id, actor, payload, options.proof);
    const at = options.at ?? this.#clock();
    const today = chinaDate(at);
    const demand = await this.db.transaction(async (tx) => {
      const current = await this.store.getForUpdate(tx, id, today);
      if (!current) throw new ZtError('ZT_ERR_DEMAND_NOT_FOUND', `no demand has id ${id}`);
      assertParty(action, actor, current);
      nextState(current.state, action, id);
      const { change, detail } = await decide(tx, current, today);
      if (evidence) await this.store.recordStatement(tx, evidence);
      return this.#apply(tx, current, action, actor, at, today, change, detail, evidence);
    });
    this.#onOutboxWrite();
    await this.#onChanged();
    return demand;
  }

  async #apply(
    tx: Queryable,
    current: Demand,
    action: DemandAction,
    actor: string | null,
    at: Date,
    today: string,
    change: DemandChange,
    detail: Record<string, unknown>,
    evidence: TransitionEvidence | null = null,
  ): Promise<Demand> {
    const to = nextState(current.state, action, current.id);
    await this.store.update(tx, current.id, { ...change, state: to });
    const transition = await this.store.appendTransition(tx, { demandId: current.id, from: current.state, to, actor, at, detail: { action, ...detail } }, evidence);
    const demand = (await this.store.get(current.id, today, tx))!;
    await enqueueEvent(tx, CATALOGUE_EVENTS_TOPIC, demandEvent(EVENT_OF[action], demand, transition));
    return demand;
  }
}
