// The supervisor's journey in a real browser: search the access log for what a department's operator read, export it,
// open one record and check its Merkle inclusion proof in the page (SM3 and SM2 in the browser; a tampered proof is
// caught), follow a case, read the anomalies with their explanations and the overdue demands, and see the
// efficiency charts drawn with the data.
import { beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ExchangeError } from '../../client/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { chinaLocal, describeWithBrowser, makeExchangeQuery, screenshot, sendSignedQuery, signIn, useConsole, type PageGlobals } from './support.js';

const OPERATOR = 'browser.supervisor';
const CASE = 'YS-2026-BROWSER-01';

describeWithBrowser('console: the supervisor (browser)', () => {
  // Checkpoints every second, so a record's inclusion proof is there within the test's time.
  const world = useConsole({ config: { auditSequenceMs: 50, auditCheckpointSeconds: 1, auditGapSeconds: 0 } });
  let permitted: string;
  // The search's time range: the log is searched by time unless a subject, case or record is named.
  const from = new Date(Date.now() - 3600_000);
  const to = new Date(Date.now() + 3600_000);
  const range = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;

  async function searchByOperator(page: Page): Promise<void> {
    await page.getByTestId('filter-operator').fill(OPERATOR);
    await page.getByTestId('filter-from').fill(chinaLocal(from));
    await page.getByTestId('filter-to').fill(chinaLocal(to));
    await page.getByTestId('audit-search').click();
    await page.getByTestId('audit-results').waitFor();
  }

  beforeAll(async () => {
    // What the supervisor will look at: a permitted read, a refused one (an item no grant covers) in the same case,
    // and a request naming no case number (refused as malformed, recorded, and flagged as an anomaly).
    ({ accessId: permitted } = await makeExchangeQuery(world.app, { operator: OPERATOR, purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: CASE } }));
    const refused = await makeExchangeQuery(world.app, { operator: OPERATOR, items: ['name', 'photo'], purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: CASE } }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ExchangeError);
    expect((refused as ExchangeError).code).toBe('ZT_ERR_NO_GRANT');
    const noCase = await sendSignedQuery(world.app, {
      requester: '112101000010000537',
      resource: '210100-GA-0001',
      items: ['name'],
      subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
      purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: '' },
      operator: OPERATOR,
    });
    expect(noCase.status).toBe(400);
  }, 60_000);

  async function supervisorPage(options: { phone?: boolean } = {}): Promise<Page> {
    const page = await world.newPage(options);
    const account = world.accounts.supervisor!;
    await signIn(page, world, account.login, account.password);
    return page;
  }

  /** Polls a console API call (with the page's session) until `ready` holds of its JSON answer. */
  async function until<T>(page: Page, path: string, ready: (body: T) => boolean, what: string): Promise<T> {
    let last: unknown = null;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const response = await page.request.get(world.url(path));
      last = response.ok() ? await response.json() : `${response.status()} ${await response.text()}`;
      if (response.ok() && ready(last as T)) return last as T;
      await page.waitForTimeout(200);
    }
    throw new Error(`waited 20 s for ${what}; last answer: ${JSON.stringify(last).slice(0, 500)}`);
  }

  it('searches the access log by operator, time and decision, and exports it as CSV', async () => {
    const page = await supervisorPage();
    await page.getByTestId('audit-page').waitFor();
    await until<{ records: unknown[] }>(page, `/console/api/audit/records?operator=${OPERATOR}&${range}`, (b) => b.records.length >= 3, 'the three records in the log');
    await searchByOperator(page);
    await expect.poll(() => page.getByTestId('record-row').count()).toBe(3);
    expect(await page.getByTestId('audit-results').textContent()).toContain(CASE);
    await screenshot(page, 'supervisor-audit-search');
    // Only the refusals: the item no grant covers, and the request without a case number.
    await page.getByTestId('filter-decision').selectOption('deny');
    await page.getByTestId('audit-search').click();
    await expect.poll(() => page.getByTestId('record-row').count()).toBe(2);
    expect(new URL(page.url()).searchParams.get('decision')).toBe('deny');
    // The export carries the same filters and answers CSV with the rows.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('audit-export').click()]);
    expect(download.suggestedFilename()).toMatch(/^access-records-.*\.csv$/);
    const csv = await download.createReadStream().then(async (stream) => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    });
    const lines = csv.trim().split(/\r?\n/);
    expect(lines).toHaveLength(3); // the header and the two refusals
    for (const line of lines.slice(1)) {
      expect(line).toContain(OPERATOR);
      expect(line).toContain('deny');
    }
    expect(csv).toContain('ZT_ERR_NO_GRANT');
  });

  it('opens a record and verifies its inclusion proof in the page; a tampered proof fails there', async () => {
    const page = await supervisorPage();
    // The record is in the log and a signed checkpoint covers it.
    await until(page, `/console/api/audit/records/${permitted}/proof`, () => true, 'the inclusion proof of the permitted record');
    await page.goto(world.url(`/console/audit/records/${permitted}`));
    await page.getByTestId('record-trace').waitFor();
    expect(await page.getByTestId('record-trace').textContent()).toContain(CASE);
    await page.getByTestId('verify-proof').click();
    const result = page.getByTestId('proof-result');
    await result.waitFor();
    expect(await result.getAttribute('data-ok')).toBe('true');
    for (const step of ['leaf', 'path', 'root', 'statement', 'signature']) {
      expect(await page.getByTestId(`proof-step-${step}`).getAttribute('data-ok'), step).toBe('true');
    }
    expect(await result.textContent()).toContain('✓');
    // The page names the library that does SM3 and SM2 in the browser.
    expect(await page.getByTestId('proof').textContent()).toContain('sm-crypto');
    await screenshot(page, 'supervisor-record-proof', page.getByTestId('proof'));

    // The same check against a proof changed on the way (one byte of the leaf): the page says it does not hold.
    await page.route('**/console/api/audit/records/*/proof', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { leaf: string };
      const leaf = Buffer.from(answer.leaf, 'base64');
      leaf[leaf.length - 1]! ^= 0x01;
      await route.fulfill({ response, json: { ...answer, leaf: leaf.toString('base64') } });
    });
    await page.getByTestId('verify-proof').click();
    await expect.poll(() => page.getByTestId('proof-result').getAttribute('data-ok')).toBe('false');
    expect(await page.getByTestId('proof-step-leaf').getAttribute('data-ok')).toBe('false');
    await page.unroute('**/console/api/audit/records/*/proof');
  });

  it('follows one case: every access made for it', async () => {
    const page = await supervisorPage();
    await page.getByTestId('nav-cases').click();
    await page.getByTestId('cases-page').waitFor();
    await page.getByTestId('case-number').fill(CASE);
    await page.getByTestId('case-search').click();
    await page.getByTestId('case-records').waitFor();
    await expect.poll(() => page.locator('[data-testid="case-records"] [data-testid="record-row"]').count()).toBe(2);
    expect(new URL(page.url()).searchParams.get('caseNumber')).toBe(CASE);
    await screenshot(page, 'supervisor-case-trace');
  });

  it('shows the anomalies with their explanations', async () => {
    const page = await supervisorPage();
    await until<{ flags: { kind: string }[] }>(page, '/console/api/audit/anomalies', (b) => b.flags.some((f) => f.kind === 'missing-case-number'), 'the missing-case-number flag');
    await page.getByTestId('nav-anomalies').click();
    await page.getByTestId('anomalies').waitFor();
    const missing = page.getByTestId('anomaly').filter({ hasText: 'missing-case-number' });
    await missing.first().waitFor();
    expect(await missing.first().getByTestId('anomaly-explanation').textContent()).toContain('named no case number');
    await screenshot(page, 'supervisor-anomalies');
  });

  it('lists the overdue demands', async () => {
    const page = await supervisorPage();
    await page.getByTestId('nav-overdue').click();
    await page.getByTestId('overdue-demands').waitFor();
    // The demo's social-insurance demand was never answered within its working-day deadline.
    await expect.poll(() => page.getByTestId('overdue-row').filter({ hasText: '210100-RS-0001' }).count()).toBeGreaterThan(0);
    await screenshot(page, 'supervisor-overdue');
  });

  it('draws the efficiency charts with the data', async () => {
    const page = await supervisorPage();
    await until<{ rows: { requests: number }[] }>(page, '/console/api/audit/analytics', (b) => (b.rows ?? []).some((r) => r.requests > 0), 'analytics rows');
    await page.getByTestId('nav-analytics').click();
    await page.getByTestId('analytics-page').waitFor();
    for (const chart of ['chart-requests', 'chart-latency', 'chart-hourly', 'chart-rules']) {
      await page.locator(`[data-testid="${chart}"] canvas`).first().waitFor();
    }
    // The figures beside the plot name the requester with its permitted read.
    const table = await page.getByTestId('chart-requests').locator('details table').textContent({ timeout: 5000 });
    expect(table).toMatch(/营商/);
    // The bars are drawn: the canvas holds pixels of the "permitted" series' colour (#2e8b57).
    const painted = await page.getByTestId('chart-requests').locator('canvas').first().evaluate((canvas) => {
      const c = canvas as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && Math.abs(data[i]! - 46) < 24 && Math.abs(data[i + 1]! - 139) < 24 && Math.abs(data[i + 2]! - 87) < 24) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(20);
    await screenshot(page, 'supervisor-analytics');
  });

  it('works on a phone-sized screen', async () => {
    const page = await supervisorPage({ phone: true });
    await page.getByTestId('audit-page').waitFor();
    await searchByOperator(page);
    await expect.poll(() => page.getByTestId('record-row').count()).toBe(3);
    const { scrollWidth, innerWidth } = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
    });
    // Wide tables scroll inside their box; the page itself does not scroll sideways.
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await screenshot(page, 'supervisor-phone', page.getByTestId('audit-results'));
  });
});
