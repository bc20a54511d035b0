// The one place where zhengtong's settings, their defaults and their meaning live.
// The README's configuration table is checked against this list by a test.

export type SettingKind = 'string' | 'host' | 'port' | 'int' | 'bool' | 'list' | 'postgres-url' | 'http-url' | 'enum' | 'path';

export interface SettingSpec<T> {
  /** Environment variable that sets it. */
  readonly env: string;
  readonly kind: SettingKind;
  readonly default: T;
  readonly doc: string;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

function spec<T>(s: SettingSpec<T>): SettingSpec<T> {
  return s;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const settings = {
  httpHost: spec<string>({ env: 'ZT_HTTP_HOST', kind: 'host', default: '127.0.0.1', doc: 'Address the HTTP server listens on.' }),
  httpPort: spec<number>({ env: 'ZT_HTTP_PORT', kind: 'port', default: 8080, doc: 'HTTP port (0 picks a free one).' }),
  grpcHost: spec<string>({ env: 'ZT_GRPC_HOST', kind: 'host', default: '127.0.0.1', doc: 'Address the gRPC server listens on.' }),
  grpcPort: spec<number>({ env: 'ZT_GRPC_PORT', kind: 'port', default: 50051, doc: 'gRPC port (0 picks a free one).' }),
  databaseUrl: spec<string | undefined>({
    env: 'DATABASE_URL',
    kind: 'postgres-url',
    default: undefined,
    doc: 'PostgreSQL connection URL. When unset, the embedded PGlite database is used.',
  }),
  databasePoolSize: spec<number>({ env: 'ZT_DATABASE_POOL_SIZE', kind: 'int', default: 10, min: 2, max: 200, doc: 'Connections per instance in the PostgreSQL pool.' }),
  databaseSchema: spec<string | undefined>({
    env: 'ZT_DATABASE_SCHEMA',
    kind: 'string',
    default: undefined,
    doc: 'PostgreSQL schema to use (created if missing); default is the server\'s search_path (public).',
  }),
  dataDir: spec<string>({ env: 'ZT_DATA_DIR', kind: 'path', default: './data', doc: 'Directory of the embedded database and other local state.' }),
  kafkaBrokers: spec<readonly string[]>({
    env: 'KAFKA_BROKERS',
    kind: 'list',
    default: [],
    doc: 'Comma-separated Kafka bootstrap servers (host:port). When unset, the in-process event bus is used.',
  }),
  kafkaClientId: spec<string>({ env: 'ZT_KAFKA_CLIENT_ID', kind: 'string', default: 'zhengtong', doc: 'Kafka client.id of this instance.' }),
  kafkaTopicPrefix: spec<string>({ env: 'ZT_KAFKA_TOPIC_PREFIX', kind: 'string', default: 'zt.', doc: 'Prefix put before every topic name.' }),
  kafkaConnectTimeoutMs: spec<number>({
    env: 'ZT_KAFKA_CONNECT_TIMEOUT_MS',
    kind: 'int',
    default: 10000,
    min: 100,
    max: 600000,
    doc: 'How long start-up waits for the Kafka cluster before giving up.',
  }),
  caDir: spec<string>({
    env: 'ZT_CA_DIR',
    kind: 'path',
    // Resolved to <dataDir>/ca at load when left empty.
    default: '',
    doc: 'Directory of the platform CA\'s keys and certificates (zhengtong ca init creates them; keys mode 0600). Default: ca/ under ZT_DATA_DIR.',
  }),
  caPassphrase: spec<string | undefined>({
    env: 'ZT_CA_PASSPHRASE',
    kind: 'string',
    default: undefined,
    doc: 'Passphrase of the platform CA\'s private keys, when they were created with one.',
  }),
  caCertificateDays: spec<number>({
    env: 'ZT_CA_CERTIFICATE_DAYS',
    kind: 'int',
    default: 730,
    min: 1,
    max: 3650,
    doc: 'Validity in days of the department certificates the platform CA issues.',
  }),
  platformUscc: spec<string>({
    env: 'ZT_PLATFORM_USCC',
    kind: 'string',
    default: '11210100001000088R',
    doc: 'Unified social credit code of the organisation running the exchange; the certificate that signs exchange responses names it (the default is the demo city\'s).',
  }),
  publicUrl: spec<string>({
    env: 'ZT_PUBLIC_URL',
    kind: 'http-url',
    default: 'http://127.0.0.1:8080',
    doc: 'Base URL under which clients reach this service; certificates point to {publicUrl}/v1/ca/crl.',
  }),
  demandReplyWorkingDays: spec<number>({
    env: 'ZT_DEMAND_REPLY_WORKING_DAYS',
    kind: 'int',
    default: 5,
    min: 1,
    max: 60,
    doc: 'Working days a supplier has to answer a conditional demand before it is flagged overdue (public holidays and make-up working days counted).',
  }),
  signatureWindowSeconds: spec<number>({
    env: 'ZT_SIGNATURE_WINDOW_SECONDS',
    kind: 'int',
    default: 300,
    min: 5,
    max: 86400,
    doc: 'How far the signing time of a signed step (a demand transition) may be from this server\'s clock, either way.',
  }),
  policyDir: spec<string>({
    env: 'ZT_POLICY_DIR',
    kind: 'path',
    // Resolved to the shipped policies/default at load when left empty.
    default: '',
    doc: 'Directory of the negative-list policy files (YAML or JSON). Default: the list shipped in policies/default. SIGHUP reloads it.',
  }),
  logLevel: spec<LogLevel>({ env: 'ZT_LOG_LEVEL', kind: 'enum', values: LOG_LEVELS, default: 'info', doc: 'Log level.' }),
  seedDemo: spec<boolean>({ env: 'ZT_SEED_DEMO', kind: 'bool', default: true, doc: 'Seed demo data on first start of an empty database (serve only).' }),
  bodyLimitBytes: spec<number>({
    env: 'ZT_BODY_LIMIT_BYTES',
    kind: 'int',
    default: 1048576,
    min: 1024,
    max: 104857600,
    doc: 'Largest request body accepted over HTTP and gRPC.',
  }),
  shutdownTimeoutMs: spec<number>({
    env: 'ZT_SHUTDOWN_TIMEOUT_MS',
    kind: 'int',
    default: 15000,
    min: 100,
    max: 600000,
    doc: 'How long a graceful shutdown may take before the process exits anyway.',
  }),
  workers: spec<number>({
    env: 'ZT_WORKERS',
    kind: 'int',
    default: 1,
    min: 1,
    max: 64,
    doc: 'Gateway processes serve starts on this host, sharing its ports; each is an instance of its own. More than 1 needs PostgreSQL and Kafka.',
  }),
  batchSignIntervalMs: spec<number>({
    env: 'ZT_BATCH_SIGN_INTERVAL_MS',
    kind: 'int',
    default: 2,
    min: 0,
    max: 1000,
    doc: 'Least time between two batch signatures of the platform\'s answers: under load answers wait up to this long to share one SM2 signature, which keeps signing to at most 1000/this per second; 0 signs as soon as a thread is free.',
  }),
  licenceCacheSize: spec<number>({
    env: 'ZT_LICENCE_CACHE_SIZE',
    kind: 'int',
    default: 100000,
    min: 100,
    max: 10000000,
    doc: 'E-licences each instance keeps in its lookup cache (dropped on any change, in every instance).',
  }),
  licenceAnonymousRate: spec<number>({
    env: 'ZT_LICENCE_ANONYMOUS_RATE',
    kind: 'int',
    default: 20,
    min: 0,
    max: 1000000,
    doc: 'Anonymous licence verifications per second allowed from one client address, per instance (bursts of twice that); 0 turns the limit off.',
  }),
  auditSupervisors: spec<readonly string[]>({
    env: 'ZT_AUDIT_SUPERVISORS',
    kind: 'list',
    default: [],
    doc: 'USCCs of the departments that may search, export and analyse the access log (监管); the platform operator (ZT_PLATFORM_USCC) always may.',
  }),
  auditPortals: spec<readonly string[]>({
    env: 'ZT_AUDIT_PORTALS',
    kind: 'list',
    default: [],
    doc: 'USCCs of the service portals that have authenticated a citizen or enterprise and may show it who read its data; supervisors may too.',
  }),
  instanceId: spec<string | undefined>({
    env: 'ZT_INSTANCE_ID',
    kind: 'string',
    default: undefined,
    doc: 'Name of this gateway instance in logs and metrics; default host name and process id.',
  }),
} as const;

type Settings = typeof settings;
export type Config = { readonly [K in keyof Settings]: Settings[K]['default'] };
export type SettingName = keyof Settings;
