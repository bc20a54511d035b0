// Compiling a policy set: parse every file, check it against the catalogue and against itself, and build the
// indexes decide() reads. Either every check passes and a new CompiledPolicy comes out, or ZT_ERR_POLICY_INVALID
// is thrown listing every problem as `file:line: reason`; nothing is half built and nothing outside is touched.
import { createHash } from 'node:crypto';
import { ZtError } from '../core/errors/index.js';
import { isSecret, type CatalogueItem, type CatalogueResource, type CatalogueView } from './catalogue.js';
import { CompiledItem, CompiledResource, CompiledRule, CONDITIONAL, DENY, MASK, PurposeSet } from './compiled.js';
import type { RuleRef } from './decision.js';
import { MASK_TYPES, sameMask } from './masks.js';
import { parsePolicyFile, type MatchDraft, type PolicyProblem, type PolicySource, type RuleDraft } from './policy-file.js';
import { CompiledPolicy, type RuleInfo } from './policy.js';
import { SUBJECT_BIT } from './subject.js';

/** The built-in entries: secrets are out of sharing whatever the list says. */
const SECRET_RULES = {
  'state-secret': Object.freeze({
    id: 'builtin:state-secret',
    effect: 'deny',
    title: '国家秘密不予共享',
    legalBasis: Object.freeze([
      Object.freeze({ title: '《中华人民共和国保守国家秘密法》', article: null }),
      Object.freeze({ title: '《政务数据共享条例》', article: null }),
    ]),
    condition: null,
  }),
  'work-secret': Object.freeze({
    id: 'builtin:work-secret',
    effect: 'deny',
    title: '工作秘密不予共享',
    legalBasis: Object.freeze([
      Object.freeze({ title: '《中华人民共和国保守国家秘密法》', article: null }),
      Object.freeze({ title: '《政务数据共享条例》', article: null }),
    ]),
    condition: null,
  }),
} as const satisfies Record<string, RuleRef>;

const EFFECT_CODE = { deny: DENY, conditional: CONDITIONAL, mask: MASK } as const;

interface Target {
  readonly resource: CatalogueResource;
  readonly item: CatalogueItem;
  readonly rules: RuleDraft[];
}

function where(rule: RuleDraft): string {
  return `${rule.id} (${rule.file}:${rule.line})`;
}

function isDynamic(m: MatchDraft): boolean {
  return (
    m.subjectCategories !== null ||
    m.requesters !== null ||
    m.unlessRequesters !== null ||
    m.purposes !== null ||
    m.unlessPurposes !== null ||
    m.notBefore !== null ||
    m.notAfter !== null ||
    m.hours !== null
  );
}

// Scope containment, used to find rules that contradict or duplicate each other. Each test answers "does every
// request that M applies to also fall under D?" and errs towards "no" where the answer is not cheap: a missed
// duplicate only costs a redundant rule, a false contradiction would refuse a good policy.
const same = (a: string, b: string) => a === b;
const subjectWithin = (d: string, m: string) => d === m || (d === 'minor' && m === 'under-14');
const purposeWithin = (d: string, m: string) => d === m || (d.endsWith('*') && m.startsWith(d.slice(0, -1)));
const purposeOverlap = (a: string, b: string) => purposeWithin(a, b) || purposeWithin(b, a);

function within(d: readonly string[] | null, m: readonly string[] | null, inside: (d: string, m: string) => boolean): boolean {
  if (d === null) return true;
  if (m === null) return false;
  return m.every((mv) => d.some((dv) => inside(dv, mv)));
}

function excluded(
  dUnless: readonly string[] | null,
  mPositive: readonly string[] | null,
  mUnless: readonly string[] | null,
  inside: (d: string, m: string) => boolean,
  overlap: (a: string, b: string) => boolean,
): boolean {
  if (dUnless === null) return true;
  return dUnless.every((u) => (mUnless !== null && mUnless.some((mu) => inside(mu, u))) || (mPositive !== null && mPositive.every((p) => !overlap(p, u))));
}

/** Whether rule D's conditions hold wherever rule M's do (on one resource item). */
export function covers(d: MatchDraft, m: MatchDraft): boolean {
  return (
    within(d.subjectCategories, m.subjectCategories, subjectWithin) &&
    within(d.requesters, m.requesters, same) &&
    excluded(d.unlessRequesters, m.requesters, m.unlessRequesters, same, same) &&
    within(d.purposes, m.purposes, purposeWithin) &&
    excluded(d.unlessPurposes, m.purposes, m.unlessPurposes, purposeWithin, purposeOverlap) &&
    (d.notBefore ?? -Infinity) <= (m.notBefore ?? -Infinity) &&
    (d.notAfter ?? Infinity) >= (m.notAfter ?? Infinity) &&
    (d.hours === null || (m.hours !== null && d.hours.from === m.hours.from && d.hours.to === m.hours.to))
  );
}

function invalid(found: PolicyProblem[]): ZtError {
  // One line per problem: the same value listed three times on one line is one problem.
  const byKey = new Map<string, PolicyProblem>();
  for (const p of found) byKey.set(`${p.file}\0${p.line}\0${p.reason}`, byKey.get(`${p.file}\0${p.line}\0${p.reason}`) ?? p);
  const problems = [...byKey.values()];
  problems.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  const lines = problems.map((p) => `${p.file}:${p.line}: ${p.reason}`);
  const head = `policy set refused (${problems.length} problem${problems.length === 1 ? '' : 's'}); the previous set stays in force`;
  return new ZtError('ZT_ERR_POLICY_INVALID', `${head}:\n${lines.join('\n')}`, { details: { problems } });
}

/**
 * Compiles policy files against a catalogue. Pure: the result shares nothing mutable with any other set, so an
 * engine can swap it in with one assignment. Throws ZT_ERR_POLICY_INVALID with every problem found.
 */
export function compilePolicy(catalogue: CatalogueView, sources: readonly PolicySource[]): CompiledPolicy {
  const problems: PolicyProblem[] = [];
  if (sources.length === 0) throw invalid([{ file: '(policy set)', line: 0, reason: 'no policy files were given' }]);
  const names = new Set<string>();
  for (const s of sources) {
    if (names.has(s.name)) problems.push({ file: s.name, line: 1, reason: `two files are named ${s.name}` });
    names.add(s.name);
  }
  const drafts = sources.map((s) => parsePolicyFile(s, problems));

  // A file or rule that could not be read leaves the set incomplete: checks of the set as a whole would mislead.
  const complete = problems.length === 0;
  // Rule ids are unique across the whole set: decisions and audit records cite them.
  const firstAt = new Map<string, { file: string; line: number }>();
  for (const d of drafts) {
    for (const { value: id, line } of d.ids) {
      const first = firstAt.get(id);
      if (first === undefined) firstAt.set(id, { file: d.file, line });
      else problems.push({ file: d.file, line, rule: id, reason: `duplicate rule id ${id}: first defined at ${first.file}:${first.line}` });
    }
  }
  // Rules with duplicate ids are still checked against the catalogue, so that one refusal lists every problem.
  const rules = drafts.flatMap((d) => d.rules);

  // The catalogue as it is now; the compiled set keeps only what it copies from it.
  const resources = catalogue.listResources();
  const resourceByCode = new Map<string, CatalogueResource>();
  const targetsOf = new Map<CatalogueResource, Map<string, Target>>();
  for (const res of resources) {
    if (resourceByCode.has(res.code)) {
      problems.push({ file: drafts[0]!.file, line: drafts[0]!.rulesLine, reason: `catalogue ${catalogue.revision} lists resource ${res.code} twice` });
      continue;
    }
    resourceByCode.set(res.code, res);
    targetsOf.set(res, new Map(res.items.map((item) => [item.code, { resource: res, item, rules: [] as RuleDraft[] }])));
  }
  const catalogued = [...resourceByCode.values()];
  const reach = new Map<RuleDraft, number>();

  for (const rule of rules) {
    const m = rule.match;
    const problem = (line: number, reason: string) => problems.push({ file: rule.file, line, rule: rule.id, reason });
    let inScope: CatalogueResource[] = [];
    if (m.resources === null) {
      inScope = [...catalogued];
    } else {
      for (const r of m.resources) {
        const res = resourceByCode.get(r.value);
        if (res === undefined) problem(r.line, `unknown resource ${r.value}: not in catalogue ${catalogue.revision}`);
        else inScope.push(res);
      }
    }
    const targets: Target[] = [];
    const add = (t: Target) => {
      if (rule.effect !== 'deny' && isSecret(t.item)) return; // secrets are withheld anyway; only a deny may restate it
      targets.push(t);
    };
    if (m.items !== null) {
      for (const it of m.items) {
        let found = false;
        for (const res of inScope) {
          const t = targetsOf.get(res)!.get(it.value);
          if (t === undefined) continue;
          found = true;
          if (rule.effect !== 'deny' && isSecret(t.item)) {
            problem(it.line, `${res.code}/${it.value} is a ${t.item.categories.includes('state-secret') ? 'state secret (国家秘密)' : 'work secret (工作秘密)'} and is never shared; a ${rule.effect} rule on it would have no effect`);
          }
          add(t);
        }
        if (!found && (m.resources === null || inScope.length === m.resources.length)) {
          problem(it.line, `unknown data item ${it.value} in ${m.resources === null ? 'any resource of the catalogue' : inScope.map((r) => r.code).join(', ')}`);
        }
      }
    } else if (m.categories !== null) {
      const wanted = m.categories.map((c) => c.value);
      for (const res of inScope) for (const t of targetsOf.get(res)!.values()) if (t.item.categories.some((c) => wanted.includes(c))) add(t);
      if (targets.length === 0 && inScope.length > 0) problem(m.categories[0]!.line, `no data item in scope has the categories ${wanted.join(', ')}`);
    } else {
      for (const res of inScope) for (const t of targetsOf.get(res)!.values()) add(t);
    }
    if (targets.length === 0) {
      if (m.items === null && m.categories === null && inScope.length > 0) problem(rule.line, 'the rule reaches no data item that could be shared');
      continue;
    }
    if (m.subjectCategories !== null && targets.every((t) => t.resource.subjectKind === 'organisation')) {
      const codes = [...new Set(targets.map((t) => t.resource.code))];
      problem(m.line, `subjectCategories apply to people, but ${codes.join(', ')} ${codes.length === 1 ? 'is' : 'are'} about organisations: the rule would never apply`);
    }
    if (rule.mask !== null) {
      const wrong = targets.filter((t) => !MASK_TYPES[rule.mask!.kind].includes(t.item.type));
      if (wrong.length > 0) {
        const w = wrong[0]!;
        problem(rule.line, `a ${rule.mask.kind} mask cannot apply to ${w.resource.code}/${w.item.code} (${w.item.type})${wrong.length > 1 ? ` and ${wrong.length - 1} more item(s)` : ''}`);
      }
    }
    if (rule.effect !== 'mask') {
      for (const res of new Set(targets.map((t) => t.resource))) {
        if (res.sharingClass === 'unconditional') {
          problem(rule.line, `${res.code} ${res.name} is 无条件共享 (unconditional) in catalogue ${catalogue.revision}; a ${rule.effect} rule on it contradicts the catalogue`);
        }
      }
    }
    for (const t of targets) t.rules.push(rule);
    reach.set(rule, targets.length);
  }

  // Rules on one item that contradict or duplicate each other; each pair of rules is reported once.
  const order = new Map(rules.map((r, i) => [r, i]));
  const checked = new Set<number>();
  for (const byCode of targetsOf.values()) {
    for (const t of byCode.values()) {
      const list = t.rules;
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i]!;
          const b = list[j]!;
          const key = order.get(a)! * rules.length + order.get(b)!;
          if (checked.has(key)) continue;
          checked.add(key); // scopes do not depend on the item: one verdict per pair of rules
          const reason = contradiction(a, b, `${t.resource.code}/${t.item.code}`);
          if (reason === null) continue;
          problems.push({ file: reason.at.file, line: reason.at.line, rule: reason.at.id, reason: reason.text });
        }
      }
    }
  }

  // A 不予共享 resource rests on a legal basis: a list entry (an unconditional deny) for every item that is not
  // already a secret, or else the basis the catalogue records for the resource, cited as rule catalogue:<code>.
  const catalogueDenies = new Map<CatalogueResource, { ref: RuleRef; items: Set<string> }>();
  for (const res of complete ? catalogued : []) {
    if (res.sharingClass !== 'not-shared') continue;
    const bare = [...targetsOf.get(res)!.values()].filter((t) => !isSecret(t.item) && !t.rules.some((r) => r.effect === 'deny' && !isDynamic(r.match)));
    if (bare.length === 0) continue;
    if (res.legalBasis == null) {
      const d = drafts[0]!;
      problems.push({
        file: d.file,
        line: d.rulesLine,
        reason: `${res.code} ${res.name} is 不予共享 (not shared) in catalogue ${catalogue.revision}, which records no legal basis for it, and no unconditional deny rule covers ${bare.map((t) => t.item.code).join(', ')}`,
      });
      continue;
    }
    const ref: RuleRef = Object.freeze({
      id: `catalogue:${res.code}`,
      effect: 'deny',
      title: `${res.name}不予共享(数据目录)`,
      legalBasis: Object.freeze([Object.freeze({ title: res.legalBasis.title, article: res.legalBasis.article ?? null })]),
      condition: null,
    });
    catalogueDenies.set(res, { ref, items: new Set(bare.map((t) => t.item.code)) });
    for (const t of bare) {
      for (const r of t.rules) {
        if (r.effect === 'deny') continue;
        problems.push({ file: r.file, line: r.line, rule: r.id, reason: `${t.resource.code}/${t.item.code} is not shared (不予共享) on the catalogue's basis, so ${r.effect} rule ${r.id} could never apply` });
      }
    }
  }

  if (problems.length > 0) throw invalid(problems);

  // Build the indexes. Rules keep file order within each effect.
  const compiledRules = new Map<RuleDraft, CompiledRule>();
  rules.forEach((rule, index) => compiledRules.set(rule, compileRule(rule, index)));
  const secretRules = {
    'state-secret': builtin(SECRET_RULES['state-secret'], rules.length),
    'work-secret': builtin(SECRET_RULES['work-secret'], rules.length + 1),
  };
  const ids = new Set<string>([...rules.map((r) => r.id), SECRET_RULES['state-secret'].id, SECRET_RULES['work-secret'].id]);
  const compiled = new Map<string, CompiledResource>();
  let extra = rules.length + 2;
  for (const res of catalogued) {
    const fromCatalogue = catalogueDenies.get(res);
    const catalogueRule = fromCatalogue === undefined ? null : builtin(fromCatalogue.ref, extra++);
    if (catalogueRule !== null) ids.add(catalogueRule.id);
    const items = new Map<string, CompiledItem>();
    for (const t of targetsOf.get(res)!.values()) {
      const secret = t.item.categories.includes('state-secret') ? secretRules['state-secret'] : t.item.categories.includes('work-secret') ? secretRules['work-secret'] : null;
      const of = (effect: string) => (secret !== null ? [] : t.rules.filter((r) => r.effect === effect).map((r) => compiledRules.get(r)!));
      const denies = catalogueRule !== null && fromCatalogue!.items.has(t.item.code) ? [catalogueRule, ...of('deny')] : of('deny');
      items.set(t.item.code, new CompiledItem(t.item.code, t.item.name, t.item.type, secret, CompiledItem.rules(denies), CompiledItem.rules(of('conditional')), CompiledItem.rules(of('mask'))));
    }
    compiled.set(res.code, new CompiledResource(res.code, res.name, res.provider, res.sharingClass, res.subjectKind ?? null, items));
  }
  const infos: RuleInfo[] = rules.map((r) => {
    const c = compiledRules.get(r)!;
    return Object.freeze({ ...c.ref, mask: r.mask, file: r.file, line: r.line, targets: reach.get(r) ?? 0 });
  });
  const revision = drafts.map((d) => d.revision!).join('+');
  // Over the files' own names, not the directories they were read from: instances holding identical files in
  // different places agree on the digest, which is how they tell that they enforce the same set.
  const hash = createHash('sha256');
  for (const s of sources) hash.update(`${s.name.slice(Math.max(s.name.lastIndexOf('/'), s.name.lastIndexOf('\\')) + 1)}\0${s.text}\0`);
  return new CompiledPolicy(revision, hash.digest('hex').slice(0, 16), catalogue.revision, sources.map((s) => s.name), Object.freeze(infos), ids, compiled);
}

function contradiction(a: RuleDraft, b: RuleDraft, target: string): { at: RuleDraft; text: string } | null {
  const deadUnder = (deny: RuleDraft, other: RuleDraft) => ({
    at: other,
    text: `contradicts ${where(deny)}: ${deny.id} denies ${target} in the same or a wider scope, so ${other.effect} rule ${other.id} could never apply`,
  });
  if (a.effect === 'deny' && b.effect !== 'deny' && covers(a.match, b.match)) return deadUnder(a, b);
  if (b.effect === 'deny' && a.effect !== 'deny' && covers(b.match, a.match)) return deadUnder(b, a);
  if (a.effect !== b.effect || !covers(a.match, b.match) || !covers(b.match, a.match)) return null;
  if (a.mask !== null && b.mask !== null && !sameMask(a.mask, b.mask)) {
    return { at: b, text: `contradicts ${where(a)}: two different masks for ${target} in the same scope` };
  }
  return { at: b, text: `duplicates ${where(a)}: the same ${a.effect} on ${target} in the same scope (cite both bases in one rule)` };
}

function compileRule(rule: RuleDraft, index: number): CompiledRule {
  const m = rule.match;
  const ref: RuleRef = Object.freeze({ id: rule.id, effect: rule.effect, title: rule.title, legalBasis: Object.freeze([...rule.legalBasis]), condition: rule.condition });
  let subjects = 0;
  for (const c of m.subjectCategories ?? []) subjects |= SUBJECT_BIT[c];
  return new CompiledRule(
    index,
    rule.id,
    EFFECT_CODE[rule.effect],
    ref,
    rule.mask,
    isDynamic(m),
    subjects,
    m.requesters === null ? null : new Set(m.requesters),
    m.unlessRequesters === null ? null : new Set(m.unlessRequesters),
    m.purposes === null ? null : new PurposeSet(m.purposes),
    m.unlessPurposes === null ? null : new PurposeSet(m.unlessPurposes),
    m.notBefore ?? -Infinity,
    m.notAfter ?? Infinity,
    m.hours?.from ?? -1,
    m.hours?.to ?? -1,
  );
}

function builtin(ref: RuleRef, index: number): CompiledRule {
  return new CompiledRule(index, ref.id, DENY, ref, null, false, 0, null, null, null, null, -Infinity, Infinity, -1, -1);
}

export { SECRET_RULES };
