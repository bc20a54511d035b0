// Impact analysis: decide recorded requests again under a candidate policy and report what would change, by
// requesting department and by resource, before the candidate is put in force.
import type { Decision, Outcome, RecordedDecision } from './decision.js';
import { PolicyEngine } from './engine.js';
import { combineMasks, sameMask, type MaskSpec } from './masks.js';
import type { CompiledPolicy } from './policy.js';
import { DEMO_REQUESTERS } from './synthetic.js';

export type { RecordedDecision } from './decision.js';

/** What a decision does, stripped of how it is cited: outcome, released items and masks, held items. */
export interface DecisionEffect {
  readonly outcome: Outcome;
  readonly reason: string | null;
  /** 'code' or 'code[mask]', sorted. */
  readonly released: readonly string[];
  readonly withheld: readonly string[];
  readonly pending: readonly string[];
  readonly rules: readonly string[];
  readonly revision: string;
}

/**
 * tighter: the candidate releases less (fewer items, or stronger masks, or more held for approval);
 * looser: it releases more; different: some of each.
 */
export type ChangeDirection = 'tighter' | 'looser' | 'different';

export interface DecisionChange {
  /** Index into the recorded decisions. */
  readonly index: number;
  readonly requester: string;
  readonly department: string;
  readonly resource: string;
  readonly direction: ChangeDirection;
  readonly before: DecisionEffect;
  readonly after: DecisionEffect;
}

export interface ImpactGroup {
  /** Requester USCC or resource code. */
  readonly key: string;
  readonly name: string;
  readonly decisions: number;
  readonly changed: number;
  readonly tighter: number;
  readonly looser: number;
  readonly different: number;
}

export interface ImpactReport {
  readonly candidateRevision: string;
  /** Revisions the recorded decisions were made under. */
  readonly recordedRevisions: readonly string[];
  readonly decisions: number;
  readonly changed: number;
  /** Decisions whose effect is the same but which cite other rules (renamed or re-based entries). */
  readonly basisOnly: number;
  /** e.g. { 'permit→conditional': 12 }: outcome transitions among the changed decisions. */
  readonly transitions: Readonly<Record<string, number>>;
  /** Groups with at least one changed decision, most changes first. */
  readonly byDepartment: readonly ImpactGroup[];
  readonly byResource: readonly ImpactGroup[];
  /** The changed decisions, up to `maxChanges`. */
  readonly changes: readonly DecisionChange[];
}

export interface ImpactOptions {
  /** USCC → department name; default: the demo departments. */
  readonly departments?: ReadonlyMap<string, string>;
  /** Resource code → name; default: the candidate's catalogue. */
  readonly resourceNames?: ReadonlyMap<string, string>;
  /** Keep at most this many changes in the report (default 1000); the counts cover all of them. */
  readonly maxChanges?: number;
}

function maskLabel(m: MaskSpec): string {
  return m.kind === 'keep-ends' ? `keep-ends:${m.keepStart}/${m.keepEnd}` : m.kind;
}

export function effectOf(d: Decision): DecisionEffect {
  return {
    outcome: d.outcome,
    reason: d.reason,
    released: d.items.map((i) => (i.mask === null ? i.code : `${i.code}[${maskLabel(i.mask)}]`)).sort(),
    withheld: d.withheld.map((i) => i.code).sort(),
    pending: d.pending.map((i) => i.code).sort(),
    rules: d.rules.map((r) => r.id).sort(),
    revision: d.revision,
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Whether `a` releases nothing that `b` does not, and masks each item at least as strongly. */
function releasesNoMoreThan(a: Decision, b: Decision): boolean {
  for (const item of a.items) {
    const other = b.items.find((i) => i.code === item.code);
    if (other === undefined) return false;
    if (other.mask === null) continue;
    if (item.mask === null || !sameMask(combineMasks(item.mask, other.mask), item.mask)) return false;
  }
  // An item held for approval may still be released: it is no more than a released or pending item, but more
  // than a withheld one.
  for (const p of a.pending) if (!b.pending.some((i) => i.code === p.code) && !b.items.some((i) => i.code === p.code)) return false;
  return true;
}

function direction(before: Decision, after: Decision): ChangeDirection {
  const tighter = releasesNoMoreThan(after, before);
  const looser = releasesNoMoreThan(before, after);
  if (tighter && !looser) return 'tighter';
  if (looser && !tighter) return 'looser';
  return 'different';
}

class Groups {
  readonly #groups = new Map<string, { key: string; name: string; decisions: number; changed: number; tighter: number; looser: number; different: number }>();
  constructor(readonly names: (key: string) => string) {}
  count(key: string, change: ChangeDirection | null): void {
    let g = this.#groups.get(key);
    if (g === undefined) {
      g = { key, name: this.names(key), decisions: 0, changed: 0, tighter: 0, looser: 0, different: 0 };
      this.#groups.set(key, g);
    }
    g.decisions++;
    if (change !== null) {
      g.changed++;
      g[change]++;
    }
  }
  changedGroups(): ImpactGroup[] {
    return [...this.#groups.values()].filter((g) => g.changed > 0).sort((a, b) => b.changed - a.changed || (a.key < b.key ? -1 : 1));
  }
}

/**
 * Re-decides every recorded request under `candidate` and reports the decisions whose effect would change. The
 * candidate is not put in force; a PolicyEngine's decision sink is not called.
 */
export function impact(candidate: CompiledPolicy | PolicyEngine, recorded: readonly RecordedDecision[], options: ImpactOptions = {}): ImpactReport {
  const policy = candidate instanceof PolicyEngine ? candidate.policy : candidate;
  const departments = options.departments ?? new Map(DEMO_REQUESTERS.map((d) => [d.uscc, d.name]));
  const maxChanges = options.maxChanges ?? 1000;
  const resourceName = (code: string) => options.resourceNames?.get(code) ?? policy.resource(code)?.name ?? code;
  const byDepartment = new Groups((k) => departments.get(k) ?? k);
  const byResource = new Groups(resourceName);
  const transitions: Record<string, number> = {};
  const revisions = new Set<string>();
  const changes: DecisionChange[] = [];
  let changed = 0;
  let basisOnly = 0;
  recorded.forEach(({ request, decision: before }, index) => {
    revisions.add(before.revision);
    const after = policy.decide(request);
    const b = effectOf(before);
    const a = effectOf(after);
    const same = b.outcome === a.outcome && b.reason === a.reason && sameList(b.released, a.released) && sameList(b.withheld, a.withheld) && sameList(b.pending, a.pending);
    let dir: ChangeDirection | null = null;
    if (same) {
      if (!sameList(b.rules, a.rules)) basisOnly++;
    } else {
      dir = direction(before, after);
      changed++;
      const t = `${b.outcome}→${a.outcome}`;
      transitions[t] = (transitions[t] ?? 0) + 1;
      if (changes.length < maxChanges) {
        changes.push({ index, requester: request.requester, department: departments.get(request.requester) ?? request.requester, resource: request.resource, direction: dir, before: b, after: a });
      }
    }
    byDepartment.count(request.requester, dir);
    byResource.count(request.resource, dir);
  });
  return {
    candidateRevision: policy.revision,
    recordedRevisions: [...revisions].sort(),
    decisions: recorded.length,
    changed,
    basisOnly,
    transitions,
    byDepartment: byDepartment.changedGroups(),
    byResource: byResource.changedGroups(),
    changes,
  };
}

/** A short plain-text rendering of a report, for the command line and review notes. */
export function formatImpact(report: ImpactReport): string {
  const lines = [
    `candidate ${report.candidateRevision} against ${report.decisions} decisions under ${report.recordedRevisions.join(', ') || '(none)'}: ${report.changed} would change, ${report.basisOnly} would cite other rules only`,
  ];
  for (const [t, n] of Object.entries(report.transitions).sort()) lines.push(`  ${t}: ${n}`);
  const group = (title: string, groups: readonly ImpactGroup[]) => {
    if (groups.length === 0) return;
    lines.push(title);
    for (const g of groups) lines.push(`  ${g.name} (${g.key}): ${g.changed}/${g.decisions} changed (tighter ${g.tighter}, looser ${g.looser}, different ${g.different})`);
  };
  group('by department:', report.byDepartment);
  group('by resource:', report.byResource);
  return lines.join('\n');
}
