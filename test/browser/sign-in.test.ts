// Signing in to the console in a real browser: a refused sign-in, the keyboard, the session cookie's attributes, the
// English switch, an idle session sent back to sign-in, state-changing calls without the CSRF token refused,
// sign-out ending the session on the server, and a phone-sized screen.
import { expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { describeWithBrowser, errorCodeOf, screenshot, signIn, useConsole, type PageGlobals } from './support.js';

describeWithBrowser('console sign-in (browser)', () => {
  const world = useConsole();

  /** The test id of the element that has the keyboard focus. */
  const focused = (page: Page) =>
    page.evaluate(() => {
      const active = (globalThis as unknown as PageGlobals).document.activeElement;
      return active?.getAttribute('data-testid') ?? active?.tagName ?? null;
    });

  it('is served with a strict Content-Security-Policy, its hashed assets cached for good and the page not', async () => {
    const page = await world.newPage();
    const assets: { url: string; status: number; cacheControl: string | null }[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/console/assets/')) assets.push({ url: r.url(), status: r.status(), cacheControl: r.headers()['cache-control'] ?? null });
    });
    const response = await page.goto(world.url('/console/'));
    expect(response?.status()).toBe(200);
    const csp = (await response!.headerValue('content-security-policy')) ?? '';
    expect(csp).toMatch(/default-src 'none'|default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(await response!.headerValue('cache-control')).toBe('no-cache');
    await page.getByTestId('signin-form').waitFor();
    // The script and the style sheet, named by their content's hash, are cached for a year.
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset.status, asset.url).toBe(200);
      expect(asset.url).toMatch(/-[A-Z0-9]{8,}\.(js|css)$/);
      expect(asset.cacheControl).toContain('immutable');
    }
  });

  it('refuses a wrong password with the error shown, and sets no session', async () => {
    const page = await world.newPage();
    const account = world.accounts.administrator!;
    await page.goto(world.url('/console/'));
    await page.getByTestId('signin-login').fill(account.login);
    await page.getByTestId('signin-password').fill(`${account.password}-wrong`);
    await page.getByTestId('signin-submit').click();
    await expect.poll(() => page.getByTestId('error-code').textContent()).toBe('ZT_ERR_SIGN_IN_FAILED');
    await screenshot(page, 'sign-in-refused');
    expect(await page.getByTestId('signin-form').isVisible()).toBe(true);
    expect(await page.getByTestId('person').count()).toBe(0);
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('zt_session');
  });

  it('signs in with the keyboard alone: Tab to the fields, Enter submits', async () => {
    const page = await world.newPage();
    const account = world.accounts.supervisor!;
    await page.goto(world.url('/console/'));
    await page.getByTestId('signin-form').waitFor();
    await screenshot(page, 'sign-in');
    // The fields are labelled: a screen reader names them.
    expect(await page.getByLabel('账号', { exact: true }).getAttribute('data-testid')).toBe('signin-login');
    expect(await page.getByLabel('密码', { exact: true }).getAttribute('data-testid')).toBe('signin-password');
    // From the top of the page: the skip link, the language switch, then the form's fields in order.
    for (let i = 0; i < 10 && (await focused(page)) !== 'signin-login'; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('signin-login');
    await page.keyboard.type(account.login);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('signin-password');
    await page.keyboard.type(account.password);
    await page.keyboard.press('Enter');
    await page.getByTestId('person-name').waitFor();
    expect(await page.getByTestId('person-name').textContent()).toBe(account.name);
  });

  it('keeps the session in an HttpOnly, SameSite=Strict cookie on /console', async () => {
    const page = await world.newPage();
    const account = world.accounts.supervisor!;
    await signIn(page, world, account.login, account.password);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'zt_session');
    expect(cookie).toBeDefined();
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    // Plain HTTP here, so not Secure (it is over TLS); and the page's script cannot read it.
    expect(cookie!.secure).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.cookie)).not.toContain('zt_session');
  });

  it('switches to English and back', async () => {
    const page = await world.newPage();
    await page.goto(world.url('/console/'));
    await page.getByTestId('signin-form').waitFor();
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await page.locator('h1').textContent()).toBe('登录控制台');
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in to the console');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    expect(await page.getByTestId('signin-submit').textContent()).toBe('Sign in');
    await screenshot(page, 'sign-in-english');
    // The choice is kept across a reload and after signing in; switching again goes back to Chinese.
    await page.reload();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Sign in to the console');
    const account = world.accounts.supervisor!;
    await signIn(page, world, account.login, account.password);
    expect(await page.getByTestId('nav-audit').textContent()).toBe('Access log');
    expect(await page.getByTestId('sign-out').textContent()).toBe('Sign out');
    await page.getByTestId('lang-switch').click();
    await expect.poll(() => page.getByTestId('nav-audit').textContent()).toBe('访问日志');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
  });

  it('sends an idle session back to sign-in', async () => {
    const page = await world.newPage();
    const account = world.accounts.supervisor!;
    await signIn(page, world, account.login, account.password);
    await page.getByTestId('nav-anomalies').waitFor();
    // The session was last used an hour ago (the idle timeout is 30 minutes by default): its next use ends it.
    await world.app.app.ctx.db.query(
      `UPDATE console_sessions SET last_seen_at = last_seen_at - interval '1 hour'
        WHERE ended_at IS NULL AND account_id = (SELECT id FROM console_accounts WHERE login = $1)`,
      [account.login],
    );
    const answered = page.waitForResponse((r) => r.url().includes('/console/api/') && r.status() === 401);
    await page.getByTestId('nav-anomalies').click();
    const refusal = await answered;
    expect(errorCodeOf(await refusal.json())).toBe('ZT_ERR_SESSION_EXPIRED');
    await page.getByTestId('signin-form').waitFor();
    expect(await page.getByTestId('signin-notice').textContent()).toBe('会话已结束或已过期，请重新登录。');
    expect(await page.getByTestId('person').count()).toBe(0);
    await screenshot(page, 'session-expired');
    // The session is over on the server: the cookie the browser still holds opens nothing.
    const again = await page.request.get(world.url('/console/api/session'));
    expect(again.status()).toBe(401);
  });

  it('refuses a state-changing call from the page without the CSRF header (403 ZT_ERR_CSRF_INVALID)', async () => {
    const page = await world.newPage();
    const account = world.accounts.steward!;
    await signIn(page, world, account.login, account.password);
    // A fetch from the page itself, with the session cookie but without the x-zt-csrf header.
    const fromPage = await page.evaluate(async () => {
      const r = await fetch('/console/api/session', { method: 'DELETE', credentials: 'same-origin' });
      return { status: r.status, body: (await r.json()) as unknown };
    });
    expect(fromPage.status).toBe(403);
    expect(errorCodeOf(fromPage.body)).toBe('ZT_ERR_CSRF_INVALID');
    // It did not end the session: the page still works, and sign-out (which sends the token) does.
    expect((await page.request.get(world.url('/console/api/session'))).status()).toBe(200);
    await page.getByTestId('sign-out').click();
    await page.getByTestId('signin-form').waitFor();
    expect((await page.request.get(world.url('/console/api/session'))).status()).toBe(401);
  });

  it('refuses a form post without the CSRF field, or with a wrong one (403 ZT_ERR_CSRF_INVALID)', async () => {
    const page = await world.newPage();
    const account = world.accounts.steward!;
    await signIn(page, world, account.login, account.password);
    const { csrf } = (await (await page.request.get(world.url('/console/api/session'))).json()) as { csrf: string };
    // An HTML form sends application/x-www-form-urlencoded with the cookie; its token goes in the `csrf` field.
    const form = { method: 'POST', path: '/v1/catalogue/demands' };
    const noToken = await page.request.post(world.url('/console/api/signed'), { form });
    expect(noToken.status(), await noToken.text()).toBe(403);
    expect(errorCodeOf(await noToken.json())).toBe('ZT_ERR_CSRF_INVALID');
    const wrongToken = await page.request.post(world.url('/console/api/signed'), { form: { ...form, csrf: `${csrf.slice(0, -2)}xx` } });
    expect(wrongToken.status(), await wrongToken.text()).toBe(403);
    expect(errorCodeOf(await wrongToken.json())).toBe('ZT_ERR_CSRF_INVALID');
    // With the session's own token the same post gets past the check (and is then judged on what it carries).
    const withToken = await page.request.post(world.url('/console/api/signed'), { form: { ...form, csrf } });
    expect(errorCodeOf(await withToken.json().catch(() => ({})))).not.toBe('ZT_ERR_CSRF_INVALID');
  });

  it('ends the session on the server at sign-out', async () => {
    const page = await world.newPage();
    const account = world.accounts.citizen!;
    await signIn(page, world, account.login, account.password);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'zt_session')!;
    await page.getByTestId('sign-out').click();
    await page.getByTestId('signin-form').waitFor();
    expect((await page.context().cookies()).map((c) => c.name)).not.toContain('zt_session');
    // The old cookie, presented again from outside the browser, is refused: the session ended server-side.
    const replay = await fetch(world.url('/console/api/session'), { headers: { cookie: `zt_session=${cookie.value}` } });
    expect(replay.status).toBe(401);
    expect(errorCodeOf(await replay.json())).toMatch(/^ZT_ERR_SESSION_(EXPIRED|REQUIRED)$/);
  });

  it('works on a phone-sized screen', async () => {
    const page = await world.newPage({ phone: true });
    const account = world.accounts.supervisor!;
    await page.goto(world.url('/console/'));
    await page.getByTestId('signin-form').waitFor();
    await screenshot(page, 'sign-in-phone');
    await signIn(page, world, account.login, account.password);
    await page.getByTestId('nav').waitFor();
    // Nothing wider than the screen: no sideways scrolling.
    const { scrollWidth, innerWidth } = await page.evaluate(() => {
      const g = globalThis as unknown as PageGlobals;
      return { scrollWidth: g.document.documentElement.scrollWidth, innerWidth: g.innerWidth };
    });
    expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
    expect(await page.getByTestId('person-name').isVisible()).toBe(true);
  });
});
