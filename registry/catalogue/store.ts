import type { Queryable } from '../../core/storage/index.js';
import type { TransitionEvidence } from './authenticator.js';
import type { Demand, DemandState, DemandTerms, DemandTransition, NewDemand, Refusal } from './demand.js';
import type { DataResource, NewResource } from './resource.js';

export interface ResourcePage {
  items: DataResource[];
  /** Cursor for the next page (the last code), or null at the end. */
  next: string | null;
}

export interface ResourceQuery {
  provider: string | null;
  limit: number;
  after: string | null;
}

/** Persistence of supply-list entries; `tx` lets a caller put writes in its own transaction. */
export interface ResourceStore {
  /** ZT_ERR_RESOURCE_EXISTS when the code is taken. */
  insert(tx: Queryable, resource: NewResource, at: Date): Promise<DataResource>;
  /** Replaces a resource's fields and items (the code and provider stay); null when there is none. */
  replace(tx: Queryable, resource: NewResource, at: Date): Promise<DataResource | null>;
  /** Locks the resource's row for a revision; null when there is none. */
  getForUpdate(tx: Queryable, code: string): Promise<DataResource | null>;
  get(code: string, tx?: Queryable): Promise<DataResource | null>;
  list(query: ResourceQuery): Promise<ResourcePage>;
  /** Which of these codes are already in the catalogue. */
  existing(codes: readonly string[]): Promise<string[]>;
}

export interface DemandQuery {
  requester: string | null;
  provider: string | null;
  resource: string | null;
  state: DemandState | null;
  serviceItem: string | null;
  /** true: only overdue ones; false: only those not overdue; null: both. */
  overdue: boolean | null;
  limit: number;
  after: string | null;
}

export interface DemandPage {
  items: Demand[];
  next: string | null;
}

export interface DemandChange {
  state: DemandState;
  terms?: DemandTerms | null;
  refusal?: Refusal | null;
}

export interface FulfilmentCounts {
  total: number;
  /** Granted or approved, or run to the end of their validity (expired). */
  served: number;
  pending: number;
  /** Pending past the reply deadline (also counted in pending). */
  overdue: number;
  refused: number;
  withdrawn: number;
  expired: number;
}

export interface DepartmentFulfilment {
  department: string;
  name: string;
  asRequester: FulfilmentCounts;
  asSupplier: FulfilmentCounts;
}

/**
 * Persistence of demands and their append-only history. `today` is China's calendar date, by which `overdue`
 * is computed when reading.
 */
export interface DemandStore {
  insert(tx: Queryable, demand: NewDemand): Promise<void>;
  get(id: string, today: string, tx?: Queryable): Promise<Demand | null>;
  /** Reads and locks the demand's row until the transaction ends. */
  getForUpdate(tx: Queryable, id: string, today: string): Promise<Demand | null>;
  update(tx: Queryable, id: string, change: DemandChange): Promise<void>;
  /** Keeps a verified signed statement; ZT_ERR_TRANSITION_REPLAYED when the same signature was kept before. */
  recordStatement(tx: Queryable, evidence: TransitionEvidence): Promise<void>;
  /** Appends the next step of the history (its seq follows the last one), citing the statement that signed it. */
  appendTransition(tx: Queryable, transition: Omit<DemandTransition, 'seq' | 'signature'>, evidence?: TransitionEvidence | null): Promise<DemandTransition>;
  history(id: string): Promise<DemandTransition[]>;
  list(query: DemandQuery, today: string): Promise<DemandPage>;
  /** Ids of granted or approved demands whose access ended before `today`. */
  lapsed(today: string, limit: number): Promise<string[]>;
  /** Counts per department (every registered one, or just `department`), as requester and as supplier. */
  fulfilment(today: string, department: string | null): Promise<DepartmentFulfilment[]>;
}
