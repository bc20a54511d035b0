// The demo's console accounts: one per role, each able to sign in with the password returned (and kept in a file
// only its owner reads), the citizen one of the demo subjects at the service portal; seeding again changes nothing.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import type { RegistryRole } from '../../transport/access.js';
import { ConsoleAccounts } from './accounts.js';
import { DEMO_ACCOUNTS_FILE_NAME, demoPassword, seedDemoAccounts } from './demo.js';
import { ConsoleSessions } from './sessions.js';
import { describeOnDatabases, testPseudonyms } from './test-support.js';

const PLATFORM = '11210100001000088R';
// The roles the gateway bootstraps for the demo (ZT_PLATFORM_USCC, ZT_AUDIT_SUPERVISORS, ZT_AUDIT_PORTALS).
const registry: Record<string, RegistryRole[]> = { [PLATFORM]: ['administrator', 'supervisor'], '11210100001000096L': ['supervisor'], '11210100001000109A': ['portal'] };

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('draws 16-character passwords from an alphabet without look-alikes', () => {
  const seen = new Set(Array.from({ length: 50 }, demoPassword));
  expect(seen.size).toBe(50);
  for (const p of seen) expect(p).toMatch(/^[a-hj-km-np-zA-HJ-NP-Z2-9]{16}$/);
});

describeOnDatabases('demo console accounts', (open) => {
  it('makes one account per role once, whose printed passwords sign in with that role', async () => {
    const db = await open();
    const dir = mkdtempSync(join(tmpdir(), 'zt-console-demo-'));
    dirs.push(dir);
    const file = join(dir, DEMO_ACCOUNTS_FILE_NAME);
    const accounts = new ConsoleAccounts({ db, pseudonyms: testPseudonyms() });
    const sessions = new ConsoleSessions({ db, accounts, rolesOf: (u) => new Set(registry[u] ?? []) });
    const first = await seedDemoAccounts(accounts, { platformUscc: PLATFORM, file });
    expect(first.accounts.map((a) => [a.role, a.login, a.created])).toEqual([
      ['supervisor', 'supervisor', true],
      ['steward', 'steward', true],
      ['administrator', 'admin', true],
      ['portal', 'portal', true],
      ['citizen', 'citizen', true],
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { accounts: Record<string, string> };
    for (const a of first.accounts) {
      expect(kept.accounts[a.login]).toBe(a.password);
      const { person } = await sessions.signIn(a.login, a.password!);
      expect(person.roles.has(a.role)).toBe(true);
      if (a.role === 'citizen') expect([person.subject, person.department]).toEqual([DEMO_SUBJECTS.applicant.idNumber, '11210100001000109A']);
    }
    const again = await seedDemoAccounts(accounts, { platformUscc: PLATFORM, file });
    expect(again.accounts.map((a) => [a.login, a.created, a.password])).toEqual(first.accounts.map((a) => [a.login, false, a.password]));
    // On another host without the file, the accounts stay and say their passwords are not known here.
    const elsewhere = await seedDemoAccounts(accounts, { platformUscc: PLATFORM, file: join(dir, 'missing.json') });
    expect(elsewhere.accounts.every((a) => a.password === null && !a.created)).toBe(true);
    expect((await accounts.list()).length).toBe(5);
  });
});
