// The indexed form of a policy set: resource → item → rules, built once by compile.ts and read by decide().
// Objects here get all their fields in the constructor so their shapes never change on the hot path.
import type { DataItemType, SharingClass, SubjectKind } from './catalogue.js';
import type { HeldItem, PermittedItem, RuleRef } from './decision.js';
import type { MaskSpec } from './masks.js';

export const DENY = 0;
export const CONDITIONAL = 1;
export const MASK = 2;

/** Service-item codes matched exactly or by prefix ('SI-MZ-*'). */
export class PurposeSet {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];

  constructor(values: readonly string[]) {
    this.exact = new Set(values.filter((v) => !v.endsWith('*')));
    this.prefixes = values.filter((v) => v.endsWith('*')).map((v) => v.slice(0, -1));
  }

  has(serviceItem: string): boolean {
    if (this.exact.has(serviceItem)) return true;
    const p = this.prefixes;
    for (let i = 0; i < p.length; i++) if (serviceItem.startsWith(p[i]!)) return true;
    return false;
  }
}

export class CompiledRule {
  /** Per-decision memo (the stamp says which decision the value belongs to) and "already cited" mark. */
  memoStamp = 0;
  memoValue = false;
  citedStamp = 0;

  constructor(
    readonly index: number,
    readonly id: string,
    readonly effect: number,
    readonly ref: RuleRef,
    readonly mask: MaskSpec | null,
    /** False when the rule has no condition besides its resources and items: it always applies. */
    readonly dynamic: boolean,
    /** Bit set of SUBJECT_BIT; 0 = any subject. */
    readonly subjects: number,
    readonly requesters: ReadonlySet<string> | null,
    readonly unlessRequesters: ReadonlySet<string> | null,
    readonly purposes: PurposeSet | null,
    readonly unlessPurposes: PurposeSet | null,
    readonly notBefore: number,
    readonly notAfter: number,
    /** Minutes of the Beijing day, [hoursFrom, hoursTo); -1 = any time of day. */
    readonly hoursFrom: number,
    readonly hoursTo: number,
  ) {}
}

const NO_RULES: readonly CompiledRule[] = Object.freeze([]);

export class CompiledItem {
  /** Marks the item as already answered in the current decision (duplicates in a request). */
  seenStamp = 0;
  /** Released without mask. */
  readonly plain: PermittedItem;
  /** Precomputed answers for the common case of one rule: withheldBy[i] for denies[i], and so on. */
  readonly withheldBy: readonly HeldItem[];
  readonly pendingBy: readonly HeldItem[];
  readonly releasedBy: readonly PermittedItem[];
  /** True when no rule can apply: the item is simply released. */
  readonly free: boolean;

  constructor(
    readonly code: string,
    readonly name: string,
    readonly type: DataItemType,
    /** The built-in secret rule if the item is a state or work secret: it is never released. */
    readonly secret: CompiledRule | null,
    readonly denies: readonly CompiledRule[],
    readonly conditionals: readonly CompiledRule[],
    readonly masks: readonly CompiledRule[],
  ) {
    this.plain = Object.freeze({ code, mask: null });
    const held = (r: CompiledRule): HeldItem => Object.freeze({ code, rules: Object.freeze([r.id]) });
    this.withheldBy = secret !== null ? [held(secret)] : denies.map(held);
    this.pendingBy = conditionals.map(held);
    this.releasedBy = masks.map((r) => Object.freeze({ code, mask: r.mask }));
    this.free = secret === null && denies.length === 0 && conditionals.length === 0 && masks.length === 0;
  }

  static rules(list: CompiledRule[]): readonly CompiledRule[] {
    return list.length === 0 ? NO_RULES : list;
  }
}

export class CompiledResource {
  constructor(
    readonly code: string,
    readonly name: string,
    readonly provider: string,
    readonly sharingClass: SharingClass,
    readonly subjectKind: SubjectKind | null,
    readonly items: ReadonlyMap<string, CompiledItem>,
  ) {}
}
