// A department data steward's journey in a real browser: the supply list, an edit of one resource and the reply to a
// demand addressed to the department, each signed in the page with the department's SM2 key read from a local file
// (the key is never sent: no request body carries it), the API then holding the step with a signature that verifies;
// the negative-list entries; and the supervisor's pages refused to a steward.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { decodeEnvelopeJson, verifyEnvelope } from '../../certs/envelope/index.js';
import { demoKeyFiles } from '../../demo/index.js';
import { signTransition } from '../../registry/catalogue/index.js';
import { demoSigner } from '../support/signing.js';
import { DEPARTMENTS, ROOT, describeWithBrowser, errorCodeOf, recordRequestBodies, screenshot, signIn, useConsole } from './support.js';

const GA = DEPARTMENTS.GA;
/** The demo's pending demand addressed to the public security bureau (营商局 asks for population data). */
const PENDING_SERVICE_ITEM = 'GTGSH-210100-0002';
/** The demand this suite registers, to be refused citing a negative-list entry. */
const TO_REFUSE_SERVICE_ITEM = 'SHJZ-210100-0099';

describeWithBrowser('console: the department data steward (browser)', () => {
  const world = useConsole();
  let keyPath: string;
  let certificatePath: string;
  let keyPem: string;

  beforeAll(async () => {
    ({ key: keyPath, certificate: certificatePath } = demoKeyFiles(world.app.config.dataDir, GA));
    keyPem = readFileSync(keyPath, 'utf8');
    // A second demand addressed to the department, for the refusal: the business-environment bureau asks for
    // population data for social assistance, signed with its own demo key as its client would.
    const registration = {
      requester: DEPARTMENTS.YS,
      resource: '210100-GA-0001',
      items: ['name', 'address'],
      serviceItem: TO_REFUSE_SERVICE_ITEM,
      legalBasis: { title: '《社会救助暂行办法》' },
      expectedDailyVolume: 20,
      validTo: '2099-12-31',
    };
    const signer = demoSigner(world.app.config.dataDir, DEPARTMENTS.YS);
    await world.app.app.ctx.demands.register(registration, { proof: await signTransition(signer, { kind: 'register', actor: DEPARTMENTS.YS, content: registration }) });
  });

  async function stewardPage(): Promise<Page> {
    const page = await world.newPage();
    const account = world.accounts.steward!;
    expect(account.department).toBe(GA);
    await signIn(page, world, account.login, account.password);
    return page;
  }

  /** Picks the department's key and certificate files in the page and waits until the key is loaded there. */
  async function loadKey(page: Page): Promise<void> {
    await page.getByTestId('signing-key-file').setInputFiles(keyPath);
    await page.getByTestId('signing-cert-file').setInputFiles(certificatePath);
    await page.getByTestId('signing-key-load').click();
    await page.getByTestId('signing-key-loaded').waitFor();
    expect(await page.getByTestId('signing-key-loaded').textContent()).toContain(GA);
  }

  /** Waits for a signed step's outcome in `within`: the outcome, or a failure with the error the page shows. */
  async function settled(within: Locator): Promise<Locator> {
    const outcome = within.getByTestId('signed-outcome');
    const error = within.getByTestId('error');
    await outcome.or(error).first().waitFor();
    if (await error.count()) throw new Error(`the page shows an error: ${await error.first().textContent()}`);
    return outcome;
  }

  /**
   * No body the page sent carries the private key: not the PEM, not its DER, not the private scalar in hex or
   * base64 (the public key, which the certificate carries, may well appear).
   */
  function expectKeyNeverSent(bodies: string[]): void {
    const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    // ECPrivateKey (RFC 5915), alone or inside PKCS#8: version 1, then the 32-byte private scalar.
    const at = der.indexOf(Buffer.from([0x02, 0x01, 0x01, 0x04, 0x20]));
    expect(at).toBeGreaterThanOrEqual(0);
    const scalar = der.subarray(at + 5, at + 37);
    const forms = [der.toString('base64'), scalar.toString('hex'), scalar.toString('hex').toUpperCase(), scalar.toString('base64').slice(0, 40), scalar.toString('base64url').slice(0, 40)];
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) {
      expect(body).not.toContain('PRIVATE KEY');
      for (const form of forms) expect(body).not.toContain(form);
    }
  }

  /** Signs and sends what the publish form holds; waits for the outcome and the new row. */
  async function publishFromForm(page: Page, resource: Record<string, unknown>): Promise<void> {
    await page.getByTestId('publish-json').fill(JSON.stringify(resource, null, 2));
    await page.getByTestId('publish-submit').click();
    const outcome = await settled(page.getByTestId('publish-form'));
    expect(Number(await outcome.getAttribute('data-status'))).toBeLessThan(300);
    await expect.poll(() => page.getByTestId('resource-row').filter({ hasText: String(resource.name) }).count()).toBe(1);
  }

  /** The publication of a demo resource as the edit button puts it in the form. */
  async function templateOf(page: Page, code: string): Promise<Record<string, unknown> & { code: string; name: string }> {
    await page.getByTestId('resource-row').filter({ hasText: code }).getByTestId('resource-edit').click();
    const resource = JSON.parse(await page.getByTestId('publish-json').inputValue()) as Record<string, unknown> & { code: string; name: string };
    expect(resource.code).toBe(code);
    return resource;
  }

  it('sees its supply list, publishes a resource and imports another, each signed in the page', async () => {
    const page = await stewardPage();
    const sent = recordRequestBodies(page, world.origin);
    await page.getByTestId('supply-page').waitFor();
    await page.getByTestId('resource-row').filter({ hasText: '210100-GA-0001' }).waitFor();
    // Only its own department's resources.
    const codes = await page.getByTestId('resource-row').locator('td:first-child').allTextContents();
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^210100-GA-/);
    await screenshot(page, 'steward-supply');

    await loadKey(page);
    const template = await templateOf(page, '210100-GA-0001');
    await publishFromForm(page, { ...template, code: '210100-GA-0901', name: '流动人口登记信息（浏览器测试）' });
    await screenshot(page, 'steward-supply-published');
    const published = (await (await fetch(world.url('/v1/catalogue/resources/210100-GA-0901'))).json()) as { name: string; provider: string };
    expect(published).toMatchObject({ name: '流动人口登记信息（浏览器测试）', provider: GA });

    // An import file picked in the page (JSON as the export writes it), signed there and sent.
    const file = join(mkdtempSync(join(tmpdir(), 'zt-import-')), 'supply.json');
    writeFileSync(file, JSON.stringify({ resources: [{ ...template, code: '210100-GA-0902', name: '居住证信息（浏览器测试）' }] }));
    await page.getByTestId('import-file').setInputFiles(file);
    await page.getByTestId('import-submit').click();
    const imported = await settled(page.getByTestId('import-form'));
    expect(Number(await imported.getAttribute('data-status'))).toBeLessThan(300);
    await expect.poll(() => page.getByTestId('resource-row').filter({ hasText: '210100-GA-0902' }).count()).toBe(1);
    expectKeyNeverSent(sent.bodies());
  });

  it('edits one of its published resources, signed in the page', async () => {
    const page = await stewardPage();
    await page.getByTestId('supply-page').waitFor();
    await page.getByTestId('resource-row').filter({ hasText: '210100-GA-0001' }).waitFor();
    await loadKey(page);
    const template = await templateOf(page, '210100-GA-0001');
    await publishFromForm(page, { ...template, name: `${template.name}（已修订）` });
    const resource = (await (await fetch(world.url('/v1/catalogue/resources/210100-GA-0001'))).json()) as { name: string };
    expect(resource.name).toBe(`${template.name}（已修订）`);
  });

  it('approves a demand addressed to it with a signature made in the page, which the API verifies', async () => {
    const page = await stewardPage();
    const sent = recordRequestBodies(page, world.origin);
    await page.getByTestId('nav-demands').click();
    await page.getByTestId('demands-page').waitFor();
    const demand = page.getByTestId('demands-addressed').getByTestId('demand').filter({ hasText: PENDING_SERVICE_ITEM });
    await demand.waitFor();
    expect(await demand.getAttribute('data-state')).toBe('pending');
    // Its reply deadline, counted in working days by the registry, as the API gives it.
    const id = (await demand.getAttribute('data-demand-id'))!;
    const registered = (await (await fetch(world.url(`/v1/catalogue/demands/${id}`))).json()) as { replyDue: string | null };
    expect(registered.replyDue).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(await demand.getByTestId('demand-deadline').textContent()).toContain(registered.replyDue!.slice(0, 10));
    // The department's own demands are listed too.
    await page.getByTestId('demands-mine').waitFor();
    await screenshot(page, 'steward-demands');

    await loadKey(page);
    await demand.getByTestId('reply-approve').check();
    const relayed = page.waitForRequest((r) => r.url().endsWith('/console/api/signed') && r.method() === 'POST');
    await demand.getByTestId('reply-submit').click();
    await settled(page.getByTestId('demands-addressed'));
    const relayBody = JSON.parse((await relayed).postData() ?? '{}') as { path: string; body: string };
    expect(relayBody.path).toBe(`/v1/catalogue/demands/${id}/approve`);
    const signature = (JSON.parse(relayBody.body) as { signature: object }).signature;
    await expect.poll(() => page.locator(`[data-testid="demand"][data-demand-id="${id}"]`).getAttribute('data-state')).toBe('approved');
    await screenshot(page, 'steward-demand-approved', page.locator(`[data-testid="demand"][data-demand-id="${id}"]`));

    // The API: approved, by the department, with the envelope the page made kept as the step's signature.
    const answer = (await (await fetch(world.url(`/v1/catalogue/demands/${id}`))).json()) as { state: string };
    expect(answer.state).toBe('approved');
    const { transitions } = (await (await fetch(world.url(`/v1/catalogue/demands/${id}/history`))).json()) as {
      transitions: { to: string; actor: string; signature: { statement: string; envelope: object } | null }[];
    };
    const step = transitions.at(-1)!;
    expect(step).toMatchObject({ to: 'approved', actor: GA });
    expect(step.signature!.envelope).toEqual(signature);
    // And it verifies again here, as the CLI would: the certificate chains to the platform CA and names the department,
    // and the SM2 signature holds over the kept statement, which says what was approved.
    const envelope = decodeEnvelopeJson(JSON.stringify(step.signature!.envelope));
    const trusted = await world.app.app.ctx.trust!.validate(envelope.signer.certificate!);
    expect(trusted.uscc).toBe(GA);
    await verifyEnvelope(envelope, Buffer.from(step.signature!.statement, 'utf8'), { publicKey: trusted.publicKey });
    expect(JSON.parse(step.signature!.statement)).toMatchObject({ kind: 'approve', demandId: id, actor: GA });
    expectKeyNeverSent(sent.bodies());
    // The console recorded the step with the person and the department.
    const { rows } = await world.app.app.ctx.db.query<{ login: string; department: string; outcome: string; status: number }>(
      `SELECT login, department, outcome, status FROM console_actions WHERE action = 'demand.approve' AND target = $1`,
      [`/v1/catalogue/demands/${id}/approve`],
    );
    expect(rows).toEqual([{ login: world.accounts.steward!.login, department: GA, outcome: 'ok', status: 200 }]);
  });

  it('refuses a demand citing a negative-list entry, signed in the page', async () => {
    const page = await stewardPage();
    await page.getByTestId('nav-demands').click();
    const demand = page.getByTestId('demands-addressed').getByTestId('demand').filter({ hasText: TO_REFUSE_SERVICE_ITEM });
    await demand.waitFor();
    expect(await demand.getAttribute('data-state')).toBe('pending');
    const id = (await demand.getAttribute('data-demand-id'))!;
    await loadKey(page);
    await demand.getByTestId('reply-refuse').check();
    // The entries offered are the negative list's, touching the department's resources; the first is cited.
    const entry = demand.getByTestId('reply-entry');
    const offered = (await entry.locator('option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value))).filter(Boolean);
    expect(offered.length).toBeGreaterThan(0);
    await entry.selectOption(offered[0]!);
    await demand.getByTestId('reply-reason').fill('社会救助事项不需要住址以外的人口信息（浏览器测试）');
    await demand.getByTestId('reply-submit').click();
    await settled(page.getByTestId('demands-addressed'));
    await expect.poll(() => page.locator(`[data-testid="demand"][data-demand-id="${id}"]`).getAttribute('data-state')).toBe('refused');
    const answer = (await (await fetch(world.url(`/v1/catalogue/demands/${id}`))).json()) as { state: string; refusal: { negativeListRuleId: string | null } };
    expect(answer.state).toBe('refused');
    expect(answer.refusal.negativeListRuleId).toBe(offered[0]);
    const { transitions } = (await (await fetch(world.url(`/v1/catalogue/demands/${id}/history`))).json()) as { transitions: { to: string; actor: string; signature: object | null }[] };
    expect(transitions.at(-1)).toMatchObject({ to: 'refused', actor: GA });
    expect(transitions.at(-1)!.signature).not.toBeNull();
  });

  it('sees the negative-list entries touching its resources', async () => {
    const page = await stewardPage();
    await page.getByTestId('nav-policy').click();
    await page.getByTestId('policy-page').waitFor();
    await page.getByTestId('policy-entries').waitFor();
    expect(await page.getByTestId('policy-entry').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('policy-entries').textContent()).toContain('210100-GA-0001');
    await screenshot(page, 'steward-policy');
    // The impact preview of a candidate list: the shipped one under a new revision; nothing is put in force.
    const shipped = readFileSync(join(ROOT, 'policies/default/negative-list.yaml'), 'utf8');
    const candidate = shipped.replace(/^revision: .*$/m, 'revision: "2026-12-07.browser"');
    expect(candidate).not.toBe(shipped);
    await page.getByTestId('impact-yaml').fill(candidate);
    await page.getByTestId('impact-submit').click();
    const result = page.getByTestId('impact-result');
    await result.or(page.getByTestId('policy-page').getByTestId('error')).first().waitFor();
    expect(await result.count(), await page.getByTestId('policy-page').textContent() ?? '').toBe(1);
    expect(await result.textContent()).toContain('2026-12-07.browser');
    await screenshot(page, 'steward-policy-impact', result);
    const inForce = (await (await fetch(world.url('/v1/policies/rules'))).json()) as { revision: string };
    expect(inForce.revision).toBe('2025-08-01.1');
  });

  it('is refused the supervisor pages: ZT_ERR_CONSOLE_FORBIDDEN, and no data', async () => {
    const page = await stewardPage();
    await page.getByTestId('nav').waitFor();
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    const calls: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/console/api/audit/')) calls.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(world.url('/console/audit'));
    await page.getByTestId('forbidden').waitFor();
    await screenshot(page, 'steward-forbidden');
    expect(await page.getByTestId('record-row').count()).toBe(0);
    // Whatever the page asked of the audit API was refused.
    for (const call of calls) expect(call).toMatch(/^403 /);
    // The API itself refuses the steward's session.
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const response = await page.request.get(world.url(`/console/api/audit/records?from=${encodeURIComponent(from)}&to=${encodeURIComponent(new Date().toISOString())}`));
    expect(response.status()).toBe(403);
    const body = (await response.json()) as Record<string, unknown>;
    expect(errorCodeOf(body)).toBe('ZT_ERR_CONSOLE_FORBIDDEN');
    expect(body).not.toHaveProperty('records');
    // And the page says which refusal it is, by its code, as it does for every refusal.
    expect(await page.locator('main').textContent()).toContain('ZT_ERR_CONSOLE_FORBIDDEN');
  });
});
