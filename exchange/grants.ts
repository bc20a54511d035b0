// The grants in force, in memory: which department may read which items of which resource, for which service item,
// until when. A grant is a demand that is granted (unconditional resources) or approved (conditional ones, with
// the supplier's terms). The index is rebuilt from the catalogue at start and whenever a demand changes (an event on
// registry.catalogue, heard by every instance), so the hot path never reads the database for it.
import type { ConditionalGrant } from '../policies/index.js';
import type { Demand, DemandService } from '../registry/catalogue/index.js';

export interface Grant {
  demandId: string;
  requester: string;
  provider: string;
  resource: string;
  /** The items the grant covers: the supplier's terms if it narrowed them, else the demand's. */
  items: ReadonlySet<string>;
  serviceItem: string;
  /** China calendar dates, inclusive. */
  validFrom: string;
  validTo: string;
  dailyQuota: number | null;
  state: 'granted' | 'approved';
  /** The grant as the policy engine takes it (an approval answering conditional rules), built once. */
  approval: ConditionalGrant;
}

export type GrantLookup =
  | { grant: Grant; missing: null }
  /** The closest grant for this requester, resource and service item, and the asked items it does not cover. */
  | { grant: null; missing: readonly string[] | null; reason: string };

function toGrant(d: Demand): Grant {
  const items = d.terms?.items && d.terms.items.length > 0 ? d.terms.items : d.items;
  const end = d.terms?.validUntil && d.terms.validUntil < d.validTo ? d.terms.validUntil : d.validTo;
  return {
    demandId: d.id,
    requester: d.requester,
    provider: d.provider,
    resource: d.resource,
    items: new Set(items),
    serviceItem: d.serviceItem,
    validFrom: d.validFrom,
    validTo: end,
    dailyQuota: d.terms?.dailyQuota ?? null,
    state: d.state as 'granted' | 'approved',
    approval: {
      id: d.id,
      requester: d.requester,
      resource: d.resource,
      items: [...items],
      purposes: [d.serviceItem],
      // Dates are China's calendar days, inclusive.
      notBefore: new Date(`${d.validFrom}T00:00:00+08:00`),
      notAfter: new Date(`${end}T23:59:59.999+08:00`),
    },
  };
}

export class GrantIndex {
  /** requester|resource → grants. */
  #byPair = new Map<string, Grant[]>();
  #size = 0;
  #loadedAt: Date | null = null;

  get size(): number {
    return this.#size;
  }

  get loadedAt(): Date | null {
    return this.#loadedAt;
  }

  /** Reads every granted and approved demand and swaps the index in one step. */
  async reload(demands: DemandService): Promise<void> {
    const [granted, approved] = await Promise.all([demands.exportAll({ state: 'granted' }), demands.exportAll({ state: 'approved' })]);
    const next = new Map<string, Grant[]>();
    for (const d of [...granted, ...approved]) {
      const g = toGrant(d);
      const key = `${g.requester}|${g.resource}`;
      const list = next.get(key);
      if (list) list.push(g);
      else next.set(key, [g]);
    }
    this.#byPair = next;
    this.#size = granted.length + approved.length;
    this.#loadedAt = new Date();
  }

  /** The grant that covers every asked item for this purpose today, or why there is none. */
  find(requester: string, resource: string, serviceItem: string, items: readonly string[], today: string): GrantLookup {
    const candidates = this.#byPair.get(`${requester}|${resource}`);
    if (!candidates) return { grant: null, missing: null, reason: `${requester} has no granted or approved demand for ${resource}` };
    let closest: { grant: Grant; missing: string[] } | null = null;
    let inForce = false;
    for (const g of candidates) {
      if (g.serviceItem !== serviceItem || g.validFrom > today || g.validTo < today) continue;
      inForce = true;
      const missing = items.filter((i) => !g.items.has(i));
      if (missing.length === 0) return { grant: g, missing: null };
      if (!closest || missing.length < closest.missing.length) closest = { grant: g, missing };
    }
    if (closest) {
      return {
        grant: null,
        missing: closest.missing,
        reason: `the grant (demand ${closest.grant.demandId}) does not cover ${closest.missing.join(', ')}; register a demand for them`,
      };
    }
    return {
      grant: null,
      missing: null,
      reason: inForce
        ? `no grant of ${requester} for ${resource} covers these items`
        : `no grant of ${requester} for ${resource} is in force today for service item ${serviceItem}`,
    };
  }
}
