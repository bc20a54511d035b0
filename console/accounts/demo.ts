// The demo's console accounts: one person per role, so a newcomer can sign in as each and walk its journey.
// Passwords are drawn at random when an account is first made, returned for `serve` to print and written to a file
// (mode 0600) in the data directory to be read again later. Not fixed, documented passwords: a demo gateway is often
// started on a host others can reach, and a password printed in the README would let anyone in as its supervisor;
// random ones cost the newcomer nothing, since serve prints them and the file keeps them.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEMO_SUBJECTS } from '../../exchange/datasets/index.js';
import { isZtError } from '../../core/errors/index.js';
import type { ConsoleRole } from '../../transport/person.js';
import type { ConsoleAccounts, NewConsoleAccount } from './accounts.js';

/** The demo city's data bureau (政务服务和数据管理局): the supervisor of the access log. */
export const DEMO_DATA_BUREAU = '11210100001000096L';
/** The demo city's public security bureau (市公安局): provides the household register, and demands are addressed to it. */
export const DEMO_PROVIDER = '11210100001000010R';
/** The demo city's service centre (政务服务中心, 一网通办): the service portal citizens come through. */
export const DEMO_PORTAL = '11210100001000109A';

export const DEMO_ACCOUNTS_FILE_NAME = 'console-demo-accounts.json';

export interface DemoAccount {
  /** The role this account shows. */
  readonly role: ConsoleRole;
  readonly login: string;
  readonly name: string;
  readonly department: string;
  /** The password, when known (made now, or read from the file); null when the account was made elsewhere. */
  readonly password: string | null;
  /** Whether this call made the account. */
  readonly created: boolean;
}

export interface DemoAccountsReport {
  readonly accounts: readonly DemoAccount[];
  /** The file the passwords are kept in. */
  readonly file: string;
}

export interface SeedDemoAccountsOptions {
  /** ZT_PLATFORM_USCC: the platform operator, the administrator. */
  platformUscc: string;
  /** Where the passwords are kept (<ZT_DATA_DIR>/console-demo-accounts.json). */
  file: string;
}

interface Planned extends Omit<NewConsoleAccount, 'password'> {
  role: ConsoleRole;
}

function planned(platformUscc: string): Planned[] {
  return [
    { role: 'supervisor', login: 'supervisor', name: '赵监督（演示）', department: DEMO_DATA_BUREAU },
    { role: 'steward', login: 'steward', name: '钱数据（演示，市公安局数据专员）', department: DEMO_PROVIDER },
    { role: 'administrator', login: 'admin', name: '孙管理（演示，平台管理员）', department: platformUscc },
    { role: 'portal', login: 'portal', name: '李窗口（演示，一网通办）', department: DEMO_PORTAL },
    { role: 'citizen', login: 'citizen', name: `${DEMO_SUBJECTS.applicant.name}（演示市民）`, department: DEMO_PORTAL, kind: 'citizen', subject: DEMO_SUBJECTS.applicant.idNumber },
  ];
}

interface PasswordFile {
  schema: 'zhengtong/console-demo-accounts/v1';
  accounts: Record<string, string>;
}

function readPasswords(file: string): Record<string, string> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as PasswordFile;
    return parsed?.accounts && typeof parsed.accounts === 'object' ? parsed.accounts : {};
  } catch {
    return {};
  }
}

function writePasswords(file: string, accounts: Record<string, string>): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ schema: 'zhengtong/console-demo-accounts/v1', accounts } satisfies PasswordFile, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}

/** 16 random characters from an alphabet without look-alikes (about 90 bits): easy to copy from a terminal. */
export function demoPassword(): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(32);
  let out = '';
  for (const b of bytes) {
    if (b >= 220) continue; // 220 = 4 × 55: keeps the choice uniform
    out += alphabet[b % alphabet.length];
    if (out.length === 16) break;
  }
  return out.length === 16 ? out : demoPassword();
}

/** Makes the demo's accounts that are missing (idempotent) and says how to sign in as each. */
export async function seedDemoAccounts(accounts: ConsoleAccounts, options: SeedDemoAccountsOptions): Promise<DemoAccountsReport> {
  const kept = readPasswords(options.file);
  const out: DemoAccount[] = [];
  let changed = false;
  // Accounts made before are not made again: hashing a password nobody will use costs a scrypt at every start.
  const existing = new Set((await accounts.list()).map((a) => a.login));
  for (const p of planned(options.platformUscc)) {
    const { role, ...input } = p;
    let created = false;
    if (existing.has(p.login)) {
      out.push({ role, login: p.login, name: p.name, department: p.department, password: kept[p.login] ?? null, created });
      continue;
    }
    try {
      const password = demoPassword();
      await accounts.add({ ...input, password });
      kept[p.login] = password;
      changed = true;
      created = true;
    } catch (error) {
      if (!isZtError(error) || error.code !== 'ZT_ERR_ACCOUNT_EXISTS') throw error;
    }
    out.push({ role, login: p.login, name: p.name, department: p.department, password: kept[p.login] ?? null, created });
  }
  if (changed) writePasswords(options.file, kept);
  return { accounts: out, file: options.file };
}
