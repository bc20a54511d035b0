import { ZtError } from '../../../core/errors/index.js';
import { sqlState, SqlState, type Database, type Queryable } from '../../../core/storage/index.js';
import type { Department } from '../department.js';
import type { DepartmentPage, DepartmentStore } from '../store.js';

interface Row {
  uscc: string;
  name: string;
  short_name: string | null;
  area_code: string;
  created_at: Date;
}

const COLUMNS = 'uscc, name, short_name, area_code, created_at';

function toDepartment(r: Row): Department {
  return { uscc: r.uscc, name: r.name, shortName: r.short_name, areaCode: r.area_code, createdAt: r.created_at };
}

/** The department store in SQL that both storage adapters (PGlite and PostgreSQL) run. */
export class SqlDepartmentStore implements DepartmentStore {
  constructor(private readonly db: Database) {}

  async insert(tx: Queryable, d: Omit<Department, 'createdAt'>): Promise<Department> {
    try {
      const { rows } = await tx.query<Row>(
        `INSERT INTO departments (uscc, name, short_name, area_code) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [d.uscc, d.name, d.shortName, d.areaCode],
      );
      return toDepartment(rows[0]!);
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new ZtError('ZT_ERR_DEPARTMENT_EXISTS', `department ${d.uscc} is already registered`, { cause: error });
      }
      throw error;
    }
  }

  async get(uscc: string): Promise<Department | null> {
    const { rows } = await this.db.query<Row>(`SELECT ${COLUMNS} FROM departments WHERE uscc = $1`, [uscc]);
    return rows[0] ? toDepartment(rows[0]) : null;
  }

  async list(limit: number, after: string | null): Promise<DepartmentPage> {
    const { rows } = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM departments WHERE ($1::text IS NULL OR uscc > $1) ORDER BY uscc LIMIT $2`,
      [after, limit + 1],
    );
    const items = rows.slice(0, limit).map(toDepartment);
    return { items, next: rows.length > limit ? items[items.length - 1]!.uscc : null };
  }

  async count(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM departments');
    return rows[0]?.n ?? 0;
  }
}
