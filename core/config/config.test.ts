import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isZtError } from '../errors/index.js';
import { loadConfig, redactUrl, settings } from './index.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isZtError(error) && error.code).toBe('ZT_ERR_CONFIG_INVALID');
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('has a default for everything, in one place', () => {
    const c = loadConfig({ env: {} });
    for (const [name, spec] of Object.entries(settings)) {
      if (!['instanceId', 'caDir', 'caRootKeyDir', 'platformKeyDir', 'policyDir', 'pseudonymKeyFile'].includes(name)) expect(c[name as keyof typeof c]).toEqual(spec.default);
    }
    expect(c.httpPort).toBe(8080);
    expect(c.grpcPort).toBe(50051);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.kafkaBrokers).toEqual([]);
    expect(c.instanceId).toMatch(/-\d+$/);
    expect(c.caDir).toBe('data/ca');
    expect(c.pseudonymKeyFile).toBe('data/pseudonym-keys.json');
    expect(loadConfig({ env: { ZT_DATA_DIR: '/srv/zt', ZT_CA_DIR: '/shared/zt/ca' } }).pseudonymKeyFile).toBe('/shared/zt/pseudonym-keys.json');
    expect(c.policyDir).toMatch(/policies\/default$/);
    expect(loadConfig({ env: { ZT_DATA_DIR: '/srv/zt' } }).caDir).toBe('/srv/zt/ca');
    // The root CA key is written apart from what serve reads.
    expect(c.caRootKeyDir).toBe('data/ca-root');
    expect(loadConfig({ env: { ZT_DATA_DIR: '/srv/zt' } }).caRootKeyDir).toBe('/srv/zt/ca-root');
    expect(loadConfig({ env: { ZT_CA_ROOT_KEY_DIR: '/media/offline/zt-root' } }).caRootKeyDir).toBe('/media/offline/zt-root');
    // So is the platform's own signing key.
    expect(c.platformKeyDir).toBe('data/platform-keys');
    expect(loadConfig({ env: { ZT_DATA_DIR: '/srv/zt' } }).platformKeyDir).toBe('/srv/zt/platform-keys');
    // Beside a CA directory shared by several instances, so that they share the platform key too.
    expect(loadConfig({ env: { ZT_DATA_DIR: '/srv/zt', ZT_CA_DIR: '/shared/zt/ca' } }).platformKeyDir).toBe('/shared/zt/platform-keys');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads and converts environment variables', () => {
    const c = loadConfig({
      env: {
        ZT_HTTP_PORT: '9000',
        KAFKA_BROKERS: ' 127.0.0.1:9092, kafka-2:9092 ',
        ZT_SEED_DEMO: 'no',
        DATABASE_URL: 'postgres://u:p@db:5432/zt',
        ZT_LOG_LEVEL: 'debug',
      },
    });
    expect(c.httpPort).toBe(9000);
    expect(c.kafkaBrokers).toEqual(['127.0.0.1:9092', 'kafka-2:9092']);
    expect(c.seedDemo).toBe(false);
    expect(c.databaseUrl).toBe('postgres://u:p@db:5432/zt');
    expect(c.logLevel).toBe('debug');
  });

  it('reads a YAML or JSON file, and the environment overrides it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-config-'));
    const yaml = join(dir, 'zt.yaml');
    writeFileSync(yaml, 'httpPort: 8181\ngrpcPort: 50052\nkafkaBrokers: [ "a:1", "b:2" ]\n');
    const fromYaml = loadConfig({ env: { ZT_GRPC_PORT: '50099' }, file: yaml });
    expect(fromYaml.httpPort).toBe(8181);
    expect(fromYaml.grpcPort).toBe(50099);
    expect(fromYaml.kafkaBrokers).toEqual(['a:1', 'b:2']);
    const json = join(dir, 'zt.json');
    writeFileSync(json, JSON.stringify({ seedDemo: false }));
    expect(loadConfig({ env: { ZT_CONFIG_FILE: json } }).seedDemo).toBe(false);
  });

  it('reports every problem at once, naming the variable to fix', () => {
    const message = problem(() => loadConfig({ env: { ZT_HTTP_PORT: 'abc', ZT_GRPC_PORT: '70000', ZT_LOG_LEVEL: 'loud', ZT_SEED_DEMO: 'maybe' } }));
    expect(message).toMatch(/ZT_HTTP_PORT must be a port number from 0 to 65535, got "abc"/);
    expect(message).toMatch(/ZT_GRPC_PORT must be a port number/);
    expect(message).toMatch(/ZT_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(message).toMatch(/ZT_SEED_DEMO must be true or false/);
    expect(message).not.toMatch(/\n/);
  });

  it('refuses a non-PostgreSQL or malformed DATABASE_URL and hides passwords', () => {
    expect(problem(() => loadConfig({ env: { DATABASE_URL: 'mysql://root@db/x' } }))).toMatch(/DATABASE_URL must start with postgres:\/\//);
    expect(problem(() => loadConfig({ env: { DATABASE_URL: 'not a url' } }))).toMatch(/DATABASE_URL must be a URL/);
    expect(problem(() => loadConfig({ env: { ZT_PUBLIC_URL: 'ftp://x' } }))).toMatch(/ZT_PUBLIC_URL must be an http:\/\/ or https:\/\/ URL/);
    expect(loadConfig({ env: { ZT_PUBLIC_URL: 'https://share.example.gov.cn/' } }).publicUrl).toBe('https://share.example.gov.cn');
    expect(redactUrl('postgres://zt:s3cret@db:5432/zt')).toBe('postgres://zt:***@db:5432/zt');
  });

  it('takes the Unix socket forms of DATABASE_URL that the driver reads', () => {
    for (const url of ['postgres://zt@/zt?host=/var/run/postgresql', 'postgresql:///zt?host=/var/run/postgresql&user=zt', 'postgres://zt@%2Fvar%2Frun%2Fpostgresql/zt']) {
      expect(loadConfig({ env: { DATABASE_URL: url } }).databaseUrl).toBe(url);
    }
  });

  it('refuses malformed broker lists and out-of-range numbers', () => {
    expect(problem(() => loadConfig({ env: { KAFKA_BROKERS: 'localhost' } }))).toMatch(/KAFKA_BROKERS must be a comma-separated list of host:port/);
    expect(problem(() => loadConfig({ env: { ZT_DATABASE_POOL_SIZE: '1' } }))).toMatch(/ZT_DATABASE_POOL_SIZE must be at least 2/);
    expect(problem(() => loadConfig({ env: { ZT_BODY_LIMIT_BYTES: '1.5' } }))).toMatch(/ZT_BODY_LIMIT_BYTES must be a whole number/);
  });

  it('refuses a request timeout shorter than the headers timeout', () => {
    expect(problem(() => loadConfig({ env: { ZT_HTTP_HEADERS_TIMEOUT_MS: '20000', ZT_HTTP_REQUEST_TIMEOUT_MS: '10000' } }))).toMatch(
      /ZT_HTTP_REQUEST_TIMEOUT_MS \(10000\) must be at least ZT_HTTP_HEADERS_TIMEOUT_MS \(20000\)/,
    );
    expect(loadConfig({ env: {} })).toMatchObject({ httpHeadersTimeoutMs: 10000, httpRequestTimeoutMs: 120000 });
  });

  it('refuses unknown keys and unreadable or malformed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zt-config-'));
    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, 'httpPrt: 1\n');
    expect(problem(() => loadConfig({ env: {}, file: typo }))).toMatch(/unknown setting "httpPrt"/);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"httpPort": ');
    expect(problem(() => loadConfig({ env: {}, file: broken }))).toMatch(/is not valid JSON/);
    expect(problem(() => loadConfig({ env: {}, file: join(dir, 'missing.yaml') }))).toMatch(/cannot be read: ENOENT/);
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- 1\n- 2\n');
    expect(problem(() => loadConfig({ env: {}, file: list }))).toMatch(/must hold a mapping/);
  });
});
