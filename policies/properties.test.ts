// Property-based tests of the engine's invariants over random catalogues, random (valid) negative lists and
// random requests. The reference is a naive reading of the list: every rule checked against every item, no indexes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StaticCatalogue, type CatalogueItem, type CatalogueResource, type DataItemType, type Sensitivity } from './catalogue.js';
import { compilePolicy } from './compile.js';
import type { ConditionalGrant, Decision, DecisionRequest } from './decision.js';
import { PolicyEngine } from './engine.js';
import { applyMasks, combineMasks, MASK_KINDS, maskSpec, maskValue, sameMask, type MaskSpec } from './masks.js';
import type { CompiledPolicy } from './policy.js';
import { residentId } from './synthetic.js';

// ── Random worlds ─────────────────────────────────────────────────────────────────────────────────────────────

const REQUESTERS = ['11210100001000010R', '11210100001000029N', '11210100001000037H'];
const OUTSIDER = '112101000010000537';
const PURPOSE_PATTERNS = ['SI-A-01', 'SI-A-*', 'SI-B-02', 'SI-B-*'];
const PURPOSES = ['SI-A-01', 'SI-A-02', 'SI-B-02', 'SI-C-01'];
const DATES = ['2025-01-01', '2025-06-30', '2025-12-31'];
const HOURS = ['08:00-18:00', '22:00-06:00'];
const FROM = Date.parse('2024-12-01T00:00:00+08:00');
const TO = Date.parse('2026-01-31T00:00:00+08:00');
const ITEM_CODES = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5'];

const itemArb = (code: string): fc.Arbitrary<CatalogueItem> =>
  fc.record({
    code: fc.constant(code),
    name: fc.constant(code),
    type: fc.constantFrom<DataItemType>('string', 'string', 'date', 'datetime', 'binary', 'integer', 'decimal'),
    sensitivity: fc.constantFrom<Sensitivity>('public', 'internal', 'sensitive', 'restricted'),
    categories: fc.oneof(
      { weight: 6, arbitrary: fc.subarray(['personal', 'biometric', 'financial']) },
      { weight: 1, arbitrary: fc.constantFrom(['work-secret'], ['state-secret', 'personal']) },
    ),
  });

const resourceArb = (index: number): fc.Arbitrary<CatalogueResource> =>
  fc
    .tuple(fc.subarray(ITEM_CODES, { minLength: 2 }), fc.constantFrom(false, false, false, true))
    .chain(([codes, organisation]) =>
      fc.tuple(...codes.map(itemArb)).map((items) => ({
        code: `R${index}`,
        name: `resource ${index}`,
        provider: REQUESTERS[index % REQUESTERS.length]!,
        // Organisations' resources are unconditional: deny and conditional rules on them are refused.
        sharingClass: organisation && index > 0 ? ('unconditional' as const) : ('conditional' as const),
        subjectKind: organisation && index > 0 ? ('organisation' as const) : ('person' as const),
        items,
      })),
    );

const catalogueArb = fc.integer({ min: 2, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => resourceArb(i))));

interface RawRule {
  id: string;
  effect: 'deny' | 'conditional' | 'mask';
  legalBasis: { title: string };
  condition?: string;
  match: {
    resources?: string[];
    items?: string[];
    categories?: string[];
    subjectCategories?: string[];
    requesters?: string[];
    unlessRequesters?: string[];
    purposes?: string[];
    unlessPurposes?: string[];
    notBefore?: string;
    notAfter?: string;
    hours?: string;
  };
  mask?: { kind: string; keepStart?: number; keepEnd?: number };
}

/** `arb` with probability `p`, otherwise absent. */
const maybe = <T>(arb: fc.Arbitrary<T>, p: number) =>
  fc.oneof({ weight: Math.round((1 - p) * 100), arbitrary: fc.constant(undefined) }, { weight: Math.round(p * 100), arbitrary: arb });
const some = <T>(values: readonly T[], max = 2) => fc.subarray([...values], { minLength: 1, maxLength: max });

function ruleArb(resources: readonly CatalogueResource[]): fc.Arbitrary<Omit<RawRule, 'id'>> {
  return fc
    .record({
      effect: fc.constantFrom<RawRule['effect']>('deny', 'conditional', 'mask', 'mask'),
      scope: maybe(fc.subarray([...resources], { minLength: 1, maxLength: 2 }), 0.75),
      pickItems: fc.nat(),
      itemCount: maybe(fc.integer({ min: 1, max: 3 }), 0.7),
      categories: maybe(some(['biometric', 'financial']), 0.3),
      subjectCategories: maybe(some(['minor', 'under-14', 'senior']), 0.2),
      requesters: maybe(some(REQUESTERS), 0.2),
      unlessRequesters: maybe(some(REQUESTERS, 1), 0.1),
      purposes: maybe(some(PURPOSE_PATTERNS), 0.2),
      unlessPurposes: maybe(some(PURPOSE_PATTERNS, 1), 0.1),
      notBefore: maybe(fc.constantFrom(...DATES), 0.1),
      notAfter: maybe(fc.constantFrom(...DATES), 0.1),
      hours: maybe(fc.constantFrom(...HOURS), 0.1),
      mask: fc.record({ kind: fc.constantFrom(...MASK_KINDS, 'keep-ends', 'redact'), keepStart: fc.integer({ min: 0, max: 5 }), keepEnd: fc.integer({ min: 0, max: 5 }) }),
    })
    .map(({ effect, mask, scope, pickItems, itemCount, ...m }) => {
      const match: RawRule['match'] = {};
      // Deny and conditional rules stay off unconditional resources when they name their resources.
      const inScope = scope?.filter((r) => effect === 'mask' || r.sharingClass !== 'unconditional');
      if (inScope !== undefined && inScope.length > 0) match.resources = inScope.map((r) => r.code);
      if (itemCount !== undefined) {
        const codes = [...new Set((inScope !== undefined && inScope.length > 0 ? inScope : resources).flatMap((r) => r.items.map((i) => i.code)))];
        match.items = [...new Set(Array.from({ length: itemCount }, (_, k) => codes[(pickItems + k * 7) % codes.length]!))];
      }
      for (const [k, v] of Object.entries(m)) if (v !== undefined) (match as Record<string, unknown>)[k] = v;
      if (match.items !== undefined) delete match.categories;
      const rule: Omit<RawRule, 'id'> = { effect, legalBasis: { title: '《中华人民共和国个人信息保护法》' }, match };
      if (effect === 'conditional') rule.condition = '经供给部门审核同意';
      if (effect === 'mask') rule.mask = mask.kind === 'keep-ends' ? mask : { kind: mask.kind };
      return rule;
    });
}

const text = (revision: string, rules: readonly RawRule[]) => JSON.stringify({ revision, rules }, null, 2);

function compiles(catalogue: StaticCatalogue, rules: readonly RawRule[]): boolean {
  try {
    compilePolicy(catalogue, [{ name: 'p.json', text: text('probe', rules) }]);
    return true;
  } catch {
    return false;
  }
}

interface World {
  catalogue: StaticCatalogue;
  rules: RawRule[];
}

/** A catalogue and a valid list over it: random candidate rules, each kept if the set still compiles with it. */
const worldArb: fc.Arbitrary<World> = catalogueArb.chain((resources) =>
  fc.array(ruleArb(resources), { minLength: 1, maxLength: 14 }).map((candidates) => {
    const catalogue = new StaticCatalogue('random', resources);
    const rules: RawRule[] = [];
    candidates.forEach((c, i) => {
      const rule = { id: `P${i}`, ...c };
      if (compiles(catalogue, [...rules, rule])) rules.push(rule);
    });
    return { catalogue, rules };
  }),
);

function subjectArb(): fc.Arbitrary<DecisionRequest['subject']> {
  return fc.oneof(
    // Half of the birth years sit near the thresholds (14, 18, 60) for decision times in 2025.
    { weight: 8, arbitrary: fc.record({ y: fc.oneof(fc.integer({ min: 1930, max: 2025 }), fc.constantFrom(1964, 1965, 1966, 2007, 2008, 2010, 2011, 2012)), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), s: fc.nat(999) }).map(({ y, m, d, s }) => ({ kind: 'person' as const, id: residentId(y, m, d, s) })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'person' as const, id: 'E12345678' }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'organisation' as const, id: '9144030071526726XG' }) },
  );
}

function requestArb(world: World): fc.Arbitrary<DecisionRequest> {
  const resources = world.catalogue.listResources();
  const conditionalIds = world.rules.filter((r) => r.effect === 'conditional').map((r) => r.id);
  return fc.constantFrom(...resources).chain((res) => {
    const codes = res.items.map((i) => i.code);
    const grantArb: fc.Arbitrary<ConditionalGrant | null> = fc.option(
      fc.record({
        id: fc.constant('G-1'),
        requester: fc.constantFrom(REQUESTERS[0]!, REQUESTERS[0]!, REQUESTERS[0]!, REQUESTERS[1]!),
        resource: fc.constant(res.code),
        items: fc.oneof(fc.constant(codes), fc.subarray(codes)),
        rules: fc.oneof(fc.constant(conditionalIds), fc.subarray([...conditionalIds, 'P-none']), fc.constant(undefined)),
      }).map(({ rules, ...g }): ConditionalGrant => (rules === undefined ? g : { ...g, rules })),
      { nil: null },
    );
    return fc.record({
      requester: fc.constantFrom(REQUESTERS[0]!, ...REQUESTERS),
      resource: fc.constant(res.code),
      items: fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 6 }),
      subject: subjectArb(),
      purpose: fc.record({ serviceItem: fc.constantFrom(...PURPOSES), caseNumber: fc.constant('2101002025000001') }),
      at: fc.integer({ min: FROM, max: TO }).map((ms) => new Date(ms)),
      grant: grantArb,
      outsider: fc.boolean(),
    }).map(({ outsider, ...r }) => (outsider ? { ...r, requester: OUTSIDER } : r));
  });
}

const scenarioArb = worldArb.chain((world) => fc.tuple(fc.constant(world), fc.array(requestArb(world), { minLength: 1, maxLength: 8 })));

// ── The naive reading ─────────────────────────────────────────────────────────────────────────────────────────

const BEIJING = 8 * 3600_000;
const isSecretItem = (i: CatalogueItem) => i.categories.includes('state-secret') || i.categories.includes('work-secret');

function categoriesOf(subject: DecisionRequest['subject'], at: number): string[] {
  if (subject.kind !== 'person') return [];
  const m = /^\d{6}(\d{4})(\d{2})(\d{2})\d{3}[\dX]$/.exec(subject.id);
  if (m === null) return ['minor', 'under-14', 'senior'];
  const [by, bm, bd] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const today = new Date(at + BEIJING);
  const [y, mo, d] = [today.getUTCFullYear(), today.getUTCMonth() + 1, today.getUTCDate()];
  const age = y - by - (mo < bm || (mo === bm && d < bd) ? 1 : 0);
  return [...(age < 18 ? ['minor'] : []), ...(age < 14 ? ['under-14'] : []), ...(age >= 60 ? ['senior'] : [])];
}

const purposeMatches = (patterns: string[], p: string) => patterns.some((x) => (x.endsWith('*') ? p.startsWith(x.slice(0, -1)) : p === x));

function applies(rule: RawRule, request: DecisionRequest): boolean {
  const m = rule.match;
  const at = request.at.getTime();
  if (m.notBefore !== undefined && at < Date.parse(`${m.notBefore}T00:00:00+08:00`)) return false;
  if (m.notAfter !== undefined && at > Date.parse(`${m.notAfter}T23:59:59.999+08:00`)) return false;
  if (m.hours !== undefined) {
    const t = new Date(at + BEIJING);
    const minute = t.getUTCHours() * 60 + t.getUTCMinutes();
    const [from, to] = m.hours.split('-').map((hm) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3))) as [number, number];
    if (from < to ? minute < from || minute >= to : minute < from && minute >= to) return false;
  }
  if (m.subjectCategories !== undefined) {
    const cats = categoriesOf(request.subject, at);
    if (!m.subjectCategories.some((c) => cats.includes(c))) return false;
  }
  if (m.requesters !== undefined && !m.requesters.includes(request.requester)) return false;
  if (m.unlessRequesters !== undefined && m.unlessRequesters.includes(request.requester)) return false;
  if (m.purposes !== undefined && !purposeMatches(m.purposes, request.purpose.serviceItem)) return false;
  if (m.unlessPurposes !== undefined && purposeMatches(m.unlessPurposes, request.purpose.serviceItem)) return false;
  return true;
}

function targets(rule: RawRule, res: CatalogueResource, item: CatalogueItem): boolean {
  const m = rule.match;
  if (m.resources !== undefined && !m.resources.includes(res.code)) return false;
  if (m.items !== undefined && !m.items.includes(item.code)) return false;
  if (m.categories !== undefined && !item.categories.some((c) => m.categories!.includes(c))) return false;
  return rule.effect === 'deny' || !isSecretItem(item);
}

const ruleMask = (r: RawRule): MaskSpec => maskSpec(r.mask!.kind as MaskSpec['kind'], r.mask!.keepStart ?? 0, r.mask!.keepEnd ?? 0);

interface Expected {
  outcome: Decision['outcome'];
  reason: Decision['reason'];
  items: { code: string; mask: MaskSpec | null }[];
  withheld: { code: string; rules: string[] }[];
  pending: { code: string; rules: string[] }[];
  unknown: string[];
  cited: string[];
}

function naive(world: World, request: DecisionRequest): Expected {
  const res = world.catalogue.listResources().find((r) => r.code === request.resource);
  const none = { items: [], withheld: [], pending: [], cited: [] };
  if (res === undefined) return { outcome: 'deny', reason: 'unknown-resource', unknown: [request.resource], ...none };
  const unknown = request.items.filter((c) => !res.items.some((i) => i.code === c));
  if (unknown.length > 0) return { outcome: 'deny', reason: 'unknown-item', unknown, ...none };
  const e: Expected = { outcome: 'permit', reason: null, items: [], withheld: [], pending: [], unknown: [], cited: [] };
  const cite = (id: string) => e.cited.includes(id) || e.cited.push(id);
  for (const code of new Set(request.items)) {
    const item = res.items.find((i) => i.code === code)!;
    if (isSecretItem(item)) {
      const id = item.categories.includes('state-secret') ? 'builtin:state-secret' : 'builtin:work-secret';
      e.withheld.push({ code, rules: [id] });
      cite(id);
      continue;
    }
    const applying = world.rules.filter((r) => targets(r, res, item) && applies(r, request));
    const denies = applying.filter((r) => r.effect === 'deny');
    if (denies.length > 0) {
      e.withheld.push({ code, rules: denies.map((r) => r.id) });
      denies.forEach((r) => cite(r.id));
      continue;
    }
    const g = request.grant;
    const grantOk = g != null && g.requester === request.requester && g.resource === request.resource;
    const conditionals = applying.filter((r) => r.effect === 'conditional');
    conditionals.forEach((r) => cite(r.id));
    const unmet = conditionals.filter((r) => !(grantOk && g.items.includes(code) && (g.rules === undefined || g.rules.includes(r.id))));
    if (unmet.length > 0) {
      e.pending.push({ code, rules: unmet.map((r) => r.id) });
      continue;
    }
    const masks = applying.filter((r) => r.effect === 'mask');
    masks.forEach((r) => cite(r.id));
    e.items.push({ code, mask: masks.length === 0 ? null : masks.map(ruleMask).reduce(combineMasks) });
  }
  if (e.pending.length > 0) return { ...e, outcome: 'conditional', reason: 'approval-required' };
  if (e.items.length === 0) return { ...e, outcome: 'deny', reason: 'negative-list' };
  return e;
}

function load(world: World, revision = 'w1'): CompiledPolicy {
  return compilePolicy(world.catalogue, [{ name: 'p.json', text: text(revision, world.rules) }]);
}

const RUNS = { numRuns: 150 };

// ── Properties ────────────────────────────────────────────────────────────────────────────────────────────────

describe('engine invariants (fast-check)', () => {
  it('decide agrees with a naive reading of the list (differential)', () => {
    fc.assert(
      fc.property(scenarioArb, ([world, requests]) => {
        const policy = load(world);
        for (const request of requests) {
          const d = policy.decide(request);
          const e = naive(world, request);
          expect({ outcome: d.outcome, reason: d.reason, items: d.items, withheld: d.withheld, pending: d.pending, unknown: d.unknown }).toEqual({
            outcome: e.outcome,
            reason: e.reason,
            items: e.items,
            withheld: e.withheld,
            pending: e.pending,
            unknown: e.unknown,
          });
          expect(d.rules.map((r) => r.id).sort()).toEqual([...e.cited].sort());
          expect(d.revision).toBe('w1');
        }
      }),
      RUNS,
    );
  });

  it('a negative-listed item never appears among released items, nor does a secret', () => {
    fc.assert(
      fc.property(scenarioArb, ([world, requests]) => {
        const policy = load(world);
        for (const request of requests) {
          const d = policy.decide(request);
          const res = world.catalogue.listResources().find((r) => r.code === request.resource)!;
          for (const released of d.items) {
            const item = res.items.find((i) => i.code === released.code)!;
            expect(isSecretItem(item)).toBe(false);
            const denying = world.rules.filter((r) => r.effect === 'deny' && targets(r, res, item) && applies(r, request));
            expect(denying.map((r) => r.id)).toEqual([]);
            expect(d.withheld.some((w) => w.code === released.code) || d.pending.some((p) => p.code === released.code)).toBe(false);
          }
        }
      }),
      RUNS,
    );
  });

  it('masks always apply: every applicable mask is hidden at least as much, in the decision and in the data', () => {
    const valueFor = (item: CatalogueItem, seed: number): unknown =>
      item.type === 'date' ? `19${String(50 + (seed % 50))}-0${1 + (seed % 9)}-1${seed % 10}` : item.type === 'string' ? `V${seed}ABCDEFGHIJKLMNOPQ`.slice(0, 4 + (seed % 14)) : seed;
    fc.assert(
      fc.property(scenarioArb, fc.nat(), ([world, requests], seed) => {
        const policy = load(world);
        for (const request of requests) {
          const d = policy.decide(request);
          const res = world.catalogue.listResources().find((r) => r.code === request.resource)!;
          const record = Object.fromEntries(res.items.map((i, k) => [i.code, valueFor(i, seed + k)]));
          const out = applyMasks(record, d);
          for (const released of d.items) {
            const item = res.items.find((i) => i.code === released.code)!;
            for (const rule of world.rules.filter((r) => r.effect === 'mask' && targets(r, res, item) && applies(r, request))) {
              const m = ruleMask(rule);
              expect(released.mask).not.toBeNull();
              expect(sameMask(combineMasks(released.mask!, m), released.mask!)).toBe(true);
              const byRule = maskValue(record[item.code], m);
              const got = out[item.code];
              if (got === null) continue; // redacted: hides everything
              expect(typeof got).toBe('string');
              const g = got as string;
              const r = String(byRule);
              if (m.kind === 'keep-ends') {
                expect(g.length).toBe(r.length);
                for (let i = 0; i < r.length; i++) if (r[i] === '*') expect(g[i]).toBe('*');
              } else {
                expect(r.startsWith(g)).toBe(true); // year-only '1987' is a prefix of year-month '1987-03'
              }
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('unknown resources and unknown items are denied, never permitted', () => {
    const code = fc.string({ minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(worldArb, code, code, fc.nat(), (world, unknownResource, unknownItem, k) => {
        const policy = load(world);
        const resources = world.catalogue.listResources();
        const res = resources[k % resources.length]!;
        const base: DecisionRequest = {
          requester: REQUESTERS[0]!,
          resource: res.code,
          items: res.items.map((i) => i.code),
          subject: { kind: 'person', id: residentId(1980, 1, 1, 1) },
          purpose: { serviceItem: 'SI-A-01', caseNumber: '1' },
          at: new Date(FROM),
        };
        if (!resources.some((r) => r.code === unknownResource)) {
          expect(policy.decide({ ...base, resource: unknownResource })).toMatchObject({ outcome: 'deny', reason: 'unknown-resource', items: [], unknown: [unknownResource] });
        }
        if (!res.items.some((i) => i.code === unknownItem)) {
          const items = [...base.items];
          items.splice(k % (items.length + 1), 0, unknownItem);
          expect(policy.decide({ ...base, items })).toMatchObject({ outcome: 'deny', reason: 'unknown-item', items: [], unknown: [unknownItem] });
        }
      }),
      RUNS,
    );
  });

  it('a conditional item is never released without a grant naming its rule and item', () => {
    fc.assert(
      fc.property(scenarioArb, ([world, requests]) => {
        const policy = load(world);
        for (const request of requests) {
          const d = policy.decide({ ...request, grant: null });
          const res = world.catalogue.listResources().find((r) => r.code === request.resource)!;
          for (const released of d.items) {
            const item = res.items.find((i) => i.code === released.code)!;
            expect(world.rules.some((r) => r.effect === 'conditional' && targets(r, res, item) && applies(r, request))).toBe(false);
          }
        }
      }),
      RUNS,
    );
  });

  it('a reload never leaves a half-applied set: after every attempt the engine decides exactly as the old or the new set', () => {
    type Step = { kind: 'valid'; world: World } | { kind: 'invalid'; world: World; fault: number } | { kind: 'catalogue-down' };
    const stepArb = (catalogue: StaticCatalogue): fc.Arbitrary<Step> =>
      fc.oneof(
        fc.array(ruleArb(catalogue.listResources()), { maxLength: 6 }).map((candidates): Step => {
          const rules: RawRule[] = [];
          candidates.forEach((c, i) => {
            const rule = { id: `S${i}`, ...c };
            if (compiles(catalogue, [...rules, rule])) rules.push(rule);
          });
          return { kind: 'valid', world: { catalogue, rules } };
        }),
        fc.tuple(fc.array(ruleArb(catalogue.listResources()), { maxLength: 4 }), fc.nat(4)).map(([candidates, fault]): Step => {
          const rules: RawRule[] = [];
          candidates.forEach((c, i) => {
            const rule = { id: `B${i}`, ...c };
            if (compiles(catalogue, [...rules, rule])) rules.push(rule);
          });
          return { kind: 'invalid', world: { catalogue, rules }, fault };
        }),
        fc.constant<Step>({ kind: 'catalogue-down' }),
      );
    const scenario = worldArb.chain((world) =>
      fc.tuple(fc.constant(world), fc.array(stepArb(world.catalogue), { minLength: 1, maxLength: 5 }), fc.array(requestArb(world), { minLength: 1, maxLength: 5 })),
    );
    /** A set made invalid by one of several faults, placed last so that most of it compiles before the fault is met. */
    const spoil = (rules: RawRule[], fault: number, catalogue: StaticCatalogue): RawRule[] => {
      const resource = catalogue.listResources()[0]!.code;
      const basis = { title: '《政务数据共享条例》' };
      const faults: RawRule[] = [
        { id: 'F', effect: 'deny', legalBasis: basis, match: { resources: [resource], colour: 'red' } as RawRule['match'] },
        { id: rules[0]?.id ?? 'F', effect: 'deny', legalBasis: basis, match: { resources: ['NO-SUCH-RESOURCE'] } },
        { id: 'F', effect: 'deny', match: { resources: [resource] } } as unknown as RawRule,
        { id: 'F', effect: 'mask', legalBasis: basis, match: { resources: [resource], items: ['no-such-item'] }, mask: { kind: 'redact' } },
        // Two rules that contradict each other: the same scope, deny and conditional.
        { id: 'F', effect: 'deny', legalBasis: basis, match: { resources: [resource], requesters: [OUTSIDER] } },
      ];
      const spoiled = [...rules, faults[fault]!];
      if (fault === 4) spoiled.push({ id: 'F2', effect: 'conditional', condition: '审核', legalBasis: basis, match: { resources: [resource], requesters: [OUTSIDER] } });
      return spoiled;
    };
    fc.assert(
      fc.property(scenario, ([world, steps, requests]) => {
        const engine = PolicyEngine.load(world.catalogue, [{ name: 'p.json', text: text('r0', world.rules) }]);
        let expected = load(world, 'r0');
        steps.forEach((step, n) => {
          const revision = `r${n + 1}`;
          const before = engine.policy;
          if (step.kind === 'valid') {
            engine.reload([{ name: 'p.json', text: text(revision, step.world.rules) }]);
            expected = load(step.world, revision);
          } else if (step.kind === 'invalid') {
            expect(() => engine.reload([{ name: 'p.json', text: text(revision, spoil(step.world.rules, step.fault, world.catalogue)) }])).toThrow(
              expect.objectContaining({ code: 'ZT_ERR_POLICY_INVALID' }),
            );
            expect(engine.policy).toBe(before);
          } else {
            const down = { revision: 'down', listResources: (): readonly CatalogueResource[] => { throw new Error('registry unavailable'); } };
            expect(() => engine.reload([{ name: 'p.json', text: text(revision, world.rules) }], down)).toThrow('registry unavailable');
            expect(engine.policy).toBe(before);
          }
          expect(engine.revision).toBe(expected.revision);
          for (const request of requests) expect(engine.decide(request)).toEqual(expected.decide(request));
        });
      }),
      { numRuns: 60 },
    );
  });
});
