import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ZtError } from '../core/errors/index.js';
import { normalisePublication } from '../registry/catalogue/resource.js';
import { DEMO_RESOURCES } from '../demo/catalogue.js';
import { catalogueFromJson, catalogueOf, demoCatalogue, StaticCatalogue, type CatalogueView } from './catalogue.js';
import type { Decision, DecisionRequest } from './decision.js';
import { PolicyEngine } from './engine.js';
import { defaultPolicyDirectory, readPolicyDirectory } from './files.js';
import { applyMasks, maskSpec } from './masks.js';
import { personCategories, SUBJECT_BIT } from './subject.js';
import { residentId } from './synthetic.js';

const catalogue = demoCatalogue();
const MZ = '11210100001000045C';
const YS = '112101000010000537'; // 营商局
const ZR = '112101000010000612'; // 自然资源局
const AT = new Date('2025-09-01T10:00:00+08:00');
const ADULT = residentId(1985, 6, 15, 123);

const load = () => PolicyEngine.loadDirectory(catalogue, defaultPolicyDirectory());

function req(overrides: Partial<DecisionRequest> = {}): DecisionRequest {
  return {
    requester: YS,
    resource: '210100-GA-0001',
    items: ['name'],
    subject: { kind: 'person', id: ADULT },
    purpose: { serviceItem: 'QYKB-210100-0001', caseNumber: '2101002025000001' },
    at: AT,
    ...overrides,
  };
}

const released = (d: Decision) => Object.fromEntries(d.items.map((i) => [i.code, i.mask]));
const held = (list: Decision['withheld']) => Object.fromEntries(list.map((i) => [i.code, i.rules]));
const ID_MASK = maskSpec('keep-ends', 6, 4);

const custom = (rules: string, revision = 'c1') => `revision: ${revision}\nrules:${rules}\n`;

describe('the shipped default policy', () => {
  it('loads cleanly against the demo catalogue and names its revision', () => {
    const engine = load();
    expect(engine.status()).toMatchObject({ revision: '2025-08-01.1', catalogueRevision: 'demo-2025-08-01', files: ['policies/default/negative-list.yaml'], rules: 10 });
    for (const rule of engine.policy.rules) {
      expect(rule.legalBasis.length).toBeGreaterThan(0);
      expect(rule.legalBasis.every((b) => /^《.+》/.test(b.title))).toBe(true);
      expect(rule.targets).toBeGreaterThan(0);
    }
  });
});

describe("the registry's catalogue", () => {
  it('is a catalogue view as it is: the default policy loads against the demo resources the registry seeds', () => {
    const registry = catalogueOf('registry-demo', DEMO_RESOURCES.map((r) => normalisePublication(r)));
    const engine = PolicyEngine.loadDirectory(registry, defaultPolicyDirectory());
    expect(engine.policy.rules.every((r) => r.targets > 0)).toBe(true);
    const d = engine.decide(req({ items: ['name', 'idNumber', 'photo'] }));
    expect(d).toMatchObject({ outcome: 'conditional', items: [{ code: 'name', mask: null }, { code: 'idNumber', mask: ID_MASK }], pending: [{ code: 'photo', rules: ['NL-GA-0002'] }] });
    // A registry refusal must cite a rule the list has (its NegativeListLookup).
    expect(engine.has('NL-GA-0002')).toBe(true);
  });

  it('matches policies/demo-catalogue.json, which only adds what the tests need', () => {
    for (const r of DEMO_RESOURCES.map((x) => normalisePublication(x))) {
      const mine = catalogue.listResources().find((x) => x.code === r.code)!;
      expect({ code: mine.code, name: mine.name, provider: mine.provider, sharingClass: mine.sharingClass, legalBasis: mine.legalBasis }).toEqual({
        code: r.code,
        name: r.name,
        provider: r.provider,
        sharingClass: r.sharingClass,
        legalBasis: r.legalBasis,
      });
      for (const item of r.items) expect(mine.items.find((i) => i.code === item.code)).toEqual(item);
    }
  });
});

describe('decide', () => {
  const engine = load();

  it('shares what the list does not name (sharing is the default)', () => {
    const d = engine.decide(req({ items: ['name', 'gender', 'householdType'] }));
    expect(d).toMatchObject({ outcome: 'permit', reason: null, revision: '2025-08-01.1', withheld: [], pending: [], rules: [], grant: null });
    expect(released(d)).toEqual({ name: null, gender: null, householdType: null });
  });

  it('masks the ID number (first 6, last 4) and cites the rule and its legal basis', () => {
    const d = engine.decide(req({ items: ['name', 'idNumber'] }));
    expect(d.outcome).toBe('permit');
    expect(released(d)).toEqual({ name: null, idNumber: ID_MASK });
    expect(d.rules).toEqual([expect.objectContaining({ id: 'NL-0001', effect: 'mask', legalBasis: expect.arrayContaining([{ title: '《中华人民共和国居民身份证法》', article: '第六条' }]) })]);
    expect(applyMasks({ name: '张三', idNumber: ADULT, photo: 'jpeg…' }, d)).toEqual({ name: '张三', idNumber: `${ADULT.slice(0, 6)}********${ADULT.slice(14)}` });
  });

  it('shares an unconditional resource (无条件共享) as it is', () => {
    const d = engine.decide(req({ resource: '210100-SC-0001', items: ['uscc', 'entName', 'legalRepresentative'], subject: { kind: 'organisation', id: '9144030071526726XG' } }));
    expect(d).toMatchObject({ outcome: 'permit', rules: [], withheld: [] });
    expect(released(d)).toEqual({ uscc: null, entName: null, legalRepresentative: null });
  });

  it('masks ID numbers wherever the catalogue tags them identity-number', () => {
    const rs = engine.decide(req({ resource: '210100-RS-0001', items: ['idNumber', 'name'] }));
    expect(released(rs)).toEqual({ idNumber: ID_MASK, name: null });
    const mz = engine.decide(req({ requester: MZ, resource: '210100-MZ-0001', items: ['maleIdNumber', 'femaleIdNumber', 'maleName'] }));
    expect(released(mz)).toEqual({ maleIdNumber: ID_MASK, femaleIdNumber: ID_MASK, maleName: null });
  });

  it('refuses unknown resources and unknown items, never permitting', () => {
    expect(engine.decide(req({ resource: 'RES-XX-0001' }))).toMatchObject({ outcome: 'deny', reason: 'unknown-resource', unknown: ['RES-XX-0001'], items: [], rules: [] });
    const d = engine.decide(req({ items: ['name', 'shoeSize', 'idNumber', 'favouriteColour'] }));
    expect(d).toMatchObject({ outcome: 'deny', reason: 'unknown-item', unknown: ['shoeSize', 'favouriteColour'], items: [] });
  });

  it('withholds work secrets whatever the list says, and denies a request for nothing but secrets', () => {
    const partial = engine.decide(req({ items: ['name', 'criminalRecord'] }));
    expect(partial.outcome).toBe('permit');
    expect(held(partial.withheld)).toEqual({ criminalRecord: ['builtin:work-secret'] });
    const only = engine.decide(req({ items: ['criminalRecord'] }));
    expect(only).toMatchObject({ outcome: 'deny', reason: 'negative-list', items: [] });
    expect(only.rules).toEqual([expect.objectContaining({ id: 'builtin:work-secret', legalBasis: expect.arrayContaining([{ title: '《中华人民共和国保守国家秘密法》', article: null }]) })]);
  });

  it('denies a 不予共享 resource on its list entry', () => {
    const d = engine.decide(req({ resource: '210100-WJ-0001', items: ['patientName', 'diagnosis'] }));
    expect(d).toMatchObject({ outcome: 'deny', reason: 'negative-list', withheld: [{ code: 'patientName', rules: ['NL-WJ-0001'] }, { code: 'diagnosis', rules: ['NL-WJ-0001'] }] });
    expect(d.rules[0]!.legalBasis[0]).toEqual({ title: '《中华人民共和国传染病防治法》', article: null });
  });

  it("denies a 不予共享 resource the list does not name on the catalogue's own basis, and secrets on the built-in rule", () => {
    const d = engine.decide(req({ resource: '210100-GA-0002', items: ['name', 'idNumber', 'controlMeasures'] }));
    expect(d).toMatchObject({ outcome: 'deny', reason: 'negative-list' });
    expect(held(d.withheld)).toEqual({ name: ['catalogue:210100-GA-0002'], idNumber: ['catalogue:210100-GA-0002'], controlMeasures: ['builtin:work-secret'] });
    expect(d.rules.map((r) => [r.id, r.legalBasis[0]!.title])).toEqual([
      ['catalogue:210100-GA-0002', '《中华人民共和国保守国家秘密法》'],
      ['builtin:work-secret', '《中华人民共和国保守国家秘密法》'],
    ]);
    expect(engine.has('catalogue:210100-GA-0002') && engine.has('NL-WJ-0001') && engine.has('builtin:state-secret')).toBe(true);
    expect(engine.has('NL-9999')).toBe(false);
  });

  describe('conditional sharing (有条件共享)', () => {
    const grant = { id: 'GRANT-2025-0001', requester: YS, resource: '210100-GA-0001', items: ['photo'], rules: ['NL-GA-0002'] };

    it('holds the item for approval, names the rule and its condition, and releases the rest now', () => {
      const d = engine.decide(req({ items: ['name', 'photo'] }));
      expect(d).toMatchObject({ outcome: 'conditional', reason: 'approval-required', pending: [{ code: 'photo', rules: ['NL-GA-0002'] }] });
      expect(released(d)).toEqual({ name: null });
      expect(d.rules).toEqual([expect.objectContaining({ id: 'NL-GA-0002', effect: 'conditional', condition: expect.stringContaining('审核同意') })]);
    });

    it('permits with a matching approved grant, and says which grant', () => {
      const d = engine.decide(req({ items: ['name', 'photo'], grant }));
      expect(d).toMatchObject({ outcome: 'permit', grant: 'GRANT-2025-0001', pending: [] });
      expect(released(d)).toEqual({ name: null, photo: null });
    });

    it('ignores a grant for another requester, resource, item, rule, purpose or time', () => {
      const others = [
        { ...grant, requester: ZR },
        { ...grant, resource: '210100-RS-0001' },
        { ...grant, items: ['name'] },
        { ...grant, rules: ['NL-0001'] },
        { ...grant, purposes: ['BDCDJ-210100-0005'] },
        { ...grant, notAfter: new Date('2025-08-31T23:59:59+08:00') },
        { ...grant, notBefore: new Date('2025-09-02T00:00:00+08:00') },
      ];
      for (const g of others) expect(engine.decide(req({ items: ['photo'], grant: g }))).toMatchObject({ outcome: 'conditional', grant: null });
    });

    it('cannot lift a deny: an under-14 photo is refused even with a grant', () => {
      const child = residentId(2015, 3, 4, 101);
      const d = engine.decide(req({ items: ['photo'], subject: { kind: 'person', id: child }, grant }));
      expect(d).toMatchObject({ outcome: 'deny', reason: 'negative-list', withheld: [{ code: 'photo', rules: ['NL-GA-0003'] }], grant: null });
      // At 14 the photo is conditional again.
      const teen = residentId(2011, 3, 4, 101);
      expect(engine.decide(req({ items: ['photo'], subject: { kind: 'person', id: teen } })).outcome).toBe('conditional');
    });

    it("lets the supplier's own department through where the entry says so (unlessRequesters)", () => {
      const r = { resource: '210100-MZ-0001', items: ['registrationType', 'certificateNumber'] };
      expect(engine.decide(req({ ...r, requester: YS })).outcome).toBe('conditional');
      expect(engine.decide(req({ ...r, requester: MZ }))).toMatchObject({ outcome: 'permit', pending: [] });
    });
  });

  describe('subjects, purposes and time', () => {
    it('treats the subject as a minor until the start of their 18th birthday, Beijing time', () => {
      const id = residentId(2007, 9, 2, 55);
      const before = engine.decide(req({ items: ['address'], subject: { kind: 'person', id }, at: new Date('2025-09-01T23:59:59.999+08:00') }));
      expect(released(before)).toEqual({ address: maskSpec('keep-ends', 9, 0) });
      expect(before.rules.map((r) => r.id)).toEqual(['NL-GA-0004']);
      const on = engine.decide(req({ items: ['address'], subject: { kind: 'person', id }, at: new Date('2025-09-02T00:00:00+08:00') }));
      expect(released(on)).toEqual({ address: null });
    });

    it('applies age rules when the identifier shows no birth date (fails closed)', () => {
      const d = engine.decide(req({ items: ['address', 'photo'], subject: { kind: 'person', id: 'E12345678' } }));
      expect(released(d)).toEqual({ address: maskSpec('keep-ends', 9, 0) });
      expect(held(d.withheld)).toEqual({ photo: ['NL-GA-0003'] });
    });

    it('limits items to purposes: exact codes and prefixes', () => {
      const ask = (serviceItem: string) => engine.decide(req({ items: ['birthDate', 'ethnicity'], purpose: { serviceItem, caseNumber: '1' } }));
      const sc = ask('QYKB-210100-0001');
      expect(released(sc)).toEqual({ birthDate: maskSpec('year-month') });
      expect(held(sc.withheld)).toEqual({ ethnicity: ['NL-GA-0005'] });
      expect(released(ask('YLBX-210100-0101'))).toEqual({ birthDate: null });
      expect(released(ask('JYCY-210100-0003'))).toEqual({ birthDate: maskSpec('year-month') });
      expect(released(ask('SHJZ-210100-0201'))).toEqual({ birthDate: null, ethnicity: null });
      expect(released(ask('MZSW-210100-0101'))).toEqual({ birthDate: maskSpec('year-month'), ethnicity: null });
    });

    it('applies a rule only within its time window (notAfter is inclusive to the end of the day)', () => {
      const ask = (at: string) => engine.decide(req({ resource: '210100-RS-0001', items: ['name', 'employerName'], at: new Date(at) }));
      expect(ask('2025-07-31T23:59:59.999+08:00')).toMatchObject({ outcome: 'conditional', pending: [{ code: 'employerName', rules: ['NL-RS-0002'] }] });
      expect(ask('2025-08-01T00:00:00.000+08:00')).toMatchObject({ outcome: 'permit', pending: [] });
    });
  });

  it('answers a duplicated item once', () => {
    const d = engine.decide(req({ items: ['name', 'idNumber', 'name', 'idNumber'] }));
    expect(d.items.map((i) => i.code)).toEqual(['name', 'idNumber']);
  });

  it('refuses malformed requests with ZT_ERR_REQUEST_INVALID', () => {
    const bad: DecisionRequest[] = [
      req({ items: [] }),
      req({ at: new Date('not a date') }),
      { ...req(), purpose: undefined } as unknown as DecisionRequest,
      { ...req(), resource: 42 } as unknown as DecisionRequest,
    ];
    for (const r of bad) expect(() => engine.decide(r)).toThrow(expect.objectContaining({ code: 'ZT_ERR_REQUEST_INVALID' }));
  });
});

describe('combining rules', () => {
  const engine = PolicyEngine.load(
    catalogue,
    custom(`
  - id: D-NIGHT
    effect: deny
    legalBasis: { title: 《政务数据共享条例》 }
    match: { resources: [210100-GA-0001], items: [address], hours: "22:00-06:00" }
  - id: D-ZR
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》, article: 第六条 }
    match: { resources: [210100-GA-0001], items: [address], requesters: ["${ZR}"] }
  - id: M-ALL
    effect: mask
    legalBasis: { title: 《中华人民共和国居民身份证法》, article: 第六条 }
    match: { resources: [210100-GA-0001, 210100-RS-0001], items: [idNumber] }
    mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }
  - id: M-MINOR
    effect: mask
    legalBasis: { title: 《中华人民共和国未成年人保护法》, article: 第四条 }
    match: { resources: [210100-GA-0001], items: [idNumber], subjectCategories: [minor] }
    mask: { kind: keep-ends, keepStart: 2, keepEnd: 6 }
  - id: C-SENIOR
    effect: conditional
    condition: 经审核同意
    legalBasis: { title: 《中华人民共和国老年人权益保障法》 }
    match: { resources: [210100-RS-0001], categories: [financial], subjectCategories: [senior] }`),
  );

  it('lists every deny that applies to an item', () => {
    const d = engine.decide(req({ requester: ZR, items: ['address', 'name'], at: new Date('2025-09-01T23:30:00+08:00') }));
    expect(held(d.withheld)).toEqual({ address: ['D-NIGHT', 'D-ZR'] });
    expect(engine.decide(req({ requester: ZR, items: ['address'], at: new Date('2025-09-01T05:59:00+08:00') })).withheld).toEqual([{ code: 'address', rules: ['D-NIGHT', 'D-ZR'] }]);
    expect(engine.decide(req({ requester: YS, items: ['address'], at: new Date('2025-09-01T06:00:00+08:00') })).outcome).toBe('permit');
  });

  it('combines masks so that the result hides what each of them hides', () => {
    const minor = residentId(2010, 1, 1, 7);
    const d = engine.decide(req({ items: ['idNumber'], subject: { kind: 'person', id: minor } }));
    expect(released(d)).toEqual({ idNumber: maskSpec('keep-ends', 2, 4) });
    expect(d.rules.map((r) => r.id)).toEqual(['M-ALL', 'M-MINOR']);
    expect(released(engine.decide(req({ resource: '210100-RS-0001', items: ['idNumber'] })))).toEqual({ idNumber: ID_MASK });
  });

  it('addresses items by category and people by age (60 and over)', () => {
    const senior = residentId(1960, 1, 1, 9);
    expect(engine.decide(req({ resource: '210100-RS-0001', items: ['paymentMonths'], subject: { kind: 'person', id: senior } })).outcome).toBe('conditional');
    expect(engine.decide(req({ resource: '210100-RS-0001', items: ['paymentMonths'] })).outcome).toBe('permit');
  });
});

describe('personCategories', () => {
  const at = Date.parse('2025-09-01T00:00:00+08:00');
  it('reads 18- and 15-character numbers and the age thresholds', () => {
    expect(personCategories(residentId(2011, 9, 2, 1), at)).toBe(SUBJECT_BIT.minor | SUBJECT_BIT['under-14']);
    expect(personCategories(residentId(2011, 9, 1, 1), at)).toBe(SUBJECT_BIT.minor);
    expect(personCategories(residentId(2007, 9, 1, 1), at)).toBe(0);
    expect(personCategories(residentId(1965, 9, 1, 1), at)).toBe(SUBJECT_BIT.senior);
    expect(personCategories(residentId(1965, 9, 2, 1), at)).toBe(0);
    expect(personCategories('210102650901123', at)).toBe(SUBJECT_BIT.senior);
    expect(personCategories('21010219851399123X', at)).toBe(7);
  });
});

describe('reload', () => {
  const v2 = custom(
    `
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [name] }`,
    'v2',
  );

  it('digests the files by name and text, not by the directory they were read from', () => {
    const text = readPolicyDirectory(defaultPolicyDirectory())[0]!.text;
    const digest = (name: string) => PolicyEngine.load(catalogue, [{ name, text }]).status().digest;
    expect(digest('/etc/zhengtong/policies/negative-list.yaml')).toBe(digest('policies/default/negative-list.yaml'));
    expect(digest('C:\\zhengtong\\negative-list.yaml')).toBe(digest('negative-list.yaml'));
    expect(digest('/etc/zhengtong/policies/other-name.yaml')).not.toBe(digest('/etc/zhengtong/policies/negative-list.yaml'));
    expect(PolicyEngine.load(catalogue, [{ name: 'negative-list.yaml', text: `${text}\n` }]).status().digest).not.toBe(digest('negative-list.yaml'));
  });

  it('swaps in a valid set whole; decisions name the new revision', () => {
    const engine = load();
    expect(engine.reload(v2)).toEqual({ previous: '2025-08-01.1', revision: 'v2', changed: true });
    const d = engine.decide(req({ items: ['name', 'idNumber'] }));
    expect(d.revision).toBe('v2');
    expect(held(d.withheld)).toEqual({ name: ['D1'] });
    expect(released(d)).toEqual({ idNumber: null });
  });

  it('keeps the set in force when the new one is invalid, and says why with file and line', () => {
    const engine = load();
    const before = engine.decide(req({ items: ['name', 'idNumber', 'photo'] }));
    const bad = v2.replace('items: [name]', 'items: [name], colour: red');
    let error: unknown;
    try {
      engine.reload([{ name: 'policies/next.yaml', text: bad }]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZtError);
    expect((error as ZtError).code).toBe('ZT_ERR_POLICY_INVALID');
    expect((error as ZtError).message).toContain("policies/next.yaml:6: unknown field 'colour' in match");
    expect(engine.revision).toBe('2025-08-01.1');
    expect(engine.decide(req({ items: ['name', 'idNumber', 'photo'] }))).toEqual(before);
  });

  it('does nothing for the set already in force, and refuses a reused revision with other content', () => {
    const engine = load();
    expect(engine.reloadDirectory(defaultPolicyDirectory())).toEqual({ previous: '2025-08-01.1', revision: '2025-08-01.1', changed: false });
    const same = readPolicyDirectory(defaultPolicyDirectory()).map((s) => ({ ...s, text: `${s.text}\n# a comment\n` }));
    expect(() => engine.reload(same)).toThrow(/revision 2025-08-01.1 is already in force with different content/);
  });

  it('keeps the set in force when the catalogue cannot be read', () => {
    const engine = load();
    const broken: CatalogueView = {
      revision: 'broken',
      listResources() {
        throw new Error('registry unavailable');
      },
    };
    expect(() => engine.reload(v2, broken)).toThrow('registry unavailable');
    expect(engine.status()).toMatchObject({ revision: '2025-08-01.1', catalogueRevision: 'demo-2025-08-01' });
  });

  it('recompiles against a new catalogue', () => {
    const engine = load();
    expect(engine.decide(req({ items: ['bloodType'] })).reason).toBe('unknown-item');
    const resources = catalogue.listResources().map((r) =>
      r.code === '210100-GA-0001' ? { ...r, items: [...r.items, { code: 'bloodType', name: '血型', type: 'string' as const, sensitivity: 'sensitive' as const, categories: ['health'] }] } : r,
    );
    expect(engine.reloadDirectory(defaultPolicyDirectory(), new StaticCatalogue('demo-2', resources)).changed).toBe(true);
    expect(engine.decide(req({ items: ['bloodType'] })).outcome).toBe('permit');
  });
});

describe('wiring', () => {
  it('hands every decision to the sink, and to nothing else', () => {
    const seen: [DecisionRequest, Decision][] = [];
    const engine = PolicyEngine.loadDirectory(catalogue, defaultPolicyDirectory(), { onDecision: (r, d) => seen.push([r, d]) });
    const r = req();
    const d = engine.decide(r);
    expect(seen).toEqual([[r, d]]);
  });

  it('reads a policy directory in name order, and refuses a missing or empty one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-policies-'));
    try {
      expect(() => readPolicyDirectory(dir)).toThrow(expect.objectContaining({ code: 'ZT_ERR_POLICY_INVALID' }));
      writeFileSync(join(dir, 'b.yaml'), 'revision: b1\nrules: []\n');
      writeFileSync(join(dir, 'a.json'), JSON.stringify({ revision: 'a1', rules: [{ id: 'X', effect: 'deny', legalBasis: { title: '《中华人民共和国保守国家秘密法》' }, match: { resources: ['210100-GA-0002'] } }] }));
      writeFileSync(join(dir, 'notes.txt'), 'ignored');
      const sources = readPolicyDirectory(dir, dir);
      expect(sources.map((s) => s.name)).toEqual(['a.json', 'b.yaml']);
      expect(PolicyEngine.load(catalogue, sources).revision).toBe('a1+b1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => readPolicyDirectory(join(tmpdir(), 'zt-no-such-dir'))).toThrow(/cannot read the policy directory/);
  });

  it('refuses a malformed catalogue with every problem', () => {
    const bad = JSON.stringify({ revision: 'x', resources: [{ code: 'R', name: 'r', provider: '91350100M0001TGQXM', sharingClass: 'sometimes', subjectKind: 'person', items: [{ code: 'a', name: 'A', type: 'string', sensitivity: 'secret', categories: [] }] }] });
    expect(() => catalogueFromJson(bad)).toThrow(
      expect.objectContaining({
        code: 'ZT_ERR_IMPORT_INVALID',
        details: {
          problems: [
            'resources[0].provider must be a valid USCC',
            'resources[0].sharingClass must be one of unconditional, conditional, not-shared',
            'resources[0].items[0].sensitivity must be one of public, internal, sensitive, restricted',
          ],
        },
      }),
    );
  });
});
