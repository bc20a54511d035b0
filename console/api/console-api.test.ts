// The console's data API through the real gateway: people sign in with the demo accounts, read what their role
// allows through the same audit services as signed reads (recorded with the person), are refused the rest with a
// console code, and hand steps signed with their department's key to the real routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartmentKey, ExchangeClient, type QueryInput } from '../../client/index.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runLicenceOfflineCommand } from '../../cli/licence-offline.js';
import { defaultPolicyDirectory } from '../../policies/index.js';
import { join } from 'node:path';
import { demoKeyFiles } from '../../demo/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { startTestApp, type TestApp } from '../../test/support/app.js';
import { postgresUrl, uniqueName } from '../../test/support/services.js';
import { PgDatabase } from '../../core/storage/index.js';
import { chinaDate } from '../../registry/catalogue/working-days.js';
import { demoSigner, signedHeaders, signedJson } from '../../test/support/signing.js';

const YS = '112101000010000537';
const GA = '11210100001000010R';
const PLATFORM = '11210100001000088R';

interface Session {
  cookie: string;
  csrf: string;
  accountId: string;
}

describe('the console API', () => {
  let t: TestApp;
  const sessions = new Map<string, Session>();
  const schema = uniqueName('zt_console_api');

  const password = (login: string): string => {
    const account = t.app.consoleDemo!.accounts.find((a) => a.login === login);
    return account!.password!;
  };

  const signIn = async (login: string): Promise<Session> => {
    const known = sessions.get(login);
    if (known) return known;
    const response = await fetch(`${t.httpUrl}/console/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password: password(login) }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const body = (await response.json()) as { csrf: string };
    const { rows } = await t.app.ctx.db.query<{ id: string }>('SELECT id FROM console_accounts WHERE login = $1', [login]);
    const session = { cookie, csrf: body.csrf, accountId: rows[0]!.id };
    sessions.set(login, session);
    return session;
  };

  const get = async (login: string | null, path: string) => {
    const headers: Record<string, string> = {};
    if (login) headers.cookie = (await signIn(login)).cookie;
    const response = await fetch(`${t.httpUrl}${path}`, { headers });
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : text, headers: response.headers };
  };

  beforeAll(async () => {
    t = await startTestApp(postgresUrl ? { databaseUrl: postgresUrl, databaseSchema: schema } : {});
    // One read of the applicant's data, so the log and the citizen's view have something to show.
    const files = demoKeyFiles(t.config.dataDir, YS);
    const client = new ExchangeClient({
      httpUrl: t.httpUrl,
      grpcAddress: t.grpcAddress,
      signer: DepartmentKey.fromFiles(files.key, files.certificate),
      trust: { root: readFileSync(join(t.config.caDir, 'root-ca.cert.pem')), issuing: readFileSync(join(t.config.caDir, 'issuing-ca.cert.pem')) },
      platformUscc: PLATFORM,
    });
    const query: QueryInput = {
      requester: YS,
      resource: '210100-GA-0001',
      items: ['name', 'address'],
      subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
      purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'CONSOLE-API-1' },
    };
    await client.query(query, { protocol: 'http' });
    await client.close();
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    if (postgresUrl) {
      const admin = await PgDatabase.open({ url: postgresUrl, poolSize: 1, schema: undefined });
      try {
        await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.close();
      }
    }
  });

  it('refuses every console route without a session, and names the code', async () => {
    for (const path of ['/console/api/audit/records', '/console/api/me/accesses', '/console/api/demands', '/console/api/session']) {
      const r = await get(null, path);
      expect(r.status, path).toBe(401);
      expect((r.body as { code: string }).code).toBe('ZT_ERR_SESSION_REQUIRED');
    }
  });

  it('answers a supervisor the access log, and records the read with the person in audit_queries and console_actions', async () => {
    const s = await signIn('supervisor');
    const r = await get('supervisor', '/console/api/audit/records?caseNumber=CONSOLE-API-1');
    expect(r.status).toBe(200);
    const records = (r.body as { records: { caseNumber: string; subjectCode: string | null; id: string }[] }).records;
    expect(records.length).toBe(1);
    expect(records[0]!.caseNumber).toBe('CONSOLE-API-1');
    const q = await t.app.ctx.db.query<{ protocol: string; console_account: string; role: string; requester: string; request_digest: Buffer | null }>(
      `SELECT protocol, console_account, role, requester, request_digest FROM audit_queries WHERE kind = 'search' ORDER BY seq DESC LIMIT 1`,
    );
    expect(q.rows[0]).toMatchObject({ protocol: 'console', console_account: s.accountId, role: 'supervisor', request_digest: null });
    const a = await t.app.ctx.consoleActions.ofAccount(s.accountId, 5);
    expect(a[0]).toMatchObject({ action: 'audit.search', outcome: 'ok', status: 200, department: '11210100001000096L' });

    const trace = await get('supervisor', `/console/api/audit/records/${records[0]!.id}`);
    expect(trace.status).toBe(200);
    expect((trace.body as { record: { id: string } }).record.id).toBe(records[0]!.id);

    const csv = await get('supervisor', '/console/api/audit/records/export?caseNumber=CONSOLE-API-1&format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(String(csv.body)).toContain('CONSOLE-API-1');
  });

  it('refuses a steward the supervisor pages with ZT_ERR_CONSOLE_FORBIDDEN, and records the refusal with the person', async () => {
    const s = await signIn('steward');
    const r = await get('steward', `/console/api/audit/records?caseNumber=CONSOLE-API-1&subject=${DEMO_SUBJECTS.applicant.idNumber}`);
    expect(r.status).toBe(403);
    expect((r.body as { code: string }).code).toBe('ZT_ERR_CONSOLE_FORBIDDEN');
    expect(JSON.stringify(r.body)).not.toContain('CONSOLE-API-1"');
    const a = await t.app.ctx.consoleActions.ofAccount(s.accountId, 5);
    // The refusal names the route, never the filters (a subject's ID number) it was called with.
    expect(a[0]).toMatchObject({ action: 'console.refused', outcome: 'refused', errorCode: 'ZT_ERR_CONSOLE_FORBIDDEN', target: '/console/api/audit/records' });
    const { rows } = await t.app.ctx.db.query<{ n: string }>('SELECT count(*) AS n FROM console_actions WHERE target LIKE $1', [`%${DEMO_SUBJECTS.applicant.idNumber}%`]);
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it("shows a citizen who read their data, and their own licences with the QR payload, and no one else's", async () => {
    const r = await get('citizen', '/console/api/me/accesses');
    expect(r.status).toBe(200);
    const accesses = (r.body as { accesses: { purpose: { caseNumber: string }; department: { uscc: string } }[] }).accesses;
    expect(accesses.some((x) => x.purpose.caseNumber === 'CONSOLE-API-1' && x.department.uscc === YS)).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain(DEMO_SUBJECTS.applicant.idNumber);
    const licences = await get('citizen', '/console/api/me/licences');
    expect(licences.status).toBe(200);
    const held = (licences.body as { licences: { compact: string; document: { status: { list: string } } }[] }).licences;
    expect(held.length).toBeGreaterThan(0);
    // The QR payload the page draws verifies offline with the CLI, against the CA certificates alone.
    const dir = mkdtempSync(join(tmpdir(), 'zt-console-qr-'));
    try {
      writeFileSync(join(dir, 'qr.txt'), held[0]!.compact);
      // The issuer's status list, public at the URL the licence names (it carries the signer's certificate).
      const list = await fetch(`${t.httpUrl}${new URL(held[0]!.document.status.list).pathname}`);
      expect(list.status).toBe(200);
      writeFileSync(join(dir, 'list.json'), await list.text());
      let out = '';
      const code = await runLicenceOfflineCommand(
        [
          'licence',
          'verify-offline',
          '--payload-file',
          join(dir, 'qr.txt'),
          '--ca',
          join(t.config.caDir, 'root-ca.cert.pem'),
          '--intermediate',
          join(t.config.caDir, 'issuing-ca.cert.pem'),
          '--status-list',
          join(dir, 'list.json'),
        ],
        { stdout: { write: (x: string) => (out += x) }, stderr: { write: (x: string) => (out += x) } },
      );
      expect(code, out).toBe(0);
      expect(out).toContain(DEMO_SUBJECTS.applicant.name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const refused = await get('citizen', '/console/api/audit/records');
    expect(refused.status).toBe(403);
    const steward = await get('steward', '/console/api/me/accesses');
    expect(steward.status).toBe(403);
  });

  it("relays a steward's step signed with the department key to the real route, and refuses one signed by another department or without the CSRF token", async () => {
    const s = await signIn('steward');
    const pending = await t.app.ctx.demands.exportAll({ provider: GA, state: 'pending' });
    expect(pending.length).toBeGreaterThan(0);
    const demand = pending[0]!;
    const step = async (signerUscc: string, csrf: string | null) => {
      const content = { terms: {} };
      const signature = await signedJson(demoSigner(t.config.dataDir, signerUscc), { kind: 'approve', demandId: demand.id, actor: signerUscc, content });
      const body = JSON.stringify({ actor: signerUscc, signature });
      const headers: Record<string, string> = { 'content-type': 'application/json', cookie: s.cookie };
      if (csrf !== null) headers['x-zt-csrf'] = csrf;
      const response = await fetch(`${t.httpUrl}/console/api/signed`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ method: 'POST', path: `/v1/catalogue/demands/${demand.id}/approve`, body }),
      });
      return { status: response.status, body: (await response.json()) as { status?: number; body?: { state?: string }; code?: string } };
    };
    const noCsrf = await step(GA, null);
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.code).toBe('ZT_ERR_CSRF_INVALID');
    const other = await step(YS, s.csrf);
    expect(other.status).toBe(403);
    expect(other.body.code).toBe('ZT_ERR_ACTING_FOR_ANOTHER');
    const ok = await step(GA, s.csrf);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe(200);
    expect(ok.body.body?.state).toBe('approved');
    const a = await t.app.ctx.consoleActions.ofAccount(s.accountId, 10);
    expect(a.some((x) => x.action === 'demand.approve' && x.outcome === 'ok')).toBe(true);
  });

  it('shows a steward the negative-list entries reaching its resources, and previews a candidate list', async () => {
    const entries = await get('steward', '/console/api/policy/entries');
    expect(entries.status).toBe(200);
    const list = (entries.body as { entries: { id: string; resources: string[] }[] }).entries;
    expect(list.length).toBeGreaterThan(0);
    const ours = new Set((await t.app.ctx.catalogue.exportAll(GA)).map((r) => r.code));
    for (const e of list) for (const code of e.resources) expect(ours.has(code), `${e.id} reaches ${code}`).toBe(true);

    const s = await signIn('steward');
    const preview = async (candidate: string) => {
      const response = await fetch(`${t.httpUrl}/console/api/policy/impact`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-zt-csrf': s.csrf },
        body: JSON.stringify({ candidate, count: 200 }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const current = readdirSync(defaultPolicyDirectory()).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(join(defaultPolicyDirectory(), f), 'utf8'));
    const same = await preview(current[0]!);
    expect(same.status).toBe(200);
    const bad = await preview('rules: [this is not a list entry');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ZT_ERR_POLICY_INVALID');
  });

  it("revises a resource of the steward's supply list with a call signed in its name, and refuses to remove an item live demands name", async () => {
    const s = await signIn('steward');
    const live = (await t.app.ctx.demands.exportAll({ provider: GA })).find((d) => ['granted', 'approved', 'pending'].includes(d.state))!;
    const current = await t.app.ctx.catalogue.get(live.resource);
    const publication = {
      code: current.code,
      name: `${current.name}（修订）`,
      provider: current.provider,
      sharingClass: current.sharingClass,
      ...(current.legalBasis ? { legalBasis: current.legalBasis } : {}),
      updateCycle: current.updateCycle,
      connector: current.connector,
      items: current.items.map(({ code, name, type, sensitivity, categories }) => ({ code, name, type, sensitivity, categories })),
    };
    const put = async (body: object) => {
      const text = JSON.stringify(body);
      const path = `/v1/catalogue/resources/${current.code}`;
      const headers = await signedHeaders(demoSigner(t.config.dataDir, GA), 'PUT', path, text);
      const response = await fetch(`${t.httpUrl}/console/api/signed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-zt-csrf': s.csrf },
        body: JSON.stringify({ method: 'PUT', path, headers, body: text }),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as { status: number; body: { name?: string; code?: string; details?: { items: string[] } } };
    };
    const revised = await put(publication);
    expect(revised.status, JSON.stringify(revised.body)).toBe(200);
    expect(revised.body.name).toBe(`${current.name}（修订）`);
    expect((await t.app.ctx.catalogue.get(current.code)).name).toBe(`${current.name}（修订）`);

    const without = await put({ ...publication, items: publication.items.filter((i) => i.code !== live.items[0]) });
    expect(without.status).toBe(409);
    expect(without.body.code).toBe('ZT_ERR_RESOURCE_IN_USE');
    expect(without.body.details?.items).toContain(live.items[0]);
    expect((await t.app.ctx.catalogue.get(current.code)).items.map((i) => i.code)).toContain(live.items[0]);
  });

  it("gives a steward's pending demands their working days left, and refuses a form post without the CSRF field", async () => {
    const s = await signIn('steward');
    const before = await t.app.ctx.demands.exportAll({ provider: GA, state: 'pending' });
    const r = await get('steward', '/console/api/demands?direction=addressed');
    expect(r.status).toBe(200);
    const listed = (r.body as { demands: { id: string; state: string; replyDue: string | null; workingDaysLeft: number | null }[] }).demands;
    const today = chinaDate(new Date());
    for (const d of listed.filter((x) => before.some((b) => b.id === x.id))) {
      const expected = d.replyDue! >= today ? t.app.ctx.demands.calendar.workingDaysBetween(today, d.replyDue!) : -t.app.ctx.demands.calendar.workingDaysBetween(d.replyDue!, today);
      expect(d.workingDaysLeft, d.id).toBe(expected);
    }
    for (const d of listed.filter((x) => x.state !== 'pending')) expect(d.workingDaysLeft).toBeNull();

    const form = (fields: Record<string, string>) =>
      fetch(`${t.httpUrl}/console/api/signed`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie },
        body: new URLSearchParams(fields).toString(),
      });
    const noToken = await form({ method: 'POST', path: '/v1/catalogue/demands' });
    expect(noToken.status).toBe(403);
    expect(((await noToken.json()) as { code: string }).code).toBe('ZT_ERR_CSRF_INVALID');
    const withToken = await form({ method: 'POST', path: '/v1/catalogue/nowhere', csrf: s.csrf });
    expect(withToken.status).toBe(403);
    expect(((await withToken.json()) as { code: string }).code).toBe('ZT_ERR_CONSOLE_FORBIDDEN');
    // A relay call its schema refuses is recorded too, once.
    const malformed = await fetch(`${t.httpUrl}/console/api/signed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: s.cookie, 'x-zt-csrf': s.csrf },
      body: JSON.stringify({ method: 'DELETE' }),
    });
    expect(malformed.status).toBe(400);
    const recent = await t.app.ctx.consoleActions.ofAccount(s.accountId, 2);
    expect(recent[0]).toMatchObject({ action: 'signed.step', outcome: 'refused', status: 400, errorCode: 'ZT_ERR_REQUEST_INVALID' });
    expect(recent[1]).toMatchObject({ action: 'signed.step', errorCode: 'ZT_ERR_CONSOLE_FORBIDDEN', target: null });
  });
});
