import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ZtError } from '../errors/index.js';
import { packageRoot } from '../paths.js';
import { parsePseudonymKeyList, PSEUDONYM_KEY_FILE_NAME } from '../pseudonyms/keys.js';
import { settings, type Config, type SettingName, type SettingSpec } from './schema.js';

export interface LoadConfigOptions {
  /** Environment to read; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Optional JSON or YAML file whose keys are the setting names (camelCase); the environment overrides it. */
  file?: string;
  /** Values that override both file and environment (tests, CLI flags). */
  overrides?: Partial<Config>;
}

type Raw = unknown;

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Parses one raw value (a string from the environment, or a JSON/YAML value from the file). Returns the value or a problem. */
function parseValue(spec: SettingSpec<unknown>, raw: Raw): { value: unknown } | { problem: string } {
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.kind) {
    case 'port': {
      const n = typeof text === 'number' ? text : Number(text);
      if (!Number.isInteger(n) || n < 0 || n > 65535) return { problem: `must be a port number from 0 to 65535, got ${JSON.stringify(raw)}` };
      return { value: n };
    }
    case 'int': {
      const n = typeof text === 'number' ? text : Number(text);
      if (!Number.isInteger(n)) return { problem: `must be a whole number, got ${JSON.stringify(raw)}` };
      if (spec.min !== undefined && n < spec.min) return { problem: `must be at least ${spec.min}, got ${n}` };
      if (spec.max !== undefined && n > spec.max) return { problem: `must be at most ${spec.max}, got ${n}` };
      return { value: n };
    }
    case 'bool': {
      if (typeof text === 'boolean') return { value: text };
      const s = String(text).toLowerCase();
      if (TRUE.has(s)) return { value: true };
      if (FALSE.has(s)) return { value: false };
      return { problem: `must be true or false, got ${JSON.stringify(raw)}` };
    }
    case 'list': {
      const items = Array.isArray(text) ? text.map(String) : String(text).split(',');
      const list = items.map((s) => s.trim()).filter((s) => s.length > 0);
      for (const item of list) {
        if (!/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(item)) return { problem: `must be a comma-separated list of host:port, got ${JSON.stringify(item)}` };
      }
      return { value: list };
    }
    case 'enum': {
      const s = String(text);
      if (!spec.values?.includes(s)) return { problem: `must be one of ${spec.values?.join(', ')}, got ${JSON.stringify(raw)}` };
      return { value: s };
    }
    case 'postgres-url': {
      const s = String(text);
      if (s === '') return { value: undefined };
      let url: URL;
      try {
        url = parseDatabaseUrl(s);
      } catch {
        return { problem: `must be a URL such as postgres://user@127.0.0.1:5432/dbname (or postgres://user@/dbname?host=/var/run/postgresql for a Unix socket), got ${JSON.stringify(redactUrl(s))}` };
      }
      if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
        return { problem: `must start with postgres:// or postgresql://, got ${JSON.stringify(url.protocol)}` };
      }
      return { value: s };
    }
    case 'http-url': {
      const s = String(text).replace(/\/+$/, '');
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        return { problem: `must be an http:// or https:// URL, got ${JSON.stringify(raw)}` };
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `must be an http:// or https:// URL, got ${JSON.stringify(raw)}` };
      return { value: s };
    }
    case 'host': {
      const s = String(text);
      if (s === '' || /\s/.test(s)) return { problem: `must be a host name or address, got ${JSON.stringify(raw)}` };
      return { value: s };
    }
    case 'string':
    case 'path': {
      if (typeof text !== 'string' && typeof text !== 'number') return { problem: `must be a string, got ${JSON.stringify(raw)}` };
      const s = String(text);
      if (s === '') return { value: spec.default };
      return { value: s };
    }
  }
}

/**
 * A PostgreSQL URL as the driver reads it. A user without a host (postgres://zt@/zt?host=/var/run/postgresql, a
 * Unix socket) is such a URL to the driver, but the URL parser wants a host there. Throws on what is no URL.
 */
export function parseDatabaseUrl(value: string): URL {
  return new URL(value.replace('@/', '@socket/'));
}

/** Hides a password in a connection URL before it reaches a message or a log. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}

function readFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `configuration file ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `configuration file ${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`, {
      cause: error,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `configuration file ${file} must hold a mapping of setting names to values`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reads the configuration once, at start-up: defaults, then the optional file, then the environment, then overrides.
 * Every problem is reported at once, each naming the variable to fix.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.ZT_CONFIG_FILE || undefined);
  const fromFile = file ? readFile(file) : {};
  const problems: string[] = [];
  const names = Object.keys(settings) as SettingName[];

  for (const key of Object.keys(fromFile)) {
    if (!(names as string[]).includes(key)) problems.push(`${file}: unknown setting "${key}" (known: ${names.join(', ')})`);
  }

  const out: Record<string, unknown> = {};
  for (const name of names) {
    const spec = settings[name] as SettingSpec<unknown>;
    let value: unknown = spec.default;
    if (fromFile[name] !== undefined) {
      const r = parseValue(spec, fromFile[name]);
      if ('problem' in r) problems.push(`${file}: ${name} ${r.problem}`);
      else value = r.value;
    }
    const envValue = env[spec.env];
    if (envValue !== undefined && envValue !== '') {
      const r = parseValue(spec, envValue);
      if ('problem' in r) problems.push(`${spec.env} ${r.problem}`);
      else value = r.value;
    }
    out[name] = value;
  }
  if (options.overrides) Object.assign(out, options.overrides);
  if (out.instanceId === undefined) out.instanceId = `${hostname()}-${process.pid}`;
  if (!out.caDir) out.caDir = join(String(out.dataDir), 'ca');
  if (!out.caRootKeyDir) out.caRootKeyDir = join(String(out.dataDir), 'ca-root');
  // Beside the CA directory, so that instances sharing one ZT_CA_DIR share the platform key too, as they did when it lay in it.
  if (!out.platformKeyDir) out.platformKeyDir = join(dirname(String(out.caDir)), 'platform-keys');
  if (!out.policyDir) out.policyDir = join(packageRoot(), 'policies', 'default');
  // Beside ZT_CA_DIR, like the platform key: instances that share one CA directory (as they must to share a
  // database) then share the pseudonym keys too, which they must as well.
  if (!out.pseudonymKeyFile) out.pseudonymKeyFile = join(dirname(String(out.caDir)), PSEUDONYM_KEY_FILE_NAME);
  if (typeof out.pseudonymKeys === 'string') {
    try {
      parsePseudonymKeyList(out.pseudonymKeys);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  if (Number(out.httpRequestTimeoutMs) < Number(out.httpHeadersTimeoutMs)) {
    problems.push(`ZT_HTTP_REQUEST_TIMEOUT_MS (${String(out.httpRequestTimeoutMs)}) must be at least ZT_HTTP_HEADERS_TIMEOUT_MS (${String(out.httpHeadersTimeoutMs)}): the headers are part of the request`);
  }

  if (problems.length > 0) {
    throw new ZtError('ZT_ERR_CONFIG_INVALID', `invalid configuration: ${problems.join('; ')}`, { details: { problems } });
  }
  return Object.freeze(out) as Config;
}
