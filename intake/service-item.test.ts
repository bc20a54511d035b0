import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ZtError } from '../core/errors/index.js';
import { packageRoot } from '../core/paths.js';
import { DEMO_RESOURCES } from '../demo/catalogue.js';
import { DEMO_LICENCE_TYPES } from '../demo/licences.js';
import { defaultServiceItemDirectory, loadServiceItems, readServiceItem, serviceItemContext, type ApplicantKind, type ServiceItemProblem } from './index.js';

// The registry's demo resources do not state whose records they are; the policy engine's demo catalogue does.
const demoCatalogue = JSON.parse(readFileSync(join(packageRoot(), 'policies', 'demo-catalogue.json'), 'utf8')) as {
  resources: { code: string; subjectKind?: ApplicantKind }[];
};
const subjectKinds = new Map(demoCatalogue.resources.map((r) => [r.code, r.subjectKind ?? null]));
const context = serviceItemContext(
  DEMO_RESOURCES.map((r) => ({ ...r, subjectKind: subjectKinds.get(r.code) ?? null })),
  DEMO_LICENCE_TYPES,
);

const ITEMS = defaultServiceItemDirectory();
const BUSINESS_LICENCE = '11100000MB0002581X001';
const FOOD_LICENCE = '11100000MB0002581X002';
const MARRIAGE_CERTIFICATE = '11100000MB00032322001';

// Definitions as parsed JSON, loosely typed so each test can break them in its own way.
type Raw = Record<string, any>;
const demo = (file: string): Raw => JSON.parse(readFileSync(join(ITEMS, file), 'utf8')) as Raw;
const restaurant = (): Raw => demo('restaurant-opening.json');
const marriage = (): Raw => demo('marriage-registration.json');

function problemsOf(run: () => unknown): ServiceItemProblem[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ZtError);
    const e = error as ZtError;
    expect(e.code).toBe('ZT_ERR_SERVICE_ITEM_INVALID');
    expect(e.httpStatus).toBe(400);
    const problems = (e.details as { problems: ServiceItemProblem[] }).problems;
    // The message a person reads lists every problem with its path.
    for (const p of problems) expect(e.message).toContain(`${p.path}: ${p.message}`);
    return problems;
  }
  throw new Error('expected ZT_ERR_SERVICE_ITEM_INVALID');
}
const problems = (raw: unknown) => problemsOf(() => readServiceItem(raw, context));
const at = (list: ServiceItemProblem[], path: string) => list.filter((p) => p.path === path).map((p) => p.message);

describe('the demo service items', () => {
  it('load against the demo catalogue and licence types', () => {
    const items = loadServiceItems(ITEMS, context);
    expect(items.map((i) => [i.code, i.name, i.applicantKind])).toEqual([
      ['HYDJ-210100-0011', '结婚登记', 'person'],
      ['QYKB-210100-0001', '开办餐馆', 'organisation'],
      ['SBZY-210100-0012', '社保关系转移', 'person'],
    ]);
  });

  it('lock the fields filled from shared data or a licence and name the material each comes from', () => {
    const item = readServiceItem(restaurant(), context);
    const byCode = new Map(item.fields.map((f) => [f.code, f]));
    expect(byCode.get('enterpriseName')).toMatchObject({ locked: true, material: 'enterpriseRegistration' });
    expect(byCode.get('registeredCapital')).toMatchObject({ locked: true, material: 'businessLicence' });
    expect(byCode.get('premises')).toMatchObject({ locked: true, material: 'foodBusinessLicence' });
    expect(byCode.get('seats')).toMatchObject({ locked: false, material: null, source: { kind: 'applicant' } });
    expect(item.legalBasis).toEqual({ title: '《优化营商环境条例》', article: null });
    expect(item.materials[2]!.source).toMatchObject({ kind: 'data', subject: 'applicant' });
  });

  it('are frozen all the way down', () => {
    const item = readServiceItem(marriage(), context);
    expect(Object.isFrozen(item)).toBe(true);
    expect(Object.isFrozen(item.materials[0]!.source)).toBe(true);
    expect(Object.isFrozen(item.fields)).toBe(true);
    expect(() => (item.intakeDepartments as string[]).push('x')).toThrow(TypeError);
  });

  it('ignore a given "locked": it is derived, and unknown properties are refused', () => {
    const raw = restaurant();
    raw.fields[7].locked = true;
    expect(at(problems(raw), '$.fields[7].locked')).toEqual([expect.stringContaining('is not a known property')]);
  });
});

describe('readServiceItem reports each problem with its path', () => {
  it('unknown resource and unknown data items', () => {
    const raw = restaurant();
    raw.materials[2].source.items.push('turnover');
    raw.fields[0].source.item = 'tradeName';
    const list = problems(raw);
    expect(at(list, '$.materials[2].source.items[5]')).toEqual(['the data resource 210100-SC-0001 has no data item "turnover"']);
    expect(at(list, '$.fields[0].source.item')).toEqual(['the data resource 210100-SC-0001 has no data item "tradeName"']);

    const other = restaurant();
    other.materials[2].source.resource = '210100-XX-9999';
    const list2 = problems(other);
    expect(at(list2, '$.materials[2].source.resource')).toEqual(['unknown data resource "210100-XX-9999"']);
    // The fields still point at 210100-SC-0001, which no material now covers.
    expect(at(list2, '$.fields[0].source')).toEqual([expect.stringContaining('no material takes data from 210100-SC-0001')]);
  });

  it('unknown licence type and unknown licence field', () => {
    const raw = restaurant();
    raw.materials[0].source.type = '11100000MB0002581X999';
    raw.fields[5].source.field = 'seatCount';
    const list = problems(raw);
    expect(at(list, '$.materials[0].source.type')).toEqual(['unknown licence type "11100000MB0002581X999"']);
    expect(at(list, '$.fields[5].source.field')).toEqual([`licences of type ${FOOD_LICENCE} have no field "seatCount"`]);
    // registeredCapital still comes from the business licence, which no material now is.
    expect(at(list, '$.fields[4].source')).toEqual([expect.stringContaining(`no material is a licence of type ${BUSINESS_LICENCE}`)]);
  });

  it('a licence held by another kind of holder than the applicant', () => {
    const raw = marriage();
    raw.materials.push({ code: 'businessLicence', name: '营业执照', required: false, source: { kind: 'licence', type: BUSINESS_LICENCE } });
    raw.fields.push({ code: 'entType', label: '类型', type: 'string', required: false, source: { kind: 'licence', type: BUSINESS_LICENCE, field: 'enterpriseType' } });
    const list = problems(raw);
    const message = `licences of type ${BUSINESS_LICENCE} are held by organisations, but the applicant is a person`;
    expect(at(list, '$.materials[3].source.type')).toEqual([message]);
    expect(at(list, '$.fields[7].source.type')).toEqual([message]);
  });

  it('shared data about another kind of subject than the applicant', () => {
    const raw = restaurant();
    raw.materials.push({ code: 'population', name: '人口基本信息', required: false, source: { kind: 'data', resource: '210100-GA-0001', items: ['name'] } });
    expect(at(problems(raw), '$.materials[4].source.resource')).toEqual(['the records of 210100-GA-0001 are about persons, but the applicant is an organisation']);
  });

  it('a resource whose subject kind is not stated is not held against the applicant', () => {
    const unstated = serviceItemContext(
      DEMO_RESOURCES.map((r) => ({ ...r, subjectKind: null })),
      DEMO_LICENCE_TYPES,
    );
    const raw = restaurant();
    raw.materials.push({ code: 'population', name: '人口基本信息', required: false, source: { kind: 'data', resource: '210100-GA-0001', items: ['name'] } });
    expect(readServiceItem(raw, unstated).materials).toHaveLength(5);
  });

  it('a field whose source no material covers', () => {
    const raw = restaurant();
    raw.materials.splice(1, 1); // drop the food business licence
    raw.materials[1].source.items = ['uscc', 'entName']; // and two items of the registration data
    const list = problems(raw);
    expect(at(list, '$.fields[5].source')).toEqual([`no material is a licence of type ${FOOD_LICENCE}; add one with source { kind: "licence", type: "${FOOD_LICENCE}" }`]);
    expect(at(list, '$.fields[6].source')).toHaveLength(1);
    expect(at(list, '$.fields[2].source')).toEqual(['no material from 210100-SC-0001 fetches the item legalRepresentative; add it to the items of enterpriseRegistration']);
    expect(at(list, '$.fields[3].source')).toHaveLength(1);
    expect(list).toHaveLength(4);
  });

  it('duplicate codes among materials, fields, departments and data items', () => {
    const raw = restaurant();
    raw.materials[1].code = 'businessLicence';
    raw.fields[8].code = 'plannedOpeningDate';
    raw.intakeDepartments.push('112101000010000537');
    raw.materials[2].source.items.push('uscc');
    const list = problems(raw);
    expect(at(list, '$.materials[1].code')).toEqual(['businessLicence is used by another material']);
    expect(at(list, '$.fields[8].code')).toEqual(['plannedOpeningDate is used by another field']);
    expect(at(list, '$.intakeDepartments[1]')).toEqual(['112101000010000537 is listed twice']);
    expect(at(list, '$.materials[2].source.items[5]')).toEqual(['uscc is listed twice']);
  });

  it('bad code formats', () => {
    const raw = restaurant();
    raw.code = 'QY';
    raw.materials[3].code = 'Lease-Contract';
    raw.fields[7].code = '1stDay';
    const list = problems(raw);
    expect(at(list, '$.code')).toEqual(['"QY" is not a valid code: 4 to 64 letters, digits or "-"']);
    expect(at(list, '$.materials[3].code')).toEqual([expect.stringContaining('"Lease-Contract" is not a valid code')]);
    expect(at(list, '$.fields[7].code')).toEqual([expect.stringContaining('"1stDay" is not a valid code')]);
  });

  it('an invalid USCC among the intake departments, and none at all', () => {
    const raw = marriage();
    raw.intakeDepartments = ['11210100001000045D', 42];
    const list = problems(raw);
    expect(at(list, '$.intakeDepartments[0]')).toEqual(['"11210100001000045D" is not a valid unified social credit code (统一社会信用代码)']);
    expect(at(list, '$.intakeDepartments[1]')).toHaveLength(1);
    raw.intakeDepartments = [];
    expect(at(problems(raw), '$.intakeDepartments')).toEqual(['must name at least one department']);
  });

  it('wrong shapes: kinds, types, names, booleans, legal basis', () => {
    const raw = marriage();
    raw.applicantKind = 'citizen';
    raw.name = '';
    raw.legalBasis = { article: '第五条' };
    raw.materials[1].required = 'yes';
    raw.materials[2].source = { kind: 'upload' };
    raw.fields[0].type = 'text';
    raw.materials[0].source.subject = 'spouse';
    const list = problems(raw);
    expect(list.map((p) => p.path)).toEqual([
      '$.name',
      '$.applicantKind',
      '$.legalBasis.title',
      '$.materials[0].source.subject',
      '$.materials[1].required',
      '$.materials[2].source.kind',
      '$.fields[0].type',
    ]);
  });

  it('collects every problem instead of stopping at the first', () => {
    const raw = restaurant();
    raw.code = 'x';
    raw.intakeDepartments = ['nope'];
    raw.materials[0].source.type = MARRIAGE_CERTIFICATE;
    raw.fields[0].source.item = 'tradeName';
    const list = problems(raw);
    expect(new Set(list.map((p) => p.path))).toEqual(
      new Set(['$.code', '$.intakeDepartments[0]', '$.materials[0].source.type', '$.fields[0].source.item', '$.fields[0].source', '$.fields[4].source']),
    );
    expect(list.every((p) => p.file === undefined)).toBe(true);
  });

  it('something that is not an object at all', () => {
    expect(problems([])).toEqual([{ path: '$', message: 'must be an object' }]);
  });
});

describe('loadServiceItems', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const directoryWith = (files: Record<string, unknown>): string => {
    dir = mkdtempSync(join(tmpdir(), 'zt-intake-'));
    for (const name of ['marriage-registration.json', 'restaurant-opening.json', 'social-insurance-transfer.json']) copyFileSync(join(ITEMS, name), join(dir, name));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
    return dir;
  };
  const load = (d: string) => problemsOf(() => loadServiceItems(d, context));

  it('names the file in each problem, and checks every file before refusing', () => {
    const bad = restaurant();
    bad.code = 'QYKB-210100-0099';
    bad.fields[0].source.item = 'tradeName';
    const list = load(directoryWith({ 'z-bad.json': bad, 'a-broken.json': '{ "code": ', 'notes.txt': 'not a definition' }));
    expect(list.map((p) => [p.file, p.path])).toEqual([
      ['a-broken.json', '$'],
      ['z-bad.json', '$.fields[0].source.item'],
      ['z-bad.json', '$.fields[0].source'],
    ]);
    expect(list[0]!.message).toMatch(/^is not readable JSON/);
  });

  it('refuses two files with the same service item code', () => {
    const list = load(directoryWith({ 'restaurant-copy.json': restaurant() }));
    expect(list).toEqual([{ file: 'restaurant-opening.json', path: '$.code', message: 'duplicates the service item code QYKB-210100-0001 of restaurant-copy.json' }]);
  });

  it('refuses a directory without definitions, or none at all', () => {
    const empty = (dir = mkdtempSync(join(tmpdir(), 'zt-intake-')));
    expect(() => loadServiceItems(empty, context)).toThrow(/has no \.json files/);
    expect(() => loadServiceItems(join(empty, 'missing'), context)).toThrow(/cannot read the service item directory/);
  });
});
