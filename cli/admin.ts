// `zhengtong department register` and `zhengtong role grant | withdraw | list | history`: the platform's
// administration through a running gateway (client/admin-client.ts), signed with the administrator's key (for list
// and history, any department's). Lines for people, --json for programs.
import { parseArgs } from 'node:util';
import { AdminClient, type RegistryRole } from '../client/admin-client.js';
import { ExchangeClientError, ExchangeError } from '../client/errors.js';
import { departmentKeyOf, UsageError } from './common.js';

const OPTIONS = {
  server: { type: 'string' },
  key: { type: 'string' },
  cert: { type: 'string' },
  'passphrase-file': { type: 'string' },
  json: { type: 'boolean' },
  uscc: { type: 'string' },
  name: { type: 'string' },
  'short-name': { type: 'string' },
  'area-code': { type: 'string' },
  role: { type: 'string' },
  department: { type: 'string' },
  reason: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export interface AdminIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** The subcommands each group runs (cli/commands.test.ts checks the usage catalogue lists exactly these). */
export const ADMIN_RUNNERS = { department: ['register'], role: ['grant', 'withdraw', 'list', 'history'] } as const;

const ROLES: readonly RegistryRole[] = ['administrator', 'supervisor', 'portal'];

const usage = (message: string): never => {
  throw new UsageError(message);
};

function required(value: string | undefined, option: string, command: string): string {
  if (value === undefined || value === '') usage(`${command} needs ${option}`);
  return value!;
}

function roleOf(value: string | undefined, command: string): RegistryRole {
  const role = required(value, '--role ROLE', command);
  if (!ROLES.includes(role as RegistryRole)) usage(`--role is one of ${ROLES.join(', ')}`);
  return role as RegistryRole;
}

/** Runs `zhengtong department …` or `zhengtong role …` (argv without the group); resolves with the exit status. */
export async function runAdminCommand(group: 'department' | 'role', argv: string[], io: AdminIo = process): Promise<number> {
  const [command, ...rest] = argv;
  let v: Values;
  let positionals: string[];
  try {
    if (!command || !(ADMIN_RUNNERS[group] as readonly string[]).includes(command)) usage(`unknown ${group} command ${JSON.stringify(command ?? '')}`);
    ({ values: v, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS }));
    if (positionals.length > 0) usage(`${group} ${command} takes options only`);
  } catch (error) {
    io.stderr.write(`zhengtong ${group}: ${(error as Error).message} (zhengtong ${group} ${command ?? ''} --help)\n`);
    return 2;
  }
  let client: AdminClient | undefined;
  try {
    const signer = departmentKeyOf(v);
    if (!signer) usage(`${group} ${command} is signed: --key KEY.pem --cert CERT.pem (the administrator's, or for list and history any department's)`);
    client = new AdminClient({ httpUrl: v.server ?? 'http://127.0.0.1:8080', signer: signer! });
    const out = (text: string, json: unknown): void => void io.stdout.write(v.json ? `${JSON.stringify(json, null, 2)}\n` : text);
    if (group === 'department') {
      const registered = await client.registerDepartment({
        uscc: required(v.uscc, '--uscc CODE', 'department register'),
        name: required(v.name, '--name NAME', 'department register'),
        ...(v['short-name'] ? { shortName: v['short-name'] } : {}),
        ...(v['area-code'] ? { areaCode: v['area-code'] } : {}),
      });
      out(`registered ${String(registered.name)} (USCC ${String(registered.uscc)})\n`, registered);
      return 0;
    }
    switch (command) {
      case 'grant':
      case 'withdraw': {
        const input = { role: roleOf(v.role, `role ${command}`), department: required(v.department, '--department USCC', `role ${command}`).toUpperCase(), ...(v.reason ? { reason: v.reason } : {}) };
        if (command === 'grant') {
          const holder = await client.grantRole(input);
          out(`granted ${holder.role} to ${holder.department} at ${holder.since}, signed by ${holder.grantedBy}\n`, holder);
        } else {
          await client.withdrawRole(input);
          out(`withdrew ${input.role} from ${input.department}\n`, { withdrawn: true, ...input });
        }
        return 0;
      }
      case 'list': {
        const holders = await client.roles(v.role ? roleOf(v.role, 'role list') : undefined);
        out(holders.map((h) => `${h.role.padEnd(14)} ${h.department}  since ${h.since}  granted by ${h.grantedBy ?? `configuration (${h.source})`}\n`).join('') || 'no roles\n', { holders });
        return 0;
      }
      default: {
        const changes = await client.roleHistory(v.department?.toUpperCase());
        out(changes.map((c) => `${c.at}  ${c.action.padEnd(8)} ${c.role.padEnd(14)} ${c.department}  by ${c.by ?? `configuration (${c.source})`}${c.statement ? '  signed' : ''}${c.reason ? `  ${c.reason}` : ''}\n`).join(''), { changes });
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`zhengtong ${group}: ${error.message} (zhengtong ${group} ${command} --help)\n`);
      return 2;
    }
    if (error instanceof ExchangeError || error instanceof ExchangeClientError) {
      io.stderr.write(`zhengtong ${group} ${command}: ${error.message} [${error.code}]\n`);
      return 1;
    }
    throw error;
  } finally {
    await client?.close();
  }
}
