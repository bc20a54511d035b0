import type { Queryable } from '../../core/storage/index.js';
import type { Department } from './department.js';

export interface DepartmentPage {
  items: Department[];
  /** Cursor for the next page, or null at the end. */
  next: string | null;
}

/** Persistence of departments; `tx` lets a caller put a write in its own transaction. */
export interface DepartmentStore {
  insert(tx: Queryable, department: Omit<Department, 'createdAt'>): Promise<Department>;
  get(uscc: string): Promise<Department | null>;
  list(limit: number, after: string | null): Promise<DepartmentPage>;
  count(): Promise<number>;
}
