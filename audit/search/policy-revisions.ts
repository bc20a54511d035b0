// Every negative-list revision (负面清单) a gateway puts in force is kept with the text of its rules, so that a record
// naming revision 2025-08-01.1 and rule NL-GA-0002 can be explained years later, after the list has moved on: title,
// effect, legal basis and condition as they were then. Rows are written once per distinct content (insert if absent)
// by every instance that loads a set; the first load's time stands.
import { canonicalJson } from '../../core/canonical-json.js';
import type { Queryable } from '../../core/storage/index.js';
import { sm3 } from '../../certs/sm2/sm2.js';
import { SECRET_RULES, type PolicyEngine } from '../../policies/index.js';

export interface PersistedRule {
  readonly id: string;
  readonly title: string | null;
  readonly effect: string;
  readonly legalBasis: readonly { title: string; article: string | null }[];
  readonly condition: string | null;
}

export interface PolicyRevisionRow {
  readonly revision: string;
  readonly digest: string;
  readonly catalogueRevision: string;
  readonly files: readonly string[];
  readonly loadedAt: Date;
  readonly loadedBy: string;
  readonly rules: readonly PersistedRule[];
}

/** The rules a decision of this set can cite: list entries, the built-in secret rules, and catalogue denials. */
export function persistedRules(engine: PolicyEngine): PersistedRule[] {
  const out = new Map<string, PersistedRule>();
  const add = (r: PersistedRule) => {
    if (!out.has(r.id)) {
      out.set(r.id, {
        id: r.id,
        title: r.title ?? null,
        effect: r.effect,
        legalBasis: r.legalBasis.map((b) => ({ title: b.title, article: b.article ?? null })),
        condition: r.condition ?? null,
      });
    }
  };
  for (const r of engine.rules()) add(r);
  for (const r of Object.values(SECRET_RULES)) add(r);
  // A 不予共享 resource's catalogue basis is cited as rule catalogue:<code>; it lives in the compiled items only.
  const policy = engine.policy;
  for (const code of policy.resourceCodes()) {
    const resource = policy.resource(code);
    for (const item of resource?.items.values() ?? []) {
      for (const rule of item.denies) if (rule.id.startsWith('catalogue:')) add({ ...rule.ref, legalBasis: rule.ref.legalBasis });
    }
  }
  return [...out.values()];
}

export class PolicyRevisionStore {
  constructor(private readonly db: Queryable) {}

  /** Keeps the set in force, unless this very content is kept already. */
  async record(engine: PolicyEngine, instance: string): Promise<{ inserted: boolean }> {
    const status = engine.status();
    const rules = persistedRules(engine);
    const contentSm3 = sm3(Buffer.from(canonicalJson(rules), 'utf8')).toString('hex');
    const result = await this.db.query(
      `INSERT INTO policy_revisions (revision, content_sm3, digest, catalogue_revision, files, rules, loaded_at, loaded_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (revision, content_sm3) DO NOTHING`,
      [status.revision, contentSm3, status.digest, status.catalogueRevision, [...status.files], JSON.stringify(rules), status.loadedAt, instance],
    );
    return { inserted: result.rowCount > 0 };
  }

  /**
   * The content of `revision` that was in force at `at`: the last one loaded at or before it, else (a record made by
   * an instance that loaded the set before any instance recorded it) the first one loaded after.
   */
  async inForce(revision: string, at: Date): Promise<PolicyRevisionRow | null> {
    const { rows } = await this.db.query<{
      revision: string;
      digest: string;
      catalogue_revision: string;
      files: string[];
      loaded_at: Date | string;
      loaded_by: string;
      rules: PersistedRule[] | string;
    }>(
      `(SELECT revision, digest, catalogue_revision, files, loaded_at, loaded_by, rules, 0 AS rank FROM policy_revisions
         WHERE revision = $1 AND loaded_at <= $2 ORDER BY loaded_at DESC LIMIT 1)
       UNION ALL
       (SELECT revision, digest, catalogue_revision, files, loaded_at, loaded_by, rules, 1 AS rank FROM policy_revisions
         WHERE revision = $1 AND loaded_at > $2 ORDER BY loaded_at ASC LIMIT 1)
       ORDER BY rank LIMIT 1`,
      [revision, at],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      revision: row.revision,
      digest: row.digest,
      catalogueRevision: row.catalogue_revision,
      files: row.files,
      loadedAt: row.loaded_at instanceof Date ? row.loaded_at : new Date(row.loaded_at),
      loadedBy: row.loaded_by,
      rules: typeof row.rules === 'string' ? (JSON.parse(row.rules) as PersistedRule[]) : row.rules,
    };
  }
}
