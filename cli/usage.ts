// Usage of the command line. Every command declares its usage once, in the catalogue (cli/commands.ts); the
// dispatcher (cli/main.ts) reads the command line against it before anything runs, and answers `--help`, `-h` and a
// trailing `help` (or `help COMMAND…`) with the usage of the command or group named, and an unknown or missing
// command in a group with that group's usage and exit status 2. No settings are read and no database is opened.
import { packageVersion } from '../core/paths.js';

/** An option as usage shows it: its flags with their argument ("--ca ROOT.pem"), and what it does. */
export type UsageOption = readonly [flags: string, description: string];

/** Options shared by several commands, declared once and shown under their own heading. */
export interface UsageOptionSet {
  title: string;
  options: readonly UsageOption[];
}

/** A command that runs. */
export interface CommandUsage {
  /** One line for the list of its group's commands. */
  summary: string;
  /** What follows the command's name in a usage line, one entry per form of the command. */
  synopsis: readonly string[];
  /** What it does, as paragraphs. */
  description: string;
  options?: readonly UsageOption[];
  sharedOptions?: readonly UsageOptionSet[];
  exitStatus?: string;
  /** Whole command lines. */
  examples: readonly string[];
}

/** A group of commands (`zhengtong audit …`), itself perhaps in a group. */
export interface CommandGroup {
  summary: string;
  description: string;
  /** What follows the group's name in its usage line; "<command> [options]" if not given. */
  synopsis?: string;
  commands: Readonly<Record<string, CommandUsage | CommandGroup>>;
  options?: readonly UsageOption[];
  sharedOptions?: readonly UsageOptionSet[];
  notes?: string;
}

export function isGroup(node: CommandUsage | CommandGroup): node is CommandGroup {
  return 'commands' in node;
}

/** What a command line asks for, read against the catalogue. */
export type CommandLine =
  | { kind: 'help'; path: readonly string[]; node: CommandUsage | CommandGroup }
  | { kind: 'unknown'; path: readonly string[]; group: CommandGroup; name: string }
  | { kind: 'missing'; path: readonly string[]; group: CommandGroup }
  | { kind: 'run'; path: readonly string[] };

/**
 * Follows the words of argv down the catalogue. Help is asked for by `--help` or `-h` anywhere (before `--`), by a
 * last argument `help`, or by the word `help` where a command name would be (`zhengtong help audit verify`,
 * `zhengtong audit help`). Options where a group expects a command name end the walk: the command decides what they
 * mean (`zhengtong --config FILE serve` is read at the top level, which knows --config takes a value).
 */
export function readCommandLine(root: CommandGroup, argv: readonly string[]): CommandLine {
  const end = argv.indexOf('--');
  const args = end === -1 ? argv : argv.slice(0, end);
  let help = args.includes('--help') || args.includes('-h') || args.at(-1) === 'help';
  const path: string[] = [];
  let node: CommandUsage | CommandGroup = root;
  let i = 0;
  while (isGroup(node)) {
    if (node === root && args[i] === '--config') i += 2;
    else if (node === root && args[i]?.startsWith('--config=')) i += 1;
    const word = args[i];
    if (word === 'help') {
      help = true;
      i++;
      continue;
    }
    if (word === undefined || word.startsWith('-')) {
      if (help) return { kind: 'help', path, node };
      // The top level with no command prints its usage, as `help` does; main.ts handles --version and its options.
      if (word === undefined && node !== root) return { kind: 'missing', path, group: node };
      return { kind: 'run', path };
    }
    const next: CommandUsage | CommandGroup | undefined = Object.hasOwn(node.commands, word) ? node.commands[word] : undefined;
    if (!next) return { kind: 'unknown', path, group: node, name: word };
    path.push(word);
    node = next;
    i++;
  }
  return help ? { kind: 'help', path, node } : { kind: 'run', path };
}

/** The node at a path of the catalogue; throws if there is none (a path in the code that the catalogue lacks). */
export function usageNode(root: CommandGroup, path: readonly string[]): CommandUsage | CommandGroup {
  let node: CommandUsage | CommandGroup = root;
  for (const word of path) {
    if (!isGroup(node) || !Object.hasOwn(node.commands, word)) throw new Error(`the usage catalogue has no command "${path.join(' ')}"`);
    node = node.commands[word]!;
  }
  return node;
}

const WIDTH = 118;
const FLAG_COLUMN = 28;

/** Description text, wrapped at WIDTH with the indent given; lines the catalogue broke on purpose stay broken. */
function wrap(text: string, indent: string, firstIndent = indent): string {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    // Set out by hand (a command line, a table): kept as it is.
    if (paragraph.startsWith(' ')) {
      out.push((out.length === 0 ? firstIndent : indent) + paragraph);
      continue;
    }
    let line = out.length === 0 ? firstIndent : indent;
    let empty = true;
    for (const word of paragraph.split(' ')) {
      if (!empty && line.length + 1 + word.length > WIDTH) {
        out.push(line);
        line = indent + word;
      } else {
        line += empty ? word : ` ${word}`;
        empty = false;
      }
    }
    out.push(paragraph === '' ? '' : line);
  }
  return out.join('\n');
}

/** A usage line, wrapped after the command's name; an optional part ([…], (…)) is not split. */
function synopsisLines(lead: string, form: string): string {
  const parts: string[] = [];
  let depth = 0;
  for (const word of form.split(' ')) {
    if (depth > 0) parts[parts.length - 1] += ` ${word}`;
    else parts.push(word);
    for (const ch of word) depth += ch === '[' || ch === '(' ? 1 : ch === ']' || ch === ')' ? -1 : 0;
  }
  const lines: string[] = [];
  let line = lead;
  for (const part of parts) {
    if (line.length > lead.length && line.length + 1 + part.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(lead.length) + part;
    } else line += line.length > lead.length ? ` ${part}` : part;
  }
  lines.push(line);
  return lines.join('\n');
}

function optionLines(options: readonly UsageOption[]): string {
  return options
    .map(([flags, description]) =>
      flags.length + 2 <= FLAG_COLUMN
        ? wrap(description, ' '.repeat(FLAG_COLUMN + 2), `  ${flags.padEnd(FLAG_COLUMN)}`)
        : `  ${flags}\n${wrap(description, ' '.repeat(FLAG_COLUMN + 2))}`,
    )
    .join('\n');
}

function optionSections(node: CommandUsage | CommandGroup): string[] {
  const sections: string[] = [];
  if (node.options && node.options.length > 0) sections.push(`Options:\n${optionLines(node.options)}`);
  for (const set of node.sharedOptions ?? []) sections.push(`${set.title}:\n${optionLines(set.options)}`);
  return sections;
}

/** The usage text of a command or group, as `--help` prints it. */
export function formatUsage(path: readonly string[], node: CommandUsage | CommandGroup): string {
  const name = ['zhengtong', ...path].join(' ');
  const sections: string[] = [];
  if (isGroup(node)) {
    const usage = `Usage: ${name} ${node.synopsis ?? '<command> [options]'}`;
    sections.push(path.length === 0 ? `zhengtong ${packageVersion()}: ${node.summary}\n\n${usage}` : usage);
    if (node.description) sections.push(wrap(node.description, ''));
    const names = Object.keys(node.commands);
    const column = Math.max(...names.map((n) => n.length));
    sections.push(
      `Commands:\n${names.map((n) => wrap(node.commands[n]!.summary, ' '.repeat(column + 4), `  ${n.padEnd(column)}  `)).join('\n')}`,
    );
    sections.push(...optionSections(node));
    if (node.notes) sections.push(wrap(node.notes, ''));
    sections.push(`\`${name} <command> --help\` (or -h, or \`${name} help <command>\`) prints a command's usage, with its options and an example.`);
  } else {
    sections.push(node.synopsis.map((form, i) => synopsisLines(`${i === 0 ? 'Usage:' : '   or:'} ${name} `, form)).join('\n'));
    sections.push(wrap(node.description, ''));
    sections.push(...optionSections(node));
    if (node.exitStatus) sections.push(wrap(`Exit status: ${node.exitStatus}`, ''));
    sections.push(`${node.examples.length === 1 ? 'Example' : 'Examples'}:\n${node.examples.map((e) => `  ${e}`).join('\n')}`);
  }
  return `${sections.join('\n\n')}\n`;
}

export interface UsageIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/**
 * Answers a command line that asks for usage, or names an unknown or missing command: prints and returns the exit
 * status (0 for help, 2 for a usage error). Undefined when the command line is for a command to run.
 */
export function answerUsage(root: CommandGroup, argv: readonly string[], io: UsageIo): number | undefined {
  const line = readCommandLine(root, argv);
  const name = ['zhengtong', ...line.path].join(' ');
  switch (line.kind) {
    case 'run':
      return undefined;
    case 'help':
      io.stdout.write(formatUsage(line.path, line.node));
      return 0;
    case 'unknown':
      io.stderr.write(`${name}: unknown command "${line.name}"\n\n${formatUsage(line.path, line.group)}`);
      return 2;
    case 'missing':
      io.stderr.write(`${name}: which command? One of ${Object.keys(line.group.commands).join(', ')}\n\n${formatUsage(line.path, line.group)}`);
      return 2;
  }
}
