// The browser tests' harness: the Debian package's Chromium driven headless by playwright-core, against a gateway
// started as the other end-to-end tests start it (test/support/app.ts), on PostgreSQL when ZT_TEST_DATABASE_URL is
// set (CI sets it) and on the embedded database otherwise, with the console page built from its sources.
//
// Without a Chromium on the machine the suites skip with a message saying how to install one; under CI (CI=true or
// ZT_REQUIRE_SERVICES=1) they fail instead, as test/support/services.ts does for PostgreSQL and Kafka.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DepartmentKey, EXCHANGE_HTTP_PATH, ExchangeClient, type QueryInput } from '../../client/index.js';
import { ConsoleAccounts, DEMO_ACCOUNTS_FILE_NAME, seedDemoAccounts, type DemoAccountsReport } from '../../console/accounts/index.js';
import { PgDatabase } from '../../core/storage/index.js';
import { demoKeyFiles } from '../../demo/index.js';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { postgresUrl, servicesRequired, uniqueName } from '../support/services.js';
import { demoSigner, signedHeaders } from '../support/signing.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------------------------------------------------------
// Chromium

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium to drive: ZT_CHROMIUM_PATH, else the Debian package's; undefined when there is none. */
export const chromiumPath: string | undefined = findChromium();

function findChromium(): string | undefined {
  const wanted = process.env.ZT_CHROMIUM_PATH;
  for (const path of wanted ? [wanted] : CANDIDATES) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const requireBrowser = servicesRequired || process.env.CI === 'true' || process.env.CI === '1';
const HOW = 'install it with `apt-get install -y chromium` (or set ZT_CHROMIUM_PATH to a Chromium or Chrome binary)';

/** describe() for a suite that drives a real browser: skips without Chromium, fails without it under CI. */
export function describeWithBrowser(title: string, body: () => void): void {
  if (chromiumPath) {
    describe(title, body);
    return;
  }
  const where = process.env.ZT_CHROMIUM_PATH ? `ZT_CHROMIUM_PATH=${process.env.ZT_CHROMIUM_PATH} is not executable` : `no Chromium at ${CANDIDATES.join(' or ')}`;
  if (requireBrowser) {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(`the browser tests must run under CI but ${where}: ${HOW}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${title}: ${where}; ${HOW}`);
  describe.skip(`${title} (skipped: no Chromium)`, body);
}

// ---------------------------------------------------------------------------------------------------------------
// The console page's build

const BUILT_PAGE = join(ROOT, 'dist/web/index.html');
const BUILD_SCRIPT = join(ROOT, 'scripts/build-console.mjs');
const SOURCES = [join(ROOT, 'console/web'), BUILD_SCRIPT];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function pageIsStale(): boolean {
  if (!existsSync(BUILT_PAGE)) return true;
  const built = statSync(BUILT_PAGE).mtimeMs;
  return SOURCES.some((source) => newestMtime(source) > built);
}

/**
 * Builds dist/web when it is missing or older than its sources. Test files run in parallel workers, so one
 * builds while the others wait on a lock directory (mkdir is atomic); a lock older than two minutes is a crashed
 * build's and is taken over.
 */
export async function ensureConsoleBuilt(): Promise<void> {
  if (!pageIsStale()) return;
  if (!existsSync(BUILD_SCRIPT)) throw new Error(`the console page is not built and ${BUILD_SCRIPT} does not exist (worker B's build script)`);
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const lock = join(ROOT, 'dist/.console-build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`waited three minutes for ${lock}; remove it if no build is running`);
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock);
      } catch {
        // taken away meanwhile
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (!pageIsStale()) return; // another worker built it while this one waited
    const run = spawnSync(process.execPath, [BUILD_SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    if (run.status !== 0) throw new Error(`node scripts/build-console.mjs failed (${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`);
    if (!existsSync(BUILT_PAGE)) throw new Error(`node scripts/build-console.mjs ran but ${BUILT_PAGE} is not there`);
  } finally {
    rmdirSync(lock);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The gateway with the console, and the browser

/** Demo departments the journeys use. */
export const DEPARTMENTS = {
  /** 沈阳市公安局: supplies population data (the steward's department in the journeys). */
  GA: '11210100001000010R',
  /** 沈阳市营商环境建设局: the demo's requester. */
  YS: '112101000010000537',
  /** 沈阳市政务服务和数据管理局: the demo's supervisor. */
  SUPERVISION: '11210100001000096L',
  /** 沈阳市政务服务中心 (一网通办): the citizens' portal. */
  PORTAL: '11210100001000109A',
  PLATFORM: '11210100001000088R',
} as const;

/** A demo account as the console's demo seeds it. */
export interface DemoAccount {
  login: string;
  password: string;
  role: string;
  name: string;
  department: string;
}

export interface ConsoleWorld {
  readonly app: TestApp;
  readonly browser: Browser;
  /** The gateway's origin, e.g. http://127.0.0.1:41234 */
  readonly origin: string;
  /** The demo accounts, by role (supervisor, steward, citizen, ...). */
  readonly accounts: Record<string, DemoAccount>;
  /** An absolute URL on the gateway. */
  url(path?: string): string;
  /** A fresh browser context (its own cookies) and page, zh-CN, 1280x800 or phone-sized. */
  newPage(options?: { phone?: boolean; locale?: string }): Promise<Page>;
}

export const DESKTOP_VIEWPORT = { width: 1280, height: 800 } as const;
/** A phone-sized screen (an iPhone 12-ish CSS viewport). */
export const PHONE_VIEWPORT = { width: 390, height: 844 } as const;

export interface ConsoleOptions {
  /** Overrides of the gateway's configuration, e.g. a short session idle timeout. */
  config?: Parameters<typeof startTestApp>[0];
}

/**
 * Starts the gateway and Chromium for the suite (beforeAll) and stops both (afterAll). Returns the world, whose
 * fields are there once beforeAll has run.
 */
export function useConsole(options: ConsoleOptions = {}): ConsoleWorld {
  const contexts: BrowserContext[] = [];
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  let schema: string | undefined;
  let accounts: Record<string, DemoAccount> = {};
  const world: ConsoleWorld = {
    get app() {
      return must(app, 'app');
    },
    get browser() {
      return must(browser, 'browser');
    },
    get origin() {
      return new URL(must(app, 'app').httpUrl).origin;
    },
    get accounts() {
      return accounts;
    },
    url: (path = '/console/') => new URL(path, must(app, 'app').httpUrl).toString(),
    async newPage({ phone = false, locale = 'zh-CN' } = {}) {
      const context = await must(browser, 'browser').newContext({
        viewport: phone ? PHONE_VIEWPORT : DESKTOP_VIEWPORT,
        // One device pixel per CSS pixel on both: the layout is the same, and the screenshots stay small.
        ...(phone ? { isMobile: true, hasTouch: true } : {}),
        deviceScaleFactor: 1,
        locale,
        // The console's people are in China: times on the page, and in the screenshots, are China time.
        timezoneId: 'Asia/Shanghai',
        acceptDownloads: true,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
  };

  beforeAll(async () => {
    await ensureConsoleBuilt();
    const database = postgresUrl ? { databaseUrl: postgresUrl, databaseSchema: (schema = uniqueName('zt_browser')) } : {};
    app = await startTestApp({ ...database, ...(options.config ?? {}) });
    accounts = await seedAccounts(app);
    browser = await chromium.launch({ executablePath: must(chromiumPath, 'Chromium'), args: ['--no-sandbox'], headless: true });
  }, 120_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    if (schema) {
      const admin = await PgDatabase.open({ url: postgresUrl!, poolSize: 1, schema: undefined });
      await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
    }
  }, 60_000);

  return world;
}

function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not started: use the world inside tests, after useConsole()'s beforeAll`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Accounts

/**
 * The demo accounts (console/accounts' seedDemoAccounts), with their passwords: seeded through the gateway's own
 * accounts when it has them, else through accounts over its database. Idempotent: when the gateway seeded them at
 * start, the passwords are read back from the file it wrote.
 */
async function seedAccounts(app: TestApp): Promise<Record<string, DemoAccount>> {
  const seededAtStart = (app.app as { consoleDemo?: DemoAccountsReport | null }).consoleDemo;
  const ctx = app.app.ctx as typeof app.app.ctx & { consoleAccounts?: ConsoleAccounts };
  const report =
    seededAtStart ??
    (await seedDemoAccounts(ctx.consoleAccounts ?? new ConsoleAccounts({ db: ctx.db, pseudonyms: ctx.pseudonyms }), {
      platformUscc: app.config.platformUscc,
      file: join(app.config.dataDir, DEMO_ACCOUNTS_FILE_NAME),
    }));
  const byRole: Record<string, DemoAccount> = {};
  for (const account of report.accounts) {
    if (account.password === null) throw new Error(`the demo account ${account.login} exists but its password is not in ${report.file}`);
    byRole[account.role] = { login: account.login, password: account.password, role: account.role, department: account.department, name: account.name };
  }
  return byRole;
}

// ---------------------------------------------------------------------------------------------------------------
// Page helpers

/** Opens the console and signs in with the local account; waits until the sign-in form is gone. */
export async function signIn(page: Page, world: ConsoleWorld, login: string, password: string): Promise<void> {
  await page.goto(world.url('/console/'));
  await page.getByTestId('signin-login').fill(login);
  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signin-form').waitFor({ state: 'detached' });
}

/**
 * The little of the DOM the tests read inside page.evaluate(). The project compiles without the DOM library (it is
 * Node code), so a function run in the page says `(globalThis as unknown as PageGlobals)`; the cast is erased, and
 * the function stays self-contained as page.evaluate() needs.
 */
export interface PageGlobals {
  document: {
    activeElement: { getAttribute(name: string): string | null; tagName: string } | null;
    documentElement: { scrollWidth: number; lang: string };
    cookie: string;
    querySelector(selector: string): unknown;
  };
  innerWidth: number;
  fetch: typeof fetch;
}

/** A datetime-local field's value for `at` in China time (UTC+8, no daylight saving), as the pages' contexts use. */
export function chinaLocal(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 16);
}

/** Whether screenshots for docs/console.md are written in this run (ZT_WRITE_DOCS=1). */
export const writeDocs = process.env.ZT_WRITE_DOCS === '1';

/**
 * Writes docs/console/<name>.png of the viewport when ZT_WRITE_DOCS=1, so ordinary runs leave the tree clean;
 * `show` is scrolled into view first (by default the page stays where the test left it).
 */
export async function screenshot(page: Page, name: string, show?: Locator): Promise<void> {
  if (!writeDocs) return;
  if (show) await show.scrollIntoViewIfNeeded();
  const dir = join(ROOT, 'docs/console');
  mkdirSync(dir, { recursive: true });
  // Animations stopped and the caret hidden: the picture does not change from one run to the next for nothing.
  await page.screenshot({ path: join(dir, `${name}.png`), type: 'png', animations: 'disabled', caret: 'hide' });
}

/** Every request body the page sends to the gateway, for asserting what never leaves the browser. */
export function recordRequestBodies(page: Page, origin: string): { bodies: () => string[] } {
  const bodies: string[] = [];
  page.on('request', (request: Request) => {
    if (!request.url().startsWith(origin)) return;
    const body = request.postDataBuffer();
    if (body) bodies.push(body.toString('utf8'));
  });
  return { bodies: () => bodies };
}

// ---------------------------------------------------------------------------------------------------------------
// Data for the journeys

/** The demo requester's signed exchange query for a citizen's population record: an access record in the log. */
export async function makeExchangeQuery(app: TestApp, over: Partial<QueryInput> = {}): Promise<{ accessId: string }> {
  const files = demoKeyFiles(app.config.dataDir, DEPARTMENTS.YS);
  const client = new ExchangeClient({
    httpUrl: app.httpUrl,
    grpcAddress: app.grpcAddress,
    signer: DepartmentKey.fromFiles(files.key, files.certificate),
    trust: { root: readFileSync(`${app.config.caDir}/root-ca.cert.pem`), issuing: readFileSync(`${app.config.caDir}/issuing-ca.cert.pem`) },
    platformUscc: DEPARTMENTS.PLATFORM,
  });
  try {
    const { result } = await client.query(
      {
        resource: '210100-GA-0001',
        items: ['name', 'idNumber', 'address'],
        subject: { kind: 'person', code: DEMO_SUBJECTS.applicant.idNumber },
        purpose: { serviceItem: 'QYKB-210100-0009', caseNumber: 'YS-2026-000123' },
        operator: 'zhang.san',
        ...over,
      },
      { protocol: 'http' },
    );
    return { accessId: result.accessId };
  } finally {
    await client.close();
  }
}

/** The PEM of a demo department's private key and the path of the file, as the steward picks it in the page. */
export function demoKeyFile(app: TestApp, uscc: string): { path: string; pem: string } {
  const path = demoKeyFiles(app.config.dataDir, uscc).key;
  return { path, pem: readFileSync(path, 'utf8') };
}

/**
 * A signed exchange query sent as bytes, bypassing the SDK's own checks: for requests the exchange refuses as
 * malformed but still records (e.g. without a case number, which the anomaly report flags). Answers the status.
 */
export async function sendSignedQuery(app: TestApp, fields: Record<string, unknown>): Promise<{ status: number; code: string | null }> {
  const body = JSON.stringify(fields);
  const headers = await signedHeaders(demoSigner(app.config.dataDir, DEPARTMENTS.YS), 'POST', EXCHANGE_HTTP_PATH, body);
  const response = await fetch(new URL(EXCHANGE_HTTP_PATH, app.httpUrl), { method: 'POST', body, headers });
  const answer = (await response.json().catch(() => ({}))) as { code?: string; error?: { code?: string } };
  return { status: response.status, code: answer.code ?? answer.error?.code ?? null };
}

/**
 * The error code of a gateway answer. The gateway's one wire shape is {code, message, requestId} (docs/errors.md);
 * the console's design note wrote {error: {code, ...}}, which the page reads too, so both are read here.
 */
export function errorCodeOf(body: unknown): string | undefined {
  const b = (body ?? {}) as { code?: unknown; error?: { code?: unknown } };
  const code = typeof b.code === 'string' ? b.code : b.error?.code;
  return typeof code === 'string' ? code : undefined;
}
