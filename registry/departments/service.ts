import { ZtError } from '../../core/errors/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import type { Database } from '../../core/storage/index.js';
import { assertUscc, DEPARTMENT_EVENTS_TOPIC, normaliseRegistration, type Department, type DepartmentRegistration } from './department.js';
import type { DepartmentPage, DepartmentStore } from './store.js';

export const MAX_PAGE = 500;

export class DepartmentService {
  constructor(
    private readonly db: Database,
    private readonly store: DepartmentStore,
    /** Called after a commit that wrote to the outbox, so the relay publishes without waiting for its next poll. */
    private readonly onOutboxWrite: () => void = () => undefined,
  ) {}

  /** Registers a department; its department.registered event commits with it (outbox) and is published after. */
  async register(input: DepartmentRegistration): Promise<Department> {
    const department = normaliseRegistration(input);
    const stored = await this.db.transaction(async (tx) => {
      const row = await this.store.insert(tx, department);
      await enqueueEvent(tx, DEPARTMENT_EVENTS_TOPIC, {
        key: row.uscc,
        value: JSON.stringify({ type: 'department.registered', department: { ...row, createdAt: row.createdAt.toISOString() } }),
        headers: { 'zt-event-type': 'department.registered' },
      });
      return row;
    });
    this.onOutboxWrite();
    return stored;
  }

  async get(uscc: string): Promise<Department> {
    assertUscc(uscc);
    const found = await this.store.get(uscc);
    if (!found) throw new ZtError('ZT_ERR_DEPARTMENT_NOT_FOUND', `no department is registered with code ${uscc}`);
    return found;
  }

  list(limit: number, after: string | null): Promise<DepartmentPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      return Promise.reject(new ZtError('ZT_ERR_REQUEST_INVALID', `limit must be a whole number from 1 to ${MAX_PAGE}, got ${limit}`));
    }
    return this.store.list(limit, after);
  }
}
