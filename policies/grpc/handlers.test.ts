// zhengtong.v1.PolicyService end to end over a real gRPC connection, with a client built independently of the
// server (proto-loader on proto/): the same answers and errors as the HTTP routes under /v1/policies.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { serviceClient, unary, unaryError, type Client, type Msg } from '../../test/support/grpc-client.js';
import { defaultPolicyDirectory, readPolicyDirectory } from '../files.js';

let app: TestApp;
let client: Client;

beforeAll(async () => {
  app = await startTestApp();
  client = serviceClient('policies.proto', 'PolicyService', app.grpcAddress);
});

afterAll(async () => {
  client?.close();
  await app?.close();
});

const rpc = (method: string, request: Msg = {}): Promise<Msg> => unary(client, method, request);

async function rpcError(method: string, request: Msg): Promise<{ status: number; code: string; body: { code: string; details?: any } }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const error = await unaryError(client, method, request);
  return {
    status: error.code,
    code: String(error.metadata.get('zt-error-code')[0]),
    body: JSON.parse((error.metadata.get('zt-error-bin')[0] as Buffer).toString('utf8')),
  };
}

const request = (items: string[], extra: Msg = {}): Msg => ({
  requester: '112101000010000537',
  resource: '210100-GA-0001',
  items,
  subject: { kind: 'person', id: '11010519491231002X' },
  purpose: { serviceItem: 'QYKB-0001', caseNumber: 'SY-2026-000001' },
  ...extra,
});

describe('zhengtong.v1.PolicyService', () => {
  it('GetPolicy reports the shipped list in force, as GET /v1/policies does', async () => {
    const status = await rpc('GetPolicy');
    expect(status.revision).toBe('2025-08-01.1');
    const http = (await (await fetch(`${app.httpUrl}/v1/policies`)).json()) as Msg;
    expect(status).toMatchObject({ revision: http.revision, digest: http.digest, catalogueRevision: http.catalogueRevision, files: http.files, rules: http.rules });
    expect(new Date(Number(status.loadedAt.seconds) * 1000).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('ListRules publishes every entry with its legal basis', async () => {
    const list = await rpc('ListRules');
    expect(list.revision).toBe('2025-08-01.1');
    const entry = list.rules.find((r: Msg) => r.id === 'NL-0001');
    expect(entry).toMatchObject({ effect: 'mask', mask: { kind: 'keep-ends', keepStart: 6, keepEnd: 4 } });
    expect(entry.legalBasis[0]).toMatchObject({ title: '《中华人民共和国居民身份证法》', article: '第六条' });
    expect(entry.line).toBeGreaterThan(0);
    expect(list.rules.length).toBe((await rpc('GetPolicy')).rules);
  });

  it('Decide masks the ID number (first 6, last 4) and names the revision', async () => {
    const d = await rpc('Decide', request(['name', 'idNumber']));
    expect(d).toMatchObject({ outcome: 'permit', reason: '', revision: '2025-08-01.1', resource: '210100-GA-0001', grant: '' });
    expect(d.items.find((i: Msg) => i.code === 'idNumber').mask).toMatchObject({ kind: 'keep-ends', keepStart: 6, keepEnd: 4 });
    expect(d.items.find((i: Msg) => i.code === 'name').mask).toBeNull();
    expect(d.rules.map((r: Msg) => r.id)).toContain('NL-0001');
  });

  it('Decide answers conditional for the photo, and lifts it with a grant naming it', async () => {
    const pending = await rpc('Decide', request(['photo']));
    expect(pending).toMatchObject({ outcome: 'conditional', reason: 'approval-required', pending: [{ code: 'photo', rules: ['NL-GA-0002'] }] });
    const grant = { id: 'G-1', requester: '112101000010000537', resource: '210100-GA-0001', items: ['photo'] };
    const granted = await rpc('Decide', request(['photo'], { grant }));
    expect(granted).toMatchObject({ outcome: 'permit', grant: 'G-1', items: [{ code: 'photo' }] });
  });

  it('Decide refuses an unknown item', async () => {
    const d = await rpc('Decide', request(['noSuchItem']));
    expect(d).toMatchObject({ outcome: 'deny', reason: 'unknown-item', unknown: ['noSuchItem'], items: [] });
  });

  it('Decide refuses malformed requests with INVALID_ARGUMENT and ZT_ERR_REQUEST_INVALID', async () => {
    for (const bad of [
      request(['name'], { subject: { kind: 'alien', id: 'x' } }),
      request([]),
      request(['name'], { requester: 'short' }),
      request(['name'], { purpose: undefined }),
    ]) {
      const e = await rpcError('Decide', bad);
      expect(e.status).toBe(grpc.status.INVALID_ARGUMENT);
      expect(e.code).toBe('ZT_ERR_REQUEST_INVALID');
      expect(e.body.code).toBe('ZT_ERR_REQUEST_INVALID');
    }
  });

  it('Impact reports what a candidate would change, without changing the set in force', async () => {
    const shipped = readPolicyDirectory(defaultPolicyDirectory());
    const same = await rpc('Impact', { files: shipped, count: 500 });
    expect(same).toMatchObject({ decisions: 500, changed: 0, recordedRevisions: ['2025-08-01.1'], changes: [] });
    const tighter = shipped.map((f) => ({
      name: f.name,
      text: f.text
        .replace('revision: "2025-08-01.1"', 'revision: "candidate-1"')
        .replace(/^rules:\n/m, 'rules:\n  - id: NL-TEST-0001\n    effect: deny\n    legalBasis: { title: 《中华人民共和国个人信息保护法》 }\n    match: { resources: [210100-GA-0001], items: [householdNumber] }\n'),
    }));
    const report = await rpc('Impact', { files: tighter, count: 1000, seed: 7 });
    expect(report.candidateRevision).toBe('candidate-1');
    expect(report.changed).toBeGreaterThan(0);
    expect(report.byResource).toEqual([expect.objectContaining({ key: '210100-GA-0001', changed: report.changed, tighter: report.changed })]);
    expect(report.changes.every((c: Msg) => c.direction === 'tighter' && c.after.withheld.includes('householdNumber'))).toBe(true);
    const http = (await (
      await fetch(`${app.httpUrl}/v1/policies/impact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files: tighter, count: 1000, seed: 7 }) })
    ).json()) as Msg;
    expect(report.changed).toBe(http.changed);
    expect(report.transitions).toEqual(http.transitions);
    // Unset seed and count: the HTTP defaults (seed 1, 5 000 decisions).
    const byDefault = await rpc('Impact', { files: tighter });
    const httpDefault = (await (
      await fetch(`${app.httpUrl}/v1/policies/impact`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ files: tighter }) })
    ).json()) as Msg;
    expect(byDefault).toMatchObject({ decisions: 5000, changed: httpDefault.changed, transitions: httpDefault.transitions });
    expect((await rpc('GetPolicy')).revision).toBe('2025-08-01.1');
  });

  it('Impact refuses a broken candidate with INVALID_ARGUMENT and ZT_ERR_POLICY_INVALID, file:line in the details', async () => {
    const e = await rpcError('Impact', { files: [{ name: 'broken.yaml', text: 'revision: x\nrules:\n  - id: NL-X\n    effect: deny\n    match: { resources: [NO-SUCH] }\n' }] });
    expect(e.status).toBe(grpc.status.INVALID_ARGUMENT);
    expect(e.code).toBe('ZT_ERR_POLICY_INVALID');
    expect(e.body.details.problems[0]).toMatchObject({ file: 'broken.yaml' });
    expect(e.body.details.problems.every((p: { line: number }) => p.line > 0)).toBe(true);
    const none = await rpcError('Impact', { files: [] });
    expect(none.code).toBe('ZT_ERR_REQUEST_INVALID');
    expect((await rpc('GetPolicy')).revision).toBe('2025-08-01.1');
  });
});
