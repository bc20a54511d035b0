// A compiled, immutable policy set and its decide(): the request path. Everything that can be worked out ahead of
// time was, in compile.ts; here each requested item is looked up, its few rules checked (each rule at most once per
// decision), and the answer assembled from precomputed objects where the common case allows.
import { CHINA_OFFSET_MS } from '../core/china-date.js';
import { ZtError } from '../core/errors/index.js';
import type { CompiledItem, CompiledResource, CompiledRule } from './compiled.js';
import type { ConditionalGrant, Decision, DecisionRequest, DenyReason, HeldItem, PermittedItem, RuleRef } from './decision.js';
import { combineMasks, type MaskSpec } from './masks.js';
import type { LegalBasis, RuleEffect } from './policy-file.js';
import { personCategories, SUBJECT_UNKNOWN_AGE } from './subject.js';

/** A rule as loaded, for listings, impact reports and people: where it is written and what it reaches. */
export interface RuleInfo {
  readonly id: string;
  readonly effect: RuleEffect;
  readonly title: string | null;
  readonly legalBasis: readonly LegalBasis[];
  readonly condition: string | null;
  readonly mask: MaskSpec | null;
  readonly file: string;
  readonly line: number;
  /** How many (resource, item) pairs the rule reaches. */
  readonly targets: number;
}

const NONE: readonly never[] = Object.freeze([]);
const DAY_MS = 86_400_000;

function invalidRequest(reason: string): ZtError {
  return new ZtError('ZT_ERR_REQUEST_INVALID', `decision request: ${reason}`, { details: { reason } });
}

export class CompiledPolicy {
  readonly #resources: ReadonlyMap<string, CompiledResource>;
  readonly #ruleIds: ReadonlySet<string>;
  // Per-decision state. decide() is synchronous, so one set of fields serves every call on this policy.
  #stamp = 0;
  readonly #scratch: CompiledItem[] = [];
  #requester = '';
  #resource = '';
  #purpose = '';
  #at = 0;
  #minute = -1;
  #subjects = -1;
  #subjectKind = '';
  #subjectId = '';
  #grant: ConditionalGrant | null = null;
  #grantUsable = -1;

  constructor(
    /** The revision every decision names: the files' declared revisions, joined by '+' when there are several. */
    readonly revision: string,
    /** SHA-256 (hex, first 16) over the files' names (without their directory) and texts: one digest, one set. */
    readonly digest: string,
    readonly catalogueRevision: string,
    readonly files: readonly string[],
    readonly rules: readonly RuleInfo[],
    ruleIds: ReadonlySet<string>,
    resources: ReadonlyMap<string, CompiledResource>,
  ) {
    this.#ruleIds = ruleIds;
    this.#resources = resources;
  }

  /** Whether a decision of this set can cite `ruleId` (list entries, built-in and catalogue rules). */
  has(ruleId: string): boolean {
    return this.#ruleIds.has(ruleId);
  }

  get resourceCount(): number {
    return this.#resources.size;
  }

  /** The compiled resource, for tools (impact analysis, synthetic requests); undefined if unknown. */
  resource(code: string): CompiledResource | undefined {
    return this.#resources.get(code);
  }

  resourceCodes(): IterableIterator<string> {
    return this.#resources.keys();
  }

  /**
   * Decides one request. Sharing is the default: an item is released unless the list withholds it or makes it
   * conditional, and it is masked when a mask rule applies. Unknown resources and items are refused, never
   * permitted. A request whose every item is withheld is a deny; one with items awaiting approval is conditional
   * (its `items` are what may be released now). Throws ZT_ERR_REQUEST_INVALID for a malformed request.
   */
  decide(request: DecisionRequest): Decision {
    const codes = request.items;
    const resourceCode = request.resource;
    if (typeof resourceCode !== 'string') throw invalidRequest('resource must be a catalogue code');
    if (!Array.isArray(codes) || codes.length === 0) throw invalidRequest('items must list at least one data item code');
    if (typeof request.requester !== 'string') throw invalidRequest('requester must be a USCC');
    if (request.subject == null || request.purpose == null || typeof request.purpose.serviceItem !== 'string') {
      throw invalidRequest('subject and purpose.serviceItem are required');
    }
    const at = request.at instanceof Date ? request.at.getTime() : Number.NaN;
    if (at !== at) throw invalidRequest('at must be a valid Date');

    const resource = this.#resources.get(resourceCode);
    if (resource === undefined) return this.#refuse('unknown-resource', resourceCode, [resourceCode]);

    const stamp = ++this.#stamp;
    const scratch = this.#scratch;
    let n = 0;
    let unknown: string[] | null = null;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i];
      const item = typeof code === 'string' ? resource.items.get(code) : undefined;
      if (item === undefined) {
        (unknown ??= []).push(String(code));
      } else if (item.seenStamp !== stamp) {
        item.seenStamp = stamp;
        scratch[n++] = item;
      }
    }
    if (unknown !== null) return this.#refuse('unknown-item', resourceCode, unknown);

    this.#requester = request.requester;
    this.#resource = resourceCode;
    this.#purpose = request.purpose.serviceItem;
    this.#at = at;
    this.#minute = -1;
    this.#subjects = -1;
    this.#subjectKind = request.subject.kind;
    this.#subjectId = request.subject.id;
    this.#grant = request.grant ?? null;
    this.#grantUsable = -1;

    let items: PermittedItem[] | null = null;
    let withheld: HeldItem[] | null = null;
    let pending: HeldItem[] | null = null;
    let cited: RuleRef[] | null = null;
    let grantUsed = false;

    for (let k = 0; k < n; k++) {
      const item = scratch[k]!;
      if (item.free) {
        (items ??= []).push(item.plain);
        continue;
      }
      if (item.secret !== null) {
        cited = cite(item.secret, cited, stamp);
        (withheld ??= []).push(item.withheldBy[0]!);
        continue;
      }

      const denies = item.denies;
      let first = -1;
      let ids: string[] | null = null;
      for (let i = 0; i < denies.length; i++) {
        const r = denies[i]!;
        if (r.dynamic && !this.#applies(r, stamp)) continue;
        cited = cite(r, cited, stamp);
        if (first < 0) first = i;
        else (ids ??= [denies[first]!.id]).push(r.id);
      }
      if (first >= 0) {
        (withheld ??= []).push(ids === null ? item.withheldBy[first]! : { code: item.code, rules: ids });
        continue;
      }

      const conditionals = item.conditionals;
      for (let i = 0; i < conditionals.length; i++) {
        const r = conditionals[i]!;
        if (r.dynamic && !this.#applies(r, stamp)) continue;
        cited = cite(r, cited, stamp);
        if (this.#granted(r, item.code)) {
          grantUsed = true;
        } else if (first < 0) {
          first = i;
        } else {
          (ids ??= [conditionals[first]!.id]).push(r.id);
        }
      }
      if (first >= 0) {
        (pending ??= []).push(ids === null ? item.pendingBy[first]! : { code: item.code, rules: ids });
        continue;
      }

      const masks = item.masks;
      let mask: MaskSpec | null = null;
      for (let i = 0; i < masks.length; i++) {
        const r = masks[i]!;
        if (r.dynamic && !this.#applies(r, stamp)) continue;
        cited = cite(r, cited, stamp);
        if (first < 0) {
          first = i;
          mask = r.mask;
        } else {
          mask = combineMasks(mask!, r.mask!);
        }
      }
      (items ??= []).push(first < 0 ? item.plain : mask === masks[first]!.mask ? item.releasedBy[first]! : { code: item.code, mask });
    }
    this.#grant = null;

    const grant = grantUsed ? request.grant!.id : null;
    if (pending !== null) {
      return { outcome: 'conditional', reason: 'approval-required', revision: this.revision, resource: resourceCode, items: items ?? NONE, withheld: withheld ?? NONE, pending, rules: cited ?? NONE, unknown: NONE, grant };
    }
    if (items === null) {
      return { outcome: 'deny', reason: 'negative-list', revision: this.revision, resource: resourceCode, items: NONE, withheld: withheld ?? NONE, pending: NONE, rules: cited ?? NONE, unknown: NONE, grant };
    }
    return { outcome: 'permit', reason: null, revision: this.revision, resource: resourceCode, items, withheld: withheld ?? NONE, pending: NONE, rules: cited ?? NONE, unknown: NONE, grant };
  }

  #refuse(reason: DenyReason, resource: string, unknown: readonly string[]): Decision {
    return { outcome: 'deny', reason, revision: this.revision, resource, items: NONE, withheld: NONE, pending: NONE, rules: NONE, unknown, grant: null };
  }

  #applies(r: CompiledRule, stamp: number): boolean {
    if (r.memoStamp === stamp) return r.memoValue;
    const v = this.#evaluate(r);
    r.memoStamp = stamp;
    r.memoValue = v;
    return v;
  }

  #evaluate(r: CompiledRule): boolean {
    const at = this.#at;
    if (at < r.notBefore || at > r.notAfter) return false;
    if (r.hoursFrom >= 0) {
      if (this.#minute < 0) this.#minute = Math.floor((((at + CHINA_OFFSET_MS) % DAY_MS) + DAY_MS) % DAY_MS / 60_000);
      const m = this.#minute;
      const inside = r.hoursFrom < r.hoursTo ? m >= r.hoursFrom && m < r.hoursTo : m >= r.hoursFrom || m < r.hoursTo;
      if (!inside) return false;
    }
    if (r.subjects !== 0) {
      if (this.#subjects < 0) {
        this.#subjects =
          this.#subjectKind !== 'person' ? 0 : typeof this.#subjectId === 'string' ? personCategories(this.#subjectId, at) : SUBJECT_UNKNOWN_AGE;
      }
      if ((r.subjects & this.#subjects) === 0) return false;
    }
    if (r.requesters !== null && !r.requesters.has(this.#requester)) return false;
    if (r.unlessRequesters !== null && r.unlessRequesters.has(this.#requester)) return false;
    if (r.purposes !== null && !r.purposes.has(this.#purpose)) return false;
    if (r.unlessPurposes !== null && r.unlessPurposes.has(this.#purpose)) return false;
    return true;
  }

  /** Whether the request's grant answers conditional rule `r` for item `code`. */
  #granted(r: CompiledRule, code: string): boolean {
    const g = this.#grant;
    if (g === null) return false;
    if (this.#grantUsable < 0) {
      const at = this.#at;
      this.#grantUsable =
        g.requester === this.#requester &&
        g.resource === this.#resource &&
        (g.notBefore === undefined || g.notBefore.getTime() <= at) &&
        (g.notAfter === undefined || at <= g.notAfter.getTime()) &&
        (g.purposes === undefined || g.purposes.includes(this.#purpose)) &&
        (g.rules === undefined || Array.isArray(g.rules)) &&
        Array.isArray(g.items)
          ? 1
          : 0;
    }
    return this.#grantUsable === 1 && (g.rules === undefined || g.rules.includes(r.id)) && g.items.includes(code);
  }
}

function cite(r: CompiledRule, cited: RuleRef[] | null, stamp: number): RuleRef[] | null {
  if (r.citedStamp === stamp) return cited;
  r.citedStamp = stamp;
  if (cited === null) return [r.ref];
  cited.push(r.ref);
  return cited;
}
