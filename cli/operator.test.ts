// `zhengtong operator …` on an embedded database: add (staff and citizen), list, disable, enable and reset, the
// password from ZT_OPERATOR_PASSWORD, a file or standard input, and the mistakes a person makes on the command line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../core/config/index.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
import { ConsoleAccounts } from '../console/accounts/accounts.js';
import { ConsoleSessions } from '../console/accounts/sessions.js';
import { runOperator } from './operator.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function run(config: Config, argv: string[], options: { env?: Record<string, string>; typed?: string[] } = {}) {
  let out = '';
  let err = '';
  const typed = [...(options.typed ?? [])];
  const status = await runOperator(config, argv, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: options.env ?? {},
    readPassword: async () => typed.shift() ?? '',
  });
  return { status, out, err };
}

/** Signs in through the sessions the gateway would use, on the same database. */
async function signIn(config: Config, login: string, password: string): Promise<string> {
  const db = await openDatabase(config);
  try {
    await migrate(db);
    const accounts = new ConsoleAccounts({ db, pseudonyms: await openPseudonyms(db, pseudonymSettings(config)) });
    const sessions = new ConsoleSessions({ db, accounts, rolesOf: () => new Set() });
    return await sessions.signIn(login, password).then(
      (s) => `signed in as ${s.person.login}${s.person.subject ? ` (${s.person.subject})` : ''}`,
      (e: { code: string }) => e.code,
    );
  } finally {
    await db.close();
  }
}

describe('zhengtong operator', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'zt-operator-'));
  dirs.push(dataDir);
  const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: 'silent' } });

  it('adds staff and citizen accounts, lists them, and refuses mistakes with a usage error', async () => {
    const added = await run(config, ['add', '--login', 'Wang.Li', '--name', '王丽', '--department', '11210100001000010R'], { env: { ZT_OPERATOR_PASSWORD: 'a long enough password' } });
    expect(added).toMatchObject({ status: 0, err: '' });
    expect(added.out).toContain('added staff account wang.li (王丽) acting for 11210100001000010R');
    const citizen = await run(config, ['add', '--login', 'liu', '--name', '刘志强', '--department', '11210100001000109A', '--citizen', '--subject', '210103198503120312', '--json'], {
      typed: ['citizen password 1'],
    });
    expect(citizen.status).toBe(0);
    expect(JSON.parse(citizen.out)).toMatchObject({ login: 'liu', kind: 'citizen', department: '11210100001000109A', source: 'local', disabled: false });
    expect(citizen.out).not.toContain('210103198503120312');

    const list = await run(config, ['list', '--json']);
    expect((JSON.parse(list.out) as { accounts: { login: string; kind: string }[] }).accounts.map((a) => [a.login, a.kind])).toEqual([['liu', 'citizen'], ['wang.li', 'staff']]);
    expect((await run(config, ['list'])).out).toMatch(/^liu +citizen 11210100001000109A {2}local active +刘志强\n/);
    expect(await signIn(config, 'liu', 'citizen password 1')).toBe('signed in as liu (210103198503120312)');

    expect(await run(config, ['add', '--login', 'x', '--name', 'x'])).toMatchObject({ status: 2, err: expect.stringContaining('operator add needs --department USCC') });
    expect(await run(config, ['add', '--login', 'zz', '--name', 'x', '--department', '11210100001000010R', '--citizen'])).toMatchObject({ status: 2, err: expect.stringContaining('--citizen and --subject ID go together') });
    expect(await run(config, ['frobnicate'])).toMatchObject({ status: 2 });
    expect(await run(config, ['list', 'extra'])).toMatchObject({ status: 2, err: expect.stringContaining('takes options only') });
    const duplicate = await run(config, ['add', '--login', 'wang.li', '--name', '王丽', '--department', '11210100001000010R'], { typed: ['a long enough password'] });
    expect(duplicate).toMatchObject({ status: 1, err: expect.stringContaining('[ZT_ERR_ACCOUNT_EXISTS]') });
    const short = await run(config, ['add', '--login', 'zhou', '--name', '周', '--department', '11210100001000010R'], { typed: ['short'] });
    expect(short).toMatchObject({ status: 1, err: expect.stringContaining('[ZT_ERR_ACCOUNT_INVALID]') });
  });

  it('disables and enables an account, and resets its password from a file', async () => {
    expect(await signIn(config, 'wang.li', 'a long enough password')).toBe('signed in as wang.li');
    const disabled = await run(config, ['disable', '--login', 'wang.li']);
    expect(disabled).toMatchObject({ status: 0, out: 'disabled wang.li; 1 open session ended\n' });
    expect(await signIn(config, 'wang.li', 'a long enough password')).toBe('ZT_ERR_SIGN_IN_FAILED');
    expect((await run(config, ['enable', '--login', 'wang.li'])).out).toBe('enabled wang.li\n');
    const file = join(dataDir, 'new-password.txt');
    writeFileSync(file, 'the new password here\n', { mode: 0o600 });
    const reset = await run(config, ['reset', '--login', 'wang.li', '--password-file', file]);
    expect(reset).toMatchObject({ status: 0, out: 'new password set for wang.li; unlocked; 0 open sessions ended\n' });
    expect(await signIn(config, 'wang.li', 'a long enough password')).toBe('ZT_ERR_SIGN_IN_FAILED');
    expect(await signIn(config, 'wang.li', 'the new password here')).toBe('signed in as wang.li');
    expect(await run(config, ['reset', '--login', 'nobody'], { typed: ['the new password here'] })).toMatchObject({ status: 1, err: expect.stringContaining('[ZT_ERR_ACCOUNT_NOT_FOUND]') });
    expect(await run(config, ['disable'])).toMatchObject({ status: 2, err: expect.stringContaining('operator disable needs --login LOGIN') });
  });
});
