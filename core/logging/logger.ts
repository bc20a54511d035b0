import { pino, type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config/index.js';
import { redactIdentifiers } from '../pseudonyms/redact.js';

export type { Logger } from 'pino';

/**
 * Personal data and key material never reach a log line. Identifiers (resident ID numbers, USCCs) are replaced
 * wherever they stand by the streamWrite hook below. Paths are pino redaction paths; wildcards cover one level,
 * so the common places (request bodies, query strings, headers, error details) are listed explicitly.
 */
const SENSITIVE_KEYS = [
  'idNumber',
  'residentId',
  'subjectId',
  'personName',
  'holderName',
  'phone',
  'mobile',
  'address',
  'password',
  'passphrase',
  'privateKey',
  'privateKeyPem',
  'secret',
  'token',
] as const;

export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-zt-signature"]',
  'databaseUrl',
  'config.databaseUrl',
  'caPassphrase',
  'config.caPassphrase',
  'pseudonymKeys',
  'config.pseudonymKeys',
  ...SENSITIVE_KEYS.flatMap((k) => [k, `*.${k}`, `body.${k}`, `req.body.${k}`, `req.query.${k}`, `details.${k}`]),
];

export interface LoggerSettings {
  level: LogLevel;
  instanceId: string;
  /** Destination stream; defaults to stdout. Tests pass a memory stream. */
  destination?: NodeJS.WritableStream;
}

export function loggerOptions(settings: Pick<LoggerSettings, 'level' | 'instanceId'>): LoggerOptions {
  return {
    level: settings.level,
    base: { instance: settings.instanceId },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Field paths cannot cover an ID number in a message, an error's text or a URL: the finished line is scanned once
    // for the shapes of resident ID numbers and USCCs (core/pseudonyms/redact.ts), whatever field holds them.
    hooks: { streamWrite: redactIdentifiers },
  };
}

export function createLogger(settings: LoggerSettings): Logger {
  const options = loggerOptions(settings);
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
