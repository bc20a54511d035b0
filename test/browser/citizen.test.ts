// A citizen's journey in a real browser (through the service portal's sign-in): who read my data, when, for which
// case and under which rule; my e-licences as documents with the issuer's seal and a QR code that carries the signed
// licence (the same payload the CLI verifies offline), downloaded as PNG and PDF.
import { join } from 'node:path';
import QRCode from 'qrcode';
import { beforeAll, expect, it } from 'vitest';
import type { Download, Page } from 'playwright-core';
import { runLicenceOfflineCommand } from '../../cli/licence-offline.js';
import { describeWithBrowser, makeExchangeQuery, screenshot, signIn, useConsole } from './support.js';

const CASE = 'YS-2026-BROWSER-CITIZEN';

describeWithBrowser('console: the citizen (browser)', () => {
  const world = useConsole();

  beforeAll(async () => {
    // The business-environment bureau reads the demo citizen's household record for a case.
    await makeExchangeQuery(world.app, { operator: 'browser.citizen', purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: CASE } });
  }, 60_000);

  async function citizenPage(options: { phone?: boolean } = {}): Promise<Page> {
    const page = await world.newPage(options);
    const account = world.accounts.citizen!;
    await signIn(page, world, account.login, account.password);
    return page;
  }

  /** The platform's certificate, which signs licences (test/support/signing.ts finds its key the same way). */
  function platformCertificate(): string {
    return join(world.app.config.platformKeyDir, 'exchange-signer.cert.pem');
  }

  async function bytesOf(download: Download): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  it('sees who read their data, when, for which case and under which rule', async () => {
    const page = await citizenPage();
    // A citizen sees only their own pages.
    await page.getByTestId('nav').waitFor();
    expect(await page.getByTestId('nav-audit').count()).toBe(0);
    await page.getByTestId('nav-accesses').click();
    await page.getByTestId('accesses-page').waitFor();
    // The record may still be on its way to the log: reload until it is there.
    const row = page.getByTestId('access-row').filter({ hasText: CASE });
    for (let i = 0; i < 40 && (await row.count()) === 0; i++) {
      await page.reload();
      await page.getByTestId('accesses-page').waitFor();
      await page.getByTestId('accesses').or(page.getByTestId('empty')).first().waitFor();
    }
    await row.first().waitFor();
    const text = (await row.first().textContent()) ?? '';
    expect(text).toContain('营商'); // the department that read
    expect(text).toContain('QYKB-210100-0009'); // the service item it read for
    expect(text).toMatch(/name|姓名/); // what was released
    await screenshot(page, 'citizen-accesses');
  });

  it('sees their licences with the seal and a QR code of the signed licence, which the CLI verifies offline', async () => {
    const page = await citizenPage();
    await page.getByTestId('nav-licences').click();
    await page.getByTestId('licences-page').waitFor();
    const licence = page.getByTestId('licence').first();
    await licence.waitFor();
    await licence.getByTestId('licence-seal').waitFor();
    const qr = licence.getByTestId('licence-qr');
    await qr.waitFor();
    await screenshot(page, 'citizen-licences');

    // The QR carries the compact signed licence the API gives: drawn again here from that payload with the same
    // settings, it is the same image, pixel for pixel.
    const identifier = await licence.getAttribute('data-identifier');
    const { licences } = (await (await page.request.get(world.url('/console/api/me/licences'))).json()) as { licences: { document: { identifier: string }; compact: string }[] };
    const held = licences.find((l) => l.document.identifier === identifier)!;
    expect(held.compact).toMatch(/^ZTL1:/);
    const expected = await QRCode.toDataURL(held.compact, { errorCorrectionLevel: 'L', margin: 1, width: 320 });
    const same = await qr.evaluate(async (img, other) => {
      type Canvas = { width: number; height: number; getContext(k: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const g = globalThis as unknown as { document: { createElement(t: 'canvas'): Canvas }; Image: new () => { src: string; width: number; height: number; decode(): Promise<void> } };
      const pixels = async (src: string) => {
        const image = new g.Image();
        image.src = src;
        await image.decode();
        const canvas = g.document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        return { w: image.width, h: image.height, data: Array.from(context.getImageData(0, 0, image.width, image.height).data) };
      };
      const [a, b] = await Promise.all([pixels((img as unknown as { src: string }).src), pixels(other)]);
      return a.w === b.w && a.h === b.h && a.data.every((x, i) => x === b.data[i]);
    }, expected);
    expect(same).toBe(true);
    // That payload is genuine to the CLI's offline check, given the CA and the platform certificate that signed it
    // (no status list here, so its validity may stay unknown: exit status 0 or 1, never 2).
    let out = '';
    const status = await runLicenceOfflineCommand(
      ['licence', 'verify-offline', '--payload', held.compact, '--ca', join(world.app.config.caDir, 'root-ca.cert.pem'), '--intermediate', join(world.app.config.caDir, 'issuing-ca.cert.pem'), '--signer-cert', platformCertificate(), '--json'],
      { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) } },
    );
    expect(status, out).toBeLessThan(2);
    expect(JSON.parse(out)).toMatchObject({ genuine: true });
  });

  it('downloads a licence as PNG and as PDF', async () => {
    const page = await citizenPage();
    await page.getByTestId('nav-licences').click();
    const licence = page.getByTestId('licence').first();
    await licence.getByTestId('licence-qr').waitFor();
    const [png] = await Promise.all([page.waitForEvent('download'), licence.getByTestId('licence-png').click()]);
    expect(png.suggestedFilename()).toMatch(/\.png$/);
    const image = await bytesOf(png);
    expect(image.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: a document-sized picture, not an empty one.
    expect(image.readUInt32BE(16)).toBeGreaterThan(400);
    expect(image.readUInt32BE(20)).toBeGreaterThan(300);
    const [pdf] = await Promise.all([page.waitForEvent('download'), licence.getByTestId('licence-pdf').click()]);
    expect(pdf.suggestedFilename()).toMatch(/\.pdf$/);
    expect((await bytesOf(pdf)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('works on a phone-sized screen', async () => {
    const page = await citizenPage({ phone: true });
    await page.getByTestId('nav-licences').click();
    await page.getByTestId('licence').first().getByTestId('licence-qr').waitFor();
    const { scrollWidth, innerWidth } = await page.evaluate(() => {
      const g = globalThis as unknown as { document: { documentElement: { scrollWidth: number } }; innerWidth: number };
      return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
    });
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    await screenshot(page, 'citizen-licences-phone');
  });
});
