// What decide() is asked and what it answers.
import type { SubjectKind } from './catalogue.js';
import type { MaskSpec } from './masks.js';
import type { LegalBasis } from './catalogue.js';
import type { RuleEffect } from './policy-file.js';

/**
 * A supplier's approval of a conditional request (有条件共享 answered in the application–reply procedure, e.g. an
 * approved demand of registry/catalogue: id, requester, resource, the approved items, its service item and
 * validity). The engine does not look grants up: the caller passes the approved grant it holds, and the engine
 * checks that it answers this request (same requester and resource, in force at `at`, for this purpose, naming the
 * item). A grant can only answer a conditional rule of the list; it cannot lift a deny, and a supplier cannot add
 * conditions of its own.
 */
export interface ConditionalGrant {
  readonly id: string;
  readonly requester: string;
  readonly resource: string;
  readonly items: readonly string[];
  /** The conditional rules the approval answers; absent: every conditional rule on the approved items. */
  readonly rules?: readonly string[];
  /** Service items the approval is limited to; absent: any. */
  readonly purposes?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

export interface DecisionRequest {
  /** USCC of the requesting department. */
  readonly requester: string;
  /** Catalogue code of the resource, e.g. 'RES-GA-0001'. */
  readonly resource: string;
  /** Data item codes; duplicates are answered once. */
  readonly items: readonly string[];
  /** Whose record: a resident ID number for a person, a USCC for an organisation. */
  readonly subject: { readonly kind: SubjectKind; readonly id: string };
  /** The service item (事项) and case (办件) the data is for. */
  readonly purpose: { readonly serviceItem: string; readonly caseNumber: string };
  readonly at: Date;
  readonly grant?: ConditionalGrant | null;
}

/** A rule as a decision cites it. Built-in rules (secrets) have ids starting 'builtin:'. */
export interface RuleRef {
  readonly id: string;
  readonly effect: RuleEffect;
  readonly title: string | null;
  readonly legalBasis: readonly LegalBasis[];
  readonly condition: string | null;
}

/** A released item and the mask to apply to it (null: released as it is). */
export interface PermittedItem {
  readonly code: string;
  readonly mask: MaskSpec | null;
}

/** An item that is not released, with the ids of the rules that withhold it (or that it awaits approval under). */
export interface HeldItem {
  readonly code: string;
  readonly rules: readonly string[];
}

export type DenyReason = 'unknown-resource' | 'unknown-item' | 'negative-list';

interface DecisionFields {
  /** The policy revision that made the decision. */
  readonly revision: string;
  readonly resource: string;
  /** Released items, masked as stated. For 'conditional', the part that may be released now. */
  readonly items: readonly PermittedItem[];
  /** Items refused by the list (不予共享) or as secrets, with rule ids. */
  readonly withheld: readonly HeldItem[];
  /** Items awaiting the supplier's approval (有条件共享), with the conditional rule ids. */
  readonly pending: readonly HeldItem[];
  /** Every rule that shaped the decision (withholding, pending, satisfied by the grant, masking), with its basis. */
  readonly rules: readonly RuleRef[];
  /** Unknown resource or item codes (deny reasons 'unknown-resource' and 'unknown-item'). */
  readonly unknown: readonly string[];
  /** The grant that satisfied a conditional rule, if one did. */
  readonly grant: string | null;
}

export interface PermitDecision extends DecisionFields {
  readonly outcome: 'permit';
  readonly reason: null;
}

export interface ConditionalDecision extends DecisionFields {
  readonly outcome: 'conditional';
  readonly reason: 'approval-required';
}

export interface DenyDecision extends DecisionFields {
  readonly outcome: 'deny';
  readonly reason: DenyReason;
}

export type Decision = PermitDecision | ConditionalDecision | DenyDecision;
export type Outcome = Decision['outcome'];

/** A decision as the access log (or, until it exists, the synthetic generator) records it. */
export interface RecordedDecision {
  readonly request: DecisionRequest;
  readonly decision: Decision;
}
