// Daily quotas of grants (the supplier's terms: at most N calls a day), counted in PostgreSQL so that every gateway
// instance draws on the same count. Only grants with a quota pay for the round trip.
import type { Database } from '../core/storage/index.js';

export class GrantUsage {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Counts one call of the grant on `day` (China calendar date); returns the count including it. */
  async take(demandId: string, day: string): Promise<number> {
    const { rows } = await this.#db.query<{ used: number }>(
      `INSERT INTO grant_usage (demand_id, day, used) VALUES ($1::uuid, $2::date, 1)
       ON CONFLICT (demand_id, day) DO UPDATE SET used = grant_usage.used + 1
       RETURNING used`,
      [demandId, day],
    );
    return Number(rows[0]!.used);
  }
}
