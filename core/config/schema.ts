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
    doc: 'PostgreSQL connection URL: postgres://user@host:5432/db, or postgres://user@/db?host=/var/run/postgresql over a Unix socket. When unset, the embedded PGlite database is used.',
  }),
  databasePoolSize: spec<number>({ env: 'ZT_DATABASE_POOL_SIZE', kind: 'int', default: 10, min: 2, max: 200, doc: 'Connections per instance to PostgreSQL, at most: half for the hot paths\' fixed statements (planned once for any parameters), the rest for everything else.' }),
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
    doc: 'Directory of what serve needs of the platform CA: the root certificate and root CRL, the issuing CA\'s key (mode 0600) and certificate (zhengtong ca init creates them). Default: ca/ under ZT_DATA_DIR.',
  }),
  caRootKeyDir: spec<string>({
    env: 'ZT_CA_ROOT_KEY_DIR',
    kind: 'path',
    // Resolved to <dataDir>/ca-root at load when left empty.
    default: '',
    doc: 'Where zhengtong ca init writes the root CA\'s private key (mode 0600, directory 0700), apart from ZT_CA_DIR; serve never reads it, so take it offline (ca crl --root --root-key takes its path). Default: ca-root/ under ZT_DATA_DIR.',
  }),
  platformKeyDir: spec<string>({
    env: 'ZT_PLATFORM_KEY_DIR',
    kind: 'path',
    // Resolved to platform-keys/ beside the CA directory at load when left empty.
    default: '',
    doc: 'Directory of the platform\'s own signing key (mode 0600) and certificate, which sign exchange answers, licences and log checkpoints; enrolled with the platform CA on first use. Never inside ZT_CA_DIR: a key found there (where earlier versions kept it) is moved here, with a log line. Instances sharing a database should share it. Default: platform-keys/ beside ZT_CA_DIR (<ZT_DATA_DIR>/platform-keys unless ZT_CA_DIR is set).',
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
  pseudonymKeyFile: spec<string>({
    env: 'ZT_PSEUDONYM_KEY_FILE',
    kind: 'path',
    // Resolved to <dataDir>/pseudonym-keys.json at load when left empty.
    default: '',
    doc: 'File of the keys of the blind index (keyed SM3-HMAC) stored in place of resident ID numbers and USCCs outside the source records; mode 0600, created on the first start of an empty database. Every instance of one database needs the same file; zhengtong pseudonym rotate adds a version. Default: pseudonym-keys.json beside ZT_CA_DIR (so under ZT_DATA_DIR by default).',
  }),
  pseudonymKeys: spec<string | undefined>({
    env: 'ZT_PSEUDONYM_KEYS',
    kind: 'string',
    default: undefined,
    doc: 'The blind index keys given directly instead of the key file, as version:base64 pairs (1:…,2:…); the highest version indexes new records, every version is searched.',
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
    doc: 'Directory of the negative-list policy files (YAML or JSON). Default: the list shipped in policies/default. SIGHUP reloads it, and a change is announced: the other instances reload theirs, which must hold the same files.',
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
  httpHeadersTimeoutMs: spec<number>({
    env: 'ZT_HTTP_HEADERS_TIMEOUT_MS',
    kind: 'int',
    default: 10000,
    min: 100,
    max: 600000,
    doc: 'How long a connection may take to send a request\'s line and headers over HTTP; then it is answered 408 ZT_ERR_REQUEST_TIMEOUT and closed, so a client that trickles headers cannot hold connections.',
  }),
  httpRequestTimeoutMs: spec<number>({
    env: 'ZT_HTTP_REQUEST_TIMEOUT_MS',
    kind: 'int',
    default: 120000,
    min: 100,
    max: 3600000,
    doc: 'How long a connection may take to send a whole request over HTTP, body included (408 ZT_ERR_REQUEST_TIMEOUT after); at least ZT_HTTP_HEADERS_TIMEOUT_MS. Raise it for large extract uploads over slow links.',
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
  verifyThreads: spec<number>({
    env: 'ZT_VERIFY_THREADS',
    kind: 'int',
    default: 0,
    min: 0,
    max: 256,
    doc: 'Worker threads per gateway process that verify the SM2 signatures of requests, off the event loop. 0: on PostgreSQL, the host\'s cores shared among the ZT_WORKERS processes; on the embedded PGlite, which runs on the main thread, the cores left after one per process; at least one each.',
  }),
  batchSignIntervalMs: spec<number>({
    env: 'ZT_BATCH_SIGN_INTERVAL_MS',
    kind: 'int',
    default: 5,
    min: 0,
    max: 1000,
    doc: 'Least time between two batch signatures of the platform\'s answers: under load answers wait up to this long to share one SM2 signature, which keeps signing to at most 1000/this per second; 0 signs as soon as a thread is free.',
  }),
  batchSignFull: spec<number>({
    env: 'ZT_BATCH_SIGN_FULL',
    kind: 'int',
    default: 8,
    min: 0,
    max: 4096,
    doc: 'Answers that make a batch worth signing at once, inside ZT_BATCH_SIGN_INTERVAL_MS: with many requests in flight the interval would otherwise set the pace of every answer. A signature then costs at most 1/this of one per answer. 0: the interval alone paces.',
  }),
  licenceCacheSize: spec<number>({
    env: 'ZT_LICENCE_CACHE_SIZE',
    kind: 'int',
    default: 100000,
    min: 100,
    max: 10000000,
    doc: 'E-licences each instance keeps in its lookup cache (dropped on any change, in every instance).',
  }),
  licenceAnswerReuseMs: spec<number>({
    env: 'ZT_LICENCE_ANSWER_REUSE_MS',
    kind: 'int',
    default: 1000,
    min: 0,
    max: 60000,
    doc: 'How long one signed anonymous answer about a licence (checkedAt its first asker\'s time) is given to everyone who asks about that licence by identifier, as an OCSP responder reuses a response; any change of the licence ends it at once. 0: every answer is made and signed anew.',
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
    default: ['11210100001000096L'],
    doc: 'Deprecated: departments granted the supervisor role (search, export and analyse the access log, 监管) once, when they never held it; roles are then granted and withdrawn in the registry (zhengtong role). The default is the demo city\'s 政务服务和数据管理局.',
  }),
  auditPortals: spec<readonly string[]>({
    env: 'ZT_AUDIT_PORTALS',
    kind: 'list',
    default: ['11210100001000109A'],
    doc: 'Deprecated: service portals granted the portal role (show a citizen or enterprise who read its data) once, when they never held it; roles are then managed in the registry (zhengtong role). The default is the demo city\'s 政务服务中心, 一网通办.',
  }),
  auditMaxRangeDays: spec<number>({
    env: 'ZT_AUDIT_MAX_RANGE_DAYS',
    kind: 'int',
    default: 366,
    min: 1,
    max: 36600,
    doc: 'Longest time range (days) one search or export of the access log may cover; a search without a subject, case or record filter must give one.',
  }),
  auditExportMaxRows: spec<number>({
    env: 'ZT_AUDIT_EXPORT_MAX_ROWS',
    kind: 'int',
    default: 1000000,
    min: 1,
    max: 100000000,
    doc: 'Most access records one export may hold; a larger export is refused up front (ZT_ERR_AUDIT_EXPORT_TOO_LARGE) until narrowed.',
  }),
  auditRetentionDays: spec<number>({
    env: 'ZT_AUDIT_RETENTION_DAYS',
    kind: 'int',
    default: 180,
    min: 1,
    max: 36600,
    doc: 'Days access records stay in the live log: zhengtong audit archive seal seals only segments whose records are all older than this (电子档案).',
  }),
  auditArchiveDir: spec<string>({
    env: 'ZT_AUDIT_ARCHIVE_DIR',
    kind: 'path',
    // Resolved to <dataDir>/archive where it is used when left empty.
    default: '',
    doc: 'Directory of the signed archive files of sealed access-log segments. Default: archive/ under ZT_DATA_DIR.',
  }),
  auditArchiveSegmentBits: spec<number>({
    env: 'ZT_AUDIT_ARCHIVE_SEGMENT_BITS',
    kind: 'int',
    default: 16,
    min: 1,
    max: 24,
    doc: 'A sealed segment of the access log holds 2^this records (16: 65,536), an aligned complete subtree of the Merkle log. Do not change it once segments are sealed.',
  }),
  auditArchiveRemove: spec<boolean>({
    env: 'ZT_AUDIT_ARCHIVE_REMOVE',
    kind: 'bool',
    default: false,
    doc: 'zhengtong audit archive seal removes the sealed records from the live log (as --remove does); restore puts them back.',
  }),
  auditAnalytics: spec<'inline' | 'off'>({
    env: 'ZT_AUDIT_ANALYTICS',
    kind: 'enum',
    values: ['inline', 'off'],
    default: 'inline',
    doc: 'inline: every gateway is a member of the analytics consumer group (zhengtong.audit-analytics; with Kafka the partitions spread over them); off: gateways do not consume, run zhengtong audit consume apart.',
  }),
  auditAnalyticsRetentionDays: spec<number>({
    env: 'ZT_AUDIT_ANALYTICS_RETENTION_DAYS',
    kind: 'int',
    default: 30,
    min: 1,
    max: 3660,
    doc: 'Days of applied record ids the analytics keep (behind the newest record) to ignore redelivered events; older events are skipped. Keep it above the topic\'s retention.',
  }),
  auditWorkingHours: spec<string>({
    env: 'ZT_AUDIT_WORKING_HOURS',
    kind: 'string',
    default: '08:30-12:00,13:00-17:30',
    doc: 'Working hours in China time (Asia/Shanghai) on working days of the holiday schedule; accesses outside them are counted and flagged.',
  }),
  auditCaseNumberPattern: spec<string | undefined>({
    env: 'ZT_AUDIT_CASE_NUMBER_PATTERN',
    kind: 'string',
    default: undefined,
    doc: 'If set, a regular expression (PostgreSQL ~) every case number (办件编号) should match; others are flagged as case-number-mismatch.',
  }),
  auditOperatorSubjectsPerDay: spec<number>({
    env: 'ZT_AUDIT_OPERATOR_SUBJECTS_PER_DAY',
    kind: 'int',
    default: 100,
    min: 1,
    max: 10000000,
    doc: 'Distinct subjects one operator may read in a day before being flagged (when also far above the department\'s other operators).',
  }),
  auditSpikeMinRequests: spec<number>({
    env: 'ZT_AUDIT_SPIKE_MIN_REQUESTS',
    kind: 'int',
    default: 30,
    min: 1,
    max: 10000000,
    doc: 'An hour with fewer requests from a department is never flagged as a volume spike.',
  }),
  auditSpikeRatio: spec<number>({
    env: 'ZT_AUDIT_SPIKE_RATIO',
    kind: 'int',
    default: 4,
    min: 2,
    max: 1000,
    doc: 'A volume spike is at least this many times the department\'s own baseline (its median hourly volume)…',
  }),
  auditSpikeSigmas: spec<number>({
    env: 'ZT_AUDIT_SPIKE_SIGMAS',
    kind: 'int',
    default: 5,
    min: 1,
    max: 100,
    doc: '…and at least this many robust standard deviations (1.4826 × MAD) above it.',
  }),
  auditSequenceMs: spec<number>({
    env: 'ZT_AUDIT_SEQUENCE_MS',
    kind: 'int',
    default: 1000,
    min: 0,
    max: 3600000,
    doc: 'How often each instance offers to append new access records to the tamper-evident log (one instance at a time does, under a database lock); 0 turns the sequencer off in this instance.',
  }),
  auditSequenceBatch: spec<number>({
    env: 'ZT_AUDIT_SEQUENCE_BATCH',
    kind: 'int',
    default: 10000,
    min: 1,
    max: 1000000,
    doc: 'Most access records appended to the tamper-evident log in one transaction.',
  }),
  auditGapSeconds: spec<number>({
    env: 'ZT_AUDIT_GAP_SECONDS',
    kind: 'int',
    default: 10,
    min: 0,
    max: 86400,
    doc: 'How long the log sequencer waits for a missing access-record seq (a transaction still open, or rolled back) once a later one is visible, before passing it by; a record that fills it later is appended at the end of the log.',
  }),
  auditGapWatchSeconds: spec<number>({
    env: 'ZT_AUDIT_GAP_WATCH_SECONDS',
    kind: 'int',
    default: 3600,
    min: 0,
    max: 31536000,
    doc: 'How long a passed-by seq stays watched for a late record; a record appearing there later is never logged and the verifier reports it as inserted.',
  }),
  auditCheckpointSeconds: spec<number>({
    env: 'ZT_AUDIT_CHECKPOINT_SECONDS',
    kind: 'int',
    default: 60,
    min: 0,
    max: 86400,
    doc: 'How often the platform signs a checkpoint (tree head) of the tamper-evident access log, when it grew; 0 turns automatic checkpoints off (zhengtong audit checkpoint signs one).',
  }),
  consoleMaxFailures: spec<number>({ env: 'ZT_CONSOLE_MAX_FAILURES', kind: 'int', default: 5, min: 1, max: 100, doc: 'Consecutive wrong passwords that lock a console account.' }),
  consoleLockMinutes: spec<number>({ env: 'ZT_CONSOLE_LOCK_MINUTES', kind: 'int', default: 15, min: 1, max: 10080, doc: 'How long a locked console account stays locked (zhengtong operator reset unlocks it at once).' }),
  consoleIdleMinutes: spec<number>({ env: 'ZT_CONSOLE_IDLE_MINUTES', kind: 'int', default: 30, min: 1, max: 1440, doc: 'A console session unused this long ends.' }),
  consoleSessionHours: spec<number>({ env: 'ZT_CONSOLE_SESSION_HOURS', kind: 'int', default: 8, min: 1, max: 168, doc: 'A console session ends this long after sign-in, however it is used.' }),
  consoleSecureCookies: spec<boolean>({
    env: 'ZT_CONSOLE_SECURE_COOKIES',
    kind: 'bool',
    default: false,
    doc: 'Mark console cookies Secure even on plain HTTP (TLS ends at a proxy in front); over TLS they are Secure anyway.',
  }),
  oidcIssuer: spec<string | undefined>({ env: 'ZT_OIDC_ISSUER', kind: 'string', default: undefined, doc: 'The city identity provider\'s issuer URL; console sign-in through it (authorization code with PKCE) is offered when set.' }),
  oidcClientId: spec<string | undefined>({ env: 'ZT_OIDC_CLIENT_ID', kind: 'string', default: undefined, doc: 'The console\'s client id at the identity provider.' }),
  oidcClientSecret: spec<string | undefined>({ env: 'ZT_OIDC_CLIENT_SECRET', kind: 'string', default: undefined, doc: 'The console\'s client secret; unset: a public client (PKCE only).' }),
  oidcRedirectUri: spec<string | undefined>({ env: 'ZT_OIDC_REDIRECT_URI', kind: 'string', default: undefined, doc: 'Where the identity provider sends the browser back: {public URL}/console/auth/oidc/callback.' }),
  oidcPersonClaim: spec<string>({ env: 'ZT_OIDC_PERSON_CLAIM', kind: 'string', default: 'sub', doc: 'The ID token claim naming the person (their console login).' }),
  oidcNameClaim: spec<string>({ env: 'ZT_OIDC_NAME_CLAIM', kind: 'string', default: 'name', doc: 'The ID token claim with the person\'s display name.' }),
  oidcDepartmentClaim: spec<string>({ env: 'ZT_OIDC_DEPARTMENT_CLAIM', kind: 'string', default: 'department', doc: 'The ID token claim naming the person\'s department.' }),
  oidcDepartments: spec<string | undefined>({
    env: 'ZT_OIDC_DEPARTMENTS',
    kind: 'string',
    default: undefined,
    doc: 'The department claim\'s values and the USCC each stands for (docs/console-sign-in.md); a value not listed is refused.',
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
