// The registry's tables (migrations/0009_licences.sql) on PostgreSQL or PGlite. Writes take the caller's
// transaction, so a licence, its transition, its signed statement and its outbox event commit together.
import { randomBytes } from 'node:crypto';
import { ZtError } from '../../core/errors/index.js';
import { SqlState, sqlState, type Database, type Queryable } from '../../core/storage/index.js';
import type { EnvelopeJson } from '../../certs/envelope/index.js';
import type { SignedStepEvidence } from '../../registry/catalogue/index.js';
import type { LicenceType } from '../licence-type.js';
import type { HolderCodeType, StoredLicenceStatus } from '../licence.js';

export const STATUS_LIST_SIZE = 131_072;

/** A licence version as stored: the signed document bytes and envelope, and the columns it is found by. */
export interface StoredLicence {
  identifier: string;
  typeCode: string;
  issuerCode: string;
  serial: string;
  version: number;
  licenceNumber: string;
  holderCode: string;
  holderCodeType: HolderCodeType;
  holderName: string;
  status: StoredLicenceStatus;
  validFrom: string;
  validTo: string | null;
  document: Buffer;
  documentSm3: Buffer;
  envelope: EnvelopeJson;
  listNo: number;
  statusIndex: number;
  supersedes: string | null;
  supersededBy: string | null;
  source: 'issued' | 'converted';
  flags: string[];
  issuedAt: Date;
  updatedAt: Date;
}

export interface LicenceTransitionRecord {
  seq: number;
  identifier: string;
  kind: 'issue' | 'convert' | 'revoke' | 'suspend' | 'resume' | 'change' | 'renew';
  actor: string;
  reason: string | null;
  from: StoredLicenceStatus | null;
  to: StoredLicenceStatus;
  at: Date;
  /** The signed statement, envelope and certificate fingerprint, when a department signed the step. */
  signature: { statement: string; envelope: EnvelopeJson; certificateSm3: string; certificateSerial: string } | null;
}

export interface StatusListState {
  issuerCode: string;
  listNo: number;
  size: number;
  permKey: Buffer;
  allocated: number;
  revision: number;
}

interface LicenceRow {
  identifier: string;
  type_code: string;
  issuer_code: string;
  serial: string;
  version: number;
  licence_number: string;
  holder_code: string;
  holder_code_type: HolderCodeType;
  holder_name: string;
  status: StoredLicenceStatus;
  valid_from: string;
  valid_to: string | null;
  document: Buffer | Uint8Array;
  document_sm3: Buffer | Uint8Array;
  envelope: EnvelopeJson;
  list_no: number;
  status_index: number;
  supersedes: string | null;
  superseded_by: string | null;
  source: 'issued' | 'converted';
  flags: string[];
  issued_at: Date;
  updated_at: Date;
}

const COLUMNS = `identifier, type_code, issuer_code, serial, version, licence_number, holder_code, holder_code_type, holder_name,
  status, to_char(valid_from, 'YYYY-MM-DD') AS valid_from, to_char(valid_to, 'YYYY-MM-DD') AS valid_to, document, document_sm3,
  envelope, list_no, status_index, supersedes, superseded_by, source, flags, issued_at, updated_at`;

function fromRow(r: LicenceRow): StoredLicence {
  return {
    identifier: r.identifier,
    typeCode: r.type_code,
    issuerCode: r.issuer_code,
    serial: r.serial,
    version: r.version,
    licenceNumber: r.licence_number,
    holderCode: r.holder_code,
    holderCodeType: r.holder_code_type,
    holderName: r.holder_name,
    status: r.status,
    validFrom: r.valid_from,
    validTo: r.valid_to,
    document: Buffer.from(r.document),
    documentSm3: Buffer.from(r.document_sm3),
    envelope: r.envelope,
    listNo: r.list_no,
    statusIndex: r.status_index,
    supersedes: r.supersedes,
    supersededBy: r.superseded_by,
    source: r.source,
    flags: r.flags,
    issuedAt: r.issued_at,
    updatedAt: r.updated_at,
  };
}

interface TypeRow {
  code: string;
  name: string;
  defining_authority_code: string;
  defining_authority_name: string;
  holder_kind: 'person' | 'organisation';
  fields: LicenceType['fields'];
  issuers: string[];
  validity_years: number | null;
}

export class SqlLicenceStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insertType(tx: Queryable, t: LicenceType): Promise<void> {
    try {
      await tx.query(
        `INSERT INTO licence_types (code, name, defining_authority_code, defining_authority_name, holder_kind, fields, issuers, validity_years)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
        [t.code, t.name, t.definingAuthority.code, t.definingAuthority.name, t.holderKind, JSON.stringify(t.fields), t.issuers, t.validityYears],
      );
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) throw new ZtError('ZT_ERR_LICENCE_TYPE_EXISTS', `licence type ${t.code} is already defined`, { cause: error });
      throw error;
    }
  }

  async types(): Promise<LicenceType[]> {
    const { rows } = await this.#db.query<TypeRow>('SELECT * FROM licence_types ORDER BY code');
    return rows.map((r) => ({
      code: r.code,
      name: r.name,
      definingAuthority: { code: r.defining_authority_code, name: r.defining_authority_name },
      holderKind: r.holder_kind,
      fields: r.fields,
      issuers: r.issuers,
      validityYears: r.validity_years,
    }));
  }

  /**
   * Hands out the next `count` positions of the issuer's current status list (opening a new list when it is full);
   * returns the list and the first counter. Its own short transaction: a position burned by a failed issue is harmless.
   */
  async allocateStatus(issuerCode: string, count: number): Promise<{ list: StatusListState; firstCounter: number }> {
    return this.#db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`zhengtong.licence-status.${issuerCode}`]);
      const { rows } = await tx.query<{ list_no: number; size: number; perm_key: Uint8Array; allocated: number; revision: string }>(
        'SELECT list_no, size, perm_key, allocated, revision FROM licence_status_lists WHERE issuer_code = $1 ORDER BY list_no DESC LIMIT 1',
        [issuerCode],
      );
      let current = rows[0];
      if (!current || current.allocated + count > current.size) {
        const listNo = (current?.list_no ?? 0) + 1;
        const key = randomBytes(32);
        await tx.query('INSERT INTO licence_status_lists (issuer_code, list_no, size, perm_key) VALUES ($1, $2, $3, $4)', [issuerCode, listNo, STATUS_LIST_SIZE, key]);
        current = { list_no: listNo, size: STATUS_LIST_SIZE, perm_key: key, allocated: 0, revision: '0' };
      }
      if (count > current.size) throw new RangeError(`cannot allocate ${count} status entries in a list of ${current.size}`);
      await tx.query('UPDATE licence_status_lists SET allocated = allocated + $3 WHERE issuer_code = $1 AND list_no = $2', [issuerCode, current.list_no, count]);
      return {
        list: { issuerCode, listNo: current.list_no, size: current.size, permKey: Buffer.from(current.perm_key), allocated: current.allocated + count, revision: Number(current.revision) },
        firstCounter: current.allocated,
      };
    });
  }

  async statusList(issuerCode: string, listNo: number): Promise<(StatusListState & { entries: { index: number; status: StoredLicenceStatus }[] }) | null> {
    const { rows } = await this.#db.query<{ size: number; perm_key: Uint8Array; allocated: number; revision: string }>(
      'SELECT size, perm_key, allocated, revision FROM licence_status_lists WHERE issuer_code = $1 AND list_no = $2',
      [issuerCode, listNo],
    );
    const list = rows[0];
    if (!list) return null;
    const entries = await this.#db.query<{ status_index: number; status: StoredLicenceStatus }>(
      "SELECT status_index, status FROM licences WHERE issuer_code = $1 AND list_no = $2 AND status <> 'active'",
      [issuerCode, listNo],
    );
    return {
      issuerCode,
      listNo,
      size: list.size,
      permKey: Buffer.from(list.perm_key),
      allocated: list.allocated,
      revision: Number(list.revision),
      entries: entries.rows.map((e) => ({ index: e.status_index, status: e.status })),
    };
  }

  async statusListRevision(issuerCode: string, listNo: number): Promise<number | null> {
    const { rows } = await this.#db.query<{ revision: string }>('SELECT revision FROM licence_status_lists WHERE issuer_code = $1 AND list_no = $2', [issuerCode, listNo]);
    return rows[0] ? Number(rows[0].revision) : null;
  }

  async bumpRevision(tx: Queryable, issuerCode: string, listNo: number): Promise<void> {
    await tx.query('UPDATE licence_status_lists SET revision = revision + 1 WHERE issuer_code = $1 AND list_no = $2', [issuerCode, listNo]);
  }

  /** Inserts a licence version; a taken (type, licence number, version) is ZT_ERR_LICENCE_NUMBER_TAKEN. */
  async insert(tx: Queryable, l: Omit<StoredLicence, 'issuedAt' | 'updatedAt'>): Promise<void> {
    try {
      await tx.query(
        `INSERT INTO licences (identifier, type_code, issuer_code, serial, version, licence_number, holder_code, holder_code_type, holder_name,
           status, valid_from, valid_to, document, document_sm3, envelope, list_no, status_index, supersedes, superseded_by, source, flags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::date, $12::date, $13, $14, $15::jsonb, $16, $17, $18, $19, $20, $21)`,
        [
          l.identifier, l.typeCode, l.issuerCode, l.serial, l.version, l.licenceNumber, l.holderCode, l.holderCodeType, l.holderName,
          l.status, l.validFrom, l.validTo, l.document, l.documentSm3, JSON.stringify(l.envelope), l.listNo, l.statusIndex, l.supersedes,
          l.supersededBy, l.source, l.flags,
        ],
      );
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        const detail = String((error as { constraint?: string; detail?: string }).constraint ?? (error as Error).message);
        if (detail.includes('licence_number') || detail.includes('type_code')) {
          throw new ZtError('ZT_ERR_LICENCE_NUMBER_TAKEN', `a ${l.typeCode} licence numbered ${l.licenceNumber} (version ${l.version}) already exists`, { cause: error });
        }
      }
      throw error;
    }
  }

  /**
   * Inserts converted licences in one statement, skipping any whose (type, licence number, version) exists;
   * returns the identifiers inserted.
   */
  async insertConverted(tx: Queryable, licences: readonly Omit<StoredLicence, 'issuedAt' | 'updatedAt'>[]): Promise<Set<string>> {
    if (licences.length === 0) return new Set();
    const cols = (f: (l: Omit<StoredLicence, 'issuedAt' | 'updatedAt'>) => unknown) => licences.map(f);
    const { rows } = await tx.query<{ identifier: string }>(
      `INSERT INTO licences (identifier, type_code, issuer_code, serial, version, licence_number, holder_code, holder_code_type, holder_name,
         status, valid_from, valid_to, document, document_sm3, envelope, list_no, status_index, source, flags)
       SELECT u.identifier, u.type_code, u.issuer_code, u.serial, u.version, u.licence_number, u.holder_code, u.holder_code_type, u.holder_name,
         'active', u.valid_from::date, u.valid_to::date, u.document, u.document_sm3, u.envelope::jsonb, u.list_no, u.status_index, 'converted',
         coalesce(string_to_array(u.flags, ','), '{}')
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
         $11::text[], $12::bytea[], $13::bytea[], $14::text[], $15::int[], $16::int[], $17::text[])
         AS u(identifier, type_code, issuer_code, serial, version, licence_number, holder_code, holder_code_type, holder_name, valid_from,
              valid_to, document, document_sm3, envelope, list_no, status_index, flags)
       ON CONFLICT (type_code, licence_number, version) DO NOTHING
       RETURNING identifier`,
      [
        cols((l) => l.identifier), cols((l) => l.typeCode), cols((l) => l.issuerCode), cols((l) => l.serial), cols((l) => l.version),
        cols((l) => l.licenceNumber), cols((l) => l.holderCode), cols((l) => l.holderCodeType), cols((l) => l.holderName),
        cols((l) => l.validFrom), cols((l) => l.validTo), cols((l) => l.document), cols((l) => l.documentSm3),
        cols((l) => JSON.stringify(l.envelope)), cols((l) => l.listNo), cols((l) => l.statusIndex), cols((l) => (l.flags.length > 0 ? l.flags.join(',') : null)),
      ],
    );
    return new Set(rows.map((r) => r.identifier));
  }

  /** Licence numbers of this type already present (any version), among those given. */
  async existingNumbers(typeCode: string, numbers: readonly string[]): Promise<Set<string>> {
    if (numbers.length === 0) return new Set();
    const { rows } = await this.#db.query<{ licence_number: string }>(
      'SELECT DISTINCT licence_number FROM licences WHERE type_code = $1 AND licence_number = ANY($2::text[])',
      [typeCode, numbers],
    );
    return new Set(rows.map((r) => r.licence_number));
  }

  async setStatus(tx: Queryable, identifier: string, status: StoredLicenceStatus, supersededBy: string | null = null): Promise<void> {
    await tx.query('UPDATE licences SET status = $2, superseded_by = coalesce($3, superseded_by), updated_at = now() WHERE identifier = $1', [identifier, status, supersededBy]);
  }

  /** The licence locked for a transition (FOR UPDATE), or null. */
  async lock(tx: Queryable, identifier: string): Promise<StoredLicence | null> {
    const { rows } = await tx.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE identifier = $1 FOR UPDATE`, [identifier]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async get(identifier: string): Promise<StoredLicence | null> {
    const { rows } = await this.#db.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE identifier = $1`, [identifier]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** Every version held by a holder, newest first within each licence number. */
  async byHolder(holderCode: string, holderCodeType: HolderCodeType, typeCode: string | null, limit: number): Promise<StoredLicence[]> {
    const { rows } = await this.#db.query<LicenceRow>(
      `SELECT ${COLUMNS} FROM licences WHERE holder_code = $1 AND holder_code_type = $2 AND ($3::text IS NULL OR type_code = $3)
       ORDER BY type_code, licence_number, version DESC LIMIT $4`,
      [holderCode, holderCodeType, typeCode, limit],
    );
    return rows.map(fromRow);
  }

  /** The versions of one licence number of a type, newest first. */
  async byNumber(typeCode: string, licenceNumber: string): Promise<StoredLicence[]> {
    const { rows } = await this.#db.query<LicenceRow>(`SELECT ${COLUMNS} FROM licences WHERE type_code = $1 AND licence_number = $2 ORDER BY version DESC`, [
      typeCode,
      licenceNumber,
    ]);
    return rows.map(fromRow);
  }

  async recordStatement(tx: Queryable, e: SignedStepEvidence<string>): Promise<void> {
    try {
      await tx.query(
        `INSERT INTO signed_statements (key, kind, actor_uscc, statement, envelope, certificate_sm3, certificate_serial, signed_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
        [e.key, e.kind, e.actor, e.statement, JSON.stringify(e.envelope), e.certificateSm3, e.certificateSerial, e.signedAt],
      );
    } catch (error) {
      if (sqlState(error) === SqlState.uniqueViolation) {
        throw new ZtError('ZT_ERR_TRANSITION_REPLAYED', `this signed ${e.kind} (signed at ${e.signedAt.toISOString()}) has been recorded before; sign the step again`, { cause: error });
      }
      throw error;
    }
  }

  async appendTransition(
    tx: Queryable,
    t: { identifier: string; kind: LicenceTransitionRecord['kind']; actor: string; reason: string | null; from: StoredLicenceStatus | null; to: StoredLicenceStatus },
    statementKey: string | null,
  ): Promise<void> {
    await tx.query(
      'INSERT INTO licence_transitions (identifier, kind, actor_uscc, reason, from_status, to_status, statement_key) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [t.identifier, t.kind, t.actor, t.reason, t.from, t.to, statementKey],
    );
  }

  async history(identifier: string): Promise<LicenceTransitionRecord[]> {
    const { rows } = await this.#db.query<{
      seq: string;
      identifier: string;
      kind: LicenceTransitionRecord['kind'];
      actor_uscc: string;
      reason: string | null;
      from_status: StoredLicenceStatus | null;
      to_status: StoredLicenceStatus;
      at: Date;
      statement: string | null;
      envelope: EnvelopeJson | null;
      certificate_sm3: string | null;
      certificate_serial: string | null;
    }>(
      `SELECT t.seq, t.identifier, t.kind, t.actor_uscc, t.reason, t.from_status, t.to_status, t.at, s.statement, s.envelope, s.certificate_sm3, s.certificate_serial
       FROM licence_transitions t LEFT JOIN signed_statements s ON s.key = t.statement_key WHERE t.identifier = $1 ORDER BY t.seq`,
      [identifier],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      identifier: r.identifier,
      kind: r.kind,
      actor: r.actor_uscc,
      reason: r.reason,
      from: r.from_status,
      to: r.to_status,
      at: r.at,
      signature: r.statement && r.envelope ? { statement: r.statement, envelope: r.envelope, certificateSm3: r.certificate_sm3!, certificateSerial: r.certificate_serial! } : null,
    }));
  }

  async count(): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>('SELECT count(*) AS n FROM licences');
    return Number(rows[0]!.n);
  }
}
