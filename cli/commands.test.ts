// The usage of every command, as the dispatcher answers it (answerUsage is the first thing cli/main.ts does): each
// group and command answers --help, -h, a trailing `help` and `help COMMAND…` with its own usage, not the top
// level's; an unknown or missing command is a usage error naming the group; and the catalogue lists exactly the
// commands the runners run. test/e2e/cli.test.ts checks the same through the built command line.
import { describe, expect, it } from 'vitest';
import { REVOCATION_REASONS } from '../certs/ca/index.js';
import { CA_FILES, ROOT_CRL_DAYS } from '../certs/ca/ca-files.js';
import { SM2_DEFAULT_USER_ID } from '../certs/sm2/sm2.js';
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE } from '../licences/conversion/index.js';
import { ADMIN_RUNNERS } from './admin.js';
import { ARCHIVE_RUNNERS } from './audit-archive.js';
import { AUDIT_RUNNERS } from './audit.js';
import { COMMANDS } from './commands.js';
import { LICENCE_GATEWAY_COMMANDS } from './licence.js';
import { OPERATOR_COMMANDS } from './operator.js';
import { answerUsage, formatUsage, isGroup, readCommandLine, usageNode, type CommandGroup } from './usage.js';

/** Every group and command of the catalogue, the top level first, by path. */
function allPaths(group: CommandGroup, prefix: readonly string[] = []): (readonly string[])[] {
  return [
    prefix,
    ...Object.entries(group.commands).flatMap(([name, node]) => (isGroup(node) ? allPaths(node, [...prefix, name]) : [[...prefix, name]])),
  ];
}

function run(...argv: string[]): { status: number | undefined; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const status = answerUsage(COMMANDS, argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { status, stdout, stderr };
}

const PATHS = allPaths(COMMANDS);
const COMMAND_PATHS = PATHS.filter((p) => !isGroup(usageNode(COMMANDS, p)));
const GROUP_PATHS = PATHS.filter((p) => isGroup(usageNode(COMMANDS, p)));
const TOP_LEVEL = formatUsage([], COMMANDS);
const usageOf = (path: readonly string[]): string => formatUsage(path, usageNode(COMMANDS, path));
const name = (path: readonly string[]): string => ['zhengtong', ...path].join(' ');

describe('zhengtong … --help: every group and command answers with its own usage', () => {
  it('knows the commands of the command line', () => {
    // Not generated from the catalogue: a command that goes missing from it is refused by the dispatcher.
    expect(COMMAND_PATHS.map((p) => p.join(' '))).toEqual([
      'serve', 'migrate', 'seed', 'config',
      'ca init', 'ca enrol', 'ca revoke', 'ca status', 'ca crl',
      'extract load',
      'sign', 'verify',
      'licence types', 'licence get', 'licence find', 'licence history', 'licence compact', 'licence verify', 'licence status-list',
      'licence issue', 'licence revoke', 'licence suspend', 'licence resume', 'licence change', 'licence renew',
      'licence verify-offline', 'licence convert',
      'audit verify', 'audit checkpoint', 'audit checkpoints', 'audit proof',
      'audit search', 'audit export', 'audit trace', 'audit subject', 'audit covert flag', 'audit covert lift', 'audit covert list',
      'audit analyse', 'audit anomalies', 'audit consume',
      'audit archive seal', 'audit archive verify', 'audit archive restore', 'audit archive list',
      'department register', 'role grant', 'role withdraw', 'role list', 'role history',
      'pseudonym status', 'pseudonym rotate',
      'operator add', 'operator disable', 'operator enable', 'operator reset', 'operator list',
    ]); // prettier-ignore
    expect(GROUP_PATHS.map((p) => p.join(' '))).toEqual(['', 'ca', 'extract', 'licence', 'audit', 'audit covert', 'audit archive', 'department', 'role', 'pseudonym', 'operator']);
  });

  it.each(PATHS.map((p) => [name(p), p] as const))('%s', (_, path) => {
    const own = usageOf(path);
    const forms = [[...path, '--help'], [...path, '-h'], [...path, 'help'], ['help', ...path]];
    if (!isGroup(usageNode(COMMANDS, path))) forms.push([...path, 'ARG', '--json', '--help'], [...path, '--server', 'http://x', '-h']);
    for (const argv of forms) {
      const answer = run(...argv);
      expect(answer, argv.join(' ')).toEqual({ status: 0, stdout: own, stderr: '' });
    }
    if (path.length === 0) expect(own).toMatch(/^zhengtong \d+\.\d+\.\d+: .+\n\nUsage: zhengtong <command> /);
    else {
      expect(own.startsWith(`Usage: ${name(path)} `)).toBe(true);
      expect(own).not.toBe(TOP_LEVEL);
      expect(own).not.toContain('Usage: zhengtong <command>');
    }
  });

  it('gives each command what it does, its options and an example, and no two the same text', () => {
    for (const path of COMMAND_PATHS) {
      const own = usageOf(path);
      expect(own, name(path)).toMatch(/\n\n[A-Z].+\n/); // a description
      expect(own, name(path)).toMatch(/\n[A-Z][^\n]*:\n {2}-/); // options, under one heading or another
      expect(own, name(path)).toMatch(new RegExp(`\\nExamples?:\\n {2}(\\S+=\\S+ )*${name(path)}( |\\n)`));
    }
    expect(new Set(PATHS.map(usageOf)).size).toBe(PATHS.length);
  });

  it('lists every command of a group in the group\'s usage', () => {
    for (const path of GROUP_PATHS) {
      const group = usageNode(COMMANDS, path) as CommandGroup;
      for (const [command, node] of Object.entries(group.commands)) {
        expect(usageOf(path), name([...path, command])).toContain(`\n  ${command} `);
        expect(usageOf(path).replace(/\s+/g, ' '), name([...path, command])).toContain(node.summary);
      }
    }
  });
});

describe('zhengtong …: unknown and missing commands', () => {
  it.each(GROUP_PATHS.map((p) => [name(p), p] as const))('%s frobnicate is a usage error with the group\'s usage', (_, path) => {
    const answer = run(...path, 'frobnicate', '--json');
    expect(answer.status).toBe(2);
    expect(answer.stdout).toBe('');
    expect(answer.stderr).toBe(`${name(path)}: unknown command "frobnicate"\n\n${usageOf(path)}`);
    // Asking for help does not make an unknown command known.
    expect(run(...path, 'frobnicate', '--help').status).toBe(2);
  });

  it.each(GROUP_PATHS.filter((p) => p.length > 0).map((p) => [name(p), p] as const))('%s alone is a usage error naming its commands', (_, path) => {
    const answer = run(...path);
    expect(answer.status).toBe(2);
    expect(answer.stdout).toBe('');
    expect(answer.stderr).toMatch(new RegExp(`^${name(path)}: which command\\? One of ${Object.keys((usageNode(COMMANDS, path) as CommandGroup).commands).join(', ')}\\n\\n`));
    expect(answer.stderr.endsWith(usageOf(path))).toBe(true);
  });

  it('leaves command lines that run to the commands', () => {
    for (const argv of [
      [],
      ['--version'],
      ['serve'],
      ['--config', 'zhengtong.yaml', 'migrate'],
      ['seed', '--force'],
      ['licence', 'get', 'ID', '--server', 'http://127.0.0.1:8080'],
      ['audit', 'covert', '--key', 'k.pem', '--cert', 'c.pem', 'list'],
      ['ca', '--serial', '5E1C', 'status'],
      ['sign', '--in', 'x', '--', '--help'],
      ['audit', 'search', '--operator', 'helper'],
    ]) {
      expect(readCommandLine(COMMANDS, argv).kind, argv.join(' ')).toBe('run');
      expect(run(...argv), argv.join(' ')).toEqual({ status: undefined, stdout: '', stderr: '' });
    }
  });

  it('reads --config FILE before the command', () => {
    expect(run('--config', 'zhengtong.yaml', 'audit', 'verify', '--help').stdout).toBe(usageOf(['audit', 'verify']));
    expect(run('--config=zhengtong.yaml', 'licence', 'verify-offline', 'help').stdout).toBe(usageOf(['licence', 'verify-offline']));
    expect(run('--config', 'zhengtong.yaml', 'frobnicate').status).toBe(2);
  });
});

describe('the usage catalogue and the runners', () => {
  it('lists the commands the runners run', () => {
    const commandsOf = (...path: string[]): string[] => Object.keys((usageNode(COMMANDS, path) as CommandGroup).commands).sort();
    expect(commandsOf('audit')).toEqual(Object.keys(AUDIT_RUNNERS).sort());
    expect(commandsOf('audit', 'archive')).toEqual(Object.keys(ARCHIVE_RUNNERS).sort());
    expect(commandsOf('licence')).toEqual([...LICENCE_GATEWAY_COMMANDS, 'convert', 'verify-offline'].sort());
    expect(commandsOf('department')).toEqual([...ADMIN_RUNNERS.department].sort());
    expect(commandsOf('role')).toEqual([...ADMIN_RUNNERS.role].sort());
    expect(commandsOf('pseudonym')).toEqual(['rotate', 'status']);
    expect(commandsOf('operator')).toEqual([...OPERATOR_COMMANDS].sort());
  });

  it('quotes the values it repeats as the code has them', () => {
    const revoke = usageOf(['ca', 'revoke']).replace(/\s+/g, ' ');
    expect(revoke).toContain(REVOCATION_REASONS.slice(0, -1).join(', ') + ` or ${REVOCATION_REASONS.at(-1)}`);
    expect(usageOf(['ca', 'crl']).replace(/\s+/g, ' ')).toContain(`1 to 3660 days (default ${ROOT_CRL_DAYS})`);
    expect(usageOf(['ca', 'crl'])).toContain(`/${CA_FILES.rootKey} `);
    expect(usageOf(['licence', 'convert'])).toContain(`rows per batch, 1 to ${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE})`);
    expect(usageOf(['sign'])).toContain(`user ID ${SM2_DEFAULT_USER_ID}`);
    expect(usageOf(['sign']).replace(/\s+/g, ' ')).toContain(`distid:${SM2_DEFAULT_USER_ID}`);
    for (const path of [['licence', 'get'], ['audit', 'verify']]) {
      const text = usageOf(path).replace(/\s+/g, ' ');
      expect(text).toContain(CA_FILES.rootCertificate);
      expect(text).toContain(CA_FILES.issuingCertificate);
    }
  });
});
