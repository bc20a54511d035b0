import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { demoSigner, signedJson } from '../../test/support/signing.js';
import { defaultPolicyDirectory, readPolicyDirectory } from '../files.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

const BUSINESS_BUREAU = '112101000010000537';
const decide = (body: unknown) =>
  fetch(`${t.httpUrl}/v1/policies/decide`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const request = (items: string[], extra: Record<string, unknown> = {}) => ({
  requester: BUSINESS_BUREAU,
  resource: '210100-GA-0001',
  items,
  subject: { kind: 'person', id: '11010519491231002X' },
  purpose: { serviceItem: 'QYKB-0001', caseNumber: 'SY-2026-000001' },
  ...extra,
});

describe('the negative list over HTTP, loaded at start against the seeded catalogue', () => {
  it('reports the shipped list in force and publishes its entries with legal bases', async () => {
    const status = (await (await fetch(`${t.httpUrl}/v1/policies`)).json()) as { revision: string; rules: number; catalogueRevision: string };
    expect(status.revision).toBe('2025-08-01.1');
    expect(status.rules).toBeGreaterThan(5);
    const list = (await (await fetch(`${t.httpUrl}/v1/policies/rules`)).json()) as { rules: { id: string; legalBasis: { title: string }[]; line: number }[] };
    const entry = list.rules.find((r) => r.id === 'NL-0001')!;
    expect(entry.legalBasis[0]!.title).toContain('居民身份证法');
    expect(entry.line).toBeGreaterThan(0);
  });

  it('masks the ID number (first 6 and last 4 kept) and names the revision', async () => {
    const r = await decide(request(['name', 'idNumber']));
    expect(r.status).toBe(200);
    const d = (await r.json()) as { outcome: string; revision: string; items: { code: string; mask: { kind: string; keepStart: number; keepEnd: number } | null }[] };
    expect(d.outcome).toBe('permit');
    expect(d.revision).toBe('2025-08-01.1');
    expect(d.items.find((i) => i.code === 'idNumber')!.mask).toMatchObject({ kind: 'keep-ends', keepStart: 6, keepEnd: 4 });
    expect(d.items.find((i) => i.code === 'name')!.mask).toBeNull();
  });

  it('answers conditional for the photo without an approval, and refuses unknown items and resources', async () => {
    const photo = (await (await decide(request(['photo']))).json()) as { outcome: string; pending: { code: string; rules: string[] }[] };
    expect(photo.outcome).toBe('conditional');
    expect(photo.pending[0]).toMatchObject({ code: 'photo', rules: ['NL-GA-0002'] });
    const unknownItem = (await (await decide(request(['noSuchItem']))).json()) as { outcome: string; reason: string; unknown: string[] };
    expect(unknownItem).toMatchObject({ outcome: 'deny', reason: 'unknown-item', unknown: ['noSuchItem'] });
    const unknownResource = (await (await decide(request(['name'], { resource: 'NO-SUCH' }))).json()) as { outcome: string; reason: string };
    expect(unknownResource).toMatchObject({ outcome: 'deny', reason: 'unknown-resource' });
  });

  it('refuses malformed requests with the catalogue body', async () => {
    const r = await decide({ ...request(['name']), subject: { kind: 'alien', id: 'x' } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_INVALID');
  });

  it('lets a supplier refuse a demand only by citing an entry of the list in force', async () => {
    const page = (await (await fetch(`${t.httpUrl}/v1/catalogue/demands?state=pending&limit=100`)).json()) as {
      items: { id: string; resource: string }[];
    };
    const pending = page.items[0]!;
    const provider = ((await (await fetch(`${t.httpUrl}/v1/catalogue/resources/${pending.resource}`)).json()) as { provider: string }).provider;
    const refuse = async (negativeListRuleId: string) => {
      const body = { actor: provider, negativeListRuleId };
      const signature = await signedJson(demoSigner(t.config.dataDir, provider), { kind: 'refuse', demandId: pending.id, actor: provider, content: body });
      return fetch(`${t.httpUrl}/v1/catalogue/demands/${pending.id}/refuse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, signature }),
      });
    };
    const bogus = await refuse('NL-NOPE-9999');
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { code: string }).code).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    const cited = t.app.ctx.policy.current!.engine.rules()[0]!.id;
    const ok = await refuse(cited);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { state: string }).state).toBe('refused');
  });
});

const shipped = readPolicyDirectory(defaultPolicyDirectory());
const DENY_HOUSEHOLD = `  - id: NL-TEST-0001
    title: 户号不予共享(影响分析测试)
    effect: deny
    legalBasis:
      title: 《中华人民共和国个人信息保护法》
      article: 第六条
    match:
      resources: [210100-GA-0001]
      items: [householdNumber]
`;
/** The shipped list with a new revision and, first among its rules, `rule`. */
const candidate = (rule: string) =>
  shipped.map((f) => ({ name: f.name, text: f.text.replace('revision: "2025-08-01.1"', 'revision: "candidate-1"').replace(/^rules:\n/m, `rules:\n${rule}`) }));
const impactOf = (body: unknown) =>
  fetch(`${t.httpUrl}/v1/policies/impact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

interface Group { key: string; name: string; decisions: number; changed: number; tighter: number; looser: number; different: number }
interface Report {
  candidateRevision: string;
  recordedRevisions: string[];
  decisions: number;
  changed: number;
  transitions: Record<string, number>;
  byDepartment: Group[];
  byResource: Group[];
  changes: { resource: string; direction: string; before: { released: string[]; withheld: string[] }; after: { released: string[]; withheld: string[] } }[];
}

describe('impact analysis of a candidate list over HTTP', () => {
  const inForce = async () => ((await (await fetch(`${t.httpUrl}/v1/policies`)).json()) as { revision: string; digest: string });

  it('finds the synthetic decisions a new deny would tighten, by resource and department, and changes nothing in force', async () => {
    const before = await inForce();
    const r = await impactOf({ files: candidate(DENY_HOUSEHOLD), count: 2000, seed: 7 });
    expect(r.status).toBe(200);
    const report = (await r.json()) as Report;
    expect(report).toMatchObject({ candidateRevision: 'candidate-1', recordedRevisions: ['2025-08-01.1'], decisions: 2000 });
    expect(report.changed).toBeGreaterThan(0);
    expect(report.byResource.map((g) => g.key)).toEqual(['210100-GA-0001']);
    expect(report.byResource[0]).toMatchObject({ name: '人口基本信息', changed: report.changed, tighter: report.changed, looser: 0, different: 0 });
    expect(report.byDepartment.reduce((n, g) => n + g.changed, 0)).toBe(report.changed);
    expect(report.changes.length).toBe(Math.min(report.changed, 100));
    for (const c of report.changes) {
      expect(c).toMatchObject({ resource: '210100-GA-0001', direction: 'tighter' });
      expect(c.before.released).toContain('householdNumber');
      expect(c.after.withheld).toContain('householdNumber');
    }
    expect(await inForce()).toEqual(before);
    expect(t.app.ctx.policy.current!.engine.revision).toBe('2025-08-01.1');
    // The default count, and the same answer for the same seed.
    const again = (await (await impactOf({ files: candidate(DENY_HOUSEHOLD), seed: 7 })).json()) as Report;
    expect(again.decisions).toBe(5000);
  });

  it('reports no change for the list in force itself', async () => {
    const report = (await (await impactOf({ files: shipped, count: 1000 })).json()) as Report;
    expect(report).toMatchObject({ decisions: 1000, changed: 0, byDepartment: [], byResource: [], changes: [], transitions: {} });
  });

  it('refuses a broken candidate with file:line problems, keeping the set in force', async () => {
    const before = await inForce();
    const broken = candidate(DENY_HOUSEHOLD.replace('items: [householdNumber]', 'items: [noSuchItem]'));
    const r = await impactOf({ files: broken });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { code: string; message: string; details: { problems: { file: string; line: number; reason: string }[] } };
    expect(body.code).toBe('ZT_ERR_POLICY_INVALID');
    const problem = body.details.problems.find((p) => p.reason.includes('noSuchItem'))!;
    expect(problem.file).toBe(shipped[0]!.name);
    expect(problem.line).toBeGreaterThan(1);
    expect(await inForce()).toEqual(before);
  });

  it('refuses malformed bodies: no files, a count out of range', async () => {
    for (const body of [{ files: [] }, { files: shipped, count: 0 }, { files: shipped, count: 100_001 }, { files: [{ name: 'x.yaml' }] }]) {
      const r = await impactOf(body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { code: string }).code).toBe('ZT_ERR_REQUEST_INVALID');
    }
  });
});
