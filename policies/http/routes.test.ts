import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';

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
    const refuse = (negativeListRuleId: string) =>
      fetch(`${t.httpUrl}/v1/catalogue/demands/${pending.id}/refuse`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ actor: provider, negativeListRuleId }),
      });
    const bogus = await refuse('NL-NOPE-9999');
    expect(bogus.status).toBe(400);
    expect(((await bogus.json()) as { code: string }).code).toBe('ZT_ERR_REFUSAL_BASIS_MISSING');
    const cited = t.app.ctx.policy.current!.engine.rules()[0]!.id;
    const ok = await refuse(cited);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { state: string }).state).toBe('refused');
  });
});
