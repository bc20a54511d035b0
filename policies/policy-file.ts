// Reading one negative-list file (YAML, or JSON, which YAML 1.2 reads too) into rule drafts, with the line of
// everything so that every problem can be reported as `file:line: reason`. Checks here need only the file itself;
// checks against the catalogue and between rules are in compile.ts.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { CHINA_OFFSET_MS } from '../core/china-date.js';
import { isValidUscc } from '../core/identifiers/index.js';
import { CATEGORY_TAG, type LegalBasis } from './catalogue.js';
import { MASK_KINDS, maskSpec, type MaskKind, type MaskSpec } from './masks.js';
import { SUBJECT_CATEGORIES, type SubjectCategory } from './subject.js';

export interface PolicySource {
  /** Shown in errors, e.g. 'policies/default/negative-list.yaml'. */
  readonly name: string;
  readonly text: string;
}

export interface PolicyProblem {
  readonly file: string;
  readonly line: number;
  readonly reason: string;
  /** The rule the problem is in, when there is one. */
  readonly rule?: string;
}

export const RULE_EFFECTS = ['deny', 'conditional', 'mask'] as const;
export type RuleEffect = (typeof RULE_EFFECTS)[number];

export type { LegalBasis };

export interface Located<T> {
  readonly value: T;
  readonly line: number;
}

export interface MatchDraft {
  readonly line: number;
  readonly resources: readonly Located<string>[] | null;
  readonly items: readonly Located<string>[] | null;
  readonly categories: readonly Located<string>[] | null;
  readonly subjectCategories: readonly SubjectCategory[] | null;
  readonly requesters: readonly string[] | null;
  readonly unlessRequesters: readonly string[] | null;
  readonly purposes: readonly string[] | null;
  readonly unlessPurposes: readonly string[] | null;
  /** Epoch milliseconds, inclusive at both ends; null when open. */
  readonly notBefore: number | null;
  readonly notAfter: number | null;
  /** Minutes of the Beijing day, [from, to); wraps past midnight when from > to. */
  readonly hours: { readonly from: number; readonly to: number } | null;
}

export interface RuleDraft {
  readonly id: string;
  readonly effect: RuleEffect;
  readonly title: string | null;
  readonly legalBasis: readonly LegalBasis[];
  /** What the supplier checks before approving (共享条件); conditional rules only. */
  readonly condition: string | null;
  readonly mask: MaskSpec | null;
  readonly match: MatchDraft;
  readonly file: string;
  readonly line: number;
}

export interface PolicyFileDraft {
  readonly file: string;
  readonly revision: string | null;
  readonly rules: readonly RuleDraft[];
  /** Every rule id with its line, including rules left out for their problems (duplicates are found among all). */
  readonly ids: readonly Located<string>[];
  /** Line of the `rules` key: where problems that belong to no single rule are reported. */
  readonly rulesLine: number;
}

const TOP_KEYS = ['revision', 'title', 'description', 'rules'] as const;
const RULE_KEYS = ['id', 'effect', 'title', 'description', 'legalBasis', 'condition', 'match', 'mask'] as const;
const BASIS_KEYS = ['title', 'article'] as const;
const MATCH_KEYS = [
  'resources',
  'items',
  'categories',
  'subjectCategories',
  'requesters',
  'unlessRequesters',
  'purposes',
  'unlessPurposes',
  'notBefore',
  'notAfter',
  'hours',
] as const;
const MASK_KEYS = ['kind', 'keepStart', 'keepEnd'] as const;

const REVISION = /^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$/;
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PURPOSE = /^[A-Za-z0-9][A-Za-z0-9._-]*\*?$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const HOURS = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/;
const DAY_MS = 86_400_000;

class FileReader {
  readonly #lines = new LineCounter();
  constructor(
    readonly file: string,
    readonly problems: PolicyProblem[],
  ) {}

  get lineCounter(): LineCounter {
    return this.#lines;
  }

  lineAt(offset: number): number {
    return this.#lines.linePos(offset).line;
  }

  line(node: unknown, fallback: number): number {
    const range = (node as Node | null | undefined)?.range;
    return range ? this.lineAt(range[0]) : fallback;
  }

  problem(line: number, reason: string, rule?: string): void {
    this.problems.push(rule === undefined ? { file: this.file, line, reason } : { file: this.file, line, reason, rule });
  }

  /** The pairs of a mapping, with unknown and non-string keys reported; null if `node` is not a mapping. */
  entries(node: unknown, allowed: readonly string[], what: string, line: number, rule?: string): Map<string, Pair<unknown, unknown>> | null {
    if (!isMap(node)) {
      this.problem(this.line(node, line), `${what} must be a mapping`, rule);
      return null;
    }
    const out = new Map<string, Pair<unknown, unknown>>();
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      const keyLine = this.line(pair.key, line);
      if (typeof key !== 'string') {
        this.problem(keyLine, `${what} has a key that is not a string`, rule);
      } else if (!allowed.includes(key)) {
        this.problem(keyLine, `unknown field '${key}' in ${what} (allowed: ${allowed.join(', ')})`, rule);
      } else {
        out.set(key, pair);
      }
    }
    return out;
  }

  string(pair: Pair<unknown, unknown>, what: string, pattern: RegExp | null, rule?: string): Located<string> | null {
    const line = this.line(pair.value, this.line(pair.key, 0));
    const v = isScalar(pair.value) ? pair.value.value : undefined;
    if (typeof v !== 'string' || v.trim().length === 0) {
      this.problem(line, `${what} must be a non-empty string${isScalar(pair.value) && typeof v !== 'string' && v != null ? ' (quote it)' : ''}`, rule);
      return null;
    }
    if (pattern !== null && !pattern.test(v)) {
      this.problem(line, `${what} ${JSON.stringify(v)} is malformed (expected ${pattern.source})`, rule);
      return null;
    }
    return { value: v, line };
  }

  integer(pair: Pair<unknown, unknown>, what: string, rule?: string): number | null {
    const v = isScalar(pair.value) ? pair.value.value : undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 64) {
      this.problem(this.line(pair.value, this.line(pair.key, 0)), `${what} must be an integer from 0 to 64`, rule);
      return null;
    }
    return v;
  }

  /** A non-empty list of strings, each checked by `check` (which returns a reason to refuse it, or null). */
  stringList(pair: Pair<unknown, unknown>, what: string, check: (v: string) => string | null, rule?: string): Located<string>[] | null {
    const line = this.line(pair.value, this.line(pair.key, 0));
    if (!isSeq(pair.value) || pair.value.items.length === 0) {
      this.problem(line, `${what} must be a non-empty list`, rule);
      return null;
    }
    const out: Located<string>[] = [];
    const seen = new Set<string>();
    let ok = true;
    for (const node of pair.value.items) {
      const itemLine = this.line(node, line);
      const v = isScalar(node) ? node.value : undefined;
      if (typeof v !== 'string' || v.length === 0) {
        this.problem(itemLine, `${what} must list non-empty strings`, rule);
        ok = false;
        continue;
      }
      const reason = check(v);
      if (reason !== null) {
        this.problem(itemLine, `${what}: ${reason}`, rule);
        ok = false;
      } else if (seen.has(v)) {
        this.problem(itemLine, `${what} lists ${JSON.stringify(v)} twice`, rule);
        ok = false;
      }
      seen.add(v);
      out.push({ value: v, line: itemLine });
    }
    return ok ? out : null;
  }
}

const any = () => null;
const oneOf = (allowed: readonly string[]) => (v: string) => (allowed.includes(v) ? null : `unknown value ${JSON.stringify(v)} (allowed: ${allowed.join(', ')})`);

/** Epoch ms of an instant written as a date (Beijing day: start, or end when `end`) or an ISO date-time with offset. */
function parseInstant(v: string, end: boolean): number | null {
  const d = DATE_ONLY.exec(v);
  if (d !== null) {
    const y = Number(d[1]);
    const m = Number(d[2]);
    const day = Number(d[3]);
    const utc = Date.UTC(y, m - 1, day);
    const check = new Date(utc);
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== day) return null;
    return utc - CHINA_OFFSET_MS + (end ? DAY_MS - 1 : 0);
  }
  if (!DATE_TIME.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

function parseHours(v: string): { from: number; to: number } | null {
  const m = HOURS.exec(v);
  if (m === null) return null;
  const [h1, m1, h2, m2] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (h1 > 23 || m1 > 59 || h2 > 24 || m2 > 59 || (h2 === 24 && m2 !== 0)) return null;
  const from = h1 * 60 + m1;
  const to = h2 * 60 + m2;
  if (from === to || (from === 0 && to === 1440)) return null;
  return { from, to: to % 1440 };
}

function readLegalBasis(r: FileReader, pair: Pair<unknown, unknown>, ruleId: string): LegalBasis[] | null {
  const line = r.line(pair.value, r.line(pair.key, 0));
  const nodes = isSeq(pair.value) ? pair.value.items : [pair.value];
  if (nodes.length === 0) {
    r.problem(line, 'legalBasis must cite at least one instrument', ruleId);
    return null;
  }
  const out: LegalBasis[] = [];
  for (const node of nodes) {
    const entries = r.entries(node, BASIS_KEYS, 'legalBasis', line, ruleId);
    if (entries === null) return null;
    const titlePair = entries.get('title');
    if (titlePair === undefined) {
      r.problem(r.line(node, line), 'legalBasis needs a title (the law, regulation or national policy relied on)', ruleId);
      return null;
    }
    const title = r.string(titlePair, 'legalBasis.title', null, ruleId);
    const articlePair = entries.get('article');
    const article = articlePair === undefined ? null : r.string(articlePair, 'legalBasis.article', null, ruleId);
    if (title === null || (articlePair !== undefined && article === null)) return null;
    out.push(Object.freeze({ title: title.value.trim(), article: article === null ? null : article.value.trim() }));
  }
  return out;
}

function readMask(r: FileReader, pair: Pair<unknown, unknown>, ruleId: string): MaskSpec | null {
  const line = r.line(pair.value, r.line(pair.key, 0));
  const entries = r.entries(pair.value, MASK_KEYS, 'mask', line, ruleId);
  if (entries === null) return null;
  const kindPair = entries.get('kind');
  if (kindPair === undefined) {
    r.problem(line, `mask needs a kind (${MASK_KINDS.join(', ')})`, ruleId);
    return null;
  }
  const kind = r.string(kindPair, 'mask.kind', null, ruleId);
  if (kind === null) return null;
  if (!MASK_KINDS.includes(kind.value as MaskKind)) {
    r.problem(kind.line, `unknown mask kind ${JSON.stringify(kind.value)} (allowed: ${MASK_KINDS.join(', ')})`, ruleId);
    return null;
  }
  const startPair = entries.get('keepStart');
  const endPair = entries.get('keepEnd');
  if (kind.value !== 'keep-ends') {
    const extra = startPair ?? endPair;
    if (extra !== undefined) {
      r.problem(r.line(extra.key, line), `keepStart and keepEnd belong to keep-ends masks, not ${kind.value}`, ruleId);
      return null;
    }
    return maskSpec(kind.value as MaskKind);
  }
  if (startPair === undefined || endPair === undefined) {
    r.problem(line, 'a keep-ends mask needs keepStart and keepEnd', ruleId);
    return null;
  }
  const keepStart = r.integer(startPair, 'mask.keepStart', ruleId);
  const keepEnd = r.integer(endPair, 'mask.keepEnd', ruleId);
  if (keepStart === null || keepEnd === null) return null;
  return maskSpec('keep-ends', keepStart, keepEnd);
}

function readMatch(r: FileReader, pair: Pair<unknown, unknown> | undefined, ruleId: string, ruleLine: number): MatchDraft | null {
  const empty: MatchDraft = {
    line: ruleLine,
    resources: null,
    items: null,
    categories: null,
    subjectCategories: null,
    requesters: null,
    unlessRequesters: null,
    purposes: null,
    unlessPurposes: null,
    notBefore: null,
    notAfter: null,
    hours: null,
  };
  if (pair === undefined) return empty;
  const line = r.line(pair.value, r.line(pair.key, ruleLine));
  const e = r.entries(pair.value, MATCH_KEYS, 'match', line, ruleId);
  if (e === null) return null;
  let ok = true;
  const list = <T extends string>(key: (typeof MATCH_KEYS)[number], check: (v: string) => string | null): Located<T>[] | null => {
    const p = e.get(key);
    if (p === undefined) return null;
    const v = r.stringList(p, `match.${key}`, check, ruleId);
    if (v === null) ok = false;
    return v as Located<T>[] | null;
  };
  const values = <T extends string>(l: Located<T>[] | null): T[] | null => (l === null ? null : l.map((x) => x.value));
  const usccCheck = (v: string) => (isValidUscc(v) ? null : `${JSON.stringify(v)} is not a valid unified social credit code`);
  const purposeCheck = (v: string) => (PURPOSE.test(v) ? null : `${JSON.stringify(v)} is not a service-item code or prefix ending in '*'`);
  const resources = list('resources', any);
  const items = list('items', any);
  const categories = list('categories', (v) => (CATEGORY_TAG.test(v) ? null : `${JSON.stringify(v)} is not a category tag (lower-case letters, digits, -)`));
  const subjectCategories = values(list<SubjectCategory>('subjectCategories', oneOf(SUBJECT_CATEGORIES)));
  const requesters = values(list('requesters', usccCheck));
  const unlessRequesters = values(list('unlessRequesters', usccCheck));
  const purposes = values(list('purposes', purposeCheck));
  const unlessPurposes = values(list('unlessPurposes', purposeCheck));
  if (items !== null && categories !== null) {
    r.problem(r.line(e.get('categories')!.key, line), 'match gives both items and categories: name the items, or the categories, not both', ruleId);
    ok = false;
  }
  const instant = (key: 'notBefore' | 'notAfter'): { ms: number; line: number } | null => {
    const p = e.get(key);
    if (p === undefined) return null;
    const s = r.string(p, `match.${key}`, null, ruleId);
    if (s === null) {
      ok = false;
      return null;
    }
    const ms = parseInstant(s.value, key === 'notAfter');
    if (ms === null) {
      r.problem(s.line, `match.${key} ${JSON.stringify(s.value)} is not a date (YYYY-MM-DD, Beijing time) or an ISO 8601 date-time with an offset`, ruleId);
      ok = false;
      return null;
    }
    return { ms, line: s.line };
  };
  const notBefore = instant('notBefore');
  const notAfter = instant('notAfter');
  if (notBefore !== null && notAfter !== null && notBefore.ms > notAfter.ms) {
    r.problem(notAfter.line, 'match.notAfter is before match.notBefore: the rule would never apply', ruleId);
    ok = false;
  }
  let hours: { from: number; to: number } | null = null;
  const hoursPair = e.get('hours');
  if (hoursPair !== undefined) {
    const s = r.string(hoursPair, 'match.hours', null, ruleId);
    hours = s === null ? null : parseHours(s.value);
    if (hours === null) {
      if (s !== null) r.problem(s.line, `match.hours ${JSON.stringify(s.value)} must be 'HH:MM-HH:MM' (Beijing time, start before or after end, not the whole day)`, ruleId);
      ok = false;
    }
  }
  if (!ok) return null;
  return {
    line,
    resources,
    items,
    categories,
    subjectCategories,
    requesters,
    unlessRequesters,
    purposes,
    unlessPurposes,
    notBefore: notBefore?.ms ?? null,
    notAfter: notAfter?.ms ?? null,
    hours,
  };
}

function readRule(r: FileReader, node: unknown, fallbackLine: number, ids: Located<string>[]): RuleDraft | null {
  const line = r.line(node, fallbackLine);
  const e = r.entries(node, RULE_KEYS, 'rule', line);
  if (e === null) return null;
  const idPair = e.get('id');
  if (idPair === undefined) {
    r.problem(line, 'rule has no id');
    return null;
  }
  const id = r.string(idPair, 'id', RULE_ID);
  if (id === null) return null;
  const ruleId = id.value;
  ids.push({ value: ruleId, line });
  let ok = true;
  const effectPair = e.get('effect');
  let effect: RuleEffect | null = null;
  if (effectPair === undefined) {
    r.problem(line, `rule ${ruleId} has no effect (${RULE_EFFECTS.join(', ')})`, ruleId);
    ok = false;
  } else {
    const s = r.string(effectPair, 'effect', null, ruleId);
    if (s !== null && !RULE_EFFECTS.includes(s.value as RuleEffect)) {
      r.problem(s.line, `unknown effect ${JSON.stringify(s.value)} (allowed: ${RULE_EFFECTS.join(', ')}; sharing is the default, so there is no 'permit')`, ruleId);
    } else if (s !== null) {
      effect = s.value as RuleEffect;
    }
    if (effect === null) ok = false;
  }
  const text = (key: 'title' | 'description' | 'condition') => {
    const p = e.get(key);
    if (p === undefined) return null;
    const s = r.string(p, key, null, ruleId);
    if (s === null) ok = false;
    return s;
  };
  const title = text('title');
  text('description');
  const condition = text('condition');
  const basisPair = e.get('legalBasis');
  let legalBasis: LegalBasis[] | null = null;
  if (basisPair === undefined) {
    r.problem(line, `rule ${ruleId} has no legalBasis: every entry of the negative list must cite the law or national policy it rests on`, ruleId);
    ok = false;
  } else {
    legalBasis = readLegalBasis(r, basisPair, ruleId);
    if (legalBasis === null) ok = false;
  }
  const maskPair = e.get('mask');
  let mask: MaskSpec | null = null;
  if (effect === 'mask' && maskPair === undefined) {
    r.problem(line, `mask rule ${ruleId} has no mask`, ruleId);
    ok = false;
  } else if (effect !== null && effect !== 'mask' && maskPair !== undefined) {
    r.problem(r.line(maskPair.key, line), `mask belongs to mask rules; ${ruleId} is a ${effect} rule`, ruleId);
    ok = false;
  } else if (maskPair !== undefined) {
    mask = readMask(r, maskPair, ruleId);
    if (mask === null) ok = false;
  }
  if (effect === 'conditional' && condition === null && e.get('condition') === undefined) {
    r.problem(line, `conditional rule ${ruleId} has no condition: say what the supplier checks before it approves (共享条件)`, ruleId);
    ok = false;
  } else if (effect !== null && effect !== 'conditional' && e.get('condition') !== undefined) {
    r.problem(r.line(e.get('condition')!.key, line), `condition belongs to conditional rules; ${ruleId} is a ${effect} rule`, ruleId);
    ok = false;
  }
  const match = readMatch(r, e.get('match'), ruleId, line);
  if (match === null) ok = false;
  if (!ok) return null;
  return {
    id: ruleId,
    effect: effect!,
    title: title?.value ?? null,
    legalBasis: legalBasis!,
    condition: condition?.value ?? null,
    mask,
    match: match!,
    file: r.file,
    line,
  };
}

/** Reads one file; problems are appended to `problems`, and rules with problems are left out of the draft. */
export function parsePolicyFile(source: PolicySource, problems: PolicyProblem[]): PolicyFileDraft {
  const r = new FileReader(source.name, problems);
  const doc = parseDocument(source.text, { lineCounter: r.lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const failed: PolicyFileDraft = { file: source.name, revision: null, rules: [], ids: [], rulesLine: 1 };
  if (doc.errors.length > 0) {
    for (const err of doc.errors) r.problem(r.lineAt(err.pos[0]), `not valid YAML/JSON: ${err.message.split('\n')[0]}`);
    return failed;
  }
  if (doc.contents === null) {
    r.problem(1, 'the file is empty; a policy file has revision and rules');
    return failed;
  }
  const top = r.entries(doc.contents, TOP_KEYS, 'the policy file', 1);
  if (top === null) return failed;
  let revision: string | null = null;
  const revisionPair = top.get('revision');
  if (revisionPair === undefined) r.problem(1, 'the policy file has no revision: every decision names the revision that made it');
  else revision = r.string(revisionPair, 'revision', REVISION)?.value ?? null;
  for (const key of ['title', 'description'] as const) {
    const p = top.get(key);
    if (p !== undefined) r.string(p, key, null);
  }
  const rulesPair = top.get('rules');
  if (rulesPair === undefined) {
    r.problem(1, 'the policy file has no rules list (an empty list is written rules: [])');
    return failed;
  }
  const rulesLine = r.line(rulesPair.key, 1);
  if (!isSeq(rulesPair.value)) {
    r.problem(rulesLine, 'rules must be a list');
    return { ...failed, revision, rulesLine };
  }
  const rules: RuleDraft[] = [];
  const ids: Located<string>[] = [];
  for (const node of rulesPair.value.items) {
    const rule = readRule(r, node, rulesLine, ids);
    if (rule !== null) rules.push(rule);
  }
  return { file: source.name, revision, rules, ids, rulesLine };
}
