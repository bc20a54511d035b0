// `zhengtong operator add | disable | enable | reset | list`: the web console's local accounts (console/accounts), kept
// in the configured database, so an operator on the gateway's host manages who may sign in without a running
// gateway. Passwords come from --password-file, ZT_OPERATOR_PASSWORD, a prompt on a terminal (asked twice, not
// echoed) or the first line of standard input; they never travel on the command line, where `ps` would show them.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../core/config/index.js';
import { isZtError } from '../core/errors/index.js';
import { createLogger } from '../core/logging/index.js';
import { openPseudonyms, pseudonymSettings } from '../core/pseudonyms/index.js';
import { migrate, openDatabase } from '../core/storage/index.js';
// The accounts alone: the command needs neither the routes nor the identity provider's client.
import { ConsoleAccounts, type ConsoleAccount } from '../console/accounts/accounts.js';
import { PASSWORD_MIN_LENGTH } from '../console/accounts/passwords.js';
import { UsageError } from './common.js';

/** The subcommands (cli/commands.test.ts checks the usage catalogue lists exactly these). */
export const OPERATOR_COMMANDS = ['add', 'disable', 'enable', 'reset', 'list'] as const;

const OPTIONS = {
  login: { type: 'string' },
  name: { type: 'string' },
  department: { type: 'string' },
  citizen: { type: 'boolean' },
  subject: { type: 'string' },
  'password-file': { type: 'string' },
  json: { type: 'boolean' },
  config: { type: 'string' },
} as const;

export interface OperatorIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** The environment (ZT_OPERATOR_PASSWORD). */
  env: Readonly<Record<string, string | undefined>>;
  /** Asks for a password: on a terminal without echo; otherwise the next line of standard input. */
  readPassword(prompt: string): Promise<string>;
}

const usage = (message: string): never => {
  throw new UsageError(message);
};

function required(value: string | undefined, option: string, command: string): string {
  if (value === undefined || value.trim() === '') usage(`operator ${command} needs ${option}`);
  return value!;
}

/** Reads standard input: on a terminal a line typed without echo, else the first line of what is piped in. */
export function readPasswordFromStdin(prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    return new Promise((resolve, reject) => {
      let text = '';
      stdin.setEncoding('utf8');
      const done = (): void => {
        stdin.off('data', onData);
        stdin.off('end', done);
        stdin.pause();
        resolve(text.split(/\r?\n/)[0] ?? '');
      };
      const onData = (chunk: string): void => {
        text += chunk;
        if (text.includes('\n')) done();
      };
      stdin.on('data', onData);
      stdin.on('end', done);
      stdin.on('error', reject);
      stdin.resume();
    });
  }
  return new Promise((resolve, reject) => {
    process.stderr.write(prompt);
    let text = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const finish = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.off('data', onData);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\u0003') return finish(new UsageError('interrupted'));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

const PROCESS_IO: OperatorIo = { stdout: process.stdout, stderr: process.stderr, env: process.env, readPassword: readPasswordFromStdin };

/** The new password of add and reset: --password-file, ZT_OPERATOR_PASSWORD, or asked for (twice on a terminal). */
async function newPassword(file: string | undefined, io: OperatorIo, interactive: boolean): Promise<string> {
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
    } catch (error) {
      return usage(`cannot read the password file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const fromEnv = io.env.ZT_OPERATOR_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const first = await io.readPassword(`password (at least ${PASSWORD_MIN_LENGTH} characters): `);
  if (interactive) {
    const again = await io.readPassword('the same password again: ');
    if (again !== first) usage('the two passwords differ');
  }
  return first;
}

function line(a: ConsoleAccount): string {
  const state = a.disabled ? 'disabled' : a.lockedUntil ? `locked until ${a.lockedUntil.toISOString()}` : 'active';
  return `${a.login.padEnd(20)} ${a.kind.padEnd(7)} ${a.department}  ${a.source.padEnd(5)} ${state.padEnd(8)}  ${a.name}\n`;
}

const json = (a: ConsoleAccount) => ({ ...a, lockedUntil: a.lockedUntil?.toISOString() ?? null, createdAt: a.createdAt.toISOString(), updatedAt: a.updatedAt.toISOString() });

/** Runs `zhengtong operator …` (argv without `operator`); resolves with the exit status. */
export async function runOperator(config: Config, argv: string[], io: OperatorIo = PROCESS_IO): Promise<number> {
  const [command, ...rest] = argv;
  let v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
  try {
    if (!command || !(OPERATOR_COMMANDS as readonly string[]).includes(command)) usage(`unknown operator command ${JSON.stringify(command ?? '')}: one of ${OPERATOR_COMMANDS.join(', ')}`);
    const parsed = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });
    if (parsed.positionals.length > 0) usage(`operator ${command} takes options only`);
    v = parsed.values;
    if (command !== 'add' && (v.citizen || v.subject !== undefined || v.name !== undefined || v.department !== undefined)) usage(`--name, --department, --citizen and --subject go with operator add`);
    if (command === 'add' && (v.citizen === true) !== (v.subject !== undefined)) usage('--citizen and --subject ID go together');
  } catch (error) {
    io.stderr.write(`zhengtong operator: ${(error as Error).message} (zhengtong operator ${command ?? ''} --help)\n`);
    return 2;
  }
  const db = await openDatabase(config, createLogger({ level: 'warn', instanceId: config.instanceId! }));
  try {
    await migrate(db);
    const accounts = new ConsoleAccounts({ db, pseudonyms: await openPseudonyms(db, pseudonymSettings(config)) });
    const interactive = process.stdin.isTTY === true && io === PROCESS_IO;
    const out = (text: string, value: unknown): void => void io.stdout.write(v.json ? `${JSON.stringify(value, null, 2)}\n` : text);
    switch (command) {
      case 'add': {
        const input = {
          login: required(v.login, '--login LOGIN', 'add'),
          name: required(v.name, '--name NAME', 'add'),
          department: required(v.department, '--department USCC', 'add'),
          ...(v.citizen ? { kind: 'citizen' as const, subject: v.subject! } : {}),
        };
        const account = await accounts.add({ ...input, password: await newPassword(v['password-file'], io, interactive) });
        out(`added ${account.kind} account ${account.login} (${account.name}) acting for ${account.department}; sign in at /console\n`, json(account));
        return 0;
      }
      case 'disable': {
        const { account, sessionsEnded } = await accounts.disable(required(v.login, '--login LOGIN', 'disable'));
        out(`disabled ${account.login}; ${sessionsEnded} open session${sessionsEnded === 1 ? '' : 's'} ended\n`, { ...json(account), sessionsEnded });
        return 0;
      }
      case 'enable': {
        const account = await accounts.enable(required(v.login, '--login LOGIN', 'enable'));
        out(`enabled ${account.login}\n`, json(account));
        return 0;
      }
      case 'reset': {
        const login = required(v.login, '--login LOGIN', 'reset');
        await accounts.get(login); // before asking for a password
        const { account, sessionsEnded } = await accounts.resetPassword(login, await newPassword(v['password-file'], io, interactive));
        out(`new password set for ${account.login}; unlocked; ${sessionsEnded} open session${sessionsEnded === 1 ? '' : 's'} ended\n`, { ...json(account), sessionsEnded });
        return 0;
      }
      default: {
        const all = await accounts.list();
        out(all.length === 0 ? 'no console accounts (zhengtong operator add)\n' : all.map(line).join(''), { accounts: all.map(json) });
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`zhengtong operator: ${error.message} (zhengtong operator ${command} --help)\n`);
      return 2;
    }
    if (isZtError(error)) {
      io.stderr.write(`zhengtong operator ${command}: ${error.message} [${error.code}]\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.close();
  }
}
