// Bad policy files: each is refused with ZT_ERR_POLICY_INVALID, and each problem names its file, line and reason.
import { describe, expect, it } from 'vitest';
import { ZtError } from '../core/errors/index.js';
import { demoCatalogue, StaticCatalogue, type CatalogueView } from './catalogue.js';
import { compilePolicy } from './compile.js';
import type { PolicyProblem, PolicySource } from './policy-file.js';

const catalogue = demoCatalogue();

/** A policy file whose rules are `rules` (indented as list items under `rules:`). */
function policy(rules: string, head = 'revision: t1\nrules:'): string {
  const body = rules.replace(/^\n/, '').trimEnd();
  return body.length === 0 ? `${head} []\n` : `${head}\n${body}\n`;
}

/** The 1-based line of the first line of `text` containing `marker` (the nth occurrence when n > 1). */
function lineOf(text: string, marker: string, n = 1): number {
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) if (lines[i]!.includes(marker) && ++seen === n) return i + 1;
  throw new Error(`marker ${marker} not found`);
}

function refuse(files: readonly PolicySource[] | string, against: CatalogueView = catalogue): { error: ZtError; problems: PolicyProblem[] } {
  const sources = typeof files === 'string' ? [{ name: 'bad.yaml', text: files }] : files;
  try {
    compilePolicy(against, sources);
  } catch (error) {
    expect(error).toBeInstanceOf(ZtError);
    const e = error as ZtError;
    expect(e.code).toBe('ZT_ERR_POLICY_INVALID');
    const problems = (e.details as { problems: PolicyProblem[] }).problems;
    for (const p of problems) expect(e.message).toContain(`${p.file}:${p.line}: ${p.reason}`);
    return { error: e, problems };
  }
  throw new Error('the policy set was accepted');
}

function expectProblem(text: string, marker: string, reason: RegExp, n = 1, against: CatalogueView = catalogue): PolicyProblem[] {
  const file = 'bad.yaml';
  const { problems } = refuse(text, against);
  expect(problems).toContainEqual(expect.objectContaining({ file, line: lineOf(text, marker, n), reason: expect.stringMatching(reason) }));
  return problems;
}

describe('a valid file', () => {
  it('compiles (the fixture the bad cases start from)', () => {
    const text = policy(`
  - id: R1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》, article: 第二十八条 }
    match: { resources: [210100-GA-0001], items: [photo] }`);
    const p = compilePolicy(catalogue, [{ name: 'ok.yaml', text }]);
    expect(p.revision).toBe('t1');
    expect(p.rules.map((r) => [r.id, r.line])).toEqual([['R1', 3]]);
  });
});

describe('unknown fields', () => {
  it('at the top of the file', () => {
    const text = policy('', 'revison: t1\nrules:');
    expectProblem(text, 'revison', /unknown field 'revison' in the policy file/);
    expectProblem(text, 'revison', /no revision/);
  });

  it('in a rule, a match, a mask and a legal basis', () => {
    const text = policy(`
  - id: R1
    effect: mask
    legalbasis: { title: 《中华人民共和国个人信息保护法》 }
    legalBasis: { title: 《中华人民共和国个人信息保护法》, articel: 第六条 }
    match: { resources: [210100-GA-0001], items: [idNumber], subjects: [minor] }
    mask: { kind: keep-ends, keepStart: 6, keepEnd: 4, keepMiddle: 2 }`);
    expectProblem(text, 'legalbasis', /unknown field 'legalbasis' in rule/);
    expectProblem(text, 'articel', /unknown field 'articel' in legalBasis/);
    expectProblem(text, 'subjects', /unknown field 'subjects' in match/);
    expectProblem(text, 'keepMiddle', /unknown field 'keepMiddle' in mask/);
  });

  it('in a JSON file, with its line', () => {
    const text = JSON.stringify(
      {
        revision: 'j1',
        rules: [{ id: 'COVER', effect: 'deny', legalBasis: { title: '《中华人民共和国保守国家秘密法》' }, match: { resources: ['210100-GA-0002'] }, priority: 1 }],
      },
      null,
      2,
    );
    const { problems } = refuse([{ name: 'bad.json', text }]);
    expect(problems).toEqual([expect.objectContaining({ file: 'bad.json', line: lineOf(text, '"priority"'), reason: expect.stringMatching(/unknown field 'priority'/) })]);
  });
});

describe('duplicate ids', () => {
  it('in one file: the second names the first', () => {
    const text = policy(`
  - id: R1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo] }
  - id: R1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [ethnicity] }`);
    expectProblem(text, 'id: R1', new RegExp(`duplicate rule id R1: first defined at bad.yaml:${lineOf(text, 'id: R1')}$`), 2);
  });

  it('across files', () => {
    const a = policy(`
  - id: R1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo] }`);
    const b = `revision: t2\nrules:\n  - id: R1\n    effect: deny\n    legalBasis: { title: 《中华人民共和国个人信息保护法》 }\n    match: { resources: [210100-GA-0001], items: [ethnicity] }\n`;
    const { problems } = refuse([
      { name: 'a.yaml', text: a },
      { name: 'b.yaml', text: b },
    ]);
    expect(problems).toEqual([{ file: 'b.yaml', line: 3, rule: 'R1', reason: 'duplicate rule id R1: first defined at a.yaml:3' }]);
  });
});

describe('contradictory rules name both rules and their lines', () => {
  it('deny and conditional on the same item in the same scope', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo] }
  - id: C1
    effect: conditional
    condition: 经审核同意
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo] }`);
    expectProblem(text, 'id: C1', new RegExp(`contradicts D1 \\(bad.yaml:${lineOf(text, 'id: D1')}\\): D1 denies 210100-GA-0001/photo .* conditional rule C1 could never apply`));
  });

  it('a mask on an item that another rule denies in a wider scope', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo], subjectCategories: [minor] }
    mask: { kind: redact }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { items: [photo] }`);
    expectProblem(text, 'id: M1', new RegExp(`contradicts D1 \\(bad.yaml:${lineOf(text, 'id: D1')}\\).*mask rule M1 could never apply`));
  });

  it('but a deny in a narrower scope than a mask is fine (it takes precedence there)', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [address] }
    mask: { kind: redact }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [address], unlessPurposes: [SI-GA-*] }`);
    expect(compilePolicy(catalogue, [{ name: 'ok.yaml', text }]).rules).toHaveLength(2);
  });

  it('two different masks, and two identical denies, in the same scope', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国居民身份证法》 }
    match: { resources: [210100-GA-0001], items: [idNumber], requesters: [11210100001000029N] }
    mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }
  - id: M2
    effect: mask
    legalBasis: { title: 《中华人民共和国居民身份证法》 }
    match: { resources: [210100-GA-0001], items: [idNumber], requesters: [11210100001000029N] }
    mask: { kind: keep-ends, keepStart: 3, keepEnd: 4 }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [ethnicity], purposes: [SI-SC-*] }
  - id: D2
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [ethnicity], purposes: [SI-SC-*] }`);
    expectProblem(text, 'id: M2', new RegExp(`contradicts M1 \\(bad.yaml:${lineOf(text, 'id: M1')}\\): two different masks for 210100-GA-0001/idNumber`));
    expectProblem(text, 'id: D2', new RegExp(`duplicates D1 \\(bad.yaml:${lineOf(text, 'id: D1')}\\)`));
  });

  it('a deny or conditional rule on a resource the catalogue shares unconditionally', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-SC-0001], items: [legalRepresentative] }`);
    expectProblem(text, 'id: D1', /210100-SC-0001 企业登记信息 is 无条件共享 \(unconditional\) in catalogue demo-2025-08-01; a deny rule on it contradicts the catalogue/);
  });

  it('a 不予共享 resource with no legal basis in the catalogue and no unconditional deny in the list', () => {
    const noBasis = new StaticCatalogue('no-basis', catalogue.listResources().map((r) => (r.code === '210100-GA-0002' ? { ...r, legalBasis: null } : r)));
    const text = 'revision: t1\nrules: []\n';
    expectProblem(text, 'rules:', /210100-GA-0002 重点人员管控信息 is 不予共享 \(not shared\) in catalogue no-basis, which records no legal basis for it, and no unconditional deny rule covers name, idNumber/, 1, noBasis);
    // Any deny that applies only sometimes does not cover it.
    const partial = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国保守国家秘密法》 }
    match: { resources: [210100-GA-0002], requesters: [11210100001000029N] }`);
    expectProblem(partial, 'rules:', /no unconditional deny rule covers name, idNumber/, 1, noBasis);
  });

  it('a catalogue that lists a resource twice', () => {
    const twice = new StaticCatalogue('twice', [...catalogue.listResources(), catalogue.listResources()[0]!]);
    expectProblem('revision: t1\nrules: []\n', 'rules:', /catalogue twice lists resource 210100-GA-0001 twice/, 1, twice);
  });

  it('a mask on an item the catalogue does not share', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0002], items: [name] }
    mask: { kind: redact }`);
    expectProblem(text, 'id: M1', /210100-GA-0002\/name is not shared \(不予共享\) on the catalogue's basis, so mask rule M1 could never apply/);
  });
});

describe('missing or empty legal basis', () => {
  it('on a deny and on a mask (masks need a basis too)', () => {
    const text = policy(`
  - id: D1
    effect: deny
    match: { resources: [210100-GA-0001], items: [photo] }
  - id: M1
    effect: mask
    match: { resources: [210100-GA-0001], items: [idNumber] }
    mask: { kind: keep-ends, keepStart: 6, keepEnd: 4 }`);
    expectProblem(text, 'id: D1', /rule D1 has no legalBasis/);
    expectProblem(text, 'id: M1', /rule M1 has no legalBasis/);
  });

  it('an empty list, a basis without a title, an empty title', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: []
    match: { resources: [210100-GA-0001], items: [photo] }
  - id: D2
    effect: deny
    legalBasis: { article: 第六条 }
    match: { resources: [210100-GA-0001], items: [ethnicity] }
  - id: D3
    effect: deny
    legalBasis: { title: "" }
    match: { resources: [210100-GA-0001], items: [householdNumber] }`);
    expectProblem(text, 'legalBasis: []', /legalBasis must cite at least one instrument/);
    expectProblem(text, 'article: 第六条', /legalBasis needs a title/);
    expectProblem(text, 'title: ""', /legalBasis.title must be a non-empty string/);
  });
});

describe('references the catalogue does not have', () => {
  it('unknown resource and unknown data item, each on its own line', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources:
        - 210100-GA-0001
        - RES-XX-9999
      items: [photo]
  - id: D2
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources: [210100-GA-0001]
      items:
        - photo
        - shoeSize`);
    expectProblem(text, 'RES-XX-9999', /unknown resource RES-XX-9999: not in catalogue demo-2025-08-01/);
    expectProblem(text, 'shoeSize', /unknown data item shoeSize in 210100-GA-0001/);
  });

  it('categories no item has, malformed tags, unknown subject categories, malformed requesters and purposes', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      categories: [top-secret]
  - id: D3
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      categories: [Top Secret]
  - id: D2
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources: [210100-GA-0001]
      subjectCategories: [infant]
      requesters: [91350100M0001TGQXM]
      purposes: ["bad code!"]`);
    expectProblem(text, 'top-secret', /no data item in scope has the categories top-secret/);
    expectProblem(text, 'Top Secret', /match.categories: "Top Secret" is not a category tag/);
    expectProblem(text, 'infant', /match.subjectCategories: unknown value "infant"/);
    expectProblem(text, '91350100M0001TGQXM', /not a valid unified social credit code/);
    expectProblem(text, 'bad code!', /not a service-item code or prefix/);
  });

  it('a rule that names a secret item in a conditional or mask rule', () => {
    const text = policy(`
  - id: C1
    effect: conditional
    condition: 经审核同意
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [criminalRecord] }`);
    expectProblem(text, 'criminalRecord', /210100-GA-0001\/criminalRecord is a work secret \(工作秘密\) and is never shared/);
  });

  it('subject categories on organisations, items together with categories', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-SC-0001], items: [legalRepresentative], subjectCategories: [minor] }
    mask: { kind: keep-ends, keepStart: 1, keepEnd: 0 }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo], categories: [biometric] }`);
    expectProblem(text, 'subjectCategories: [minor]', /subjectCategories apply to people, but 210100-SC-0001 is about organisations/);
    expectProblem(text, 'categories: [biometric]', /match gives both items and categories/);
  });
});

describe('effects, conditions and masks', () => {
  it("an unknown effect (there is no 'permit': sharing is the default) and a missing one", () => {
    const text = policy(`
  - id: P1
    effect: permit
    legalBasis: { title: 《政务数据共享条例》 }
    match: { resources: [210100-GA-0001] }
  - id: P2
    legalBasis: { title: 《政务数据共享条例》 }
    match: { resources: [210100-GA-0001] }`);
    expectProblem(text, 'effect: permit', /unknown effect "permit" .*no 'permit'/);
    expectProblem(text, 'id: P2', /rule P2 has no effect/);
  });

  it('a mask rule without a mask, a mask on a deny, a conditional without a condition, a condition on a deny', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [idNumber] }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [photo] }
    mask: { kind: redact }
  - id: C1
    effect: conditional
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-MZ-0001], items: [certificateNumber] }
  - id: D2
    effect: deny
    condition: 经审核同意
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [ethnicity] }`);
    expectProblem(text, 'id: M1', /mask rule M1 has no mask/);
    expectProblem(text, 'mask: { kind: redact }', /mask belongs to mask rules; D1 is a deny rule/);
    expectProblem(text, 'id: C1', /conditional rule C1 has no condition/);
    expectProblem(text, 'condition: 经审核同意', /condition belongs to conditional rules; D2 is a deny rule/);
  });

  it('unknown mask kinds, incomplete keep-ends, parameters on other kinds, masks on the wrong item type', () => {
    const text = policy(`
  - id: M1
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [name] }
    mask: { kind: hash }
  - id: M2
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [idNumber] }
    mask: { kind: keep-ends, keepStart: 6 }
  - id: M3
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [birthDate] }
    mask: { kind: year-only, keepStart: 2 }
  - id: M4
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [address] }
    mask: { kind: year-only }
  - id: M5
    effect: mask
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [gender] }
    mask: { kind: keep-ends, keepStart: -1, keepEnd: 0 }`);
    expectProblem(text, 'kind: hash', /unknown mask kind "hash"/);
    expectProblem(text, 'keepStart: 6 }', /a keep-ends mask needs keepStart and keepEnd/);
    expectProblem(text, 'keepStart: 2', /keepStart and keepEnd belong to keep-ends masks, not year-only/);
    expectProblem(text, 'id: M4', /a year-only mask cannot apply to 210100-GA-0001\/address \(string\)/);
    expectProblem(text, 'keepStart: -1', /mask.keepStart must be an integer from 0 to 64/);
  });
});

describe('times', () => {
  it('a window that ends before it starts, a date that does not exist, malformed hours', () => {
    const text = policy(`
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources: [210100-GA-0001]
      items: [photo]
      notBefore: "2025-09-01"
      notAfter: "2025-08-01"
  - id: D2
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources: [210100-GA-0001]
      items: [ethnicity]
      notBefore: "2025-02-30"
      hours: "25:00-06:00"
  - id: D3
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match:
      resources: [210100-GA-0001]
      items: [householdNumber]
      notAfter: "2025-08-01T12:00:00"`);
    expectProblem(text, 'notAfter: "2025-08-01"', /match.notAfter is before match.notBefore/);
    expectProblem(text, '2025-02-30', /match.notBefore "2025-02-30" is not a date/);
    expectProblem(text, '25:00-06:00', /match.hours "25:00-06:00" must be 'HH:MM-HH:MM'/);
    expectProblem(text, '2025-08-01T12:00:00', /is not a date .* or an ISO 8601 date-time with an offset/);
  });
});

describe('the file as a whole', () => {
  it('YAML syntax errors and duplicate keys, with their lines', () => {
    const text = 'revision: t1\nrules:\n  - id: R1\n    effect: deny\n    effect: mask\n';
    expectProblem(text, 'effect: mask', /not valid YAML\/JSON: Map keys must be unique/);
    const broken = 'revision: t1\nrules:\n  - id: R1\n    match: { resources: [210100-GA-0001\n';
    const { problems } = refuse(broken);
    expect(problems[0]!.reason).toMatch(/^not valid YAML\/JSON/);
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('an empty file, no rules, rules that are not a list', () => {
    expect(refuse('').problems).toEqual([{ file: 'bad.yaml', line: 1, reason: 'the file is empty; a policy file has revision and rules' }]);
    expectProblem('revision: t1\n', 'revision', /has no rules list/);
    expectProblem('revision: t1\nrules: everything\n', 'rules:', /rules must be a list/);
  });

  it('a malformed or unquoted numeric revision', () => {
    expectProblem(policy('', 'revision: has space\nrules:'), 'revision', /revision "has space" is malformed/);
    expectProblem(policy('', 'revision: 3\nrules:'), 'revision', /revision must be a non-empty string \(quote it\)/);
  });

  it('reports every problem in one refusal, in file and line order', () => {
    const text = policy(`
  - id: D1
    effect: deny
    match: { resources: [RES-XX-0001] }
  - id: D1
    effect: deny
    legalBasis: { title: 《中华人民共和国个人信息保护法》 }
    match: { resources: [210100-GA-0001], items: [shoeSize] }`);
    const { error, problems } = refuse(text);
    expect(problems.map((p) => p.line)).toEqual([3, 6, 9]);
    expect(error.message).toMatch(/^policy set refused \(3 problems\); the previous set stays in force:\nbad.yaml:3: rule D1 has no legalBasis/);
  });
});
