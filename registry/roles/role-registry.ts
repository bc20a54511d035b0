// Roles in the registry (角色): who administers the platform, who supervises the access log, which service portals
// may show citizens who read their data. The platform administrator grants and withdraws them with signed requests;
// each change is appended to role_changes with its signed request kept in signed_statements, so the history says
// who holds what since when and who granted it, and can be checked again with the CA certificate alone. Every
// instance keeps the roles in force in memory (the gateway asks on every signed call) and reloads them when any
// instance announces a change on the event bus.
import { canonicalJson } from '../../core/canonical-json.js';
import { ZtError } from '../../core/errors/index.js';
import type { EventBus } from '../../core/events/index.js';
import { isValidUscc } from '../../core/identifiers/index.js';
import type { Logger } from '../../core/logging/index.js';
import { enqueueEvent } from '../../core/outbox/index.js';
import { SqlState, sqlState, type Database, type Queryable } from '../../core/storage/index.js';
import { sm3 } from '../../certs/sm2/sm2.js';
import { REGISTRY_ROLES, type Caller, type RegistryRole } from '../../transport/access.js';
import { REQUEST_SIGNATURE_SCHEME } from '../../transport/request-signature.js';
import type { VerifiedRequest } from '../../transport/signed-call.js';
import { DEPARTMENT_EVENTS_TOPIC } from '../departments/index.js';
import type { DepartmentService } from '../departments/index.js';

export const ROLE_CHANGED_EVENT = 'role.changed';

export interface RoleHolder {
  role: RegistryRole;
  department: string;
  /** When the grant in force was made. */
  since: Date;
  /** The administrator who signed it, or null for a bootstrap from configuration. */
  grantedBy: string | null;
  /** Where it came from: 'signed' or the configuration setting of a bootstrap. */
  source: string;
  reason: string | null;
}

export interface RoleChange {
  id: string;
  role: RegistryRole;
  department: string;
  action: 'grant' | 'withdraw';
  at: Date;
  by: string | null;
  source: string;
  reason: string | null;
  /** The signed request that made the change (null for a bootstrap): enough to verify it again offline. */
  statement: { key: string; signedAt: Date; envelope: SignedRequestEvidence } | null;
}

/** A signed request as kept: the canonical request's parts (docs/exchange-protocol.md) and the body it covered. */
export interface SignedRequestEvidence {
  scheme: typeof REQUEST_SIGNATURE_SCHEME;
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  certificate: string;
  signature: string;
  body: string;
}

export interface RoleChangeInput {
  role: string;
  department: string;
  reason?: string | null;
}

/** The signed call that asks for a change, as the gateway verified it. */
export interface SignedRoleRequest {
  caller: Caller;
  verified: VerifiedRequest;
  method: string;
  path: string;
  body: Buffer;
}

export interface RoleRegistryOptions {
  db: Database;
  departments: DepartmentService;
  onOutboxWrite?: () => void;
  logger?: Logger;
}

export interface RoleBootstrap {
  /** The platform operator: the first administrator (and a supervisor), once. */
  administrator: string;
  /** Departments named by ZT_AUDIT_SUPERVISORS / ZT_AUDIT_PORTALS (deprecated), granted once each. */
  supervisors: readonly string[];
  portals: readonly string[];
}

const isRole = (r: string): r is RegistryRole => (REGISTRY_ROLES as readonly string[]).includes(r);

export class RoleRegistry {
  readonly #o: RoleRegistryOptions;
  /** Roles in force, by department. */
  #held = new Map<string, Map<RegistryRole, RoleHolder>>();
  static readonly #none: ReadonlySet<RegistryRole> = new Set();
  #sets = new Map<string, ReadonlySet<RegistryRole>>();

  constructor(options: RoleRegistryOptions) {
    this.#o = options;
  }

  /** The roles a department holds now (from memory: this is asked on every signed call). */
  rolesOf(department: string): ReadonlySet<RegistryRole> {
    return this.#sets.get(department) ?? RoleRegistry.#none;
  }

  has(department: string, role: RegistryRole): boolean {
    return this.rolesOf(department).has(role);
  }

  /** Every role in force, with since when and who granted it. */
  holders(role?: RegistryRole): RoleHolder[] {
    const all = [...this.#held.values()].flatMap((m) => [...m.values()]);
    return all.filter((h) => role === undefined || h.role === role).sort((a, b) => a.role.localeCompare(b.role) || a.department.localeCompare(b.department));
  }

  /** Reads the roles in force from the database. */
  async load(): Promise<void> {
    const { rows } = await this.#o.db.query<{ role: RegistryRole; department: string; action: 'grant' | 'withdraw'; at: Date; by_department: string | null; source: string; reason: string | null }>(
      'SELECT role, department, action, at, by_department, source, reason FROM role_changes ORDER BY id',
    );
    const held = new Map<string, Map<RegistryRole, RoleHolder>>();
    for (const r of rows) {
      const department = r.department.trim();
      const roles = held.get(department) ?? new Map<RegistryRole, RoleHolder>();
      held.set(department, roles);
      if (r.action === 'grant') roles.set(r.role, { role: r.role, department, since: new Date(r.at), grantedBy: r.by_department?.trim() ?? null, source: r.source, reason: r.reason });
      else roles.delete(r.role);
    }
    this.#held = held;
    this.#sets = new Map([...held].map(([d, m]) => [d, new Set(m.keys())]));
  }

  /**
   * Grants the first administrator and the roles the deprecated settings name, each only if that department never
   * had that role granted or withdrawn before: configuration starts the registry, the registry decides after.
   */
  async bootstrap(from: RoleBootstrap): Promise<string[]> {
    const wanted: { role: RegistryRole; department: string; source: string }[] = [
      { role: 'administrator', department: from.administrator, source: 'bootstrap:ZT_PLATFORM_USCC' },
      { role: 'supervisor', department: from.administrator, source: 'bootstrap:ZT_PLATFORM_USCC' },
      ...from.supervisors.map((department) => ({ role: 'supervisor' as const, department, source: 'bootstrap:ZT_AUDIT_SUPERVISORS' })),
      ...from.portals.map((department) => ({ role: 'portal' as const, department, source: 'bootstrap:ZT_AUDIT_PORTALS' })),
    ];
    const granted = await this.#o.db.transaction(async (tx) => {
      // One instance at a time, so two starting together do not both grant.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['zhengtong.role-bootstrap']);
      const done: string[] = [];
      for (const w of wanted) {
        const { rows } = await tx.query('SELECT 1 FROM role_changes WHERE department = $1 AND role = $2 LIMIT 1', [w.department, w.role]);
        if (rows.length > 0) continue;
        await tx.query('INSERT INTO role_changes (role, department, action, source, reason) VALUES ($1, $2, $3, $4, $5)', [w.role, w.department, 'grant', w.source, 'bootstrapped from configuration']);
        done.push(`${w.role} ${w.department} (${w.source.slice('bootstrap:'.length)})`);
      }
      if (done.length > 0) await this.#announce(tx, { action: 'bootstrap', roles: done.length });
      return done;
    });
    if (granted.length > 0) this.#o.onOutboxWrite?.();
    await this.load();
    return granted;
  }

  /** Grants a role, on the administrator's signed request. */
  grant(input: RoleChangeInput, request: SignedRoleRequest): Promise<RoleHolder> {
    return this.#change('grant', input, request) as Promise<RoleHolder>;
  }

  /** Withdraws a role, on the administrator's signed request. */
  async withdraw(input: RoleChangeInput, request: SignedRoleRequest): Promise<void> {
    await this.#change('withdraw', input, request);
  }

  /** The history of role changes, oldest first, optionally of one department. */
  async history(department?: string): Promise<RoleChange[]> {
    const { rows } = await this.#o.db.query<{
      id: string;
      role: RegistryRole;
      department: string;
      action: 'grant' | 'withdraw';
      at: Date;
      by_department: string | null;
      source: string;
      reason: string | null;
      statement_key: string | null;
      envelope: SignedRequestEvidence | string | null;
      signed_at: Date | null;
    }>(
      `SELECT c.id::text AS id, c.role, c.department, c.action, c.at, c.by_department, c.source, c.reason, c.statement_key, s.envelope, s.signed_at
       FROM role_changes c LEFT JOIN signed_statements s ON s.key = c.statement_key
       WHERE ($1::text IS NULL OR c.department = $1) ORDER BY c.id`,
      [department ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      role: r.role,
      department: r.department.trim(),
      action: r.action,
      at: new Date(r.at),
      by: r.by_department?.trim() ?? null,
      source: r.source,
      reason: r.reason,
      statement:
        r.statement_key && r.envelope && r.signed_at
          ? { key: r.statement_key.trim(), signedAt: new Date(r.signed_at), envelope: typeof r.envelope === 'string' ? (JSON.parse(r.envelope) as SignedRequestEvidence) : r.envelope }
          : null,
    }));
  }

  /** Reloads the roles in this instance whenever any instance changes them. */
  async listen(bus: EventBus, instanceId: string): Promise<{ ready: Promise<void>; close(): Promise<void> }> {
    return bus.subscribe({
      topics: [DEPARTMENT_EVENTS_TOPIC],
      group: `roles.${instanceId}`,
      fromBeginning: false,
      handler: async (event) => {
        if (event.headers['zt-event-type'] !== ROLE_CHANGED_EVENT) return;
        await this.load().catch((error: unknown) => this.#o.logger?.warn({ err: error }, 'reloading the roles failed; the previous roles stay in force until the next change'));
      },
    });
  }

  async #change(action: 'grant' | 'withdraw', input: RoleChangeInput, request: SignedRoleRequest): Promise<RoleHolder | null> {
    const role = String(input.role ?? '');
    const department = String(input.department ?? '').trim().toUpperCase();
    const reason = input.reason == null || input.reason === '' ? null : String(input.reason);
    if (!isRole(role)) throw new ZtError('ZT_ERR_ROLE_INVALID', `role must be one of ${REGISTRY_ROLES.join(', ')}`);
    if (!isValidUscc(department)) throw new ZtError('ZT_ERR_ROLE_INVALID', `${department} is not a valid unified social credit code (GB 32100)`);
    if (reason !== null && reason.length > 500) throw new ZtError('ZT_ERR_ROLE_INVALID', 'reason must have at most 500 characters');
    // Only registered departments hold roles (ZT_ERR_DEPARTMENT_NOT_FOUND otherwise).
    if (action === 'grant') await this.#o.departments.get(department);
    const { caller, verified } = request;
    const envelope: SignedRequestEvidence = {
      scheme: REQUEST_SIGNATURE_SCHEME,
      method: request.method,
      path: request.path,
      timestamp: verified.presented.timestamp,
      nonce: verified.presented.nonce,
      certificate: verified.presented.certificate.toString('base64'),
      signature: verified.presented.signature.toString('base64'),
      body: request.body.toString('utf8'),
    };
    const statement = canonicalJson({ schema: 'zhengtong/role-change/v1', action, role, department, reason });
    const key = sm3(verified.presented.signature, sm3(Buffer.from(statement, 'utf8'))).toString('hex');
    const holder = await this.#o.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['zhengtong.roles']);
      const current = await currentRoles(tx, department);
      if (action === 'grant' && current.has(role)) throw new ZtError('ZT_ERR_ROLE_ALREADY_HELD', `${department} holds the ${role} role already`);
      if (action === 'withdraw') {
        if (!current.has(role)) throw new ZtError('ZT_ERR_ROLE_NOT_HELD', `${department} does not hold the ${role} role`);
        if (role === 'administrator') {
          const { rows } = await tx.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM (SELECT DISTINCT ON (department) department, action FROM role_changes WHERE role = 'administrator' ORDER BY department, id DESC) l WHERE action = 'grant'`,
          );
          if (Number(rows[0]?.n ?? 0) <= 1) throw new ZtError('ZT_ERR_ROLE_LAST_ADMINISTRATOR', `${department} is the last platform administrator; grant the role to another department first`);
        }
      }
      try {
        await tx.query(
          `INSERT INTO signed_statements (key, kind, actor_uscc, statement, envelope, certificate_sm3, certificate_serial, signed_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)`,
          [key, `role-${action}`, caller.uscc, statement, JSON.stringify(envelope), caller.certificateSm3, caller.certificate.serial, new Date(verified.presented.timestamp)],
        );
      } catch (error) {
        if (sqlState(error) === SqlState.uniqueViolation) throw new ZtError('ZT_ERR_REQUEST_REPLAYED', 'this signed role change has been recorded before', { cause: error });
        throw error;
      }
      const { rows } = await tx.query<{ at: Date }>(
        'INSERT INTO role_changes (role, department, action, by_department, source, reason, statement_key) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING at',
        [role, department, action, caller.uscc, 'signed', reason, key],
      );
      await this.#announce(tx, { action, role, department });
      return action === 'grant' ? { role, department, since: new Date(rows[0]!.at), grantedBy: caller.uscc, source: 'signed', reason } : null;
    });
    this.#o.onOutboxWrite?.();
    await this.load();
    return holder;
  }

  async #announce(tx: Queryable, change: Record<string, unknown>): Promise<void> {
    await enqueueEvent(tx, DEPARTMENT_EVENTS_TOPIC, {
      key: 'roles',
      value: JSON.stringify({ type: ROLE_CHANGED_EVENT, ...change }),
      headers: { 'zt-event-type': ROLE_CHANGED_EVENT },
    });
  }
}

async function currentRoles(tx: Queryable, department: string): Promise<Set<string>> {
  const { rows } = await tx.query<{ role: string; action: string }>(
    'SELECT DISTINCT ON (role) role, action FROM role_changes WHERE department = $1 ORDER BY role, id DESC',
    [department],
  );
  return new Set(rows.filter((r) => r.action === 'grant').map((r) => r.role));
}
