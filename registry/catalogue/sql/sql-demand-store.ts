import type { Database, Queryable } from '../../../core/storage/index.js';
import type { EnvelopeJson } from '../../../certs/envelope/index.js';
import { SqlState, sqlState } from '../../../core/storage/index.js';
import { ZtError } from '../../../core/errors/index.js';
import type { TransitionEvidence } from '../authenticator.js';
import type { Demand, DemandState, DemandTerms, DemandTransition, NewDemand, Refusal, TransitionSignature } from '../demand.js';
import type { LegalBasis } from '../resource.js';
import type { DemandChange, DemandPage, DemandQuery, DemandStore, DepartmentFulfilment, FulfilmentCounts } from '../store.js';

interface Row {
  id: string;
  requester_uscc: string;
  provider_uscc: string;
  resource_code: string;
  items: string[];
  service_item: string;
  legal_basis: LegalBasis;
  expected_daily_volume: number;
  valid_from: string;
  valid_to: string;
  state: DemandState;
  reply_due: string | null;
  overdue: boolean;
  terms: DemandTerms | null;
  refusal: Refusal | null;
  created_at: Date;
}

interface TransitionRow {
  demand_id: string;
  seq: number;
  from_state: DemandState | null;
  to_state: DemandState;
  actor_uscc: string | null;
  at: Date;
  detail: Record<string, unknown>;
  statement_key: string | null;
  statement: string | null;
  envelope: EnvelopeJson | null;
  certificate_sm3: string | null;
  certificate_serial: string | null;
  signed_at: Date | null;
}

const TRANSITION_COLUMNS = `t.demand_id::text AS demand_id, t.seq, t.from_state, t.to_state, t.actor_uscc, t.at, t.detail, t.statement_key,
  s.statement, s.envelope, s.certificate_sm3, s.certificate_serial, s.signed_at`;

// Dates travel as YYYY-MM-DD text so that both drivers (and every time zone) read the same day. $1 is "today".
const SELECT = `SELECT d.id::text AS id, d.requester_uscc, r.provider_uscc, d.resource_code, d.items, d.service_item, d.legal_basis,
  d.expected_daily_volume, to_char(d.valid_from, 'YYYY-MM-DD') AS valid_from, to_char(d.valid_to, 'YYYY-MM-DD') AS valid_to, d.state,
  to_char(d.reply_due, 'YYYY-MM-DD') AS reply_due, (d.state = 'pending' AND d.reply_due < $1::date) AS overdue, d.terms, d.refusal, d.created_at
  FROM demands d JOIN data_resources r ON r.code = d.resource_code`;

function toDemand(r: Row): Demand {
  return {
    id: r.id,
    requester: r.requester_uscc,
    provider: r.provider_uscc,
    resource: r.resource_code,
    items: r.items,
    serviceItem: r.service_item,
    legalBasis: r.legal_basis,
    expectedDailyVolume: r.expected_daily_volume,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    state: r.state,
    replyDue: r.reply_due,
    overdue: r.overdue,
    terms: r.terms,
    refusal: r.refusal,
    createdAt: r.created_at,
  };
}

function toTransition(r: TransitionRow): DemandTransition {
  const signature: TransitionSignature | null =
    r.statement_key && r.statement !== null && r.envelope && r.certificate_sm3 && r.certificate_serial && r.signed_at
      ? {
          statementKey: r.statement_key,
          statement: r.statement,
          envelope: r.envelope,
          certificateSm3: r.certificate_sm3,
          certificateSerial: r.certificate_serial,
          signedAt: r.signed_at,
        }
      : null;
  return { demandId: r.demand_id, seq: r.seq, from: r.from_state, to: r.to_state, actor: r.actor_uscc, at: r.at, detail: r.detail, signature };
}

const json = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

const EMPTY: FulfilmentCounts = { total: 0, served: 0, pending: 0, overdue: 0, refused: 0, withdrawn: 0, expired: 0 };

interface CountsRow {
  uscc: string;
  total: number;
  served: number;
  pending: number;
  overdue: number;
  refused: number;
  withdrawn: number;
  expired: number;
}

const COUNTS = `count(*) AS total,
  count(*) FILTER (WHERE d.state IN ('granted', 'approved', 'expired')) AS served,
  count(*) FILTER (WHERE d.state = 'pending') AS pending,
  count(*) FILTER (WHERE d.state = 'pending' AND d.reply_due < $1::date) AS overdue,
  count(*) FILTER (WHERE d.state = 'refused') AS refused,
  count(*) FILTER (WHERE d.state = 'withdrawn') AS withdrawn,
  count(*) FILTER (WHERE d.state = 'expired') AS expired`;

function toCounts(r: CountsRow | undefined): FulfilmentCounts {
  if (!r) return { ...EMPTY };
  return {
    total: Number(r.total),
    served: Number(r.served),
    pending: Number(r.pending),
    overdue: Number(r.overdue),
    refused: Number(r.refused),
    withdrawn: Number(r.withdrawn),
    expired: Number(r.expired),
  };
}

/** Demands and their history in SQL that both storage adapters (PGlite and PostgreSQL) run. */
export class SqlDemandStore implements DemandStore {
  constructor(private readonly db: Database) {}

  async insert(tx: Queryable, d: NewDemand): Promise<void> {
    await tx.query(
      `INSERT INTO demands (id, requester_uscc, resource_code, items, service_item, legal_basis, expected_daily_volume, valid_from, valid_to,
                            state, reply_due, terms, refusal, created_at)
       VALUES ($1::uuid, $2, $3, $4::text[], $5, $6::jsonb, $7, $8::date, $9::date, $10, $11::date, $12::jsonb, $13::jsonb, $14)`,
      [
        d.id,
        d.requester,
        d.resource,
        d.items,
        d.serviceItem,
        json(d.legalBasis),
        d.expectedDailyVolume,
        d.validFrom,
        d.validTo,
        d.state,
        d.replyDue,
        json(d.terms),
        json(d.refusal),
        d.createdAt,
      ],
    );
  }

  async get(id: string, today: string, tx: Queryable = this.db): Promise<Demand | null> {
    const { rows } = await tx.query<Row>(`${SELECT} WHERE d.id = $2::uuid`, [today, id]);
    return rows[0] ? toDemand(rows[0]) : null;
  }

  async getForUpdate(tx: Queryable, id: string, today: string): Promise<Demand | null> {
    const { rows } = await tx.query<Row>(`${SELECT} WHERE d.id = $2::uuid FOR UPDATE OF d`, [today, id]);
    return rows[0] ? toDemand(rows[0]) : null;
  }

  async update(tx: Queryable, id: string, change: DemandChange): Promise<void> {
    await tx.query(
      `UPDATE demands SET state = $2,
         terms = CASE WHEN $3::boolean THEN $4::jsonb ELSE terms END,
         refusal = CASE WHEN $5::boolean THEN $6::jsonb ELSE refusal END
       WHERE id = $1::uuid`,
      [id, change.state, change.terms !== undefined, json(change.terms), change.refusal !== undefined, json(change.refusal)],
    );
  }

  async recordStatement(tx: Queryable, e: TransitionEvidence): Promise<void> {
    try {
      await tx.query(
        `INSERT INTO signed_statements (key, kind, actor_uscc, statement, envelope, certificate_sm3, certificate_serial, signed_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
        [e.key, e.kind, e.actor, e.statement, JSON.stringify(e.envelope), e.certificateSm3, e.certificateSerial, e.signedAt],
      );
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new ZtError('ZT_ERR_TRANSITION_REPLAYED', `this signed ${e.kind} (signed at ${e.signedAt.toISOString()}) has been recorded before; sign the step again`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async appendTransition(tx: Queryable, t: Omit<DemandTransition, 'seq' | 'signature'>, evidence: TransitionEvidence | null = null): Promise<DemandTransition> {
    const { rows } = await tx.query<{ seq: number }>(
      `INSERT INTO demand_transitions (demand_id, seq, from_state, to_state, actor_uscc, at, detail, statement_key)
       SELECT $1::uuid, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6::jsonb, $7 FROM demand_transitions WHERE demand_id = $1::uuid
       RETURNING seq`,
      [t.demandId, t.from, t.to, t.actor, t.at, JSON.stringify(t.detail), evidence?.key ?? null],
    );
    const signature: TransitionSignature | null = evidence
      ? {
          statementKey: evidence.key,
          statement: evidence.statement,
          envelope: evidence.envelope,
          certificateSm3: evidence.certificateSm3,
          certificateSerial: evidence.certificateSerial,
          signedAt: evidence.signedAt,
        }
      : null;
    return { ...t, detail: { ...t.detail }, seq: rows[0]!.seq, signature };
  }

  async history(id: string): Promise<DemandTransition[]> {
    const { rows } = await this.db.query<TransitionRow>(
      `SELECT ${TRANSITION_COLUMNS} FROM demand_transitions t LEFT JOIN signed_statements s ON s.key = t.statement_key
       WHERE t.demand_id = $1::uuid ORDER BY t.seq`,
      [id],
    );
    return rows.map(toTransition);
  }

  async list(q: DemandQuery, today: string): Promise<DemandPage> {
    const { rows } = await this.db.query<Row>(
      `${SELECT}
       WHERE ($2::text IS NULL OR d.requester_uscc = $2)
         AND ($3::text IS NULL OR r.provider_uscc = $3)
         AND ($4::text IS NULL OR d.resource_code = $4)
         AND ($5::text IS NULL OR d.state = $5)
         AND ($6::text IS NULL OR d.service_item = $6)
         AND ($7::boolean IS NULL OR (d.state = 'pending' AND d.reply_due < $1::date) = $7)
         AND ($8::uuid IS NULL OR d.id > $8::uuid)
       ORDER BY d.id LIMIT $9`,
      [today, q.requester, q.provider, q.resource, q.state, q.serviceItem, q.overdue, q.after, q.limit + 1],
    );
    const items = rows.slice(0, q.limit).map(toDemand);
    return { items, next: rows.length > q.limit ? items[items.length - 1]!.id : null };
  }

  async lapsed(today: string, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id::text AS id FROM demands
        WHERE state IN ('granted', 'approved') AND coalesce((terms->>'validUntil')::date, valid_to) < $1::date
        ORDER BY id LIMIT $2`,
      [today, limit],
    );
    return rows.map((r) => r.id);
  }

  async fulfilment(today: string, department: string | null): Promise<DepartmentFulfilment[]> {
    const [departments, asRequester, asSupplier] = await Promise.all([
      this.db.query<{ uscc: string; name: string }>('SELECT uscc, name FROM departments WHERE ($1::text IS NULL OR uscc = $1) ORDER BY uscc', [department]),
      this.db.query<CountsRow>(
        `SELECT d.requester_uscc AS uscc, ${COUNTS} FROM demands d WHERE ($2::text IS NULL OR d.requester_uscc = $2) GROUP BY d.requester_uscc`,
        [today, department],
      ),
      this.db.query<CountsRow>(
        `SELECT r.provider_uscc AS uscc, ${COUNTS} FROM demands d JOIN data_resources r ON r.code = d.resource_code
          WHERE ($2::text IS NULL OR r.provider_uscc = $2) GROUP BY r.provider_uscc`,
        [today, department],
      ),
    ]);
    const requested = new Map(asRequester.rows.map((r) => [r.uscc, r]));
    const supplied = new Map(asSupplier.rows.map((r) => [r.uscc, r]));
    return departments.rows.map((d) => ({
      department: d.uscc,
      name: d.name,
      asRequester: toCounts(requested.get(d.uscc)),
      asSupplier: toCounts(supplied.get(d.uscc)),
    }));
  }
}
